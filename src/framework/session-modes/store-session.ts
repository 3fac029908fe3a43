/**
 * Store modes (memory, Redis): the cookie holds only a signed session id and the data lives on
 * the server, so sessions can be large, revoked, or shared by several processes.
 * @see https://github.com/fastify/session
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Signer, type CookieSerializeOptions } from '@fastify/cookie'
import fastifySession, { type SessionStore } from '@fastify/session'
import { commonParts, type Health, type SessionBackend, type SessionModeOptions } from './backend.js'
import { deriveSigningKeys } from './keys.js'
import { dropStoreSession, storeDataOf, storeSessionOf } from './plugin-sessions.js'
import type { SessionAccess, SessionData, SessionKey } from './types.js'
import type { FreshIds } from './fresh-ids.js'

export interface StoreBackendParts {
  description: string
  store: SessionStore
  health: () => Promise<Health>
  close: () => Promise<void>
}

export function storeSessionBackend (
  options: SessionModeOptions,
  cookieName: string,
  cookie: CookieSerializeOptions,
  fresh: FreshIds,
  { description, store, health, close }: StoreBackendParts
): SessionBackend {
  // Newest key first: it signs; older ones still verify.
  const signer = new Signer(deriveSigningKeys(options.secrets))

  return {
    ...commonParts(options),
    description,
    health,
    close,
    async register (app: FastifyInstance) {
      // An id signed with an older key is only re-issued by the plugin when the session changed;
      // otherwise it would clear the cookie. Save it, so it is re-signed with the newest key instead.
      // (Callback hooks: these run on every request, and almost always return at the first check.)
      app.addHook('onSend', (request, _reply, payload, done) => {
        const presented = request.cookies[cookieName]
        const session = storeSessionOf(request)
        if (!presented || !session?.sessionId || presented === session.encryptedSessionId || session.isModified() ||
          signer.unsign(presented).value !== session.sessionId) return done(null, payload)
        session.save((err?: unknown) => err ? done(err as Error) : done(null, payload))
      })
      // @fastify/session resolves `secure: 'auto'` once, when a session is made, and keeps it with the
      // session: one begun over http would never get Secure over https, and one begun over https
      // would silently drop every write over http. Decided per request instead, as cookie mode does.
      app.addHook('onSend', (request, _reply, payload, done) => {
        const session = storeSessionOf(request)
        if (session?.cookie) session.cookie.secure = request.protocol === 'https'
        done(null, payload)
      })
      await app.register(fastifySession, {
        secret: signer,
        cookieName,
        cookie: { ...cookie },
        store,
        // Ids the stores know as new: only those may be inserted (a reset stays final).
        idGenerator: fresh.generate,
        // A session reaches the store only when something was written to it (a cookieless
        // request that writes nothing stores nothing), and an unchanged one is not re-saved.
        saveUninitialized: false,
        rolling: false
      })
      // secure-session logs why it rejects a cookie (at debug); @fastify/session does not, so say
      // it here, after the plugin's onRequest hook has loaded the session.
      app.addHook('onRequest', (request, _reply, done) => {
        const presented = request.cookies[cookieName]
        const session = storeSessionOf(request)
        if (presented && session?.sessionId && presented !== session.encryptedSessionId) {
          const { valid, value } = signer.unsign(presented)
          if (!valid) request.log.debug({ reason: 'bad signature' }, 'session cookie rejected: starting a new session')
          else if (value !== session.sessionId) request.log.debug({ reason: 'unknown or expired session id' }, 'session cookie rejected: starting a new session')
        }
        done()
      })
    },
    access: (request) => new StoreSessionAccess(request)
  }
}

/** @fastify/session's session, as views reach it in every mode. */
class StoreSessionAccess implements SessionAccess {
  readonly #request: FastifyRequest

  constructor (request: FastifyRequest) {
    this.#request = request
  }

  // Each method reads request.session anew: reset() replaces it with a new session object.
  get<K extends SessionKey> (key: K): SessionData[K] | undefined {
    return storeDataOf(this.#request)[key]
  }

  set<K extends SessionKey> (key: K, value: SessionData[K] | undefined): void {
    storeDataOf(this.#request)[key] = value
  }

  /** Destroys the old entry in the store and issues a new id. */
  reset (): Promise<void> {
    return storeSessionOf(this.#request)!.regenerate()
  }

  /**
   * With no session on the request the plugin saves nothing and sets no cookie, so the store and
   * the browser keep what they had.
   */
  discardChanges (): void {
    dropStoreSession(this.#request)
  }

  /** Every data key is kept; the new id is stored at once and the old one destroyed. */
  async rotateId (): Promise<void> {
    const session = storeSessionOf(this.#request)!
    await session.regenerate(Object.keys(session).filter((key) => key !== 'cookie'))
  }
}
