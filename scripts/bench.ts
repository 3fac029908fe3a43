/**
 * `npm run bench`: this app against a bare Fastify page in one run. Every server is pinned to CPU 0
 * (taskset, where there is one) and autocannon runs here, pinned to CPU 1, 10 connections. Runs
 * go round-robin (bare, ladder…, app…, then again) so drift hits every server alike. Loopback only;
 * every process started is stopped. Prints a Markdown table.
 *
 *   npm run bench                    # about 2.5 minutes
 *   BENCH_SECONDS=2 npm run bench    # shorter runs, noisier figures
 */
import autocannon, { type Result } from 'autocannon'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import type { IncomingHttpHeaders } from 'node:http'
import { join } from 'node:path'
import { hasCommand, OwnRedis, ROOT, SERVER_ENTRY, startNode, type Child } from './lib.js'
import { CookieJar, csrfTokenIn, HttpBrowser } from './client.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4)
const FLOOD_SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 10)
const ROUNDS = 2
const CONNECTIONS = 10
const SERVER = SERVER_ENTRY
const LADDER = join(ROOT, 'bench', 'ladder-server.js')
const SECRET = randomBytes(48).toString('base64url')
const MEMORY_STORE_MAX = 10_000

if (hasCommand('taskset')) spawnSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' })

