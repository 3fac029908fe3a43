/**
 * The session: one place that chooses how it is stored and configures its cookie.
 * Today that is an encrypted, authenticated cookie (like Pyramid's SignedCookieSessionFactory,
 * but the browser cannot read it either): the server keeps nothing, so sessions survive restarts.
 * @see https://github.com/fastify/fastify-secure-session
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import fastifyCookie from '@fastify/cookie'
import fastifySecureSession from '@fastify/secure-session'
import type { Settings } from '../config.js'
import { deriveCookieKeys } from './keys.js'
import type { SessionAccess } from './types.js'

export type { SessionAccess, SessionData } from './types.js'
export { dryRunSession } from './dry-run.js'

export const SESSION_COOKIE = 'session'

type SessionSettings = Pick<Settings, 'sessionSecrets' | 'sessionTimeout'>

async function sessionPlugin (app: FastifyInstance, settings: SessionSettings) {
  await app.register(fastifyCookie)
  await app.register(fastifySecureSession, {
    cookieName: SESSION_COOKIE,
    // Newest key first: it encrypts; older ones still decrypt, and such cookies are re-issued.
    key: deriveCookieKeys(settings.sessionSecrets),
    // Seconds since the last write, checked against a timestamp inside the encrypted payload.
    expiry: settings.sessionTimeout,
    cookie: {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      // 'auto': Secure when the request came over HTTPS, so plain-http development still works.
      secure: 'auto'
    }
  })
}

export default fp(sessionPlugin, { name: 'app-session', fastify: '5.x' })

/** The current request's session, as the views see it. */
export function sessionOf (request: FastifyRequest): SessionAccess {
  return request.session
}
