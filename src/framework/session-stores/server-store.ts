/**
 * The server-side stores (memory, Redis): the cookie holds only a signed session id and the data lives on
 * the server, so sessions can be large, revoked, or shared by several processes.
 * @see https://github.com/fastify/session
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Signer, type CookieSerializeOptions } from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { commonParts, type Health, type SessionStore, type SessionStoreOptions } from './session-store.js'
import { DEFAULT_KEY_SALT, deriveSigningKeys } from './keys.js'
import { DEFAULT_SESSION_MESSAGES, type SessionMessages } from './messages.js'
import { dropServerSession, serverSessionDataOf, serverSessionOf } from './plugin-sessions.js'
import type { SessionData, SessionKey, SessionStorage } from './types.js'
import type { FreshIds } from './fresh-ids.js'
import { withFlash } from './flash-queue.js'
import { heldLockOf, markLocked, presentedCookie, sessionTurns, type LockingStore } from './session-locks.js'

/** A session's largest size in the store by default: the 4 KB a cookie session gets from browsers. */
export const DEFAULT_MAX_SESSION_BYTES = 4096

/** The session as the store will write it (JSON), in UTF-8 bytes. */
function storedSize (request: FastifyRequest): number {
  return Buffer.byteLength(JSON.stringify(serverSessionOf(request)))
}

/**
 * The request's session data as it was loaded, taken just before its first write (null until
 * then): what an oversized change goes back to. Taken then, not read back from the store, because
 * a form's id rotation has already replaced the stored copy by the time the change is judged.
 */
const BEFORE_WRITES = Symbol('server-store.before-writes')
type WithSnapshot = FastifyRequest & { [BEFORE_WRITES]: string | null }

/** The session's data, back to what it was before this request's first write. */
function restoreBeforeWrites (request: FastifyRequest): void {
  const before = (request as WithSnapshot)[BEFORE_WRITES]
  const data = serverSessionDataOf(request) as Record<string, unknown>
  for (const key of Object.keys(data)) if (key !== 'cookie') delete data[key]
  if (before !== null) Object.assign(data, JSON.parse(before))
}

export interface ServerStoreParts {
  description: string
  /** @fastify/session's key-value store, with turns (session-locks.ts). */
  pluginStore: LockingStore
  health: () => Promise<Health>
  close: () => Promise<void>
}

export function serverSessionStore (
  options: SessionStoreOptions,
  cookieName: string,
  cookie: CookieSerializeOptions,
  fresh: FreshIds,
  { description, pluginStore, health, close }: ServerStoreParts,
  messages: SessionMessages = DEFAULT_SESSION_MESSAGES
): SessionStore {
  // Newest key first: it signs; older ones still verify.
  const signer = new Signer(deriveSigningKeys(options.secrets, options.keySalt ?? DEFAULT_KEY_SALT))
  const maxBytes = options.maxSessionBytes ?? DEFAULT_MAX_SESSION_BYTES

  return {
    ...commonParts(options),
    description,
    cookieName,
    messages,
    health,
    close,
    async register (app: FastifyInstance) {
      // One request at a time per session: each waits its turn before its session is loaded.
      const turns = sessionTurns(app, pluginStore, signer, cookieName)
      turns.beforeLoad()
      // The plugin re-issues the cookie only when the session changed; otherwise it clears a cookie
      // that does not match. Two cookies must be re-issued even so: an id signed with an older key
      // (re-signed with the newest), and a replaced id that led here by its forward (the new id).
      // (Callback hooks: these run on every request, and almost always return at the first check.)
      app.addHook('onSend', (request, _reply, payload, done) => {
        const presented = presentedCookie(request, cookieName)
        const session = serverSessionOf(request)
        if (!presented || !session?.sessionId || presented === session.encryptedSessionId || session.isModified()) return done(null, payload)
        const forwardedHere = heldLockOf(request)?.forwarded === true && heldLockOf(request)?.id === session.sessionId
        if (!forwardedHere && signer.unsign(presented).value !== session.sessionId) return done(null, payload)
        session.save((err?: unknown) => err ? done(err as Error) : done(null, payload))
      })
      // Every session has a budget in the store, as the cookie has in the browser: a change that
      // would make it larger is not saved. The session goes back to what it was before this
      // request wrote to it (nothing is lost), with a message saying why.
      app.decorateRequest(BEFORE_WRITES, null)
      app.addHook('onSend', (request, _reply, payload, done) => {
        if (!serverSessionOf(request) || (request as WithSnapshot)[BEFORE_WRITES] === null) return done(null, payload)
        const bytes = storedSize(request)
        if (bytes <= maxBytes) return done(null, payload)
        restoreBeforeWrites(request)
        const refusal = { category: 'error' as const, message: messages.storeTooLarge(maxBytes) }
        const kept = serverSessionDataOf(request)
        kept.flash = withFlash(kept.flash, refusal)
        // The message itself may not fit beside the messages already waiting: then it waits alone;
        // and if even that does not fit (a session near the budget, or over it since maxSessionBytes
        // was lowered), the session is saved as it was, without it. It is never dropped: a form may
        // already have stored it under a new id, which this response's cookie must name.
        if (storedSize(request) > maxBytes) kept.flash = withFlash(undefined, refusal)
        const userTold = storedSize(request) <= maxBytes
        if (!userTold) restoreBeforeWrites(request)
        request.log.warn({ sessionBytes: bytes, limit: maxBytes, userTold }, 'session too large for the store; change not saved')
        done(null, payload)
      })
      // @fastify/session resolves `secure: 'auto'` once, when a session is made, and keeps it with the
      // session: one begun over http would never get Secure over https, and one begun over https
      // would silently drop every write over http. Decided per request instead, as the cookie store does.
      // It also turns SameSite into Lax for a session begun over http, whatever was asked: the
      // option is kept here, as in the cookie store.
      app.addHook('onSend', (request, _reply, payload, done) => {
        const session = serverSessionOf(request)
        if (session?.cookie) {
          if (cookie.secure === 'auto') session.cookie.secure = request.protocol === 'https'
          if (cookie.sameSite !== undefined) session.cookie.sameSite = cookie.sameSite
        }
        done(null, payload)
      })
      turns.beforeFinalSave()
      await app.register(fastifySession, {
        secret: signer,
        cookieName,
        cookie: { ...cookie },
        store: pluginStore,
        // Ids the stores know as new: only those may be inserted (a reset stays final).
        idGenerator: fresh.generate,
        // A session reaches the store only when something was written to it (a cookieless
        // request that writes nothing stores nothing), and an unchanged one is not re-saved.
        saveUninitialized: false,
        rolling: false
      })
      turns.afterLoad()
      turns.afterSave()
      // secure-session logs why it rejects a cookie (at debug); @fastify/session does not, so say
      // it here, after the plugin's onRequest hook has loaded the session.
      app.addHook('onRequest', (request, _reply, done) => {
        const presented = request.cookies[cookieName]
        const session = serverSessionOf(request)
        if (presented && session?.sessionId && presented !== session.encryptedSessionId) {
          const { valid, value } = signer.unsign(presented)
          if (!valid) request.log.debug({ reason: 'bad signature' }, 'session cookie rejected: starting a new session')
          else if (value !== session.sessionId) request.log.debug({ reason: 'unknown or expired session id' }, 'session cookie rejected: starting a new session')
        }
        done()
      })
    },
    access: (request) => new ServerSessionAccess(request, maxBytes, pluginStore)
  }
}

