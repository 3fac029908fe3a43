/**
 * A Redis Sentinel setup of its own, for failover experiments and tests: one primary, two replicas
 * and three sentinels, each a redis-server child process on a free loopback port, nothing
 * persisted. Sentinel rewrites its config file, so each sentinel gets its own, in a temp dir that
 * stop() removes. Like OwnRedis (lib.ts), each process's output is collected (bounded) so errors
 * can say what Redis said.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from 'redis'
import { freePort, hasCommand } from './lib.js'

const HOST = '127.0.0.1'
/** Characters of each process's output kept: its latest, which says most about what just went wrong. */
const OUTPUT_LIMIT = 20_000
/** How long one probe of one process may take: a frozen (SIGSTOP) node never answers. */
const PROBE_MS = 1000
const POLL_MS = 100

export interface SentinelAddress { host: string, port: number }

export interface SentinelTopologyOptions {
  /** One deadline for everything start() waits for (processes, replication, sentinels agreeing); default 30 s. */
  readyWithinMs?: number
  masterName?: string
  /** `sentinel down-after-milliseconds`: default 1000. */
  downAfterMs?: number
  /** `sentinel failover-timeout`: default 5000 (failovers measured 2.0-2.6 s with 10000, 3000 and 1000 alike; it bounds a stuck promotion and spaces out retries). */
  failoverTimeoutMs?: number
}

/** One redis-server child process (a data node or a sentinel), restartable on its port with the same args. */
export class TopologyProcess {
  #child: ChildProcess | undefined
  #output = ''
  #frozen = false

  constructor (
    readonly kind: 'node' | 'sentinel',
    readonly port: number,
    readonly args: readonly string[],
    /** What the process logs once it serves: a sentinel never says "Ready to accept connections". */
    private readonly readyLine: string
  ) {}

  get label (): string {
    return `${this.kind} ${HOST}:${this.port}`
  }

