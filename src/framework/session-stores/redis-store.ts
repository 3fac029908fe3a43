/**
 * The Redis store: sessions in Redis (redis-session-store.ts, on the `redis` client), one key per
 * session under a prefix, TTL = the idle timeout. Several app processes pointed at one Redis
 * share sessions, and sessions outlive app restarts.
 * While Redis is unreachable, or answers but refuses writes (no permission, a replica, full),
 * session requests fail fast with a 503 (no offline queue, so nothing hangs), /healthz says why,
 * and the client keeps reconnecting by itself. A Redis that refuses writes at startup stops it.
 * With sentinels (redis-client.ts), the store follows the primary they name across failovers, and
 * with writeReplicas a write is answered only once that many replicas have it.
 * @see https://github.com/redis/node-redis
 */
import type { FastifyBaseLogger, Session } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import { SessionStoreRefused, SessionStoreUnavailable, SessionStoreUnreachable, type Health } from './session-store.js'
import { OutageLog } from './outage-log.js'
import type { FreshIds } from './fresh-ids.js'
import { isLate, messageOf, RedisClock, RedisSessions, writeRefusalOf, type WriteRefusal } from './redis-session-store.js'
import type { HeldLock, LockingStore } from './session-locks.js'
import type { ServerStoreParts } from './server-store.js'
import { openClient, waitingForReplicas, type SentinelOptions } from './redis-client.js'

type Callback = (err?: unknown, result?: unknown) => void

export { redactUrl } from './redis-client.js'

export interface RedisStoreOptions {
  url: string
  prefix: string
  /** Seconds to keep trying at startup; 0 fails at once (within commandTimeout). */
  connectWait: number
  /** Seconds: each key's TTL. */
  ttlSeconds: number
  /** Milliseconds a command may take before it fails (and its request answers 503). */
  commandTimeout: number
  /**
   * Milliseconds since the epoch: the wall clock that write deadlines are made from (Date.now by
   * default). Tests step it to play a clock step; not the session-expiry clock.
   */
  wallClock?: () => number
  /** Follow the primary these sentinels name, across failovers (`url` then gives only credentials and database). */
  sentinels?: SentinelOptions
  /**
   * A session write is answered only once this many replicas have it (WAIT, within half the
   * command deadline); fewer is a refusal (503). Default 0: answered once the primary has it.
   */
  writeReplicas?: number
  /** What the messages call `url`, `connectWait` and `writeReplicas` (the app's own settings); default the option paths. */
  names?: { url?: string, connectWait?: string, writeReplicas?: string }
}

/** The names the messages use for the options a person can change. */
interface Names { url: string, connectWait: string, writeReplicas: string }

/** How often the clock offset is measured again, in case the wall clock stepped (see RedisClock). */
const CLOCK_CHECK_MS = 60_000

/** What each refusal means, for the visitor's 503 page, /healthz, and the startup error. */
type Describe = (where: string, message: string, names: Names) => string
const REFUSALS: Record<WriteRefusal, { page: string, health: Describe, startup: Describe }> = {
  full: {
    page: 'the session store is full',
    health: (where) => `out of memory: the session store is full (Redis at ${where} refuses writes)`,
    startup: (where, message) => `Redis at ${where} is full and refuses writes (${message}): raise its maxmemory, or let it evict (maxmemory-policy allkeys-lfu).`
  },
  permission: {
    page: 'the app may not write to the session store: permission denied',
    health: (where, message) => `permission: the app may not write to the session store (Redis at ${where} refuses: ${message})`,
    startup: (where, message, names) => `Redis at ${where} refuses the session writes (${message}): the Redis user may not run scripts or a command the app needs; ` +
      `grant it +eval +evalsha +get +set +del +time +ping (and +wait with ${names.writeReplicas}), or use another user in ${names.url}.`
  },
  replicas: {
    page: 'the session store could not copy your change to its replicas in time',
    health: (where, message, names) => `replicas: the last session write was not confirmed by enough replicas (Redis at ${where}: ${message}); start or repair the replicas, or lower ${names.writeReplicas}`,
    startup: (where, message, names) => `Redis at ${where} cannot confirm session writes on enough replicas (${message}): start the replicas, or lower ${names.writeReplicas}.`
  },
  replica: {
    page: 'the session store is a read-only replica',
    health: (where, message, names) => `read-only replica: the session store is a read-only replica (Redis at ${where} refuses writes: ${message}); point ${names.url} at the primary`,
    startup: (where, message, names) => `${names.url} points at a read-only replica (Redis at ${where} refuses writes: ${message}): point it at the primary.`
  }
}

