/**
 * The scan step: wires each decorated view method to its named route. Everything a view must not
 * care about happens here, once: rendering or JSON, flashes, CSRF, redirects, HEAD without side
 * effects, caching headers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  csrfTokenOf, dryRunSession, flashList, formGuardsOf, pendingFlashCount, requireSessionPlugin, sessionOf,
  type Flash, type FlashQueue, type SessionAccess
} from '../session-modes/index.js'
import { wantsJson } from './negotiate.js'
import type { RouteTable } from './route-table.js'
import { viewsOf, type FormMethod, type ViewData, type ViewRequest } from './decorators.js'

export type ViewClass = new (request: ViewRequest) => object

export interface NavLink {
  routeName: string
  label: string
}

export interface MountOptions {
  /** The layout's navigation; each page gets it with its own link marked current. */
  nav?: NavLink[]
  /** Extra template data every HTML page gets, computed after the view ran. */
  pageContext?: (request: FastifyRequest) => Record<string, unknown>
}

export function mountViews (app: FastifyInstance, routes: RouteTable, ViewClass: ViewClass, options: MountOptions = {}): void {
  const { methods, properties, forms } = viewsOf(ViewClass)
  // Wrong wiring fails here, at boot, naming what is missing: not at the first request.
  requireSessionPlugin(app, `mountViews(${ViewClass.name})`)
  const formGuards = forms.length > 0 ? formGuardsOf(app, `${ViewClass.name}'s forms`) : []
  const urls = routes.urls()
  const pageContext = options.pageContext ?? (() => ({}))

  for (const view of methods) {
    // Worked out once here, not per request.
    const nav = routes.nav(options.nav ?? [], view.routeName)
    app.route({
      // HEAD is declared rather than left to Fastify's automatic HEAD route, so it can run dry.
      method: ['GET', 'HEAD'],
      url: routes.pathFor(view.routeName),
      // Applies to the JSON answer only; an HTML page is a string and is sent as it is.
      ...(view.jsonSchema ? { schema: { response: { 200: view.jsonSchema } } } : {}),
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const isHead = request.method === 'HEAD'
        const session = sessionOf(request)
        const instance = new ViewClass({ session: isHead ? dryRunSession(session) : session })
        const data: ViewData = view.call(instance)
        for (const property of properties) data[property.name] = property.read(instance)

        // The page depends on the session cookie: never store it in a shared cache.
        reply.header('cache-control', 'no-store').header('vary', 'Cookie, Accept')
        if (wantsJson(request)) return data
        return reply.view(view.template, {
          ...data,
          ...pageContext(request),
          urls,
          nav,
          // HEAD shows what GET would, but neither consumes the flashes nor creates a CSRF token
          // (so its Content-Length leaves out the form's token).
          flashes: isHead ? flashList(session.get('flash')) : takeFlashes(session, reply),
          csrfToken: view.hasForms && !isHead ? csrfTokenOf(session) : undefined
        })
      }
    })
  }

  for (const form of forms) {
    app.route({
      method: 'POST',
      url: routes.pathFor(form.routeName),
      schema: { body: formBodySchema(form) },
      // After the body is parsed (the token is in it), before validation and the view: a forged
      // or cross-origin request is refused with 403 and never reaches the session.
      preValidation: formGuards,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const session = sessionOf(request)
        const outcome = await form.call(new ViewClass({ session }), request.body)
        // A form that went through changes the session id (store modes), so an id planted in a
        // victim's browser stops tracking it at the victim's first action.
        await session.rotateId()
        request.flash(outcome.flash.category, outcome.flash.message)
        return reply.header('cache-control', 'no-store').redirect(routes.pathFor(outcome.redirectTo), 303)
      }
    })
  }
}

/** Every form carries `_csrf`; nothing else beyond what the view declares gets through. */
function formBodySchema ({ body = {} }: FormMethod) {
  const properties = (body.properties ?? {}) as Record<string, unknown>
  return { type: 'object', ...body, properties: { ...properties, _csrf: { type: 'string' } }, additionalProperties: false }
}

/** Only a page that shows the flashes consumes them; an empty queue is left untouched (no write). */
function takeFlashes (session: SessionAccess, reply: FastifyReply): Flash[] {
  if (pendingFlashCount(session.get('flash')) === 0) return []
  return flashList(reply.flash() as FlashQueue)
}
