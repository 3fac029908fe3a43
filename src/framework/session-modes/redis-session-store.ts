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

/** Redis refused this write although it answered (so reads may still work): why, from its error. */
export type WriteRefusal = 'full' | 'permission' | 'replica'

/** The error's message, less the location Redis appends to an error raised inside a script. */
export function messageOf (err: unknown): string {
  return String((err as Error | undefined)?.message ?? '').replace(/ script: \w+, on @user_script:\d+\.$/, '')
}

export function writeRefusalOf (err: unknown): WriteRefusal | undefined {
  const message = messageOf(err)
  // OOM: maxmemory with noeviction; NOPERM: an ACL user without scripts (or another command the
  // store needs); READONLY: REDIS_URL names a replica. PING (and reads) still answer in all three.
  if (message.startsWith('OOM')) return 'full'
  if (message.startsWith('NOPERM')) return 'permission'
  if (message.startsWith('READONLY')) return 'replica'
  return undefined
}

/** Refused by BEFORE_DEADLINE: the write reached Redis after its deadline, by Redis's clock. */
export function isLate (err: unknown): boolean {
  return messageOf(err).startsWith('LATE')
}

/**
 * Redis's clock as this process estimates it: the wall clock plus an offset measured with TIME,
 * three readings keeping the one with the shortest round trip (its error is at most half of that).
 * Measured again whenever the caller says (a reconnection, a write refused as late, a timer), so
 * a step of the wall clock costs at most the writes made before the next measurement.
 */
export class RedisClock {
  #offset = 0
  #measuring: Promise<void> | undefined

  constructor (
    private readonly time: () => Promise<readonly unknown[]>,
    private readonly wallClock: () => number,
    private readonly measured: (offset: number, previous: number) => void = () => {}
  ) {}

  /** Milliseconds, in Redis's clock. */
  now (): number {
    return this.wallClock() + this.#offset
  }

  /** One measurement at a time: a call while one is running gets that one's promise. */
  measure (): Promise<void> {
    this.#measuring ??= this.#measure().finally(() => { this.#measuring = undefined })
    return this.#measuring
  }

  async #measure (): Promise<void> {
    let best = { roundTrip: Infinity, offset: 0 }
    for (let i = 0; i < 3; i++) {
      const sent = this.wallClock()
      const [seconds, micros] = await this.time()
      const received = this.wallClock()
      if (received - sent < best.roundTrip) {
        best = { roundTrip: received - sent, offset: Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - (sent + received) / 2 }
      }
    }
    const previous = this.#offset
    this.#offset = best.offset
    this.measured(best.offset, previous)
  }
}

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
    this.client.get(this.prefix + sessionId).then((json) => {
      // A value under the prefix that is not a session (written by something else) is no session:
      // the browser starts afresh instead of the request failing.
      let session: Session | null = null
      try {
        session = json === null ? null : JSON.parse(json) as Session
      } catch {}
      callback(null, session)
    }, callback)
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
