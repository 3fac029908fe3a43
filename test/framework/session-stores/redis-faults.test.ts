// Redis that half-works (issue 21): it answers PING and reads but refuses every write (an ACL user
// without scripts, a read-only replica, full), or the app's wall clock steps. Real redis-servers,
// and a toy app (test/framework/toy-app.ts): nothing of the tutorial is imported.
import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { SessionStoreUnreachable } from '../../../src/framework/session-stores/index.js'
import { FreshIds } from '../../../src/framework/session-stores/fresh-ids.js'
import { connectRedisStore } from '../../../src/framework/session-stores/redis-store.js'
import { RedisClock } from '../../../src/framework/session-stores/redis-session-store.js'
import { serverSessionStore } from '../../../src/framework/session-stores/server-store.js'
import { freePort } from '../../../scripts/lib.js'
import { buildToyApp, logCapture, REDIS_NAMES, SECRET, toyApp, ToyBrowser, visitsOf } from '../toy-app.js'
import { hasRedisServer, REDIS_MISSING, startRedis, type RedisServer } from '../../redis-server.js'
import { eventually } from '../../limits.js'

const noRedis = hasRedisServer() ? false : REDIS_MISSING
/** Generous: two cores shared with other test files and their redis-servers. */
const PATIENCE_MS = 20_000
const PASSWORD = 'scriptless-password'
const NO_SCRIPTS = ['-eval', '-evalsha', '-script', '-fcall']

function cli (redis: { port: number }, ...args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' }).stdout.trim()
}

/** An ACL user `app` that may do everything, less what `without` takes away; REDIS_URL for it. */
function appUser (redis: RedisServer, ...without: string[]): string {
  cli(redis, 'ACL', 'SETUSER', 'app', 'on', `>${PASSWORD}`, '~*', '&*', '+@all', ...without)
  return `redis://app:${PASSWORD}@127.0.0.1:${redis.port}`
}

/** A read-only replica of `primary`, stopped after the test. */
async function startReplica (t: Test, primary: RedisServer): Promise<{ port: number, url: string }> {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--replicaof', '127.0.0.1', String(primary.port)], { stdio: 'ignore' })
  t.teardown(async () => {
    if (child.exitCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  })
  await eventually(PATIENCE_MS, `the replica on port ${port} to answer PING`, () => cli({ port }, 'ping') === 'PONG')
  return { port, url: `redis://127.0.0.1:${port}` }
}

async function refusedAtStartup (url: string): Promise<Error> {
  // The names the tutorial gives the options, so the messages' advice is checked as an app words it.
  const err = await buildToyApp({ store: 'redis', redis: { url, names: REDIS_NAMES } }).then(async (app) => {
    await app.close()
    return new Error('the app started')
  }, (e: unknown) => e as Error)
  return err
}

t.test('redis: an ACL user that may not run scripts is refused at startup, saying so', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const err = await refusedAtStartup(appUser(redis, ...NO_SCRIPTS))
  t.ok(err instanceof SessionStoreUnreachable, `printed as one line by server.ts (${err.name})`)
  t.match(err.message, /^Redis at redis:\/\/app:\*\*\*@127\.0\.0\.1:\d+\/? refuses the session writes \(NOPERM [^)]*\): the Redis user may not run scripts or a command the app needs; grant it \+eval \+evalsha .*, or use another user in REDIS_URL\.$/)
  t.notMatch(err.message, PASSWORD, 'the password is not in the message')
})

t.test('redis: REDIS_URL pointing at a read-only replica is refused at startup, saying so', { skip: noRedis }, async (t) => {
  const primary = await startRedis(t)
  const replica = await startReplica(t, primary)
  const err = await refusedAtStartup(replica.url)
  t.ok(err instanceof SessionStoreUnreachable, `printed as one line by server.ts (${err.name})`)
  t.match(err.message, /^REDIS_URL points at a read-only replica \(Redis at redis:\/\/127\.0\.0\.1:\d+\/? refuses writes: READONLY [^)]*\): point it at the primary\.$/)
})

t.test('redis: permission taken away at run time: pages and /healthz say so, and both recover when it is given back', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const browser = new ToyBrowser(await toyApp(t, { store: 'redis', redis: { url: appUser(redis) } }))
  t.equal(visitsOf(await browser.get('/')), 1)
  t.same((await browser.get('/healthz')).json(), { status: 'ok' })

  appUser(redis, ...NO_SCRIPTS)
  const page = await browser.get('/')
  t.equal(page.statusCode, 503)
  t.match(page.json().message, 'Sessions are unavailable for a moment (the app may not write to the session store: permission denied).')
  const health = await browser.get('/healthz')
  t.equal(health.statusCode, 503, 'PING still answers, and /healthz says unavailable all the same')
  t.match(health.json(), { status: 'unavailable', reason: /^permission: the app may not write to the session store \(Redis at .*NOPERM/ })
  t.equal((await browser.get('/healthz')).statusCode, 503, 'and goes on saying it while writes are refused')

  appUser(redis)
  await eventually(PATIENCE_MS, '/healthz to answer 200 once the permission is back', async () => (await browser.get('/healthz')).statusCode === 200)
  const back = await browser.get('/')
  t.equal(back.statusCode, 200)
  t.equal(visitsOf(back), 2, 'the session goes on: the refused write left it as it was')
})