  get alive (): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null
  }

  get frozen (): boolean {
    return this.#frozen && this.alive
  }

  /** The latest output, across restarts. */
  get output (): string {
    return this.#output
  }

  #note (text: string): void {
    this.#output += text
    if (this.#output.length > OUTPUT_LIMIT) this.#output = this.#output.slice(-OUTPUT_LIMIT)
  }

  /** Starts (or restarts, on the same port, with the same args) and waits for its ready line. */
  async start (readyWithinMs: number): Promise<void> {
    if (this.alive) throw new Error(`${this.label} is already running`)
    if (this.#output) this.#note(`\n--- ${this.label} restarted ---\n`)
    const child = spawn('redis-server', [...this.args], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.#child = child
    this.#frozen = false
    // This start's own output, to find the ready line in (the kept output may be trimmed).
    let seen = ''
    let timer: NodeJS.Timeout | undefined
    try {
      await new Promise<void>((resolve, reject) => {
        // Read to the end either way: a full pipe would stop Redis at its next log line.
        child.stdout.on('data', (chunk: Buffer) => {
          const text = chunk.toString()
          this.#note(text)
          if (seen.length < 10_000) seen += text
          if (seen.includes(this.readyLine)) resolve()
        })
        child.stderr.on('data', (chunk: Buffer) => this.#note(chunk.toString()))
        child.once('exit', (code, signal) => {
          this.#note(`\n--- ${this.label} exited (${signal ?? String(code)}) ---\n`)
          reject(new Error(`${this.label} exited (${signal ?? String(code)}) before it was ready:\n${this.#output}`))
        })
        timer = setTimeout(() => reject(new Error(`${this.label}: not ready within ${readyWithinMs} ms:\n${this.#output}`)), readyWithinMs)
      })
    } catch (err) {
      child.kill('SIGKILL')
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  /** SIGSTOP freezes it (its sockets stay open, nothing answers), as a stalled host would; SIGCONT thaws it. */
  signal (signal: 'SIGSTOP' | 'SIGCONT'): void {
    if (!this.alive) return
    this.#child?.kill(signal)
    this.#frozen = signal === 'SIGSTOP'
  }

  /** SIGKILL at once, without waiting: for a process that is exiting. */
  killNow (): void {
    if (this.alive) this.#child?.kill('SIGKILL')
  }

  /** SIGKILL (works on a frozen process too), waiting for the exit. */
  async kill (): Promise<void> {
    const child = this.#child
    if (!child || !this.alive) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
    this.#frozen = false
  }
}

/**
 * Primary, two replicas, three sentinels monitoring `masterName` with quorum 2; sentinels announce
 * 127.0.0.1. `nodes[0]` is the first primary; which node is primary now, ask primaryAddress().
 */
export class OwnSentinelTopology {
  #stopped = false
  #frozen: TopologyProcess[] = []
  /** A script that ends (or fails) without stop() leaves no redis-server or temp dir behind. */
  readonly #onExit = () => {
    for (const proc of [...this.nodes, ...this.sentinelProcesses]) proc.killNow()
    rmSync(this.dir, { recursive: true, force: true })
  }

  private constructor (
    readonly masterName: string,
    readonly nodes: readonly TopologyProcess[],
    readonly sentinelProcesses: readonly TopologyProcess[],
    readonly dir: string
  ) {
    process.once('exit', this.#onExit)
  }

  static async start (options: SentinelTopologyOptions = {}): Promise<OwnSentinelTopology> {
    if (!hasCommand('redis-server')) throw new Error('redis-server is not installed (apt-get install redis-server)')
    const deadline = Date.now() + (options.readyWithinMs ?? 30_000)
    const left = () => Math.max(deadline - Date.now(), 0)
    const masterName = options.masterName ?? 'mymaster'
    const dir = mkdtempSync(join(tmpdir(), 'sessions-sentinel-'))
    const [primaryPort, ...others] = await distinctFreePorts(6) as [number, ...number[]]
    const replicaPorts = others.slice(0, 2)
    const sentinelPorts = others.slice(2)

    const nodeArgs = (port: number, replicaOf?: number): string[] => {
      const nodeDir = join(dir, `node-${port}`)
      mkdirSync(nodeDir, { recursive: true })
      return [
        '--port', String(port), '--bind', HOST, '--dir', nodeDir,
        '--save', '', '--appendonly', 'no',
        // Full syncs through the socket, at once, no RDB file on either side (a restarted node
        // would otherwise load a replica's stale dump.rdb).
        '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', '--repl-diskless-load', 'swapdb',
        ...(replicaOf === undefined ? [] : ['--replicaof', HOST, String(replicaOf)])
      ]
    }
    const nodes = [
      new TopologyProcess('node', primaryPort, nodeArgs(primaryPort), 'Ready to accept connections'),
      ...replicaPorts.map((port) => new TopologyProcess('node', port, nodeArgs(port, primaryPort), 'Ready to accept connections'))
    ]
    const sentinels = sentinelPorts.map((port) => {
      const sentinelDir = join(dir, `sentinel-${port}`)
      mkdirSync(sentinelDir, { recursive: true })
      const conf = join(sentinelDir, 'sentinel.conf')
      writeFileSync(conf, [
        `port ${port}`,
        `bind ${HOST}`,
        `dir ${sentinelDir}`,
        'sentinel resolve-hostnames no',
        `sentinel announce-ip ${HOST}`,
        `sentinel monitor ${masterName} ${HOST} ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs ?? 5000}`,
        `sentinel parallel-syncs ${masterName} 1`,
        ''
      ].join('\n'))
      return new TopologyProcess('sentinel', port, [conf, '--sentinel'], '+monitor master')
    })
    const topology = new OwnSentinelTopology(masterName, nodes, sentinels, dir)
    try {
      await nodes[0]!.start(left())
      await Promise.all(nodes.slice(1).map((node) => node.start(left())))
      // Replicas already linked when the sentinels start are known to them at once (from the
      // primary's INFO), instead of at the next INFO, 10 s later.
      await topology.#waitUntil(left(), 'both replicas linked to the primary', () => topology.#replicasLinked())
      await Promise.all(sentinels.map((sentinel) => sentinel.start(left())))
      await topology.#waitUntil(left(), 'the sentinels to agree on the topology', () => topology.#sentinelsAgree())
    } catch (err) {
      await topology.stop()
      throw err
    }
    return topology
  }

  get sentinels (): SentinelAddress[] {
    return this.sentinelProcesses.map((sentinel) => ({ host: HOST, port: sentinel.port }))
  }

  node (port: number): TopologyProcess {
    const node = this.nodes.find((candidate) => candidate.port === port)
    if (!node) throw new Error(`no node on port ${port} in this topology (${this.nodes.map((n) => n.port).join(', ')})`)
    return node
  }

  /** The primary as the first sentinel that answers reports it (SENTINEL GET-MASTER-ADDR-BY-NAME). */
  async primaryAddress (): Promise<SentinelAddress> {
    const reasons: string[] = []
    for (const sentinel of this.sentinelProcesses) {
      if (!sentinel.alive) continue
      try {
        return await this.#primaryAccordingTo(sentinel.port)
      } catch (err) {
        reasons.push(`${sentinel.label}: ${(err as Error).message}`)
      }
    }
    throw new Error(`no sentinel reported the primary of ${this.masterName}: ${reasons.join('; ') || 'none running'}`)
  }

  /** The node process that is primary now, according to the sentinels. */
  async primary (): Promise<TopologyProcess> {
    return this.node((await this.primaryAddress()).port)
  }

  /** What the node itself says (ROLE): 'master', 'slave', or why it did not answer. */
  async roleOf (port: number): Promise<string> {
    try {
      const [[role]] = await ask(port, [['ROLE']]) as [[string]]
      return role
    } catch (err) {
      return `no answer (${(err as Error).message})`
    }
  }

  /** SIGKILLs the current primary (as the sentinels report it); answers its port. */
  async killPrimary (): Promise<number> {
    const primary = await this.primary()
    await primary.kill()
    return primary.port
  }

  /**
   * Starts a killed node again, same port, same args: with no --replicaof (the first primary) it
   * comes back as a primary of its own until Sentinel makes it a replica; a first replica comes
   * back as replica of the first primary, which Sentinel corrects if that is no longer the primary.
   */
  async restartNode (port: number, readyWithinMs = 30_000): Promise<void> {
    await this.node(port).start(readyWithinMs)
  }

  /** SIGSTOPs every running node that is not the current primary; answers their ports. */
  async freezeReplicas (): Promise<number[]> {
    const primary = await this.primary()
    const replicas = this.nodes.filter((node) => node !== primary && node.alive && !node.frozen)
    for (const replica of replicas) replica.signal('SIGSTOP')
    this.#frozen.push(...replicas)
    return replicas.map((replica) => replica.port)
  }

  /** SIGCONTs the nodes freezeReplicas() froze; answers their ports. */
  thawReplicas (): number[] {
    const thawed = this.#frozen.filter((node) => node.frozen)
    for (const node of thawed) node.signal('SIGCONT')
    this.#frozen = []
    return thawed.map((node) => node.port)
  }

  /**
   * Resolves with the new primary's port once a majority of the sentinels report the same primary,
   * not `oldPrimaryPort`, and that node answers ROLE as master.
   */
  async waitForFailover (oldPrimaryPort: number, withinMs: number): Promise<number> {
    let found: number | undefined
    await this.#waitUntil(withinMs, `a failover away from ${HOST}:${oldPrimaryPort}`, async () => {
      const reports = await Promise.all(this.sentinelProcesses.map((sentinel) =>
        this.#primaryAccordingTo(sentinel.port).then((address) => address.port, (err: Error) => `no answer (${err.message})`)))
      const votes = new Map<number, number>()
      for (const port of reports) if (typeof port === 'number') votes.set(port, (votes.get(port) ?? 0) + 1)
      const majority = Math.floor(this.sentinelProcesses.length / 2) + 1
      const [leader, count] = [...votes].sort((a, b) => b[1] - a[1])[0] ?? [undefined, 0]
      if (leader === undefined || leader === oldPrimaryPort || count < majority) {
        return [`the sentinels report ${reports.map(String).join(', ')}`]
      }
      const role = await this.roleOf(leader)
      if (role !== 'master') return [`${HOST}:${leader}, reported as primary, answers ROLE ${role}`]
      found = leader
      return []
    })
    return found!
  }

  /**
   * Resolves once the node is a connected replica of the primary the sentinels report (a restarted
   * old primary converted by Sentinel, say). ROLE 'slave' alone is not enough: a first replica
   * restarted with its --replicaof comes back replicating from the first primary, wherever that is.
   */
  async waitForReplica (port: number, withinMs: number): Promise<void> {
    await this.#waitUntil(withinMs, `${HOST}:${port} to replicate from the primary`, async () => {
      const primary = await this.primaryAddress()
      const [role] = await ask(port, [['ROLE']]) as [unknown[]]
      const [kind, host, masterPort, state] = role.map(String)
      if (kind === 'slave' && host === primary.host && Number(masterPort) === primary.port && state === 'connected') return []
      return [`ROLE answers ${role.slice(0, 4).map(String).join(' ')}; the primary is ${primary.host}:${primary.port}`]
    })
  }

  /** Every process's latest output, labelled, `chars` of each at most. */
  output (chars = 4000): string {
    return [...this.nodes, ...this.sentinelProcesses]
      .map((proc) => `--- ${proc.label} ---\n${proc.output.slice(-chars)}`)
      .join('\n')
  }

  /** SIGKILLs everything (nothing is persisted, so nothing to save) and removes the temp dir. */
  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    process.off('exit', this.#onExit)
    await Promise.all([...this.sentinelProcesses, ...this.nodes].map((proc) => proc.kill()))
    rmSync(this.dir, { recursive: true, force: true })
  }

  async #primaryAccordingTo (sentinelPort: number): Promise<SentinelAddress> {
    const [reply] = await ask(sentinelPort, [['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName]])
    if (!Array.isArray(reply) || reply.length !== 2) throw new Error(`GET-MASTER-ADDR-BY-NAME answered ${JSON.stringify(reply)}`)
    return { host: String(reply[0]), port: Number(reply[1]) }
  }

  /** What is not yet true of the replicas' links (empty: both up). */
  async #replicasLinked (): Promise<string[]> {
    const primary = this.nodes[0]!
    return Promise.all(this.nodes.filter((node) => node !== primary).map(async (node) => {
      const [info] = await ask(node.port, [['INFO', 'replication']]) as [string]
      const link = /^master_link_status:(\w+)/m.exec(info)?.[1]
      return link === 'up' ? '' : `${node.label}: master_link_status:${link ?? '(none)'}`
    })).then((reasons) => reasons.filter(Boolean))
  }

  /** What is not yet true of what the sentinels see (empty: all three see everything). */
  async #sentinelsAgree (): Promise<string[]> {
    const primaryPort = this.nodes[0]!.port
    const replicaPorts = this.nodes.slice(1).map((node) => node.port).sort((a, b) => a - b)
    const others = this.sentinelProcesses.length - 1
    const reasons = await Promise.all(this.sentinelProcesses.map(async (sentinel) => {
      const [master, replicas, sentinels] = await ask(sentinel.port, [
        ['SENTINEL', 'MASTER', this.masterName],
        ['SENTINEL', 'REPLICAS', this.masterName],
        ['SENTINEL', 'SENTINELS', this.masterName]
      ])
      const problems: string[] = []
      const primary = record(master)
      if (Number(primary.port) !== primaryPort || !isUp(primary.flags, 'master')) {
        problems.push(`primary ${primary.ip}:${primary.port} flags ${primary.flags}`)
      }
      const healthy = (replicas as unknown[]).map(record).filter((replica) => isUp(replica.flags, 'slave'))
      const ports = healthy.map((replica) => Number(replica.port)).sort((a, b) => a - b)
      if (ports.join() !== replicaPorts.join()) {
        problems.push(`healthy replicas [${ports.join(', ')}], not [${replicaPorts.join(', ')}]`)
      }
      const seen = (sentinels as unknown[]).length
      if (seen !== others) problems.push(`sees ${seen} other sentinels, not ${others}`)
      return problems.length ? `${sentinel.label}: ${problems.join(', ')}` : ''
    }))
    return reasons.filter(Boolean)
  }

  /**
   * Polls `check` (what is not yet true; empty when all is) until it is all true, or throws once
   * `withinMs` is over, naming what still was not (or the check's own error).
   */
  async #waitUntil (withinMs: number, what: string, check: () => Promise<string[]>): Promise<void> {
    const deadline = Date.now() + withinMs
    let notYet: string[] = ['not checked yet']
    for (;;) {
      try {
        notYet = await check()
      } catch (err) {
        notYet = [(err as Error).message]
      }
      if (notYet.length === 0) return
      if (Date.now() >= deadline) break
      await sleep(Math.min(POLL_MS, Math.max(deadline - Date.now(), 0)))
    }
    throw new Error(`timed out after ${withinMs} ms waiting for ${what}; not yet true: ${notYet.join('; ')}\n${this.output()}`)
  }
}

/** `count` free loopback ports, all different. */
async function distinctFreePorts (count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) ports.add(await freePort())
  return [...ports]
}

