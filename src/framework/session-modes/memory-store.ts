/**
 * A bounded in-process session store: at most `max` sessions (least recently used evicted) and
 * none older than the idle timeout. @fastify/session's default store is an unbounded Map, so a
 * flood of cookieless requests would grow it without limit.
 * Sessions are kept as JSON, as Redis keeps them, so a request's changes reach the store only
 * when the plugin saves them.
 * @see https://github.com/isaacs/node-lru-cache
 */
import type { Session } from 'fastify'
import type { SessionStore } from '@fastify/session'
import { LRUCache } from 'lru-cache'
import type { FreshIds } from './fresh-ids.js'

type Callback<T = void> = (err?: unknown, result?: T) => void

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
 * is full, probation's least recently used go first, so a flood of one-time visitors, however large,
 * only churns probation and every returning session stays. The protected segment holds at most 80 %,
 * so new visitors always find room; beyond that its least recently used move back to probation.
 */
export class BoundedMemoryStore implements SessionStore {
  readonly #probation: LRUCache<string, string>
  readonly #protected: LRUCache<string, string>
  readonly #max: number
  readonly #protectedMax: number
  readonly #fresh: FreshIds

  constructor ({ max, ttlSeconds, clock, fresh }: MemoryStoreOptions) {
    this.#max = max
    this.#protectedMax = Math.max(1, Math.floor(max * 0.8))
    this.#fresh = fresh
    // lru-cache reuses a reading of its clock for 1 ms (ttlResolution); a hand-moved clock is read every time.
    const options = { max, ttl: ttlSeconds * 1000, ...(clock ? { perf: { now: clock }, ttlResolution: 0 } : {}) }
    this.#probation = new LRUCache(options)
    this.#protected = new LRUCache(options)
  }

  get size (): number {
    return this.#probation.size + this.#protected.size
  }

  /** As Redis's SET NX / XX: a deleted or expired session is never brought back (see fresh-ids.ts). */
  set (sessionId: string, session: Session, callback: Callback): void {
    const isNew = this.#fresh.take(sessionId)
    const json = JSON.stringify(session)
    if (this.#protected.has(sessionId)) {
      if (!isNew) this.#protected.set(sessionId, json)
    } else if (this.#probation.has(sessionId)) {
      if (!isNew) this.#probation.set(sessionId, json)
    } else if (isNew) {
      this.#probation.set(sessionId, json)
      this.#makeRoom()
    }
    callback()
  }

  get (sessionId: string, callback: Callback<Session | null>): void {
    let json = this.#protected.get(sessionId)
    if (json === undefined) {
      json = this.#probation.get(sessionId)
      if (json !== undefined) this.#promote(sessionId, json)
    }
    callback(null, json === undefined ? null : JSON.parse(json) as Session)
  }

  destroy (sessionId: string, callback: Callback): void {
    this.#probation.delete(sessionId)
    this.#protected.delete(sessionId)
    callback()
  }

  /** Read back: a returning session. Its idle timeout keeps counting from its last write. */
  #promote (sessionId: string, json: string): void {
    const ttl = this.#probation.getRemainingTTL(sessionId)
    this.#probation.delete(sessionId)
    this.#protected.set(sessionId, json, { ttl })
    while (this.#protected.size > this.#protectedMax) {
      // rkeys() starts at the least recently used.
      const oldest = this.#protected.rkeys().next().value!
      this.#probation.set(oldest, this.#protected.peek(oldest)!, { ttl: this.#protected.getRemainingTTL(oldest) })
      this.#protected.delete(oldest)
    }
    this.#makeRoom()
  }

  #makeRoom (): void {
    while (this.size > this.#max) {
      if (this.#probation.size > 0) this.#probation.pop()
      else this.#protected.pop()
    }
  }
}
