/**
 * Shared by the soak and bench scripts: free ports, starting the built server as a child process,
 * and a redis-server they own. Everything listens on loopback and is stopped by the caller.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { closeSync, mkdtempSync, openSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PROJECT_ROOT } from '../src/project-root.js'
import { setTimeout as sleep } from 'node:timers/promises'

export const ROOT = PROJECT_ROOT

/** The built server (`npm run build`): what `npm start` runs. */
export const SERVER_ENTRY = join(PROJECT_ROOT, 'dist', 'src', 'server.js')

export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

export async function waitFor (check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return
    await sleep(50)
  }
  throw new Error(`timed out waiting for ${what}`)
}

export async function healthy (url: string): Promise<boolean> {
  const res = await fetch(`${url}/healthz`)
  await res.arrayBuffer()
  return res.ok
}

export interface Child {
  process: ChildProcess
  url: string
  stop: () => Promise<void>
}

/**
 * Starts a node process on a free loopback port and waits for /healthz: under this Node, or the
 * binary `node` names; pinned to one CPU with taskset when `cpu` is given (and taskset exists);
 * `nodeArgs` go to node before the script (the profiler's flags, which NODE_OPTIONS refuses);
 * `stdoutFile` receives what the process writes to its standard output (ignored otherwise): a
 * file, not a pipe, because wrk runs with spawnSync, which would leave a pipe unread until the
 * round ends, and a full pipe blocks the server.
 */
export async function startNode (script: string, env: Record<string, string>, options: { cpu?: number, node?: string, nodeArgs?: string[], stdoutFile?: string } = {}): Promise<Child> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const node = options.node ?? process.execPath
  const nodeArgs = options.nodeArgs ?? []
  const [command, commandArgs] = options.cpu !== undefined && hasCommand('taskset')
    ? ['taskset', ['-c', String(options.cpu), node, ...nodeArgs, script]]
    : [node, [...nodeArgs, script]]
  const stdout = options.stdoutFile === undefined ? 'ignore' : openSync(options.stdoutFile, 'w')
  const child = spawn(command, commandArgs, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', stdout, 'inherit']
  })
  if (typeof stdout === 'number') closeSync(stdout) // the child has its own copy
  const exited = once(child, 'exit')
  await Promise.race([
    waitFor(() => healthy(url), 15_000, `${script} on ${url}`),
    exited.then(([code]) => { throw new Error(`${script} exited with ${String(code)} before answering`) })
  ])
  return {
    process: child,
    url,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await exited
    }
  }
}

export function hasCommand (name: string): boolean {
  return spawnSync(name, ['--version'], { stdio: 'ignore' }).error === undefined
}

/** A redis-server on a free port; `persistent` keeps its data across stop/start (saved on SIGTERM). */
export class OwnRedis {
  #process: ChildProcess | undefined
  #dir: string | undefined

  private constructor (readonly port: number, readonly persistent: boolean) {}

  static async start (persistent = false, readyWithinMs = 30_000): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), persistent)
    await redis.start(readyWithinMs)
    return redis
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Starts (or restarts, on the same port) and waits for Redis to log that it accepts connections. */
  async start (readyWithinMs = 30_000): Promise<void> {
    if (this.persistent) this.#dir ??= mkdtempSync(join(tmpdir(), 'sessions-redis-'))
    const persistence = this.#dir ? ['--save', '3600 1', '--dir', this.#dir] : ['--save', '']
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--appendonly', 'no', ...persistence], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.#process = child
    let output = ''
    let timer: NodeJS.Timeout | undefined
    try {
      await new Promise<void>((resolve, reject) => {
        // Read to the end either way: a full pipe would stop Redis at its next log line.
        child.stdout.on('data', (chunk: Buffer) => {
          if (output.length < 10_000) output += chunk.toString()
          if (output.includes('Ready to accept connections')) resolve()
        })
        child.stderr.on('data', (chunk: Buffer) => { if (output.length < 10_000) output += chunk.toString() })
        child.once('exit', (code) => reject(new Error(`redis-server on port ${this.port} exited (${String(code)}) before it was ready:\n${output}`)))
        timer = setTimeout(() => reject(new Error(`redis-server on port ${this.port}: not ready within ${readyWithinMs / 1000} s:\n${output}`)), readyWithinMs)
      })
    } catch (err) {
      child.kill('SIGKILL')
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * A maintenance restart's first half: pause writes (so no write is cut off between being applied
   * and being acknowledged), then shut down, saving the data when persistence is on.
   */
  async shutdownGracefully (): Promise<void> {
    const child = this.#process
    if (!child || child.exitCode !== null) return
    const exited = once(child, 'exit')
    spawnSync('redis-cli', ['-p', String(this.port), 'CLIENT', 'PAUSE', '10000', 'WRITE'])
    spawnSync('redis-cli', ['-p', String(this.port), 'SHUTDOWN', this.persistent ? 'SAVE' : 'NOSAVE'])
    await exited
    this.#process = undefined
  }

  /** SIGSTOP freezes Redis (the socket stays open, nothing answers), as a stalled host would; SIGCONT thaws it. */
  signal (signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.#process?.kill(signal)
  }

  /** SIGTERM: Redis saves its data first when persistence is on. */
  async stop (): Promise<void> {
    const child = this.#process
    this.#process = undefined
    if (!child || child.exitCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  }
}
