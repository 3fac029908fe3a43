/**
 * The configurator, like Pyramid's `__init__.py`: from the settings, it registers the plugins,
 * names the routes and mounts the view classes on a Fastify instance. It never listens
 * (src/server.ts does), and the server's own options and response hooks live in
 * src/server-options.ts.
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import fastifyAccepts from '@fastify/accepts'
import fastifyFormbody from '@fastify/formbody'
import fastifyStatic from '@fastify/static'
import fastifyView from '@fastify/view'
import { parseSecrets, parseSentinels, parseTrustedOrigins, type Settings } from './config.js'
import { classViews, RouteTable } from './framework/class-views/index.js'
import { openSessionStore, sessionPlugin, type SessionStoreOptions } from './framework/session-stores/index.js'
import { registerErrorPages } from './error-pages.js'
import { TutorialViews } from './views/tutorial-views.js'
import { CartViews } from './views/cart-views.js'
import { MAX_CART_ITEMS, MAX_ITEM_LENGTH } from './cart.js'
import { aboutPanelFor } from './session-info.js'
import { addSecurityHeaders } from './security-headers.js'
import { PUBLIC_DIR, viewOptions } from './templates.js'
import { createServer } from './server-options.js'
import { addHealthRoute } from './routes/healthz.js'
import { addSessionInfoRoute } from './routes/session-info.js'
import { KEY_SALT, SESSION_COOKIE } from './session-data.js'

export { BODY_LIMIT } from './server-options.js'

export interface BuildOptions {
  /** Fastify's own options, over the ones made from the settings (tests pass a logger stream). */
  fastify?: FastifyServerOptions
  /** Adds routes inside the pages' context, with the session (tests mount a failing view this way). */
  extend?: (pages: FastifyInstance, routes: RouteTable) => void
  /** Milliseconds since the epoch, for session expiry; tests pass a clock they move by hand. */
  clock?: () => number
}

/** The session framework's options, from the app's settings (the one place they are mapped). */
export function sessionStoreOptions (settings: Settings, clock?: () => number): SessionStoreOptions {
  const sentinels = parseSentinels(settings.REDIS_SENTINELS)
  return {
    store: settings.SESSION_STORE,
    secrets: parseSecrets(settings.SESSION_SECRET),
    keySalt: KEY_SALT,
    cookie: { name: SESSION_COOKIE },
    idleTimeout: settings.SESSION_TIMEOUT,
    maxAge: settings.SESSION_MAX_AGE,
    maxSessionBytes: settings.SESSION_MAX_BYTES,
    memory: { max: settings.SESSION_STORE_MAX },
    redis: {
      url: settings.REDIS_URL,
      prefix: settings.REDIS_PREFIX,
      connectWait: settings.REDIS_CONNECT_WAIT,
      commandTimeout: settings.REDIS_COMMAND_TIMEOUT,
      sentinels: sentinels.length === 0
        ? undefined
        : { nodes: sentinels, name: settings.REDIS_SENTINEL_NAME, username: settings.REDIS_SENTINEL_USERNAME, password: settings.REDIS_SENTINEL_PASSWORD },
      // With sentinels, a change is answered once a replica has it too, so a failover cannot lose it.
      writeReplicas: settings.REDIS_WRITE_REPLICAS ?? (sentinels.length === 0 ? 0 : 1),
      // The startup and health messages name the settings a person can change.
      names: { url: 'REDIS_URL', connectWait: 'REDIS_CONNECT_WAIT', writeReplicas: 'REDIS_WRITE_REPLICAS' }
    },
    clock
  }
}

/** The server and the app on it, not listening: what the tests use, and `npm start` through server.ts. */
export async function buildApp (settings: Settings, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = createServer(settings, options.fastify)
  await configure(app, settings, options)
  return app
}

/** From the settings: the named routes, the plugins, the routes that are not views, the views. */
export async function configure (app: FastifyInstance, settings: Settings, options: Omit<BuildOptions, 'fastify'> = {}): Promise<void> {
  const routes = new RouteTable()
    .addRoute('home', '/')
    .addRoute('hello', '/howdy')
    .addRoute('cart_add', '/cart')
    .addRoute('cart_clear', '/cart/clear')
    .addRoute('session_reset', '/session/reset')
    .addRoute('session_info', '/session')
  const nav = [{ routeName: 'home', label: 'Home' }, { routeName: 'hello', label: 'Howdy' }]

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

  const sessions = await openSessionStore(sessionStoreOptions(settings, options.clock), app.log)
  app.addHook('onClose', () => sessions.close())
  app.log.info({ store: sessions.description }, 'sessions ready')
  addHealthRoute(app, sessions)

  // The pages: the only context with a session.
  await app.register(async function pages (pages) {
    // Forms are url-encoded; any other body (JSON included) is refused with 415.
    pages.removeAllContentTypeParsers()
    await pages.register(fastifyFormbody)
    await pages.register(sessionPlugin, { store: sessions, trustedOrigins: parseTrustedOrigins(settings.TRUSTED_ORIGINS) })
    const aboutPanel = aboutPanelFor(settings.SESSION_STORE, settings.SESSION_TIMEOUT)
    await pages.register(classViews, { routes, views: [TutorialViews, CartViews], nav, pageContext: (request) => ({ about: aboutPanel(request) }) })
    addSessionInfoRoute(pages, routes, settings.SESSION_STORE, settings.SESSION_TIMEOUT)
    options.extend?.(pages, routes)
  })
}
