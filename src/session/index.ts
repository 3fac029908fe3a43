/**
 * The session: the one module that knows how sessions are stored and how their cookie is set.
 * `openSessionBackend` picks the mode from the settings (and connects to Redis if asked);
 * the plugin registers it with cookies, flash and CSRF. Views, flash and CSRF reach the session
 * through `request.appSession` and never learn the mode.
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import fastifyCookie, { type CookieSerializeOptions } from '@fastify/cookie'
import fastifyFlash from '@fastify/flash'
import fastifyCsrfProtection from '@fastify/csrf-protection'
import type { Settings } from '../config.js'
import type { SessionBackend } from './backend.js'
import { cookieSessionBackend } from './cookie-session.js'
import { BoundedMemoryStore } from './memory-store.js'
import { connectRedisStore } from './redis-store.js'
import { storeSessionBackend } from './store-session.js'
import type { SessionAccess } from './types.js'

export type { SessionAccess, SessionData, FlashCategory } from './types.js'
export type { SessionBackend, Health } from './backend.js'
export { dryRunSession } from './dry-run.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's session, whatever the mode. */
    readonly appSession: SessionAccess
  }
}

export const SESSION_COOKIE = 'session'

const COOKIE: CookieSerializeOptions = {
  path: '/',
  httpOnly: true,
  sameSite: 'lax',
  // 'auto': Secure when the request came over HTTPS, so plain-http development still works.
  // (@fastify/session's default, `true`, would silently set no cookie at all over http.)
  secure: 'auto'
}

export type SessionSettings = Pick<Settings,
  'sessionStore' | 'sessionSecrets' | 'sessionTimeout' | 'sessionMaxAge' | 'sessionStoreMax' |
  'redisUrl' | 'redisPrefix' | 'redisConnectWait'>

export async function openSessionBackend (settings: SessionSettings, log: FastifyBaseLogger): Promise<SessionBackend> {
  switch (settings.sessionStore) {
    case 'cookie':
      return cookieSessionBackend(settings, SESSION_COOKIE, COOKIE)
    case 'memory':
      return storeSessionBackend(settings, SESSION_COOKIE, COOKIE, {
        description: 'memory',
        store: new BoundedMemoryStore({ max: settings.sessionStoreMax, ttlSeconds: settings.sessionTimeout }),
        health: () => ({ ok: true }),
        close: async () => {}
      })
    case 'redis':
      return storeSessionBackend(settings, SESSION_COOKIE, COOKIE, await connectRedisStore(settings, log))
  }
}

export interface SessionPluginOptions {
  backend: SessionBackend
  /** Absolute lifetime in seconds (0: none). */
  maxAge?: number
}

async function sessionPlugin (app: FastifyInstance, { backend, maxAge = 0 }: SessionPluginOptions) {
  await app.register(fastifyCookie)
  await backend.register(app)
  // Made once per request, on first use.
  const made = new WeakMap<FastifyRequest, SessionAccess>()
  app.decorateRequest('appSession', {
    getter (this: FastifyRequest) {
      let session = made.get(this)
      if (session === undefined) made.set(this, session = touchingOnWrite(backend.access(this)))
      return session
    }
  })
  if (maxAge > 0) {
    // However active, a session older than SESSION_MAX_AGE is replaced by a new one before any
    // view sees it. (Runs after the plugin's own onRequest hook has loaded the session.)
    app.addHook('preHandler', async (request) => {
      if (request.method === 'HEAD') return
      const session = request.appSession
      const createdAt = session.get('createdAt')
      if (createdAt !== undefined && nowSeconds() - createdAt >= maxAge) {
        request.log.debug({ reason: 'absolute lifetime reached', maxAge }, 'session: starting a new one')
        await session.reset()
      }
    })
  }
  await app.register(fastifyFlash)
  await app.register(fastifyCsrfProtection, {
    sessionPlugin: backend.sessionPlugin,
    // A refused form is routine (an old tab, a reset session): the 403 page explains; no warning.
    logLevel: 'info',
    // Only a string token counts; a repeated `_csrf` field is simply not a token.
    getToken: (request: FastifyRequest) => {
      const fromBody = (request.body as { _csrf?: unknown } | undefined)?._csrf
      const token = typeof fromBody === 'string' ? fromBody : request.headers['x-csrf-token']
      return typeof token === 'string' ? token : undefined
    }
  })
}

function nowSeconds (): number {
  return Math.floor(Date.now() / 1000)
}

/**
 * Every write also records when (and the first one, since when), so the idle timeout can be shown
 * and the absolute lifetime enforced the same way in every mode.
 */
function touchingOnWrite (session: SessionAccess): SessionAccess {
  return {
    get: session.get,
    set (key, value) {
      const now = nowSeconds()
      session.set(key, value)
      session.set('touchedAt', now)
      if (session.get('createdAt') === undefined) session.set('createdAt', now)
    },
    reset: session.reset,
    discardChanges: session.discardChanges
  }
}

export default fp(sessionPlugin, { name: 'app-session', fastify: '5.x' })
