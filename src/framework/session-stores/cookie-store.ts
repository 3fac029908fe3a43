/**
 * The cookie store (the default): the whole session is encrypted and authenticated (libsodium
 * secretbox) into the cookie, like Pyramid's SignedCookieSessionFactory but unreadable by the
 * browser too. The server keeps nothing, so sessions survive restarts and any process with the
 * secret can read them.
 * @see https://github.com/fastify/fastify-secure-session
 */
import type { CookieSerializeOptions } from '@fastify/cookie'
import fastifySecureSession, { type Session as SecureSession } from '@fastify/secure-session'
import { commonParts, type SessionStore, type SessionStoreOptions } from './session-store.js'
import { addCookieBudget } from './cookie-budget.js'
import { DEFAULT_KEY_SALT, deriveCookieKeys } from './keys.js'
import type { SessionMessages } from './messages.js'
import { secureSessionOf } from './plugin-sessions.js'
import type { SessionData, SessionKey, SessionStorage } from './types.js'

export function cookieSessionStore (options: SessionStoreOptions, cookieName: string, cookie: CookieSerializeOptions, messages: SessionMessages): SessionStore {
  // Derived once here, not per app context or request.
  const key = deriveCookieKeys(options.secrets, options.keySalt ?? DEFAULT_KEY_SALT)
  return {
    ...commonParts(options),
    description: 'encrypted cookie',
    cookieName,
    messages,
    async register (app) {
      // Before the plugin's own onSend hook (hooks run in the order they are added).
      addCookieBudget(app, cookieName, cookie, messages.cookieTooLarge)
      await app.register(fastifySecureSession, {
        cookieName,
        // Newest key first: it encrypts; older ones still decrypt, and such cookies are re-issued.
        key,
        // Seconds since the last write, checked against a timestamp inside the encrypted payload.
        // (It reads the real clock; session-plugin.ts checks the same timeout on the options' clock.)
        expiry: options.idleTimeout,
        cookie
      })
    },
    access: (request) => new CookieSessionAccess(secureSessionOf(request)!),
    health: async () => ({ ok: true }),
    close: async () => {}
  }
}

/** secure-session's session, as views reach it in every store. */
class CookieSessionAccess implements SessionStorage {
  readonly #session: SecureSession<SessionData>

  constructor (session: SecureSession<SessionData>) {
    this.#session = session
  }

  get<K extends SessionKey> (key: K): SessionData[K] | undefined {
    return this.#session.get(key)
  }

  set<K extends SessionKey> (key: K, value: SessionData[K] | undefined): void {
    this.#session.set(key, value)
  }

  /**
   * Empties the data and re-encrypts under a fresh nonce. The old cookie stays valid until it
   * expires, since nothing on the server remembers it (see docs/security.md).
   */
  async reset (): Promise<void> {
    this.#session.regenerate()
  }

  /** Nothing is sent, so the browser keeps the cookie (and the session) it came with. */
  discardChanges (): void {
    this.#session.changed = false
  }

  /** The cookie store has no id to rotate: every write is a new ciphertext. */
  async rotateId (): Promise<void> {}
}