/** Flags say the instance is of `kind` and is neither down nor disconnected. */
function isUp (flags: string | undefined, kind: 'master' | 'slave'): boolean {
  const list = (flags ?? '').split(',')
  return list.includes(kind) && !list.some((flag) => ['s_down', 'o_down', 'disconnected'].includes(flag))
}

/** A RESP2 flat field list (`[name, value, name, value…]`) as a record. */
function record (reply: unknown): Record<string, string> {
  const fields = Array.isArray(reply) ? reply as unknown[] : []
  const result: Record<string, string> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) result[String(fields[i])] = String(fields[i + 1])
  return result
}

/**
 * Sends the commands over one short-lived connection (RESP2: flat replies) and answers their
 * replies, or fails within PROBE_MS: a frozen node accepts the connection and never answers.
 */
async function ask (port: number, commands: string[][], withinMs = PROBE_MS): Promise<unknown[]> {
  const client = createClient({
    RESP: 2,
    disableOfflineQueue: true,
    socket: { host: HOST, port, connectTimeout: withinMs, reconnectStrategy: false }
  })
  client.on('error', () => {}) // the reply (or the deadline) reports it
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      client.connect().then(() => Promise.all(commands.map((command) => client.sendCommand(command)))),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${HOST}:${port} did not answer within ${withinMs} ms`)), withinMs)
      })
    ])
  } finally {
    clearTimeout(timer)
    try {
      client.destroy()
    } catch {
      // never opened, or already closed
    }
  }
}
