/**
 * Not-found and error pages, HTML or JSON as the client asks. They live outside the session's
 * context, so a 404 never reads or writes the session (and never counts). A 5xx shows no internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'
import { wantsJson, type NavLink, type RouteTable } from './framework/class-views/index.js'
import { SessionStoreUnavailable } from './framework/session-stores/index.js'

export function registerErrorPages (app: FastifyInstance, routes: RouteTable, navLinks: NavLink[]): void {
  const urls = routes.urls()
  const nav = routes.nav(navLinks)
  // Which methods each path answers, from every route registered after this (RFC 9110's Allow).
  const methodsByPath = new Map<string, Set<string>>()
  app.addHook('onRoute', ({ url, method }) => {
    const methods = methodsByPath.get(url) ?? new Set<string>()
    for (const one of [method].flat()) methods.add(one)
    methodsByPath.set(url, methods)
  })

  function sendError (request: FastifyRequest, reply: FastifyReply, statusCode: number, message: string) {
    const error = STATUS_CODES[statusCode] ?? 'Error'
    reply.code(statusCode).header('cache-control', 'no-store')
    if (wantsJson(request) || request.method === 'HEAD') {
      return reply.send({ statusCode, error, message })
    }
    return reply.view('error.hbs', { name: error, statusCode, message, urls, nav })
  }

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0]!
    const allowed = methodsByPath.get(path)
    if (allowed !== undefined) {
      // Sorted, so the header reads the same however a plugin listed them (@fastify/static: HEAD, GET).
      const allow = [...allowed].sort().join(', ')
      reply.header('allow', allow)
      return sendError(request, reply, 405, `${request.method} is not allowed at ${path}; it answers ${allow}.`)
    }
    return sendError(request, reply, 404, `There is no page at ${path}.`)
  })

  // (A request that failed leaves its session as it came: the session plugin sees to that.)
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof SessionStoreUnavailable) {
      // At debug: the store's own log says once when it went away and when it came back.
      request.log.debug({ err }, 'session store unavailable')
      return sendError(request, reply, 503, err.message)
    }
    const statusCode = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
    if (statusCode === 500) {
      request.log.error({ err }, 'request failed')
      return sendError(request, reply, 500, 'Something went wrong on our side. It has been logged.')
    }
    request.log.info({ statusCode, reason: err.message }, 'request rejected')
    return sendError(request, reply, statusCode, err.message)
  })
}