/** @fastify/session's session, as views reach it in every store. */
class ServerSessionAccess implements SessionStorage {
  readonly #request: FastifyRequest
  readonly #maxBytes: number
  readonly #store: LockingStore

  constructor (request: FastifyRequest, maxBytes: number, store: LockingStore) {
    this.#request = request
    this.#maxBytes = maxBytes
    this.#store = store
  }

  // Each method reads request.session anew: reset() replaces it with a new session object.
  get<K extends SessionKey> (key: K): SessionData[K] | undefined {
    return serverSessionDataOf(this.#request)[key]
  }

  set<K extends SessionKey> (key: K, value: SessionData[K] | undefined): void {
    const request = this.#request as WithSnapshot
    const data = serverSessionDataOf(request)
    if (request[BEFORE_WRITES] === null) {
      const { cookie: _cookie, ...before } = data as Record<string, unknown>
      request[BEFORE_WRITES] = JSON.stringify(before)
    }
    data[key] = value
  }

  /** Destroys the old entry in the store and issues a new id; what comes after starts from empty. */
  async reset (): Promise<void> {
    await serverSessionOf(this.#request)!.regenerate()
    ;(this.#request as WithSnapshot)[BEFORE_WRITES] = '{}'
  }

  /**
   * With no session on the request the plugin saves nothing and sets no cookie, so the store and
   * the browser keep what they had.
   */
  discardChanges (): void {
    dropServerSession(this.#request)
  }

  /**
   * Every data key is kept; the new id is stored at once, and the old one forwards to it for the
   * requests already sent with it (session-locks.ts), then leads nowhere. A request that itself came
   * by such a forward does not rotate again: its session's id has just changed, and the requests
   * sent beside it must all end on one id, whatever order their answers arrive in.
   * A session over its budget keeps its id: the change will not be saved (the onSend hook above),
   * so nothing changed, and a rotation would store the oversized data under the new id.
   */
  async rotateId (): Promise<void> {
    if (storedSize(this.#request) > this.#maxBytes) return
    const session = serverSessionOf(this.#request)!
    const keys = Object.keys(session).filter((key) => key !== 'cookie')
    const held = heldLockOf(this.#request)
    // No turn on this id: a session begun by this request, whose id nobody else has.
    if (held === null || held.id !== session.sessionId) return session.regenerate(keys)
    if (held.forwarded) return
    this.#store.keepForRotation(held.id)
    await session.regenerate(keys)
    await this.#store.replaced(held, serverSessionOf(this.#request)!.sessionId, this.#request.ip)
    markLocked(this.#request)
  }
}
