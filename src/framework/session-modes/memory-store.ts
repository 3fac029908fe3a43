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

export class BoundedMemoryStore implements SessionStore {
  readonly #sessions: LRUCache<string, string>
  readonly #fresh: FreshIds

  constructor ({ max, ttlSeconds, clock, fresh }: MemoryStoreOptions) {
    this.#fresh = fresh
    // lru-cache reuses a reading of its clock for 1 ms (ttlResolution); a hand-moved clock is read every time.
    this.#sessions = new LRUCache({ max, ttl: ttlSeconds * 1000, ...(clock ? { perf: { now: clock }, ttlResolution: 0 } : {}) })
  }

  get size (): number {
    return this.#sessions.size
  }

  /** As Redis's SET NX / XX: a deleted or expired session is never brought back (see fresh-ids.ts). */
  set (sessionId: string, session: Session, callback: Callback): void {
    const isNew = this.#fresh.take(sessionId)
    const exists = this.#sessions.has(sessionId)
    if (isNew ? !exists : exists) this.#sessions.set(sessionId, JSON.stringify(session))
    callback()
  }

  get (sessionId: string, callback: Callback<Session | null>): void {
    const json = this.#sessions.get(sessionId)
    callback(null, json === undefined ? null : JSON.parse(json) as Session)
  }

  destroy (sessionId: string, callback: Callback): void {
    this.#sessions.delete(sessionId)
    callback()
  }
}
