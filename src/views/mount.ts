/**
 * The scan step: wires each decorated view method to its named route. Everything a view must not
 * care about happens here, once: rendering or JSON, HEAD without side effects, caching headers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { dryRunSession, sessionOf } from '../session/index.js'
import { wantsJson } from '../negotiate.js'
import type { RouteTable } from './route-table.js'
import { viewsOf, type ViewData, type ViewRequest } from './decorators.js'

export type ViewClass = new (request: ViewRequest) => object

export function mountViews (app: FastifyInstance, routes: RouteTable, ViewClass: ViewClass): void {
  const { methods, properties } = viewsOf(ViewClass)
  const urls = routes.urls()

  for (const view of methods) {
    app.route({
      // HEAD is declared rather than left to Fastify's automatic HEAD route, so it can run dry.
      method: ['GET', 'HEAD'],
      url: routes.pathFor(view.routeName),
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const session = request.method === 'HEAD' ? dryRunSession(sessionOf(request)) : sessionOf(request)
        const instance = new ViewClass({ session })
        const data: ViewData = view.call(instance)
        for (const property of properties) data[property.name] = property.read(instance)

        // The page depends on the session cookie: never store it in a shared cache.
        reply.header('cache-control', 'no-store').header('vary', 'Cookie, Accept')
        if (wantsJson(request)) return data
        return reply.view(view.template, { ...data, urls })
      }
    })
  }
}
