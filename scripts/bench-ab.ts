/**
 * `npm run bench -- --against REV`: the app built at git revision REV (A) against this tree's build
 * (B), with one session store, GET / with a session per connection (as the bench's GET / rows), in
 * alternating 2 s rounds of wrk so that this machine's drift hits both alike; each round says
 * which went first. Per round: req/s, the server's CPU time per request (less noisy than req/s) and
 * p99; at the end, the median of the rounds' B/A ratios. Both servers on CPU 0, wrk on CPU 1.
 *
 *   npm run bench -- --against HEAD~1                           # 6 rounds, the cookie store
 *   npm run bench -- --against main --rounds 8 --store memory
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OwnRedis, ROOT, SERVER_ENTRY, startNode, type Child } from './lib.js'
import { medianOf, wrk, type Measure } from './wrk.js'

export interface Comparison {
  rev: string
  store: 'cookie' | 'memory' | 'redis'
  rounds: number
  secret: string
  /** The wrk script that gives each connection a session of its own. */
  script: string
  node: string
  log: (line: string) => void
}

function run (command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal})`)
}

/** Microseconds of the server's CPU per request answered. */
const cpuPerRequest = (m: Measure) => Math.round((m.cpu / 100) / m.rps * 1e6)
const described = (m: Measure) => `${Math.round(m.rps)} req/s, ${cpuPerRequest(m)} µs CPU/request, p99 ${m.p99.toFixed(2)} ms`

export async function compareWithRevision ({ rev, store, rounds, secret, script, node, log }: Comparison): Promise<void> {
  const short = spawnSync('git', ['rev-parse', '--short', rev], { cwd: ROOT, encoding: 'utf8' })
  if (short.status !== 0) throw new Error(`not a revision here: ${rev}`)
  // A: the revision, built in a git worktree with this checkout's node_modules. (B was built by `npm run bench`.)
  const work = mkdtempSync(join(tmpdir(), 'bench-ab-'))
  const tree = join(work, 'a')
  run('git', ['worktree', 'add', '--quiet', '--detach', tree, rev], ROOT)
  const started: Child[] = []
  let redis: OwnRedis | undefined
  try {
    symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'))
    run('npx', ['tsc', '-p', 'tsconfig.build.json'], tree)
    redis = store === 'redis' ? await OwnRedis.start() : undefined
    const env = { SESSION_SECRET: secret, SESSION_STORE: store, ...(redis ? { REDIS_URL: redis.url } : {}) }
    for (const entry of [join(tree, 'dist', 'src', 'server.js'), SERVER_ENTRY]) started.push(await startNode(entry, env, { cpu: 0, node }))
    const [a, b] = started as [Child, Child]
    for (const child of started) await wrk(child, 2, {}, script) // warm-up

    log(`A = ${rev} (${short.stdout.trim()}), B = this tree; the ${store} store, GET / with a session per connection, wrk 10 connections, 2 s rounds`)
    const ratios: number[] = []
    for (let round = 1; round <= rounds; round++) {
      const bFirst = round % 2 === 0
      const first = await wrk(bFirst ? b : a, 2, {}, script)
      const second = await wrk(bFirst ? a : b, 2, {}, script)
      const [ofA, ofB] = bFirst ? [second, first] : [first, second]
      ratios.push(ofB.rps / ofA.rps)
      log(`round ${round} (${bFirst ? 'B' : 'A'} first):  A ${described(ofA)};  B ${described(ofB)};  B/A ${(ofB.rps / ofA.rps).toFixed(3)}`)
    }
    log(`B/A in req/s, the median of ${rounds} rounds: ${medianOf(ratios).toFixed(3)}`)
  } finally {
    for (const child of started) await child.stop()
    await redis?.stop()
    spawnSync('git', ['worktree', 'remove', '--force', tree], { cwd: ROOT })
    rmSync(work, { recursive: true, force: true })
  }
}
