/** GET /session, for curl: the session's public data, read only (no count, no flash consumed, no cookie written). */
import type { FastifyInstance } from 'fastify'
import type { RouteTable } from '../framework/class-views/index.js'
import type { SessionStoreName } from '../framework/session-stores/index.js'
import { sessionInfo, sessionInfoSchema } from '../session-info.js'

/** Mounted inside the pages' context, which has the session. */
export function addSessionInfoRoute (pages: FastifyInstance, routes: RouteTable, store: SessionStoreName, idleTimeout: number): void {
  pages.get(routes.pathFor('session_info'), {
    schema: { response: { 200: sessionInfoSchema } }
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('vary', 'Cookie')
    return sessionInfo(request, store, idleTimeout)
  })
}
