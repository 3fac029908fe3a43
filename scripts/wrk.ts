/**
 * Load with wrk against a server this script started, and what the server spent on it: req/s,
 * latency, errors, and the server's own CPU use and RSS (from /proc). Shared by `npm run bench`'s
 * table and its A/B comparison (`npm run bench -- --against REV`).
 */
import { existsSync, readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import type { Child } from './lib.js'
import { HttpBrowser } from './client.js'

export const CONNECTIONS = 10
const TIME = '/usr/bin/time'
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

/**
 * `cpu`: the server's CPU use, % of the one core it is pinned to; `loadCpu`: wrk's own (NaN without
 * /usr/bin/time): near 100 %, the load generator, not the server, was the limit. `coreCpu`: how busy
 * the server's core was, whoever used it (NaN when the server is not pinned to one core): well above
 * `cpu`, something else took the server's core; about `cpu` and below 95 %, the server was waiting.
 */
export interface Measure { rps: number, p50: number, p99: number, errors: number, cpu: number, loadCpu: number, coreCpu: number, rssBefore: number, rssAfter: number, requests?: number, span?: LoadSpan }
/** When wrk ran, in µs of the monotonic clock (`process.hrtime`, the clock of V8's CPU profiles). */
export interface LoadSpan { from: number, to: number }
/** `seconds`: how long the load really ran, as wrk reports it (not its start and its end). */
interface Load { rps: number, p50: number, p99: number, errors: number, loadCpu: number, seconds?: number, requests?: number, span?: LoadSpan }

function rssMb (child: Child): number {
  const status = readFileSync(`/proc/${child.process.pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024
}

/** CPU seconds (user + system, all threads) the process has used so far. */
function cpuSeconds (child: Child): number {
  const stat = readFileSync(`/proc/${child.process.pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // fields 3… of proc(5)
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND // utime, stime
}

/** The one core the process may run on (`Cpus_allowed_list: 0`), or undefined. */
function pinnedCore (child: Child): number | undefined {
  const status = readFileSync(`/proc/${child.process.pid}/status`, 'utf8')
  const core = /Cpus_allowed_list:\s+(\d+)\s*$/m.exec(status)?.[1]
  return core === undefined ? undefined : Number(core)
}

/** Seconds a core has been busy so far (every state of proc(5)'s `cpuN` line but idle and iowait). */
function coreBusySeconds (core: number): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((one) => one.startsWith(`cpu${core} `))!
  const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number)
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / TICKS_PER_SECOND
}

const QUIET_WINDOW_MS = 200
const QUIET_LIMIT_MS = 3000

/**
 * Waits until the core is quiet (at most 10 % busy over 200 ms; at most 3 s): what the server
 * loaded before is still doing (collecting garbage, closing its connections, its store's replies)
 * must not take the next round's server's core. Without this wait the bytes baseline, the round
 * after each other server's, often read 89-94 % of its core while the core itself was 96-100 % busy;
 * with it, a bytes round below 95 % has its core below 95 % too: it waited for wrk.
 */
async function quietCore (core: number): Promise<void> {
  const limit = performance.now() + QUIET_LIMIT_MS
  for (;;) {
    const before = coreBusySeconds(core)
    await new Promise((resolve) => setTimeout(resolve, QUIET_WINDOW_MS))
    const busy = (coreBusySeconds(core) - before) / (QUIET_WINDOW_MS / 1000)
    if (busy <= 0.1 || performance.now() > limit) return
  }
}

/** Runs a load against the child, adding its CPU use (% of one core) and RSS before and after. */
async function measured (child: Child, seconds: number, run: () => Promise<Load>): Promise<Measure> {
  const core = pinnedCore(child)
  if (core !== undefined) await quietCore(core)
  const rssBefore = rssMb(child)
  const cpuBefore = cpuSeconds(child)
  const coreBefore = core === undefined ? NaN : coreBusySeconds(core)
  const started = performance.now()
  const { seconds: ran, ...load } = await run()
  // Over the time the load really ran: the whole call also spans starting wrk and its connections,
  // when the server has nothing to do, which read a saturated server as about 90 % in 2 s rounds.
  const over = ran ?? Math.max((performance.now() - started) / 1000, seconds)
  const coreCpu = core === undefined ? NaN : 100 * (coreBusySeconds(core) - coreBefore) / over
  return { ...load, cpu: 100 * (cpuSeconds(child) - cpuBefore) / over, coreCpu, rssBefore, rssAfter: rssMb(child) }
}

/**
 * wrk on 10 connections: one request repeated, or a script (one thread per connection then, so each
 * connection has the script's state to itself). Latencies are converted to milliseconds.
 */
export function wrk (child: Child, seconds: number, headers: Record<string, string> = {}, script?: string): Promise<Measure> {
  return measured(child, seconds, async () => {
    const args = [script ? `-t${CONNECTIONS}` : '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency',
      ...(script ? ['-s', script] : []),
      ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]), `${child.url}/`]
    // /usr/bin/time reports wrk's own CPU time, which says whether wrk could have sent more.
    const timed = existsSync(TIME)
    const from = monotonicMicros()
    const run = timed ? spawnSync(TIME, ['-f', 'WRK_CPU %U %S %e', 'wrk', ...args], { encoding: 'utf8' }) : spawnSync('wrk', args, { encoding: 'utf8' })
    const span = { from, to: monotonicMicros() }
    if (run.status !== 0) throw new Error(`wrk ${args.join(' ')} failed (${run.status ?? run.signal}): ${run.stderr}${run.stdout}`)
    const out = run.stdout
    const [, user, system, elapsed] = /WRK_CPU ([\d.]+) ([\d.]+) ([\d.]+)/.exec(run.stderr) ?? []
    const loadCpu = timed && elapsed !== undefined ? 100 * (Number(user) + Number(system)) / Number(elapsed) : NaN
    const ms = (percent: number) => {
      const [, value = 'NaN', unit = 'ms'] = new RegExp(`^\\s+${percent}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out) ?? []
      return Number(value) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[unit]!
    }
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)?.slice(1).reduce((n, v) => n + Number(v), 0) ?? 0
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
      p50: ms(50),
      p99: ms(99),
      errors: socketErrors + Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
      loadCpu,
      seconds: wrkSeconds(out),
      requests: Number(/(\d+) requests in/.exec(out)?.[1]),
      span
    }
  })
}

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n)

/** `12345 requests in 2.00s` (or ms, or m): how long wrk's load ran. */
function wrkSeconds (out: string): number | undefined {
  const [, value, unit] = /requests in ([\d.]+)(ms|s|m)\b/.exec(out) ?? []
  if (value === undefined) return undefined
  return Number(value) * ({ ms: 0.001, s: 1, m: 60 } as Record<string, number>)[unit!]!
}

/** The middle value (of an even count, the mean of the two middle ones: never the better of two). */
export function medianOf (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** The median round by req/s (the other figures from that same round), for noisy machines. */
export function median (measures: Measure[]): Measure {
  const sorted = [...measures].sort((a, b) => a.rps - b.rps)
  return { ...sorted[Math.floor(sorted.length / 2)]!, errors: measures.reduce((n, m) => n + m.errors, 0), rssBefore: measures[0]!.rssBefore, rssAfter: measures.at(-1)!.rssAfter }
}

export function mean (measures: Measure[]): Measure {
  const avg = (pick: (m: Measure) => number) => measures.reduce((n, m) => n + pick(m), 0) / measures.length
  return {
    rps: avg((m) => m.rps),
    p50: avg((m) => m.p50),
    p99: avg((m) => m.p99),
    cpu: avg((m) => m.cpu),
    loadCpu: avg((m) => m.loadCpu),
    coreCpu: avg((m) => m.coreCpu),
    errors: measures.reduce((n, m) => n + m.errors, 0),
    rssBefore: measures[0]!.rssBefore,
    rssAfter: measures.at(-1)!.rssAfter
  }
}

/** A session cookie, as a browser has it after one visit. */
export async function visit (url: string): Promise<string> {
  const browser = new HttpBrowser(url)
  await browser.get('/')
  return browser.jar.header() ?? ''
}