function rssMb (child: Child): number {
  const status = readFileSync(`/proc/${child.process.pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024
}

interface Measure { rps: number, p50: number, p99: number, errors: number, rssBefore: number, rssAfter: number }

async function load (child: Child, options: Partial<autocannon.Options>, seconds: number): Promise<Measure> {
  const rssBefore = rssMb(child)
  const result: Result = await autocannon({ url: child.url, connections: CONNECTIONS, duration: seconds, ...options })
  const unexpected = Object.entries(result.statusCodeStats ?? {})
    .filter(([code]) => code !== '200' && code !== '303')
    .reduce((n, [, stats]) => n + (stats as { count: number }).count, 0)
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + unexpected,
    rssBefore,
    rssAfter: rssMb(child)
  }
}

function mean (measures: Measure[]): Measure {
  const avg = (pick: (m: Measure) => number) => measures.reduce((n, m) => n + pick(m), 0) / measures.length
  return {
    rps: avg((m) => m.rps),
    p50: avg((m) => m.p50),
    p99: avg((m) => m.p99),
    errors: measures.reduce((n, m) => n + m.errors, 0),
    rssBefore: measures[0]!.rssBefore,
    rssAfter: measures.at(-1)!.rssAfter
  }
}

/** A session cookie and the page's CSRF token, as a browser has them after one visit. */
async function visit (url: string): Promise<{ cookie: string, token: string }> {
  const browser = new HttpBrowser(url)
  await browser.get('/')
  return { cookie: browser.jar.header() ?? '', token: browser.csrfToken ?? '' }
}

/** One autocannon connection plays one browser tab: its own jar and the last page's token. */
type Context = { jar: CookieJar, token: string }
function initialContext ({ cookie, token }: { cookie: string, token: string }): Context {
  const jar = new CookieJar()
  jar.update(cookie)
  return { jar, token }
}
function withSession (body?: (context: Context) => string) {
  return (request: autocannon.Request, context: object) => {
    const c = context as Context
    request.headers = { ...request.headers, cookie: c.jar.header() ?? '' }
    if (body) request.body = body(c)
    return request
  }
}
function remember (_status: number, body: string, context: object, headers?: IncomingHttpHeaders) {
  const c = context as Context
  c.jar.update(headers?.['set-cookie'])
  c.token = csrfTokenIn(body) ?? c.token
}
const form = { 'content-type': 'application/x-www-form-urlencoded' }

interface Target { name: string, child: Child, options: Partial<autocannon.Options>, runs: Measure[] }
interface Row { name: string, measure: Measure, ratio?: number, note?: string }
const rows: Row[] = []
const started: Child[] = []
const fmt = (n: number, digits = 0) => n.toFixed(digits)

async function start (script: string, env: Record<string, string>): Promise<Child> {
  const child = await startNode(script, env, 0)
  started.push(child)
  return child
}
const appEnv = (store: string, extra: Record<string, string> = {}) =>
  ({ SESSION_SECRET: SECRET, SESSION_STORE: store, SESSION_STORE_MAX: String(MEMORY_STORE_MAX), ...extra })

const redis = hasCommand('redis-server') ? await OwnRedis.start() : undefined
if (!redis) console.log('redis-server is not installed (apt-get install redis-server): no redis rows')
try {
  // 1. GET / with a session cookie: the ladder and the app in every mode, round-robin.
  const targets: Target[] = []
  const add = async (name: string, script: string, env: Record<string, string>) => {
    const child = await start(script, env)
    const { cookie } = await visit(child.url)
    targets.push({ name, child, options: cookie ? { headers: { cookie } } : {}, runs: [] })
  }
  await add('bare Fastify page, no session (baseline)', LADDER, { LADDER: 'bare' })
  await add('ladder: + secure-session (decrypt, count, encrypt)', LADDER, { LADDER: 'session' })
  await add('ladder: + security, cache and vary headers', LADDER, { LADDER: 'headers' })
  await add('ladder: + a CSRF token for the forms', LADDER, { LADDER: 'csrf' })
  await add('this app, cookie mode', SERVER, appEnv('cookie'))
  await add('this app, memory mode', SERVER, appEnv('memory'))
  if (redis) await add('this app, redis mode', SERVER, appEnv('redis', { REDIS_URL: redis.url }))

  console.log(`GET / with a session cookie: ${targets.length} servers, ${ROUNDS} rounds of ${SECONDS} s each`)
  for (const target of targets) await load(target.child, target.options, 1) // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const target of targets) target.runs.push(await load(target.child, target.options, SECONDS))
  }
  const baseline = mean(targets[0]!.runs).rps
  for (const target of targets) {
    const measure = mean(target.runs)
    rows.push({ name: `GET / — ${target.name}`, measure, ratio: measure.rps / baseline })
  }
  for (const target of targets.slice(1, 4)) await target.child.stop()

  // 2. The form cycle: POST /cart, GET / (the 303's target), POST /cart/clear, GET /. Each
  //    connection keeps its own session and token, as a browser tab would.
  for (const target of targets.slice(4)) {
    const { cookie, token } = await visit(target.child.url)
    const measure = await load(target.child, {
      initialContext: initialContext({ cookie, token }),
      requests: [
        { method: 'POST', path: '/cart', headers: form, setupRequest: withSession((c) => `_csrf=${c.token}&item=apple`) },
        { method: 'GET', path: '/', setupRequest: withSession(), onResponse: remember },
        { method: 'POST', path: '/cart/clear', headers: form, setupRequest: withSession((c) => `_csrf=${c.token}`) },
        { method: 'GET', path: '/', setupRequest: withSession(), onResponse: remember }
      ]
    }, SECONDS)
    rows.push({ name: `POST /cart → GET / → POST /cart/clear → GET / — ${target.name.replace('this app, ', '')}`, measure, ratio: measure.rps / baseline, note: 'all four requests counted' })
  }
  for (const target of targets) await target.child.stop()

  // 3. Cookieless flood: every request starts a session. Fresh processes; RSS measured after a
  //    1 s warm-up of the same flood, so the growth is the flood's, not start-up's.
  for (const store of ['cookie', 'memory']) {
    const child = await start(SERVER, appEnv(store))
    await load(child, {}, 1)
    const measure = await load(child, {}, FLOOD_SECONDS)
    const growth = measure.rssAfter - measure.rssBefore
    const note = `RSS +${fmt(growth, 1)} MB` + (store === 'memory' ? `; store bounded at ${MEMORY_STORE_MAX} sessions` : '')
    rows.push({ name: `GET / cookieless flood, ${FLOOD_SECONDS} s — ${store} mode`, measure, ratio: measure.rps / baseline, note })
    await child.stop()
  }
} finally {
  for (const child of started) await child.stop()
  await redis?.stop()
}

console.log(`\n${CONNECTIONS} connections; ratio = req/s ÷ the bare page's req/s in the same run\n`)
console.log('| case | req/s | ratio | p50 ms | p99 ms | errors | RSS MB before → after | note |')
console.log('|---|---:|---:|---:|---:|---:|---|---|')
for (const { name, measure: m, ratio, note } of rows) {
  console.log(`| ${name} | ${fmt(m.rps)} | ${ratio === undefined ? '' : ratio.toFixed(2)} | ${fmt(m.p50, 1)} | ${fmt(m.p99, 1)} | ${m.errors} | ${fmt(m.rssBefore)} → ${fmt(m.rssAfter)} | ${note ?? ''} |`)
}