/** Writes refused while Redis still answers: known from the last write, cleared by the next that works. */
interface Writes { refused: WriteRefusal | undefined }

export async function connectRedisStore (options: RedisStoreOptions, fresh: FreshIds, log: FastifyBaseLogger): Promise<ServerStoreParts> {
  const timeout = options.commandTimeout
  const names: Names = {
    url: options.names?.url ?? 'redis.url',
    connectWait: options.names?.connectWait ?? 'redis.connectWait',
    writeReplicas: options.names?.writeReplicas ?? 'redis.writeReplicas'
  }
  const opened = openClient(options.url, options.sentinels)
  const { client, where } = opened

  // Transitions only, not every failed reconnect attempt. Before the first connection, errors are
  // the startup's to report (one line, see below), so nothing is logged for them here.
  const outage = new OutageLog(log, where)
  let connected = false
  let lastReason: string | undefined
  // Sentinel mode: the primary's connection broke (a failover may be under way) and no new one is
  // ready yet. A sentinel that cannot be reached is no outage while another answers.
  let primaryLost: string | undefined
  opened.on('error', (err: unknown) => {
    const message = messageOf(err) || String(err)
    if (options.sentinels !== undefined && !message.startsWith('Master Client')) {
      log.debug({ redis: where, err: message }, 'redis: a sentinel could not be reached')
      return
    }
    // An error of a primary already replaced (its connection closing late) says nothing of now.
    if (options.sentinels !== undefined && !message.startsWith(`Master Client (${opened.primary() ?? ''})`)) return
    lastReason = message
    if (options.sentinels !== undefined && connected) primaryLost ??= message
    if (connected) outage.unavailable(message)
  })
  // When the sentinels last named a new primary: a health check that failed within a deadline of it
  // failed because of the failover, though the loss is over by the time it answers.
  let primaryChangedAt = -Infinity
  opened.onPrimaryChange((primary) => {
    primaryLost = undefined
    // The first connection names a primary too; only a change after it is a failover.
    if (!connected) return
    primaryChangedAt = Date.now()
    log.warn({ redis: where, primary }, 'redis: the sentinels named a new primary')
  })
  // Write deadlines are checked by Redis's clock (see BEFORE_DEADLINE): measured at every
  // connection, when a write is refused as late (our wall clock may have stepped), and on a timer.
  const clock = new RedisClock(() => withinDeadline(timeout, client.time()), options.wallClock ?? Date.now,
    (offset, previous) => log.debug({ redis: where, offsetMs: Math.round(offset), changedMs: Math.round(offset - previous) }, 'redis: clock offset measured'))
  const measureAgain = () => { if (client.isReady) clock.measure().catch(() => {}) }
  opened.on('ready', () => {
    // A reconnection (or a new primary: its clock is another machine's) measures again; the first
    // connection is measured below, before any write.
    if (connected) measureAgain()
    connected = true
    lastReason = undefined
    primaryLost = undefined
  })

  try {
    // With sentinels, one that cannot be reached is not the end: connect() tries the next.
    await firstConnection(client, options.sentinels === undefined ? opened : undefined, options.connectWait, timeout, names)
  } catch (err) {
    opened.destroy()
    throw unreachable(err, where, options.connectWait, names)
  }
  // Half the request's deadline: a write Redis refuses as late is answered while the request still
  // waits, so its 503 comes from the refusal, never from a timer racing a write that did land.
  const writeDeadline = () => clock.now() + timeout / 2
  // A Redis that answers PING may still refuse every session write (an ACL user without scripts, a
  // replica, a full one): check the writes sessions make, each within the command deadline.
  // With writeReplicas, the check's writes wait for the replicas too: too few stops the start.
  const writeReplicas = options.writeReplicas ?? 0
  // (WAIT with 0 ms would wait forever: at least 1.)
  const commands = writeReplicas > 0 ? waitingForReplicas(client, opened.batch, writeReplicas, Math.max(1, Math.floor(timeout / 2))) : client
  const checkKey = `${options.prefix}startup-check`
  try {
    await clock.measure()
    await withinDeadline(timeout, commands.saveSession(writeDeadline(), checkKey, `${checkKey}:lock`, '', '{}', 1, 'NX'))
    await withinDeadline(timeout, commands.destroySession(writeDeadline(), checkKey, `${checkKey}:lock`, ''))
  } catch (err) {
    opened.destroy()
    throw startupRefusal(err, where, options.connectWait, names)
  }
  log.info({ redis: where, prefix: options.prefix, primary: opened.primary(), writeReplicas }, 'redis: connected')
  const clockCheck = setInterval(measureAgain, CLOCK_CHECK_MS).unref()

  const writes: Writes = { refused: undefined }
  const sessions = new RedisSessions(commands, options.prefix, options.ttlSeconds, fresh, writeDeadline, () => clock.now())
  return {
    description: 'redis',
    pluginStore: storeAnswering503(sessions, timeout, writes, outage, measureAgain),
    health: async (): Promise<Health> => {
      if (primaryLost === undefined && !client.isReady) {
        const auth = /WRONGPASS|NOAUTH/.test(lastReason ?? '')
        return auth
          ? { ok: false, reason: `authentication failed: Redis at ${where} refused the credentials (${lastReason})` }
          : { ok: false, reason: `disconnected: the session store (Redis at ${where}) cannot be reached` }
      }
      const checkStarted = Date.now()
      try {
        await withinDeadline(timeout, client.ping())
        // The primary answers: a broken connection was mended in place (no failover, so no 'ready').
        primaryLost = undefined
        // PING answers while writes are refused. After a write was refused, check with a short-lived
        // write of our own, through the sessions' own script, whether it still is (and only then,
        // so a healthy Redis gets no writes from health checks).
        if (writes.refused) {
          await withinDeadline(timeout, commands.saveSession(writeDeadline(), `${options.prefix}healthz`, `${options.prefix}healthz:lock`, '', '{}', 1, 'XX'))
          writes.refused = undefined
          outage.available() // writes work again: said once, here or by the next session write
        }
        const primary = opened.primary()
        return primary === undefined ? { ok: true } : { ok: true, primary }
      } catch (err) {
        noteWrite(writes, err, measureAgain)
        // Sentinel mode: PING waits for a primary until the deadline; say why there is none.
        if (primaryLost !== undefined) {
          return { ok: false, reason: `failover: the connection to the primary was lost (${primaryLost}); waiting for the sentinels to name a new one (${where})` }
        }
        if (primaryChangedAt >= checkStarted - timeout) {
          return { ok: false, reason: `failover: the sentinels have just named a new primary (${opened.primary() ?? '?'}); connecting to it (${where})` }
        }
        return { ok: false, reason: healthReason(err, where, timeout, names) }
      }
    },
    close: async () => {
      clearInterval(clockCheck)
      // QUIT waits for Redis to answer; a frozen one never does, so give it the command deadline.
      if (client.isReady) {
        const quit = client.close().then(() => true, () => false)
        // withinDeadline clears its timer: a bare sleep here kept every closed app's process alive for it.
        if (await withinDeadline(timeout, quit).catch(() => false)) return
      }
      opened.destroy()
    }
  }
}

