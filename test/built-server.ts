/**
 * The built server (`dist/src/server.js`, what `npm start` runs) as a child process, for the tests
 * that need the real process: its log, its exit code, its signals. Each wait is for an event (the
 * "Server listening at" line, the exit) with one generous limit that fails saying what it waited for.
 */
import type { Test } from 'tap'
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { once } from 'node:events'
import type { Readable } from 'node:stream'
import { SERVER_ENTRY } from '../scripts/lib.js'
import { within } from './limits.js'

export interface Exit { code: number | null, stdout: string, stderr: string }

export interface BuiltServer {
  child: ChildProcessByStdio<null, Readable, Readable>
  url: string
  /** What the server printed so far. */
  stdout: () => string
  /** Settles with the exit code (and what was printed) when the process ends. */
  exited: Promise<Exit>
  /** Sends `signal` and waits for the exit. */
  stop: (signal?: NodeJS.Signals) => Promise<Exit>
}

function spawnServer (env: Record<string, string>, entry: string) {
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH, NODE_ENV: 'production', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = once(child, 'exit').then(([code]): Exit => ({ code: code as number | null, stdout, stderr }))
  return { child, exited, stdout: () => stdout, stderr: () => stderr }
}

/** Starts the built server (production, a free port, unless `env` says otherwise) and waits until it listens. */
export async function startBuiltServer (t: Test, env: Record<string, string>, entry = SERVER_ENTRY): Promise<BuiltServer> {
  const { child, exited, stdout, stderr } = spawnServer(env, entry)
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout())?.[1]
      if (url !== undefined) resolve(url)
    })
    exited.then(({ code }) => reject(new Error(`the server exited (${code}) before listening:\n${stdout()}${stderr()}`)), reject)
  })
  const url = await within(60_000, 'the built server to say "Server listening at"', listening)
    .catch((err: Error) => { child.kill('SIGKILL'); throw err })
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    child.kill(signal)
    return within(60_000, `the server to exit after ${signal}`, exited)
  }
  return { child, url, stdout, exited, stop }
}

/** Runs the built server expecting it to refuse to start; its exit code and what it printed. */
export async function exitOf (env: Record<string, string>, entry = SERVER_ENTRY): Promise<Exit> {
  const { child, exited } = spawnServer(env, entry)
  return within(60_000, 'the server to exit (it was expected to refuse to start, but it may have started)', exited)
    .catch((err: Error) => { child.kill('SIGKILL'); throw err })
}
