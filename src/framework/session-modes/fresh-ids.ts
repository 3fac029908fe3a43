/**
 * "A reset is final": a store must never bring back a session that was deleted (reset, expired,
 * rotated) because a request that started before the deletion saved it afterwards. So a store
 * inserts only ids it has just handed out, and otherwise only updates a session that still exists
 * (Redis: SET … NX and SET … XX). This remembers which ids are new: made here, not yet stored.
 * Bounded, so cookieless requests that never store anything cannot grow it; an id that falls out
 * before its first save (only under a flood) is simply not stored, and its browser starts afresh.
 */
import { randomBytes } from 'node:crypto'
import { LRUCache } from 'lru-cache'

export class FreshIds {
  readonly #ids = new LRUCache<string, true>({ max: 100_000, ttl: 60_000 })

  /** A new random id (the same 32 base64url characters @fastify/session makes), remembered as new. */
  readonly generate = (): string => {
    const id = randomBytes(24).toString('base64url')
    this.#ids.set(id, true)
    return id
  }

  /** Was `id` handed out and not stored yet? Forgets it: from now on it is an existing session. */
  take (id: string): boolean {
    return this.#ids.delete(id)
  }
}
