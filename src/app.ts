/**
 * The configurator: builds the Fastify instance from settings, registers the plugins, names the
 * routes and mounts the view classes. It never listens; src/server.ts does.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fastifyAccepts from '@fastify/accepts'
import fastifyFormbody from '@fastify/formbody'
import fastifyStatic from '@fastify/static'
import fastifyView from '@fastify/view'
import handlebars from 'handlebars'
import { fileURLToPath } from 'node:url'
import type { Settings } from './config.js'
import sessionPlugin, { openSessionBackend } from './session/index.js'
import { registerErrorPages } from './errors.js'
import { RouteTable } from './views/route-table.js'
import { mountViews } from './views/mount.js'
import { TutorialViews } from './views/tutorial-views.js'
import { CartViews } from './views/cart-views.js'
import { aboutPanelFor, sessionInfo, sessionInfoSchema } from './session-info.js'
import { addSecurityHeaders } from './security-headers.js'

/** templates/ and public/ at the project root, from src/ (tsx, tests) and dist/ (built) alike. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../templates', import.meta.url))
export const PUBLIC_DIR = fileURLToPath(new URL('../public', import.meta.url))

/** The forms here post a few hundred bytes; anything much larger is refused (413) before parsing. */
export const BODY_LIMIT = 8 * 1024

export interface BuildOptions {
  /** Fastify's own options, over the ones made from the settings (tests pass a logger stream). */
  fastify?: FastifyServerOptions
  /** Adds routes inside the pages' context, with the session (tests mount a failing view this way). */
  extend?: (pages: FastifyInstance, routes: RouteTable) => void
}

export async function buildApp (settings: Settings, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: settings.logLevel },
    trustProxy: settings.trustProxy,
    bodyLimit: BODY_LIMIT,
    // Reject unknown form fields (400) instead of silently dropping them.
    ajv: { customOptions: { removeAdditional: false } },
    ...options.fastify
  })

  const routes = new RouteTable()
    .addRoute('home', '/')
    .addRoute('hello', '/howdy')
    .addRoute('cart_add', '/cart')
    .addRoute('cart_clear', '/cart/clear')
    .addRoute('session_reset', '/session/reset')
    .addRoute('session_info', '/session')
  const nav = [{ routeName: 'home', label: 'Home' }, { routeName: 'hello', label: 'Howdy' }]

  // While closing, in-flight requests still finish, but their keep-alive sockets must not hold the
  // close open (until keepAliveTimeout): their responses say Connection: close.
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })

  addSecurityHeaders(app)
  await app.register(fastifyAccepts)
  await app.register(fastifyView, {
    engine: { handlebars },
    root: TEMPLATES_DIR,
    layout: 'layout.hbs',
    options: { partials: { flashes: 'partials/flashes.hbs', cart: 'partials/cart.hbs', about: 'partials/about.hbs' } },
    // Compile each template once and keep it, except while editing templates in development.
    production: settings.nodeEnv !== 'development'
  })
  registerErrorPages(app, routes, nav)
  // The stylesheet: no session, cached by browsers for a day (revalidated with its ETag after).
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/static/', maxAge: '1d' })

  const sessions = await openSessionBackend(settings, app.log)
  app.addHook('onClose', () => sessions.close())
  app.log.info({ store: sessions.description }, 'sessions ready')

  // Health checks stay outside the pages' context: they never read or write a session.
  app.get('/healthz', async (_request, reply) => {
    const health = sessions.health()
    if (health.ok) return { status: 'ok' }
    return reply.code(503).send({ status: 'unavailable', reason: health.reason })
  })

  await app.register(async function pages (pages) {
    // Forms are url-encoded; any other body (JSON included) is refused with 415.
    pages.removeAllContentTypeParsers()
    await pages.register(fastifyFormbody)
    await pages.register(sessionPlugin, { backend: sessions, maxAge: settings.sessionMaxAge })
    const aboutPanel = aboutPanelFor(settings.sessionStore, settings.sessionTimeout)
    mountViews(pages, routes, TutorialViews, { nav, pageContext: (request) => ({ about: aboutPanel(request) }) })
    mountViews(pages, routes, CartViews)

    // For curl: the session's public data, read only (no count, no flash consumed, no cookie written).
    pages.get(routes.pathFor('session_info'), {
      schema: { response: { 200: sessionInfoSchema } }
    }, async (request, reply) => {
      reply.header('cache-control', 'no-store').header('vary', 'Cookie')
      return sessionInfo(request, settings.sessionStore, settings.sessionTimeout)
    })
    options.extend?.(pages, routes)
  })

  return app
}
