/**
 * One request at a time per session, in the server-side stores. Each request loads the whole session and
 * the plugin writes the whole session back, so two requests that overlap on one session would each
 * write what they read plus their own change, and the second write would erase the first (20
 * concurrent posts kept 7 of 21 items in Redis). Here a request with a session cookie waits its turn
 * on that session before it loads it, and gives the turn up once its changes are saved: every change
 * is made on top of the one before it, in one process or in several sharing a Redis.
 *
 * The turn is a lock with a token: held for at most LOCK_TTL_MS (a process that dies holding one
 * blocks its session for that long, no more), and every write checks that its token still holds
 * the lock, so a request that outlived its lock is refused (503) rather than overwriting a newer
 * change. Requests without a cookie, or with an unknown one, start a new session and wait for
 * nothing; HEAD writes nothing and takes no turn.
 *
 * A form changes the session id (against fixation). The old id is kept as a forward to the new one
 * for the requests that were sent with it before they could know the new id: those that arrived
 * before the replacement (they were waiting their turn), and for FORWARD_GRACE_MS afterwards those
 * from the same client address as the request that replaced it (a double-click whose first answer
 * the browser dropped, a page's parallel requests still on the wire). Anyone else's request with the
 * old id leads nowhere: a planted id still stops working for its planter at the victim's first form,
 * unless they share the victim's address and act within the grace. This is the remedy PHP's
 * session_regenerate_id documentation describes, narrowed by address. See docs/stores.md.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Signer } from '@fastify/cookie'
// @fastify/session calls its key-value store a SessionStore; here that name is the framework's own.
import type { SessionStore as PluginStore } from '@fastify/session'
import { setTimeout as sleep } from 'node:timers/promises'
import { SessionStoreUnavailable } from './session-store.js'
import { serverSessionOf } from './plugin-sessions.js'

/** The longest a request holds its session's lock: a holder that dies frees it after this. */
export const LOCK_TTL_MS = 10_000
/** The longest a request waits for its turn before it is answered 503. */
export const LOCK_WAIT_MS = 10_000
/** After a replacement, how long requests from the same client address may still follow the old id. */
export const FORWARD_GRACE_MS = 5000
/** How long a replaced id's forward is kept: as long as anyone may still follow it. */
export const FORWARD_MS = Math.max(LOCK_WAIT_MS, FORWARD_GRACE_MS) + 1000

/** May a request that arrived at `arrivedAt` from `client` follow a forward made at `at` for `forwardClient`? */
export function mayFollow (arrivedAt: number, client: string, at: number, forwardClient: string): boolean {
  return arrivedAt <= at || (arrivedAt <= at + FORWARD_GRACE_MS && client === forwardClient)
}

/** A request's turn on one session: the session's current id, and the token that proves the turn. */
export interface HeldLock {
  /** The session's id now (a form's rotation moves the lock to the new id). */
  id: string
  readonly token: string
  /** The cookie named an id that had been replaced: the request reached the session by its forward. */
  readonly forwarded: boolean
  /**
   * Set just before @fastify/session's final save: that save also releases the lock, in the same
   * step (one round trip fewer per request), and sets `released`.
   */
  releaseWithSave?: boolean
  released?: boolean
}

/**
 * A session store that gives turns. `now` is the clock forwards are dated on (Redis's own for the
 * Redis store), in milliseconds.
 */
export interface LockingStore extends PluginStore {
  now (): number
  /**
   * One try for the session `id` names, following the forwards a request that arrived at
   * `arrivedAt` from `client` may follow (mayFollow): the lock, busy (another request holds it; when this try was, by the
   * store's clock, which the next try passes as `arrivedAt`),
   * or null (no such session).
   */
  tryLock (id: string, arrivedAt: number | undefined, client: string): Promise<HeldLock | { busyAt: number } | null>
  unlock (held: HeldLock): Promise<void>
  /** The next destroy of `id` belongs to its rotation: the entry stays until `replaced` forwards it. */
  keepForRotation (id: string): void
  /** `held.id` now forwards to `newId` (see mayFollow; `client` made the change), and the lock moves there. */
  replaced (held: HeldLock, newId: string, client: string): Promise<void>
}

/** The request's turn, kept on @fastify/session's session object too, so the store can check it when it writes. */
export const LOCK = Symbol('session-locks.lock')
const HELD = Symbol('session-locks.held')
/** Lets the next request in this process with the same cookie go (see LocalQueue). */
const LEAVE = Symbol('session-locks.leave')
/** The cookie as the browser sent it, when it named a replaced id (request.cookies then names the current one). */
const PRESENTED = Symbol('session-locks.presented')

type WithLock = FastifyRequest & { [HELD]: HeldLock | null, [PRESENTED]: string | null, [LEAVE]: (() => void) | null }

export function heldLockOf (request: FastifyRequest): HeldLock | null {
  return (request as WithLock)[HELD]
}

/** The session cookie as the browser sent it. */
export function presentedCookie (request: FastifyRequest, cookieName: string): string | undefined {
  return (request as WithLock)[PRESENTED] ?? request.cookies[cookieName]
}

/** Marks @fastify/session's session object with the request's turn (after a load or an id change). */
export function markLocked (request: FastifyRequest): void {
  const held = heldLockOf(request)
  const session = serverSessionOf(request) as unknown as ({ sessionId?: string, [LOCK]?: HeldLock } | null | undefined)
  if (held && session && session.sessionId === held.id) session[LOCK] = held
}

/** The turn a store write was made under, if the session object carries one for this id. */
export function lockOfWrite (session: object, sessionId: string): HeldLock | undefined {
  const held = (session as { [LOCK]?: HeldLock })[LOCK]
  return held?.id === sessionId ? held : undefined
}

