/**
 * Sessions in Redis, one JSON value per key under a prefix, the idle timeout as TTL, written on the
 * `redis` client with scripts: a save can say insert-only (NX) or update-only (XX), which
 * connect-redis's generic SET cannot (see fresh-ids.ts for why it matters), and each write checks
 * the request's deadline and its lock on the session (session-locks.ts) in the same step.
 */
import type { Session } from 'fastify'
import { randomUUID } from 'node:crypto'
import { defineScript } from 'redis'
import type { FreshIds } from './fresh-ids.js'
import { FORWARD_GRACE_MS, FORWARD_MS, LOCK_TTL_MS, lockOfWrite, type HeldLock } from './session-locks.js'

/**
 * Every script that writes starts here: it runs only if Redis's own clock is not past the deadline
 * (ARGV[1], milliseconds, Redis's clock). A command sent to a frozen Redis waits in its socket and
 * runs when Redis wakes, long after its request was answered 503; this refuses it then, so a write
 * the user was told failed never lands later (a count one ahead, a reset undone, a lock nobody holds).
 */
const DEADLINE = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if now > tonumber(ARGV[1]) then
  return redis.error_reply('LATE the command reached Redis after its deadline')
end`

/** A write made under a lock checks it first: a request that outlived its lock writes nothing. */
const FENCE = `
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return redis.error_reply('LOCKLOST the request held its session longer than the lock lasts, and did not write')
end`

/**
 * SET the session (KEYS[1]) NX or XX, with its TTL, if the deadline and the lock (KEYS[2], token
 * ARGV[2]) allow; with ARGV[6] = '1', the lock is released in the same step (the request's last write).
 */
export const SAVE_SESSION = defineScript({
  SCRIPT: `${DEADLINE}${FENCE}
local saved = redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4], ARGV[5])
if ARGV[6] == '1' then redis.call('DEL', KEYS[2]) end
return saved`,
  NUMBER_OF_KEYS: 2,
  parseCommand (parser, deadline: number, key: string, lockKey: string, token: string, json: string, ttlSeconds: number, condition: 'NX' | 'XX', release = false) {
    parser.pushKeys([key, lockKey])
    parser.push(String(deadline), token, json, String(ttlSeconds), condition, release ? '1' : '0')
  },
  transformReply: (reply: unknown) => reply
})

/** DEL the session (KEYS[1]), if the deadline and the lock allow. */
export const DESTROY_SESSION = defineScript({
  SCRIPT: `${DEADLINE}${FENCE}
return redis.call('DEL', KEYS[1])`,
  NUMBER_OF_KEYS: 2,
  parseCommand (parser, deadline: number, key: string, lockKey: string, token: string) {
    parser.pushKeys([key, lockKey])
    parser.push(String(deadline), token)
  },
  transformReply: (reply: unknown) => reply
})

/**
 * The session the id names (KEYS[1]), following the forwards (`@newid at client`) that a request
 * which arrived at ARGV[6] from ARGV[7] may follow (session-locks.ts, mayFollow, with the grace
 * ARGV[8]); then its lock, SET NX with a TTL. Answers {'held', id, value},
 * {'busy'} or {'none'}. The forwards' keys are found as it goes, so they are not declared: this
 * runs on a single Redis (or a Sentinel-managed one), not a cluster.
 */
export const LOCK_SESSION = defineScript({
  SCRIPT: `${DEADLINE}
local prefix, id, arrived, client, grace = ARGV[2], ARGV[3], tonumber(ARGV[6]) or now, ARGV[7], tonumber(ARGV[8])
local value = redis.call('GET', KEYS[1])
for hop = 1, 32 do
  if not value or string.sub(value, 1, 1) ~= '@' then break end
  local to, at, by = string.match(value, '^@(%S+) (%d+) (%S*)$')
  if not to then return {'none'} end
  at = tonumber(at)
  if arrived > at and (arrived > at + grace or client ~= by) then return {'none'} end
  id = to
  value = redis.call('GET', prefix .. id)
