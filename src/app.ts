/**
 * The configurator: builds the Fastify instance from settings, registers the plugins, names the
 * routes and mounts the view classes. It never listens; src/server.ts does.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fastifyAccepts from '@fastify/accepts'
import fastifyFormbody from '@fastify/formbody'
import fastifyStatic from '@fastify/static'
import fastifyView from '@fastify/view'
import { parseSecrets, parseTrustedOrigins, parseTrustProxy, type Settings } from './config.js'
import { classViews, RouteTable } from './framework/class-views/index.js'
import { openSessionBackend, sessionPlugin, type SessionModeOptions } from './framework/session-modes/index.js'
import { registerErrorPages } from './error-pages.js'
import { TutorialViews } from './views/tutorial-views.js'
import { CartViews } from './views/cart-views.js'
import { MAX_CART_ITEMS, MAX_ITEM_LENGTH } from './cart.js'
import { aboutPanelFor, sessionInfo, sessionInfoSchema } from './session-info.js'
import { addSecurityHeaders } from './security-headers.js'
import { loggerOptions, OneLinePerRequest } from './logging.js'
import { PUBLIC_DIR, viewOptions } from './templates.js'
import './session-data.js'

/** The forms here post a few hundred bytes; anything much larger is refused (413) before parsing. */
export const BODY_LIMIT = 8 * 1024

export interface BuildOptions {
  /** Fastify's own options, over the ones made from the settings (tests pass a logger stream). */
  fastify?: FastifyServerOptions
  /** Adds routes inside the pages' context, with the session (tests mount a failing view this way). */
  extend?: (pages: FastifyInstance, routes: RouteTable) => void
  /** Milliseconds since the epoch, for session expiry; tests pass a clock they move by hand. */
  clock?: () => number
  /** Writes what the caller knows of this start (server.ts: the settings, the secret) before anything else is logged. */
  logStartup?: (log: FastifyBaseLogger) => void
}

/** The session framework's options, from the app's settings (the one place they are mapped). */
export function sessionModeOptions (settings: Settings, clock?: () => number): SessionModeOptions {
  return {
    mode: settings.SESSION_STORE,
    secrets: parseSecrets(settings.SESSION_SECRET),
    idleTimeout: settings.SESSION_TIMEOUT,
    maxAge: settings.SESSION_MAX_AGE,
    maxSessionBytes: settings.SESSION_MAX_BYTES,
    memory: { max: settings.SESSION_STORE_MAX },
    redis: { url: settings.REDIS_URL, prefix: settings.REDIS_PREFIX, connectWait: settings.REDIS_CONNECT_WAIT, commandTimeout: settings.REDIS_COMMAND_TIMEOUT },
    clock
  }
}

export async function buildApp (settings: Settings, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(settings),
    logController: new OneLinePerRequest(),
    trustProxy: parseTrustProxy(settings.TRUST_PROXY),
    // A request must arrive whole within REQUEST_TIMEOUT (408 otherwise), and a silent connection
    // is closed after as long, so a slow client cannot hold a connection for minutes. Node checks
    // the deadlines every connectionsCheckingInterval (30 s by default): once a second here.
    requestTimeout: settings.REQUEST_TIMEOUT * 1000,
    connectionTimeout: settings.REQUEST_TIMEOUT * 1000,
    keepAliveTimeout: 5000,
    http: { headersTimeout: Math.min(settings.REQUEST_TIMEOUT * 1000, 60_000), connectionsCheckingInterval: 1000 },
    bodyLimit: BODY_LIMIT,
    // Reject unknown form fields (400) instead of silently dropping them.
    ajv: { customOptions: { removeAdditional: false } },
    ...options.fastify
  })
  options.logStartup?.(app.log)

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
    // JSON answers end with a newline, so `curl` leaves the shell's prompt on a line of its own.
    if (typeof payload === 'string' && String(reply.getHeader('content-type')).startsWith('application/json')) {
      return done(null, payload + '\n')
    }
    done(null, payload)
  })

  addSecurityHeaders(app)
  await app.register(fastifyAccepts)
  // Templates are compiled once and kept, except in development, where they are edited live.
  await app.register(fastifyView, viewOptions(settings.NODE_ENV !== 'development', {
    limits: { itemLength: MAX_ITEM_LENGTH, cartItems: MAX_CART_ITEMS }
  }))
  registerErrorPages(app, routes, nav)
  // The stylesheet, script and icon: no session, cached by browsers for a day (revalidated with
  // their ETag after); in development revalidated every time, so an edit shows on reload. One route
  // per file found at boot (not a wildcard), so a file's path is known and another method on it
  // answers 405 with Allow like the pages; a file added to public/ is served after a restart.
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/static/',
    wildcard: false,
    maxAge: settings.NODE_ENV === 'development' ? 0 : '1d'
  })

  const sessions = await openSessionBackend(sessionModeOptions(settings, options.clock), app.log)
  app.addHook('onClose', () => sessions.close())
  app.log.info({ store: sessions.description }, 'sessions ready')

  // Health checks stay outside the pages' context: they never read or write a session.
  app.get('/healthz', async (_request, reply) => {
    // Always the answer of now: a cache between a checker and the app must not repeat an old one.
    reply.header('cache-control', 'no-store')
    const health = await sessions.health()
    if (health.ok) return { status: 'ok' }
    return reply.code(503).send({ status: 'unavailable', reason: health.reason })
  })

  await app.register(async function pages (pages) {
    // Forms are url-encoded; any other body (JSON included) is refused with 415.
    pages.removeAllContentTypeParsers()
    await pages.register(fastifyFormbody)
    await pages.register(sessionPlugin, { backend: sessions, trustedOrigins: parseTrustedOrigins(settings.TRUSTED_ORIGINS) })
    const expiryRule = { idleTimeout: settings.SESSION_TIMEOUT, maxAge: settings.SESSION_MAX_AGE }
    const aboutPanel = aboutPanelFor(settings.SESSION_STORE, expiryRule)
    await pages.register(classViews, { routes, views: [TutorialViews, CartViews], nav, pageContext: (request) => ({ about: aboutPanel(request) }) })

    // For curl: the session's public data, read only (no count, no flash consumed, no cookie written).
    pages.get(routes.pathFor('session_info'), {
      schema: { response: { 200: sessionInfoSchema } }
    }, async (request, reply) => {
      reply.header('cache-control', 'no-store').header('vary', 'Cookie')
      return sessionInfo(request, settings.SESSION_STORE, expiryRule)
    })
    options.extend?.(pages, routes)
  })

  return app
}