/** Thrown by a store whose write came from a request that no longer holds the session's lock. */
export class LockLost extends Error {
  override name = 'LockLost'
  constructor () {
    super('LOCKLOST the request held its session longer than the lock lasts, and did not write')
  }
}

/**
 * Registers the turn-taking around the store plugin: `beforeLoad` and `beforeFinalSave` before
 * @fastify/session (its onRequest hook loads the session, its onSend hook saves it), `afterLoad`
 * and `afterSave` after it.
 */
export function sessionTurns (app: FastifyInstance, store: LockingStore, signer: Signer, cookieName: string) {
  const local = new LocalQueue()
  return {
    beforeLoad () {
      app.decorateRequest(HELD, null)
      app.decorateRequest(PRESENTED, null)
      app.decorateRequest(LEAVE, null)
      app.addHook('onRequest', async (request) => {
        const presented = request.cookies[cookieName]
        if (request.method === 'HEAD' || !presented) return
        const { valid, value } = signer.unsign(presented)
        if (!valid) return
        const giveUpAt = performance.now() + LOCK_WAIT_MS
        const leave = await local.enter(value, giveUpAt)
        let held: HeldLock | null
        try {
          held = await waitForTurn(store, value, request.ip, giveUpAt)
        } catch (err) {
          leave()
          throw err
        }
        if (held === null) return leave()
        const withLock = request as WithLock
        withLock[HELD] = held
        withLock[LEAVE] = leave
        if (held.forwarded) {
          // @fastify/session loads the session the cookie names: name the current id.
          withLock[PRESENTED] = presented
          request.cookies[cookieName] = signer.sign(held.id)
        }
      })
    },
    /** Just before @fastify/session's onSend hook: its save, the request's last write, releases the lock too. */
    beforeFinalSave () {
      app.addHook('onSend', (request, _reply, payload, done) => {
        const held = heldLockOf(request)
        if (held) held.releaseWithSave = true
        done(null, payload)
      })
    },
    afterLoad () {
      app.addHook('onRequest', (request, _reply, done) => {
        markLocked(request)
        done()
      })
    },
    afterSave () {
      // After @fastify/session's onSend hook, which saves: the next request may go. onResponse
      // covers a request whose onSend never ran; the lock's TTL, a process that died.
      const release = async (request: FastifyRequest) => {
        const withLock = request as WithLock
        const held = withLock[HELD]
        const leave = withLock[LEAVE]!
        if (held === null) return
        withLock[HELD] = null
        withLock[LEAVE] = null
        // The next request here goes once the lock is free (before, it would only find it busy).
        if (held.released === true) return leave()
        await store.unlock(held).finally(leave)
      }
      // The change is saved by now: a failed release must not answer 503 for it. The lock expires.
      const releaseQuietly = (request: FastifyRequest) =>
        release(request).catch((err: unknown) => request.log.warn({ err }, 'session lock not released; it expires by itself'))
      app.addHook('onSend', async (request, _reply, payload) => {
        await releaseQuietly(request)
        return payload
      })
      app.addHook('onResponse', releaseQuietly)
    }
  }
}

/** Tries until the session is free, backing off (with jitter) to a try every 20 ms, until `giveUpAt`. */
async function waitForTurn (store: LockingStore, id: string, client: string, giveUpAt: number): Promise<HeldLock | null> {
  // Arrival is the first try, dated by the store's own clock (Redis's, in the Redis store), the clock the
  // forwards are dated on: comparing it with this process's clock would let a request that came
  // just after a rotation pass for one that came before it.
  let arrivedAt: number | undefined
  for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
    const attempt = await store.tryLock(id, arrivedAt, client)
    if (attempt === null || !('busyAt' in attempt)) return attempt
    arrivedAt ??= attempt.busyAt
    if (performance.now() >= giveUpAt) throw busy()
    await sleep(pause * (0.5 + Math.random()))
  }
}

function busy (): SessionStoreUnavailable {
  return new SessionStoreUnavailable(new Error(`waited ${LOCK_WAIT_MS} ms for the session's lock`), 'your session is busy with other requests')
}

/**
 * Requests in this process that bring the same cookie wait here first, in arrival order, and only
 * the first of them tries the store's lock: one browser's parallel requests take turns without
 * polling Redis, and with no pause between turns. (Requests from other processes, or with another
 * cookie naming the same session after a rotation, still meet at the store's lock.)
 */
class LocalQueue {
  readonly #last = new Map<string, Promise<void>>()

  /** Resolves when it is this request's turn here, with the function that ends it; rejects (503) at `giveUpAt`. */
  async enter (key: string, giveUpAt: number): Promise<() => void> {
    const before = this.#last.get(key)
    let done!: () => void
    const mine = new Promise<void>((resolve) => { done = resolve })
    // The next one waits for this one, which ends only after the one before it has.
    const last = before === undefined ? mine : before.then(() => mine)
    this.#last.set(key, last)
    let left = false
    const leave = () => {
      if (left) return
      left = true
      done()
      if (this.#last.get(key) === last) this.#last.delete(key)
    }
    if (before === undefined) return leave
    const timer = new AbortController()
    try {
      await Promise.race([before, sleep(Math.max(0, giveUpAt - performance.now()), undefined, { signal: timer.signal }).then(() => { throw busy() })])
    } catch (err) {
      // Given up: the ones behind must still get their turn once those ahead are done.
      before.then(leave, leave)
      throw err
    } finally {
      timer.abort()
    }
    return leave
  }
}
