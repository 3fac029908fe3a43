/**
 * Cookie mode: the whole session is encrypted and authenticated (libsodium secretbox) into the
 * cookie, like Pyramid's SignedCookieSessionFactory but unreadable by the browser too. The server
 * keeps nothing, so sessions survive restarts and any process with the secret can read them.
 * @see https://github.com/fastify/fastify-secure-session
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { CookieSerializeOptions } from '@fastify/cookie'
import fastifySecureSession from '@fastify/secure-session'
import type { Settings } from '../config.js'
import { addCookieBudget } from './cookie-budget.js'
import { deriveCookieKeys } from './keys.js'
import type { SessionAccess } from './types.js'

export async function registerCookieSession (
  app: FastifyInstance,
  settings: Pick<Settings, 'sessionSecrets' | 'sessionTimeout'>,
  cookieName: string,
  cookie: CookieSerializeOptions
): Promise<void> {
  // Before the plugin's own onSend hook (hooks run in the order they are added).
  addCookieBudget(app, cookieName, cookie)
  await app.register(fastifySecureSession, {
    cookieName,
    // Newest key first: it encrypts; older ones still decrypt, and such cookies are re-issued.
    key: deriveCookieKeys(settings.sessionSecrets),
    // Seconds since the last write, checked against a timestamp inside the encrypted payload.
    expiry: settings.sessionTimeout,
    cookie
  })
}

export function cookieSessionAccess (request: FastifyRequest): SessionAccess {
  const session = request.session
  return {
    get: (key) => session.get(key),
    set: (key, value) => session.set(key, value),
    // Empties the data and re-encrypts under a fresh nonce; the old cookie stays valid until it
    // expires, since nothing on the server remembers it (see the README's security notes).
    reset: async () => session.regenerate()
  }
}