const refusals: Array<{ name: string, refuse: (redis: RedisServer) => void, restore: (redis: RedisServer) => void, url: (redis: RedisServer) => string }> = [
  {
    name: 'an ACL user loses its scripts (NOPERM)',
    url: (redis) => appUser(redis),
    refuse: (redis) => { appUser(redis, ...NO_SCRIPTS) },
    restore: (redis) => { appUser(redis) }
  },
  {
    name: 'Redis is full with noeviction (OOM)',
    url: (redis) => redis.url,
    refuse: (redis) => {
      const used = Number(/used_memory:(\d+)/.exec(cli(redis, 'INFO', 'memory'))?.[1])
      cli(redis, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction')
      // Well below what Redis uses, so that no write squeezes in while the test runs.
      cli(redis, 'CONFIG', 'SET', 'maxmemory', String(Math.floor(used / 2)))
    },
    restore: (redis) => { cli(redis, 'CONFIG', 'SET', 'maxmemory', '0') }
  }
]

for (const { name, url, refuse, restore } of refusals) {
  t.test(`redis: reads work, writes refused (${name}): one log line when writes stop, one when they work again, over 100 requests`, { skip: noRedis }, async (t) => {
    const redis = await startRedis(t)
    const logs = logCapture()
    const app = await toyApp(t, { store: 'redis', redis: { url: url(redis) }, logger: { level: 'info', stream: logs.stream } })
    const browser = new ToyBrowser(app)
    t.equal(visitsOf(await browser.get('/')), 1)

    refuse(redis)
    const statuses = new Map<number, number>()
    for (let i = 0; i < 100; i++) {
      const { statusCode } = await browser.get('/')
      statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1)
    }
    t.same(Object.fromEntries(statuses), { 503: 100 }, 'every page answered 503')
    const outageLines = () => logs.lines().map((line) => String(line.msg)).filter((msg) => msg.startsWith('redis:') && !msg.startsWith('redis: connected'))
    t.equal(outageLines().length, 1, `one line while writes fail: ${JSON.stringify(outageLines())}`)
    t.match(outageLines()[0], /^redis: unavailable \((NOPERM|OOM) [^)]*\); session requests answer 503 until it is back$/)

    restore(redis)
    t.equal(visitsOf(await browser.get('/')), 2, 'the next page after the repair is saved, and the count goes on')
    t.equal(visitsOf(await browser.get('/')), 3)
    t.equal(outageLines().length, 2, `and one line when writes work again: ${JSON.stringify(outageLines())}`)
    t.match(outageLines()[1], /^redis: available again after \d+(\.\d)? s; 100 request\(s\) were answered 503$/)
  })
}

t.test('redis: a wall-clock step back of 2 s costs at most the writes until the clock offset is measured again', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  let step = 0
  const wallClock = () => Date.now() + step
  const logs = logCapture()
  // The framework's parts, as openSessionStore puts them together, with a wall clock this test
  // can step; the toy app's page that only counts.
  const app = await toyApp(t, {
    logger: { level: 'debug', stream: logs.stream },
    openStore: async (log) => {
      const fresh = new FreshIds()
      const parts = await connectRedisStore({ url: redis.url, prefix: 'clock-step:', connectWait: 0, ttlSeconds: 300, commandTimeout: 1000, wallClock }, fresh, log)
      return serverSessionStore({ store: 'redis', secrets: [SECRET], idleTimeout: 300 }, 'session', { path: '/', httpOnly: true, secure: 'auto' }, fresh, parts)
    }
  })
  const browser = new ToyBrowser(app)
  t.equal(visitsOf(await browser.get('/hello')), 1)
  t.equal(visitsOf(await browser.get('/hello')), 2)

  const remeasured = () => logs.lines().filter((line) => line.msg === 'redis: clock offset measured' && Math.abs(Number(line.changedMs) - 2000) < 500)
  t.equal(remeasured().length, 0)
  step = -2000
  const late = await browser.get('/hello')
  t.equal(late.statusCode, 503, 'the first write after the step reaches Redis after its (stepped) deadline and is refused')
  t.match(late.json(), { message: /Sessions are unavailable for a moment/ })
  await eventually(PATIENCE_MS, 'the clock offset to be measured again after a write refused as late', () => remeasured().length > 0)
  t.equal(remeasured().length, 1, 'measured once')
  for (const expected of [3, 4, 5]) {
    const page = await browser.get('/hello')
    t.equal(page.statusCode, 200)
    t.equal(visitsOf(page), expected, 'the count goes on from before the step: the refused write did not land')
  }
})

t.test('RedisClock: one measurement at a time, and a new one follows a step of the wall clock', async (t) => {
  let wall = 1_000_000
  const redisNow = 1_005_250 // Redis's clock, 5.25 s ahead; it stands still, as does the wall clock
  let readings = 0
  const clock = new RedisClock(async () => {
    readings++
    await Promise.resolve()
    return [String(Math.floor(redisNow / 1000)), String((redisNow % 1000) * 1000)]
  }, () => wall)
  await Promise.all([clock.measure(), clock.measure()])
  t.equal(readings, 3, 'a second call while one runs shares it (three readings, not six)')
  t.equal(clock.now(), redisNow)
  wall -= 2000
  t.equal(clock.now(), redisNow - 2000, 'after a step back, deadlines would be 2 s early')
  await clock.measure()
  t.equal(readings, 6)
  t.equal(clock.now(), redisNow, 'measured again, they are right')
})