/** A write's outcome: remembered for /healthz and the log; one refused as late measures the clock again. */
function noteWrite (writes: Writes, err: unknown, measureAgain: () => void): void {
  if (!err) {
    writes.refused = undefined
    return
  }
  writes.refused = writeRefusalOf(err) ?? writes.refused
  if (isLate(err)) measureAgain()
}

function unreachable (err: unknown, where: string, connectWait: number, names: Names): SessionStoreUnreachable {
  return new SessionStoreUnreachable(`cannot reach Redis at ${where} (${(err as Error).message}). Start Redis or correct ${names.url}; ` +
    (connectWait === 0 ? `to wait for it instead, set ${names.connectWait} to a number of seconds.` : `to wait longer, raise ${names.connectWait} (now ${connectWait} s).`))
}

/** The startup check failed: one line saying why and what to do. */
function startupRefusal (err: unknown, where: string, connectWait: number, names: Names): SessionStoreUnreachable {
  const kind = writeRefusalOf(err)
  if (kind) return new SessionStoreRefused(REFUSALS[kind].startup(where, messageOf(err), names))
  if ((err as Error).name === 'TimeoutError') return unreachable(err, where, connectWait, names)
  return new SessionStoreUnreachable(`Redis at ${where} failed the startup check of a session write (${messageOf(err)}).`)
}

