/**
 * A bounded in-process session store: at most `max` sessions (least recently used evicted) and
 * none older than the idle timeout. @fastify/session's default store is an unbounded Map, so a
 * flood of cookieless requests would grow it without limit.
 * Sessions are kept as JSON, as Redis keeps them, so a request's changes reach the store only
 * when the plugin saves them.
 * @see https://github.com/isaacs/node-lru-cache
 */
import type { Session } from 'fastify'
import { randomUUID } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { FreshIds } from './fresh-ids.js'
import { FORWARD_MS, LOCK_TTL_MS, LockLost, lockOfWrite, mayFollow, type HeldLock, type LockingStore } from './session-locks.js'

type Callback<T = void> = (err?: unknown, result?: T) => void
type Forward = { to: string, at: number, client: string }

export interface MemoryStoreOptions {
  max: number
  ttlSeconds: number
  /** Which ids are new: only those are inserted; any other is only updated if it still exists. */
  fresh: FreshIds
  /** Milliseconds; the TTL is measured on it (tests move it by hand). */
  clock?: () => number
}

/**
 * Two segments, as in a segmented LRU: a session that has made one request sits in probation; the
 * first time it is read back (its second request) it moves to the protected segment. When the store
 * is full, probation's oldest go first, so a flood of one-time visitors, however large, only churns
 * probation and every returning session stays. The protected segment holds at most 80 %, so new
 * visitors always find room; beyond that its least recently used move back to probation.
 *
 * Protected is an lru-cache. Probation is a plain Map (insertion order is its age order): entries
 * there are written once and then leave, so it needs no recency, and lru-cache clears all of its
 * preallocated arrays (`max` slots) whenever its last entry is deleted, which in probation is the
 * common case (a form rotates the id, the next page promotes the new one): 10–30 µs each time.
 */
export class BoundedMemoryStore implements LockingStore {
  /** Sessions' locks (session-locks.ts): a request's turn, by session id. */
  readonly #locks = new Map<string, { token: string, expiresAt: number }>()
  /** Replaced ids, oldest first (all live FORWARD_MS): where each went, when, and for which client. */
  readonly #forwards = new Map<string, Forward>()
  readonly #keptForRotation = new Set<string>()
  readonly #probation = new Map<string, { json: string, expiresAt: number }>()
  readonly #protected: LRUCache<string, string>
  readonly #max: number
  readonly #protectedMax: number
  readonly #ttl: number
  readonly #now: () => number
  readonly #fresh: FreshIds

  constructor ({ max, ttlSeconds, clock, fresh }: MemoryStoreOptions) {
    this.#max = max
    this.#protectedMax = Math.max(1, Math.floor(max * 0.8))
    this.#ttl = ttlSeconds * 1000
    this.#now = clock ?? (() => performance.now())
    this.#fresh = fresh
    // lru-cache reuses a reading of its clock for 1 ms (ttlResolution); a hand-moved clock is read every time.
    this.#protected = new LRUCache({ max, ttl: this.#ttl, ...(clock ? { perf: { now: clock }, ttlResolution: 0 } : {}) })
  }

  get size (): number {
    return this.#probation.size + this.#protected.size
  }

