/**
 * Redis mode: sessions in Redis (redis-session-store.ts, on the `redis` client), one key per
 * session under a prefix, TTL = the idle timeout. Several app processes pointed at one Redis
 * share sessions, and sessions outlive app restarts.
 * While Redis is unreachable, session requests fail fast with a 503 (no offline queue, so nothing
 * hangs), /healthz says why, and the client keeps reconnecting by itself.
 * @see https://github.com/redis/node-redis
 */
import type { FastifyBaseLogger } from 'fastify'
import type { SessionStore } from '@fastify/session'
import { createClient } from 'redis'
import { setTimeout as sleep } from 'node:timers/promises'
import { SessionStoreUnavailable, SessionStoreUnreachable, type Health } from './backend.js'
import { OutageLog } from './outage-log.js'
import type { FreshIds } from './fresh-ids.js'
import { BEFORE_DEADLINE, RedisSessionStore } from './redis-session-store.js'
import type { StoreBackendParts } from './store-session.js'

type Callback = (err?: unknown, result?: unknown) => void

/** The URL without a password, for messages and logs. */
export function redactUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparsable REDIS_URL)'
  }
}

export interface RedisStoreOptions {
  url: string
  prefix: string
  /** Seconds to keep trying at startup; 0 fails at once. */
  connectWait: number
  /** Seconds: each key's TTL. */
  ttlSeconds: number
  /** Milliseconds a command may take before it fails (and its request answers 503). */
  commandTimeout: number
}

export async function connectRedisStore (options: RedisStoreOptions, fresh: FreshIds, log: FastifyBaseLogger): Promise<StoreBackendParts> {
  const where = redactUrl(options.url)
  const client = createClient({
    url: options.url,
    // Fail commands at once while disconnected instead of queueing them: a 503 now beats a hung
    // request. (A frozen Redis keeps its socket open; the store's own deadline covers that, below.)
    disableOfflineQueue: true,
    scripts: { beforeDeadline: BEFORE_DEADLINE },
    socket: {
      connectTimeout: 2000,
      // Keep trying forever, backing off to one attempt every 2 s, so the app recovers by itself.
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000)
    }
  })

  // Transitions only, not every failed reconnect attempt. Before the first connection, errors are
  // the startup's to report (one line, see below), so nothing is logged for them here.
  const outage = new OutageLog(log, where)
  let connected = false
  let lastReason: string | undefined
  client.on('error', (err: Error) => {
    lastReason = err.message
    if (connected) outage.unavailable(err.message)
  })
  // Write deadlines are checked by Redis's clock (see BEFORE_DEADLINE), so keep the difference
  // between its clock and ours, measured again at every connection: three readings, keeping the
  // one with the shortest round trip (its error is at most half of that).
  let clockOffset = 0
  const measureClock = async () => {
    let best = { roundTrip: Infinity, offset: 0 }
    for (let i = 0; i < 3; i++) {
      const sent = Date.now()
      const [seconds, micros] = await client.time()
      const received = Date.now()
      if (received - sent < best.roundTrip) {
        best = { roundTrip: received - sent, offset: Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - (sent + received) / 2 }
      }
    }
    clockOffset = best.offset
  }
  client.on('ready', () => {
    // A reconnection measures again; the first connection is measured below, before any write.
    if (connected) measureClock().catch(() => {})
    connected = true
    lastReason = undefined
  })

  try {
    await firstConnection(client, options.connectWait)
  } catch (err) {
    client.destroy()
    throw new SessionStoreUnreachable(
      `cannot reach Redis at ${where} (${(err as Error).message}). Start Redis or correct REDIS_URL; ` +
      'to wait for it instead, set REDIS_CONNECT_WAIT to a number of seconds.'
    )
  }
  await measureClock()
  log.info({ redis: where, prefix: options.prefix }, 'redis: connected')

  const writes = { full: false }
  // Half the request's deadline: a write Redis refuses as late is answered while the request still
  // waits, so its 503 comes from the refusal, never from a timer racing a write that did land.
  const writeDeadline = () => Date.now() + clockOffset + options.commandTimeout / 2
  const redisStore = new RedisSessionStore(client, options.prefix, options.ttlSeconds, fresh, writeDeadline)
  return {
    description: 'redis',
    store: storeAnswering503(redisStore, options.commandTimeout, writes, outage),
    health: async (): Promise<Health> => {
      if (!client.isReady) {
        const auth = /WRONGPASS|NOAUTH/.test(lastReason ?? '')
        return auth
          ? { ok: false, reason: `authentication failed: Redis at ${where} refused the credentials (${lastReason})` }
          : { ok: false, reason: `disconnected: the session store (Redis at ${where}) cannot be reached` }
      }
      try {
        await withinDeadline(options.commandTimeout, client.ping())
        // A full Redis still answers PING but refuses every session write. After a write was refused
        // for that, check with a short-lived write of our own whether it still is (and only then,
        // so a healthy Redis gets no writes from health checks).
        if (writes.full) {
          await withinDeadline(options.commandTimeout, client.set(`${options.prefix}healthz`, '1', { expiration: { type: 'PX', value: 1000 } }))
          writes.full = false
        }
        return { ok: true }
      } catch (err) {
        return { ok: false, reason: healthReason(err, where, options.commandTimeout) }
      }
    },
    close: async () => {
      // QUIT waits for Redis to answer; a frozen one never does, so give it the command deadline.
      if (client.isReady) {
        const quit = client.close().then(() => true, () => false)
        if (await Promise.race([quit, sleep(options.commandTimeout).then(() => false)])) return
      }
      client.destroy()
    }
  }
}

