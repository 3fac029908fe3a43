/**
 * The session: the one module that knows how sessions are stored and how their cookie is set.
 * Views, flash and CSRF reach the session through `request.appSession` and never learn the mode.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import fastifyCookie, { type CookieSerializeOptions } from '@fastify/cookie'
import fastifyFlash from '@fastify/flash'
import fastifyCsrfProtection from '@fastify/csrf-protection'
import type { Settings } from '../config.js'
import { cookieSessionAccess, registerCookieSession } from './cookie-session.js'
import type { SessionAccess } from './types.js'

export type { SessionAccess, SessionData, FlashCategory } from './types.js'
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
  secure: 'auto'
}

type SessionSettings = Pick<Settings, 'sessionSecrets' | 'sessionTimeout'>

async function sessionPlugin (app: FastifyInstance, settings: SessionSettings) {
  await app.register(fastifyCookie)
  await registerCookieSession(app, settings, SESSION_COOKIE, COOKIE)
  const access = cookieSessionAccess

  app.decorateRequest('appSession', {
    getter (this: FastifyRequest) { return access(this) }
  })
  await app.register(fastifyFlash)
  await app.register(fastifyCsrfProtection, {
    sessionPlugin: '@fastify/secure-session',
    // Only a string token counts; a repeated `_csrf` field is simply not a token.
    getToken: (request: FastifyRequest) => {
      const fromBody = (request.body as { _csrf?: unknown } | undefined)?._csrf
      const token = typeof fromBody === 'string' ? fromBody : request.headers['x-csrf-token']
      return typeof token === 'string' ? token : undefined
    }
  })
}

export default fp(sessionPlugin, { name: 'app-session', fastify: '5.x' })