end
if not value or string.sub(value, 1, 1) == '@' then return {'none'} end
if not redis.call('SET', prefix .. 'lock:' .. id, ARGV[4], 'PX', ARGV[5], 'NX') then return {'busy', tostring(arrived)} end
return {'held', id, value}`,
  NUMBER_OF_KEYS: 1,
  parseCommand (parser, deadline: number, prefix: string, id: string, token: string, lockMs: number, arrivedAt: number | undefined, client: string, graceMs: number) {
    parser.pushKey(prefix + id)
    // No arrival yet: the script dates this first try by Redis's own clock, and says when.
    parser.push(String(deadline), prefix, id, token, String(lockMs), arrivedAt === undefined ? '' : String(Math.floor(arrivedAt)), client, String(graceMs))
  },
  transformReply: (reply: unknown) => reply as string[]
})

/** The old id (KEYS[1]) becomes a forward to the new one, dated now, for the client ARGV[6]; the lock moves with it (KEYS[2] to KEYS[3]). */
export const FORWARD_SESSION = defineScript({
  SCRIPT: `${DEADLINE}${FENCE}
redis.call('SET', KEYS[1], '@' .. ARGV[3] .. ' ' .. now .. ' ' .. ARGV[6], 'PX', ARGV[5])
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[4])
redis.call('DEL', KEYS[2])
return 'OK'`,
  NUMBER_OF_KEYS: 3,
  parseCommand (parser, deadline: number, key: string, lockKey: string, newLockKey: string, token: string, newId: string, lockMs: number, forwardMs: number, client: string) {
    parser.pushKeys([key, lockKey, newLockKey])
    parser.push(String(deadline), token, newId, String(lockMs), String(forwardMs), client)
  },
  transformReply: (reply: unknown) => reply
})

/** The lock (KEYS[1]) goes, if it is still this token's. No deadline: a late release frees nobody else's lock. */
export const UNLOCK_SESSION = defineScript({
  SCRIPT: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  NUMBER_OF_KEYS: 1,
  parseCommand (parser, lockKey: string, token: string) {
    parser.pushKey(lockKey)
    parser.push(token)
  },
  transformReply: (reply: unknown) => reply
})

export const SESSION_SCRIPTS = {
  saveSession: SAVE_SESSION,
  destroySession: DESTROY_SESSION,
  lockSession: LOCK_SESSION,
  forwardSession: FORWARD_SESSION,
  unlockSession: UNLOCK_SESSION
}

/** Redis refused this write although it answered (so reads may still work): why, from its error. */
export type WriteRefusal = 'full' | 'permission' | 'replica' | 'replicas'

/** The error's message, less the location Redis appends to an error raised inside a script. */
export function messageOf (err: unknown): string {
  return String((err as Error | undefined)?.message ?? '').replace(/ script: \w+, on @user_script:\d+\.$/, '')
}

export function writeRefusalOf (err: unknown): WriteRefusal | undefined {
  const message = messageOf(err)
  // OOM: maxmemory with noeviction; NOPERM: an ACL user without scripts (or another command the
  // store needs); READONLY: the URL names a replica. PING (and reads) still answer in all of these.
  if (message.startsWith('OOM')) return 'full'
  if (message.startsWith('NOPERM')) return 'permission'
  if (message.startsWith('READONLY')) return 'replica'
  // Fewer replicas than writeReplicas confirmed the write (redis-client.ts), or Redis's own
  // min-replicas-to-write refused it.
  if (message.startsWith('NOREPLICAS')) return 'replicas'
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

/** The commands this store uses, as the `redis` client offers them with the scripts above. */
export interface RedisCommands {
  get (key: string): Promise<string | null>
  saveSession (deadline: number, key: string, lockKey: string, token: string, json: string, ttlSeconds: number, condition: 'NX' | 'XX', release?: boolean): Promise<unknown>
  destroySession (deadline: number, key: string, lockKey: string, token: string): Promise<unknown>
  lockSession (deadline: number, prefix: string, id: string, token: string, lockMs: number, arrivedAt: number | undefined, client: string, graceMs: number): Promise<string[]>
  forwardSession (deadline: number, key: string, lockKey: string, newLockKey: string, token: string, newId: string, lockMs: number, forwardMs: number, client: string): Promise<unknown>
  unlockSession (lockKey: string, token: string): Promise<unknown>
}

/**
 * Sessions in Redis, with turns (session-locks.ts): promise-based; redis-store.ts puts the deadline
 * and the 503 around each call and offers it to @fastify/session as a store.
 */
export class RedisSessions {
  /**
   * What a lock's script read, for the load that follows it at once (saves a round trip); dropped
   * by any write to that id, and by the release of its lock, so it is never read stale.
   */
  readonly #loaded = new Map<string, string>()
  readonly #keptForRotation = new Set<string>()

  /**
   * @param writeDeadline when a write starting now must have run by, in Redis's clock (ms): early
   *   enough that a refusal reaches us before the request's own deadline answers 503.
   * @param redisNow Redis's clock as this process estimates it (ms).
   */
  constructor (
    private readonly client: RedisCommands,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    private readonly fresh: FreshIds,
    private readonly writeDeadline: () => number,
    readonly redisNow: () => number
  ) {}

  async get (sessionId: string): Promise<Session | null> {
    let json: string | null | undefined = this.#loaded.get(sessionId)
    if (json !== undefined) this.#loaded.delete(sessionId)
    else json = await this.client.get(this.prefix + sessionId)
    // A value under the prefix that is not a session (written by something else, or a forward) is
    // no session: the browser starts afresh instead of the request failing.
    try {
      return json === null || json.startsWith('@') ? null : JSON.parse(json) as Session
    } catch {
      return null
    }
  }

  /** Inserts a new id only if unused, updates any other only if it still exists; else writes nothing. */
  async set (sessionId: string, session: Session): Promise<void> {
    this.#loaded.delete(sessionId)
    const condition = this.fresh.take(sessionId) ? 'NX' : 'XX'
    const held = lockOfWrite(session, sessionId)
    const release = held?.releaseWithSave === true
    await this.client.saveSession(this.writeDeadline(), this.prefix + sessionId, this.#lockKey(sessionId), held?.token ?? '',
      JSON.stringify(session), this.ttlSeconds, condition, release)
    if (release) held!.released = true
  }

  async destroy (sessionId: string): Promise<void> {
    this.#loaded.delete(sessionId)
    // A rotation's destroy: the entry becomes a forward in `replaced`, once the new id is stored.
    if (this.#keptForRotation.delete(sessionId)) return
    await this.client.destroySession(this.writeDeadline(), this.prefix + sessionId, this.#lockKey(sessionId), '')
  }

  async tryLock (id: string, arrivedAt: number | undefined, client: string): Promise<HeldLock | { busyAt: number } | null> {
    const token = randomUUID()
    const [state, current, json] = await this.client.lockSession(this.writeDeadline(), this.prefix, id, token, LOCK_TTL_MS, arrivedAt, spaceless(client), FORWARD_GRACE_MS)
    if (state === 'busy') return { busyAt: Number(current) }
    if (state !== 'held' || current === undefined || json === undefined) return null
    this.#loaded.set(current, json)
    return { id: current, token, forwarded: current !== id }
  }

  async unlock (held: HeldLock): Promise<void> {
    this.#loaded.delete(held.id)
    await this.client.unlockSession(this.#lockKey(held.id), held.token)
  }

  keepForRotation (id: string): void {
    this.#keptForRotation.add(id)
  }

  async replaced (held: HeldLock, newId: string, client: string): Promise<void> {
    this.#keptForRotation.delete(held.id)
    this.#loaded.delete(held.id)
    await this.client.forwardSession(this.writeDeadline(), this.prefix + held.id, this.#lockKey(held.id), this.#lockKey(newId),
      held.token, newId, LOCK_TTL_MS, FORWARD_MS, spaceless(client))
    held.id = newId
  }

  #lockKey (sessionId: string): string {
    // ':' never occurs in a session id (base64url), so a lock can never be mistaken for a session.
    return `${this.prefix}lock:${sessionId}`
  }
}

/** A client address as one word of a forward's value (an address never has spaces; this makes sure). */
function spaceless (client: string): string {
  return client.replace(/\s/g, '_')
}
