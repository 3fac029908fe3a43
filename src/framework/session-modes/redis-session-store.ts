/**
 * Sessions in Redis, one JSON value per key under a prefix, the idle timeout as TTL: the store
 * @fastify/session calls, written on the `redis` client so that a save can say insert-only (NX) or
 * update-only (XX), which connect-redis's generic SET cannot (see fresh-ids.ts for why it matters).
 */
import type { Session } from 'fastify'
import type { FreshIds } from './fresh-ids.js'

type Callback<T = void> = (err?: unknown, result?: T) => void

/** The three commands this store uses, as the `redis` client offers them. */
export interface RedisCommands {
  get (key: string): Promise<string | null>
  set (key: string, value: string, options: { expiration: { type: 'EX', value: number }, condition: 'NX' | 'XX' }): Promise<unknown>
  del (key: string): Promise<number>
}

export class RedisSessionStore {
  constructor (
    private readonly client: RedisCommands,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    private readonly fresh: FreshIds
  ) {}

  get (sessionId: string, callback: Callback<Session | null>): void {
    this.client.get(this.prefix + sessionId).then(
      (json) => callback(null, json === null ? null : JSON.parse(json) as Session),
      callback)
  }

  /** Inserts a new id only if unused, updates any other only if it still exists; else writes nothing. */
  set (sessionId: string, session: Session, callback: Callback): void {
    const condition = this.fresh.take(sessionId) ? 'NX' : 'XX'
    this.client.set(this.prefix + sessionId, JSON.stringify(session), { expiration: { type: 'EX', value: this.ttlSeconds }, condition })
      .then(() => callback(), callback)
  }

  destroy (sessionId: string, callback: Callback): void {
    this.client.del(this.prefix + sessionId).then(() => callback(), callback)
  }
}