/**
 * Connected (handshake included), or the first connection error or the command deadline
 * (waitSeconds = 0: a frozen Redis accepts the socket and never answers), or the wait's own limit.
 */
async function firstConnection (
  client: { connect (): Promise<unknown> },
  errors: { on (event: 'error', listener: (err: unknown) => void): void } | undefined,
  waitSeconds: number,
  commandTimeout: number,
  names: Names
): Promise<void> {
  const connected = client.connect()
  // Once the race is decided, the loser's rejection has nobody listening: keep it quiet.
  connected.catch(() => {})
  // The timers are cancelled once connected, so they never hold the process open.
  const timer = new AbortController()
  const giveUp = waitSeconds === 0
    ? Promise.race([
      new Promise<never>((_resolve, reject) => errors?.on('error', reject)),
      sleep(commandTimeout, undefined, { signal: timer.signal }).then(() => { throw new CommandDeadlineExceeded(commandTimeout) })
    ])
    : sleep(waitSeconds * 1000, undefined, { signal: timer.signal })
      .then(() => { throw new Error(`not reachable within ${names.connectWait}=${waitSeconds}s`) })
  giveUp.catch(() => {})
  try {
    await Promise.race([connected, giveUp])
  } finally {
    timer.abort()
  }
}

function healthReason (err: unknown, where: string, timeout: number, names: Names): string {
  const message = messageOf(err)
  if ((err as Error).name === 'TimeoutError') return `timeout: Redis at ${where} did not answer within ${timeout} ms`
  const kind = writeRefusalOf(err)
  if (kind) return REFUSALS[kind].health(where, message, names)
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
 * (the scripts check the deadline first), so a 503 always means nothing was written.
 * While writes are refused, a read that works does not make the store "available again" in the
 * log: one line when writes start failing, one when a write works again.
 */
function storeAnswering503 (sessions: RedisSessions, commandTimeout: number, writes: Writes, outage: OutageLog, measureAgain: () => void): LockingStore {
  const run = async <T>(isWrite: boolean, command: () => Promise<T>): Promise<T> => {
    try {
      const result = await withinDeadline(commandTimeout, command())
      if (isWrite) noteWrite(writes, undefined, measureAgain)
      if (isWrite || writes.refused === undefined) outage.available()
      return result
    } catch (err) {
      if (isWrite) noteWrite(writes, err, measureAgain)
      // A request that outlived its lock is that request's failure, not the store's.
      if (messageOf(err).startsWith('LOCKLOST')) throw new SessionStoreUnavailable(err, 'your request took too long and was not saved')
      outage.unavailable(messageOf(err), true)
      const kind = writeRefusalOf(err)
      throw new SessionStoreUnavailable(err, kind && REFUSALS[kind].page)
    }
  }
  const answer = <T>(promise: Promise<T>, callback: Callback) => { promise.then((result) => callback(undefined, result), callback) }
  return {
    get: (sessionId, callback) => answer(run(false, () => sessions.get(sessionId)), callback as Callback),
    set: (sessionId, session, callback) => answer(run(true, () => sessions.set(sessionId, session as Session)), callback as Callback),
    destroy: (sessionId, callback) => answer(run(true, () => sessions.destroy(sessionId)), callback as Callback),
    now: sessions.redisNow,
    tryLock: (id: string, arrivedAt: number | undefined, client: string) => run(true, () => sessions.tryLock(id, arrivedAt, client)),
    // A release deletes, which a full or read-only Redis still allows: it says nothing about writes.
    unlock: (held: HeldLock) => run(false, () => sessions.unlock(held)),
    keepForRotation: (id: string) => sessions.keepForRotation(id),
    replaced: (held: HeldLock, newId: string, client: string) => run(true, () => sessions.replaced(held, newId, client))
  }
}