  /** As Redis's SET NX / XX: a deleted or expired session is never brought back (see fresh-ids.ts). */
  set (sessionId: string, session: Session, callback: Callback): void {
    const held = lockOfWrite(session, sessionId)
    if (held !== undefined && !this.#holds(held)) return callback(new LockLost())
    if (held?.releaseWithSave === true) {
      this.#locks.delete(sessionId)
      held.released = true
    }
    const isNew = this.#fresh.take(sessionId)
    const json = JSON.stringify(session)
    if (this.#protected.has(sessionId)) {
      if (!isNew) this.#protected.set(sessionId, json)
    } else if (this.#onProbation(sessionId) !== undefined) {
      if (!isNew) this.#putOnProbation(sessionId, json, this.#ttl)
    } else if (isNew) {
      this.#putOnProbation(sessionId, json, this.#ttl)
      this.#makeRoom()
    }
    callback()
  }

  get (sessionId: string, callback: Callback<Session | null>): void {
    let json = this.#protected.get(sessionId)
    if (json === undefined) {
      const entry = this.#onProbation(sessionId)
      if (entry !== undefined) this.#promote(sessionId, json = entry.json, entry.expiresAt - this.#now())
    }
    callback(null, json === undefined ? null : JSON.parse(json) as Session)
  }

  destroy (sessionId: string, callback: Callback): void {
    // A rotation's destroy: the entry becomes a forward in `replaced`, once the new id is stored.
    if (!this.#keptForRotation.delete(sessionId)) this.#delete(sessionId)
    callback()
  }

  now (): number {
    return this.#now()
  }

  async tryLock (id: string, arrivedAt = this.#now(), client: string): Promise<HeldLock | { busyAt: number } | null> {
    let current = id
    for (let forward = this.#forwardOf(current); forward !== undefined; forward = this.#forwardOf(current)) {
      // Sent once the new id could be known: it leads nowhere (a planted id stays dead).
      if (!mayFollow(arrivedAt, client, forward.at, forward.client)) return null
      current = forward.to
    }
    if (!this.#protected.has(current) && this.#onProbation(current) === undefined) return null
    const lock = this.#locks.get(current)
    if (lock !== undefined && lock.expiresAt > this.#now()) return { busyAt: arrivedAt }
    const token = randomUUID()
    this.#locks.set(current, { token, expiresAt: this.#now() + LOCK_TTL_MS })
    return { id: current, token, forwarded: current !== id }
  }

  async unlock (held: HeldLock): Promise<void> {
    if (this.#locks.get(held.id)?.token === held.token) this.#locks.delete(held.id)
  }

  keepForRotation (id: string): void {
    this.#keptForRotation.add(id)
  }

  async replaced (held: HeldLock, newId: string, client: string): Promise<void> {
    this.#keptForRotation.delete(held.id)
    if (!this.#holds(held)) throw new LockLost()
    const now = this.#now()
    this.#delete(held.id)
    this.#locks.delete(held.id)
    // Oldest first, and all live as long: drop the expired ones from the front.
    for (const [old, { at }] of this.#forwards) {
      if (at + FORWARD_MS > now && this.#forwards.size < this.#max) break
      this.#forwards.delete(old)
    }
    this.#forwards.set(held.id, { to: newId, at: now, client })
    this.#locks.set(newId, { token: held.token, expiresAt: now + LOCK_TTL_MS })
    held.id = newId
  }

  #holds (held: HeldLock): boolean {
    const lock = this.#locks.get(held.id)
    return lock !== undefined && lock.token === held.token && lock.expiresAt > this.#now()
  }

  #forwardOf (id: string): Forward | undefined {
    const forward = this.#forwards.get(id)
    if (forward !== undefined && forward.at + FORWARD_MS <= this.#now()) {
      this.#forwards.delete(id)
      return undefined
    }
    return forward
  }

  #delete (sessionId: string): void {
    this.#probation.delete(sessionId)
    this.#protected.delete(sessionId)
  }

  /** The probation entry, unless it has expired (then it is dropped). */
  #onProbation (sessionId: string): { json: string, expiresAt: number } | undefined {
    const entry = this.#probation.get(sessionId)
    if (entry !== undefined && entry.expiresAt <= this.#now()) {
      this.#probation.delete(sessionId)
      return undefined
    }
    return entry
  }

  /** At the young end of probation, with `ttl` milliseconds to live. */
  #putOnProbation (sessionId: string, json: string, ttl: number): void {
    this.#probation.delete(sessionId)
    this.#probation.set(sessionId, { json, expiresAt: this.#now() + ttl })
  }

  /** Read back: a returning session. Its idle timeout keeps counting from its last write. */
  #promote (sessionId: string, json: string, ttl: number): void {
    this.#probation.delete(sessionId)
    this.#protected.set(sessionId, json, { ttl })
    while (this.#protected.size > this.#protectedMax) {
      // rkeys() starts at the least recently used.
      const oldest = this.#protected.rkeys().next().value!
      this.#putOnProbation(oldest, this.#protected.peek(oldest)!, this.#protected.getRemainingTTL(oldest))
      this.#protected.delete(oldest)
    }
    this.#makeRoom()
  }

  #makeRoom (): void {
    while (this.size > this.#max) {
      const oldest = this.#probation.keys().next()
      if (!oldest.done) this.#probation.delete(oldest.value)
      else this.#protected.pop()
    }
  }
}
