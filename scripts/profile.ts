/**
 * `npm run profile`: where a page's server CPU goes. The built app (cookie store unless `--store`)
 * runs under V8's sampling profiler, pinned to CPU 0, loaded as `npm run bench` loads its GET / rows
 * (wrk on CPU 1, 10 connections, each a visitor with a session of its own); after a warm-up round,
 * the samples of one measured round are summed: by part of the page's work, by package and by
 * function, each as a share of the samples and as microseconds per request. Self time only (what a
 * function spent in its own code), so no time is counted twice; the profiler itself slows the server
 * (its req/s is printed), so read the shares, not the totals.
 *
 *   npm run profile                         # the cookie store, a 10 s round
 *   npm run profile -- --store memory --seconds 20
 */
import { randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { hasCommand, OwnRedis, ROOT, SERVER_ENTRY, startNode, type Child } from './lib.js'
import { wrk } from './wrk.js'

const { values: args } = parseArgs({ options: { store: { type: 'string', default: 'cookie' }, seconds: { type: 'string', default: '10' } } })
const store = args.store!
const seconds = Number(args.seconds)
if (!['cookie', 'memory', 'redis'].includes(store)) throw new Error('--store must be cookie, memory or redis')
if (!hasCommand('wrk')) {
  console.error('npm run profile needs wrk (apt-get install wrk).')
  process.exit(1)
}
// wrk (and this script) on CPU 1, the server on CPU 0, as in `npm run bench`: a loopback write
// would otherwise wake wrk on the server's own core and count its work as the server's.
if (hasCommand('taskset')) spawnSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' })
/** One sample a millisecond (V8's default interval, named here because the output states it). */
const INTERVAL_US = 1000

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
/** `startTime`: µs of the monotonic clock, as `process.hrtime` reads it. */
interface CpuProfile { nodes: ProfileNode[], startTime: number, samples: number[], timeDeltas: number[] }

/**
 * The parts of a page's work, by where the code lives (first match wins). `writev` is V8's name for
 * the native call that hands the answer to the kernel; `(garbage collector)`, `(idle)` and
 * `(program)` are V8's own.
 */
const PARTS: Array<[string, RegExp]> = [
  ['rendering (Handlebars, @fastify/view)', /node_modules\/(handlebars|@fastify\/view)\//],
  ['the session cookie (secure-session, sodium, cookie parsing and serializing)', /node_modules\/(@fastify\/secure-session|sodium-native|@fastify\/cookie|cookie)\//],
  ['server-side sessions (@fastify/session, redis, lru-cache)', /node_modules\/(@fastify\/session|@redis|redis|lru-cache|safe-stable-stringify)\//],
  ['Node\'s crypto (hashes and HMACs: @fastify/session signs the id and hashes the session)', /node:internal\/crypto\//],
  ['this app and its framework (src/)', /\/dist\/src\//],
  ['Fastify and its routing, logging, content negotiation', /node_modules\/(fastify|find-my-way|pino|@fastify\/accepts|accepts|negotiator|fast-json-stringify|light-my-request|toad-cache|avvio|@fastify\/[^/]+)\//],
  ['sending the answer (writev and Node\'s stream code)', /^writev$|node:(net|internal\/stream_base_commons|internal\/streams\/writable|_http_outgoing)/],
  ['Node\'s HTTP parsing and events', /node:(_http_server|_http_common|_http_incoming|events|internal\/streams\/readable|internal\/process\/task_queues|internal\/timers)|^runMicrotasks$/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['idle (waiting for the next request)', /^\(idle\)$/]
]

/** V8's own entries: they have no caller worth charging them to. */
const V8_ENTRIES = new Set(['writev', '(garbage collector)', '(idle)', '(program)', '(root)'])
const where = (node: ProfileNode) => node.callFrame.url || node.callFrame.functionName
/**
 * A native function (no URL: a regular expression, a hash's `digest`, a string builtin) is charged
 * to the part of the code that called it, so Handlebars' escaping counts as rendering.
 */
function partOf (node: ProfileNode, parents: Map<number, ProfileNode>): string {
  let charged: ProfileNode | undefined = node
  while (charged !== undefined && charged.callFrame.url === '' && !V8_ENTRIES.has(charged.callFrame.functionName)) charged = parents.get(charged.id)
  const found = charged === undefined ? undefined : PARTS.find(([, pattern]) => pattern.test(where(charged)))
  return found?.[0] ?? 'other (V8, Node\'s own)'
}
const packageOf = (node: ProfileNode) => {
  const url = node.callFrame.url
  const inModules = /node_modules\/((@[^/]+\/)?[^/]+)\//.exec(url)
  if (inModules) return inModules[1]!
  if (url.includes('/dist/src/')) return 'src/' + url.split('/dist/src/')[1]!.split('/')[0]
  return url || node.callFrame.functionName || '(native)'
}
const functionOf = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame
  const file = url.includes('node_modules/') ? url.replace(/.*node_modules\//, '') : url.replace(/.*\/dist\//, '')
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`
}

const profileDir = mkdtempSync(join(tmpdir(), 'profile-'))
const redis = store === 'redis' ? await OwnRedis.start() : undefined
let app: Child | undefined
try {
  app = await startNode(SERVER_ENTRY, {
    SESSION_SECRET: randomBytes(48).toString('base64url'),
    SESSION_STORE: store,
    ...(redis ? { REDIS_URL: redis.url } : {})
  }, { cpu: 0, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-interval=${INTERVAL_US}`] })
  const OWN_SESSION = join(ROOT, 'bench', 'own-session.lua')
  await wrk(app, 2, {}, OWN_SESSION) // warm-up, left out of the sums
  const round = await wrk(app, seconds, {}, OWN_SESSION)
  await app.stop()
  const { span, requests } = round
  if (span === undefined || !requests) throw new Error('wrk reported no requests')

  const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error(`the server wrote no profile in ${profileDir}`)
  const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const parents = new Map<number, ProfileNode>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node)
  // The samples taken while wrk ran, by the profile's own clock (the monotonic clock wrk's span was
  // read with): not the server's boot, its warm-up or the quiet wait before the round.
  const sums = { part: new Map<string, number>(), package: new Map<string, number>(), function: new Map<string, number>() }
  let clock = profile.startTime
  let total = 0
  let samples = 0
  for (const [i, id] of profile.samples.entries()) {
    const took = profile.timeDeltas[i] ?? 0
    clock += took
    if (clock < span.from || clock > span.to) continue
    const node = nodes.get(id)!
    samples++
    total += took / 1e6
    for (const [by, key] of [['part', partOf(node, parents)], ['package', packageOf(node)], ['function', functionOf(node)]] as const) {
      sums[by].set(key, (sums[by].get(key) ?? 0) + took / 1e6)
    }
  }
  const expected = (span.to - span.from) / INTERVAL_US
  if (samples < expected / 2) throw new Error(`only ${samples} samples in the round, ${Math.round(expected)} expected: the profile's clock and this script's disagree`)
  const table = (title: string, sums: Map<string, number>, rows: number) => {
    console.log(`\n| ${title} | share | µs per request |\n|---|---:|---:|`)
    for (const [key, took] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
      console.log(`| ${key} | ${(100 * took / total).toFixed(1)} % | ${(1e6 * took / requests).toFixed(1)} |`)
    }
  }
  console.log(`${store} store, GET / with a session per connection, ${seconds} s after a 2 s warm-up, under the profiler (a sample every ${INTERVAL_US} µs): ` +
    `${Math.round(round.rps)} req/s, server CPU ${Math.round(round.cpu)} %, ${(1e6 * total / requests).toFixed(1)} µs sampled per request (Node ${process.version}, ${new Date().toISOString().slice(0, 10)})`)
  table('part of the work', sums.part, PARTS.length + 1)
  table('package', sums.package, 15)
  table('function', sums.function, 25)
} finally {
  await app?.stop()
  await redis?.stop()
  rmSync(profileDir, { recursive: true, force: true })
}
