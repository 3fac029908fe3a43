/**
 * Sessions in Redis, one JSON value per key under a prefix, the idle timeout as TTL: the store
 * @fastify/session calls, written on the `redis` client so that a save can say insert-only (NX) or
 * update-only (XX), which connect-redis's generic SET cannot (see fresh-ids.ts for why it matters).
 */
import type { Session } from 'fastify'
import { defineScript } from 'redis'
import type { FreshIds } from './fresh-ids.js'

type Callback<T = void> = (err?: unknown, result?: T) => void

/**
 * Runs one command on one key unless Redis's own clock is past the deadline (milliseconds, Redis's
 * clock). A command sent to a frozen Redis waits in its socket and runs when Redis wakes, long after
 * its request was answered 503; this refuses it then, so a write the user was told failed never
 * lands later (a count one ahead, a reset undone).
 */
export const BEFORE_DEADLINE = defineScript({
  SCRIPT: `
local now = redis.call('TIME')
if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > tonumber(ARGV[1]) then
  return redis.error_reply('LATE the command reached Redis after its deadline')
end
return redis.call(ARGV[2], KEYS[1], unpack(ARGV, 3))`,
  NUMBER_OF_KEYS: 1,
  parseCommand (parser, deadline: number, command: string, key: string, ...args: string[]) {
    parser.pushKey(key)
    parser.push(String(deadline), command, ...args)
  },
  transformReply: (reply: unknown) => reply
})

/** The commands this store uses, as the `redis` client offers them with the script above. */
export interface RedisCommands {
  get (key: string): Promise<string | null>
  beforeDeadline (deadline: number, command: 'SET' | 'DEL', key: string, ...args: string[]): Promise<unknown>
}

export class RedisSessionStore {
  /**
   * @param writeDeadline when a write starting now must have run by, in Redis's clock (ms): early
   *   enough that a refusal reaches us before the request's own deadline answers 503.
   */
  constructor (
    private readonly client: RedisCommands,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    private readonly fresh: FreshIds,
    private readonly writeDeadline: () => number
  ) {}

  get (sessionId: string, callback: Callback<Session | null>): void {
    this.client.get(this.prefix + sessionId).then(
      (json) => callback(null, json === null ? null : JSON.parse(json) as Session),
      callback)
  }

  /** Inserts a new id only if unused, updates any other only if it still exists; else writes nothing. */
  set (sessionId: string, session: Session, callback: Callback): void {
    const condition = this.fresh.take(sessionId) ? 'NX' : 'XX'
    this.client.beforeDeadline(this.writeDeadline(), 'SET', this.prefix + sessionId, JSON.stringify(session), 'EX', String(this.ttlSeconds), condition)
      .then(() => callback(), callback)
  }

  destroy (sessionId: string, callback: Callback): void {
    this.client.beforeDeadline(this.writeDeadline(), 'DEL', this.prefix + sessionId).then(() => callback(), callback)
  }
}