/** Connected, or the first connection error (waitSeconds = 0) / a timeout (waitSeconds > 0). */
async function firstConnection (
  client: { connect (): Promise<unknown>, once (event: 'error', listener: (err: Error) => void): unknown },
  waitSeconds: number
): Promise<void> {
  const connected = client.connect()
  // Once the race is decided, the loser's rejection has nobody listening: keep it quiet.
  connected.catch(() => {})
  // The wait's timer is cancelled once connected, so it never holds the process open.
  const timer = new AbortController()
  const giveUp = waitSeconds === 0
    ? new Promise<never>((_resolve, reject) => client.once('error', reject))
    : sleep(waitSeconds * 1000, undefined, { signal: timer.signal })
      .then(() => { throw new Error(`not reachable within REDIS_CONNECT_WAIT=${waitSeconds}s`) })
  giveUp.catch(() => {})
  try {
    await Promise.race([connected, giveUp])
  } finally {
    timer.abort()
  }
}

function healthReason (err: unknown, where: string, timeout: number): string {
  const message = (err as Error).message
  if ((err as Error).name === 'TimeoutError') return `timeout: Redis at ${where} did not answer within ${timeout} ms`
  if (message.startsWith('OOM')) return `out of memory: the session store is full (Redis at ${where} refuses writes)`
  return `disconnected: the session store (Redis at ${where}) cannot be reached (${message})`
}

/** Settles with the command's answer, or with a timeout error after `ms`, whichever comes first. */
function withinDeadline<T> (ms: number, command: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CommandDeadlineExceeded(ms)), ms)
  })
  return Promise.race([command, deadline]).finally(() => clearTimeout(timer))
}

class CommandDeadlineExceeded extends Error {
  override name = 'TimeoutError'
  constructor (ms: number) {
    super(`Redis did not answer within ${ms} ms`)
  }
}

/**
 * Every store call has a deadline, and its errors become SessionStoreUnavailable, which the error
 * page answers with 503. The deadline is ours: node-redis's own command timeout stops counting once
 * a command is written to the socket, so it does not cover a Redis that is frozen mid-connection.
 * A write that waited out its deadline in a frozen Redis's socket is refused when Redis wakes
 * (RedisSessionStore writes through BEFORE_DEADLINE), so a 503 always means nothing was written.
 */
function storeAnswering503 (store: RedisSessionStore, commandTimeout: number, writes: { full: boolean }, outage: OutageLog): SessionStore {
  const fail = (callback: Callback, cause: Error) => {
    outage.unavailable(cause.message, true)
    callback(new SessionStoreUnavailable(cause))
  }
  const wrap = (callback: Callback): Callback => {
    let settled = false
    const timer = setTimeout(() => {
      settled = true
      fail(callback, new CommandDeadlineExceeded(commandTimeout))
    }, commandTimeout)
    return (err, result) => {
      if (settled) return
      clearTimeout(timer)
      if (err) return fail(callback, err as Error)
      outage.available()
      callback(undefined, result)
    }
  }
  return {
    get: (sessionId, callback) => { store.get(sessionId, wrap(callback as Callback)) },
    set: (sessionId, session, callback) => {
      const answer = wrap(callback as Callback)
      store.set(sessionId, session, (err, result) => {
        // Remembered for /healthz: Redis answers "OOM …" to writes when it is full.
        writes.full = String((err as Error | undefined)?.message ?? '').startsWith('OOM')
        answer(err, result)
      })
    },
    destroy: (sessionId, callback) => { store.destroy(sessionId, wrap(callback as Callback)) }
  }
}
