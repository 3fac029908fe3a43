/**
 * A real redis-server for the tests: started on a free loopback port, stopped (and restartable on
 * the same port) by the test itself. Without the binary, the tests that need it are skipped with a
 * message saying how to install it; .ci/run installs it, so CI always runs them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer, connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'

export const REDIS_MISSING = 'redis-server is not installed: `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis`; CI installs it'

export function hasRedisServer (): boolean {
  return spawnSync('redis-server', ['--version']).error === undefined
}

async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** Answers once redis replies +PONG, or throws after `timeoutMs`. */
async function waitForPong (port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.on('connect', () => socket.write('PING\r\n'))
      socket.on('data', (data) => { socket.destroy(); resolve(data.toString().startsWith('+PONG')) })
      socket.on('error', () => resolve(false))
    })
    if (ok) return
    await sleep(50)
  }
  throw new Error(`redis-server did not answer on port ${port} within ${timeoutMs} ms`)
}

export class RedisServer {
  #process: ChildProcess | undefined

  private constructor (readonly port: number) {}

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Starts one for this test (stopped at teardown). */
  static async start (t: Test): Promise<RedisServer> {
    const server = new RedisServer(await freePort())
    t.teardown(() => server.stop())
    await server.start()
    return server
  }

  async start (): Promise<void> {
    this.#process = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1',
      '--save', '', '--appendonly', 'no', '--loglevel', 'warning'
    ], { stdio: 'ignore' })
    await waitForPong(this.port)
  }

  async stop (): Promise<void> {
    const child = this.#process
    this.#process = undefined
    if (!child || child.exitCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }
}
