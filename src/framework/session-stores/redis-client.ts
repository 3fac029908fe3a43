/**
 * The Redis connection the store talks through: one Redis at a URL, or the primary that a set of
 * Sentinels name, followed across failovers. Both offer the store's scripts as commands; this file
 * hides which one it is, and adds the one thing Sentinel mode needs on top: a write answered only
 * once enough replicas have it (WAIT), so a failover loses no change the visitor was told was saved.
 * @see https://github.com/redis/node-redis/blob/master/docs/sentinel.md
 * @see https://redis.io/docs/latest/commands/wait/
 */
import { createClient, createSentinel } from 'redis'
import { SESSION_SCRIPTS, type RedisCommands } from './redis-session-store.js'

export interface SentinelOptions {
  /** The sentinels to ask first (any one that answers is enough; it names the others). */
  nodes: Array<{ host: string, port: number }>
  /** What the sentinels monitor the primary as (`sentinel monitor NAME …`). */
  name: string
  /** The sentinels' own credentials, when they ask for them. */
  username?: string
  password?: string
}

/** The commands the store sends, the same whichever connection carries them. */
export interface StoreClient extends RedisCommands {
  readonly isReady: boolean
  connect (): Promise<unknown>
  ping (): Promise<unknown>
  time (): Promise<readonly unknown[]>
  close (): Promise<unknown>
}

/** The parts of the commands that write a session, queued with a WAIT behind them. */
type Write = Pick<RedisCommands, 'saveSession' | 'destroySession' | 'forwardSession'>
interface WriteBatch {
  saveSession (...args: Parameters<RedisCommands['saveSession']>): WriteBatch
  destroySession (...args: Parameters<RedisCommands['destroySession']>): WriteBatch
  forwardSession (...args: Parameters<RedisCommands['forwardSession']>): WriteBatch
  wait (replicas: number, timeout: number): WriteBatch
  execAsPipeline (): Promise<unknown[]>
}

export interface OpenedClient {
  client: StoreClient
  /** For messages: the URL without its password, or the sentinels and the name. */
  where: string
  /** Sentinel mode: where the primary is now, as the sentinels last said. */
  primary: () => string | undefined
  /** A write queued on one connection, then WAIT on that same connection. */
  batch: () => WriteBatch
  /** Stops at once, without waiting for answers. */
  destroy: () => void
  on (event: 'error', listener: (err: unknown) => void): void
  on (event: 'ready', listener: () => void): void
  /** Sentinel mode: the sentinels named a new primary (`host:port`). */
  onPrimaryChange (listener: (primary: string) => void): void
}

/** The URL without a password, for messages and logs. */
export function redactUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(an unparsable URL)'
  }
}

const SOCKET = {
  connectTimeout: 2000,
  // Keep trying forever, backing off to one attempt every 2 s, so the app recovers by itself.
  reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000)
}

export function openClient (url: string, sentinels: SentinelOptions | undefined): OpenedClient {
  if (sentinels === undefined) {
    const client = createClient({
      url,
      // Fail commands at once while disconnected instead of queueing them: a 503 now beats a hung
      // request. (A frozen Redis keeps its socket open; the store's own deadline covers that.)
      disableOfflineQueue: true,
      scripts: SESSION_SCRIPTS,
      socket: SOCKET
    })
    return {
      client,
      where: redactUrl(url),
      primary: () => undefined,
      batch: () => client.multi(),
      destroy: () => client.destroy(),
      on: (event: 'error' | 'ready', listener: (err?: unknown) => void) => { client.on(event, listener) },
      onPrimaryChange: () => {}
    }
  }

  // REDIS_URL still gives the credentials and the database; its host is the sentinels' to name.
  const parsed = new URL(url)
  const nodeClientOptions = {
    username: parsed.username === '' ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password),
    database: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined,
    disableOfflineQueue: true,
    socket: { ...SOCKET, tls: parsed.protocol === 'rediss:' ? true as const : undefined }
  }
  const client = createSentinel({
    name: sentinels.name,
    sentinelRootNodes: sentinels.nodes,
    scripts: SESSION_SCRIPTS,
    // One connection to the primary: every command goes over it in order, so a WAIT queued behind
    // a write counts the replicas that have that write. (Pools of more than one, without
    // reserveClient, left concurrent commands unsettled in redis 6.3.1.)
    masterPoolSize: 1,
    // Replicas are never read: one that is behind would show an old count.
    replicaPoolSize: 0,
    // The primary's socket errors say a failover may have begun; /healthz reports them.
    passthroughClientErrorEvents: true,
    nodeClientOptions,
    sentinelClientOptions: { username: sentinels.username || undefined, password: sentinels.password || undefined, socket: { connectTimeout: 2000 } }
  })
  let primary: string | undefined
  const primaryListeners: Array<(primary: string) => void> = []
  client.on('topology-change', (event: { type: string, node?: { host: string, port: number } }) => {
    if (event.type !== 'MASTER_CHANGE' || event.node === undefined) return
    primary = `${event.node.host}:${event.node.port}`
    for (const listener of primaryListeners) listener(primary)
  })
  const who = sentinels.nodes.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(',')
  return {
    client: client as unknown as StoreClient,
    where: `the primary "${sentinels.name}" of the sentinels at ${who}`,
    primary: () => primary,
    batch: () => client.multi() as unknown as WriteBatch,
    // The sentinel client's destroy is a promise; nothing waits for it.
    destroy: () => { client.destroy().catch(() => {}) },
    on: (event: 'error' | 'ready', listener: (err?: unknown) => void) => { client.on(event, listener) },
    onPrimaryChange: (listener) => { primaryListeners.push(listener) }
  }
}

/** Fewer replicas than asked for confirmed a write in time (the name Redis gives its own such refusal). */
export class ReplicasBehind extends Error {
  constructor (confirmed: number, wanted: number, ms: number) {
    super(`NOREPLICAS only ${confirmed} of ${wanted} replica(s) confirmed the session write within ${ms} ms`)
  }
}

/**
 * The store's commands, with each session write sent in one pipeline with `WAIT replicas ms` behind
 * it, on the same connection (WAIT counts the replicas that have this connection's writes; a
 * failover between two separate sends would run the WAIT on a fresh connection, which confirms
 * nothing). Fewer confirmations than `replicas` is a refusal: the write is on the primary, but
 * the visitor is told it was not saved. Locks are not waited for: a lock lost in a failover is
 * caught by the fence on the next write (session-locks.ts), which then writes nothing.
 */
export function waitingForReplicas (client: RedisCommands, batch: () => WriteBatch, replicas: number, ms: number): RedisCommands {
  const confirmed = async (queue: (batch: WriteBatch) => WriteBatch): Promise<unknown> => {
    // A refused write rejects the pipeline with the write's own error (LATE, LOCKLOST, OOM…).
    const [reply, count] = await queue(batch()).wait(replicas, ms).execAsPipeline()
    if (!(Number(count) >= replicas)) throw new ReplicasBehind(Number(count), replicas, ms)
    return reply
  }
  const writes: Write = {
    saveSession: (...args) => confirmed((b) => b.saveSession(...args)),
    destroySession: (...args) => confirmed((b) => b.destroySession(...args)),
    forwardSession: (...args) => confirmed((b) => b.forwardSession(...args))
  }
  return {
    get: (key) => client.get(key),
    lockSession: (...args) => client.lockSession(...args),
    unlockSession: (...args) => client.unlockSession(...args),
    ...writes
  }
}
