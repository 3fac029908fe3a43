// The server-side stores: bounded memory, Redis (a real redis-server), and sharing between processes.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from 'redis'
import { buildApp } from '../../../src/app.js'
import { SessionStoreUnreachable } from '../../../src/framework/session-modes/index.js'
import { BoundedMemoryStore } from '../../../src/framework/session-modes/memory-store.js'
import { FreshIds } from '../../../src/framework/session-modes/fresh-ids.js'
import { redactUrl } from '../../../src/framework/session-modes/redis-store.js'
import { Browser, build, cartOf, countOf, flashesOf, logCapture, OTHER_SECRET, SECRET, TestClock, testSettings } from '../../helper.js'
import { hasRedisServer, REDIS_MISSING, startRedis, type RedisServer } from '../../redis-server.js'
import { eventually, limit } from '../../limits.js'

const noRedis = hasRedisServer() ? false : REDIS_MISSING

async function redisClient (t: Test, server: RedisServer) {
  const client = createClient({ url: server.url })
  await client.connect()
  t.teardown(() => client.destroy())
  return client
}

t.test('BoundedMemoryStore keeps at most `max` sessions and forgets them after the idle timeout', async (t) => {
  const clock = new TestClock()
  const fresh = new FreshIds()
  const store = new BoundedMemoryStore({ max: 100, ttlSeconds: 1, clock: clock.now, fresh })
  const noop = () => {}
  const ids = Array.from({ length: 1000 }, () => fresh.generate())
  ids.forEach((id, i) => store.set(id, { counter: i } as never, noop))
  t.equal(store.size, 100)
  store.get(ids[999]!, (_err, session) => t.match(session, { counter: 999 }))
  store.get(ids[0]!, (_err, session) => t.equal(session, null, 'the oldest were evicted'))
  clock.advance(1.1)
  store.get(ids[999]!, (_err, session) => t.equal(session, null, 'expired'))
})

t.test('memory: a cookieless flood stays within SESSION_STORE_MAX, evicting the least recently used', async (t) => {
  const app = await build(t, { SESSION_STORE: 'memory', SESSION_STORE_MAX: 50 })
  const early = new Browser(app)
  const regular = new Browser(app)
  await early.get('/')
  await regular.get('/')

  for (let i = 0; i < 200; i++) {
    const res = await app.inject('/')
    t.equal(res.statusCode, 200)
    if (i % 40 === 0) await regular.get('/')
  }
  t.equal(countOf(await regular.get('/')), 7, 'a session in use survives the flood')
  t.equal(countOf(await early.get('/')), 1, 'an idle one was evicted once the store was full')
})

t.test('store modes write nothing for requests that change nothing', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const client = await redisClient(t, redis)
  const app = await build(t, { SESSION_STORE: 'redis', REDIS_URL: redis.url })

  for (const request of [
    { method: 'HEAD' as const, url: '/' },
    { method: 'GET' as const, url: '/healthz' },
    { method: 'GET' as const, url: '/nowhere' },
    { method: 'POST' as const, url: '/cart', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'item=x' }
  ]) {
    const res = await app.inject(request)
    t.notOk(res.headers['set-cookie'], `${request.method} ${request.url}: no cookie`)
  }
  t.equal(await client.dbSize(), 0, 'no session stored')
  await app.inject('/')
  t.equal(await client.dbSize(), 1, 'a page view stores one')
})

t.test('redis: a session key expires by Redis\'s own TTL, in real time', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const client = await redisClient(t, redis)
  const browser = new Browser(await build(t, { SESSION_STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'ttl:', SESSION_TIMEOUT: 1 }))
  await browser.get('/')
  const [key] = await client.keys('ttl:*')
  t.ok(key, 'a key was written')
  const ttl = await client.pTTL(key!)
  t.ok(ttl > 0 && ttl <= 1000, `with a TTL of the idle timeout (${ttl} ms)`)
  // Redis drops it by itself: checked until it has (a lookup of an expired key never finds it).
  await eventually(30_000, 'Redis to drop the key when its TTL runs out', async () => (await client.exists(key!)) === 0)
  t.pass('Redis dropped it when the TTL ran out')
  t.equal(countOf(await browser.get('/')), 1, 'the old cookie leads to a fresh session')
})

t.test('redis: two app processes on one Redis share sessions', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const one = await build(t, { SESSION_STORE: 'redis', REDIS_URL: redis.url })
  const two = await build(t, { SESSION_STORE: 'redis', REDIS_URL: redis.url })
  const browser = new Browser(one)
  for (let n = 1; n <= 6; n++) {
    browser.app = n % 2 ? one : two
    t.equal(countOf(await browser.get(n % 3 ? '/' : '/howdy')), n)
  }
})

t.test('cookie: two app processes sharing a secret share sessions', async (t) => {
  const one = await build(t)
  const two = await build(t)
  const browser = new Browser(one)
  for (let n = 1; n <= 6; n++) {
    browser.app = n % 2 ? one : two
    t.equal(countOf(await browser.get('/')), n)
  }
})

t.test('redis: session keys live under the prefix with the idle timeout as TTL; reset deletes the old key', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const client = await redisClient(t, redis)
  const browser = new Browser(await build(t, { SESSION_STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'app-a:', SESSION_TIMEOUT: 300 }))
  await browser.get('/')
  const before = await client.keys('app-a:*')
  t.equal(before.length, 1)
  const ttl = await client.ttl(before[0]!)
  t.ok(ttl > 290 && ttl <= 300, `TTL ${ttl}s`)

  await browser.post('/session/reset')
  const after = await client.keys('app-a:*')
  t.equal(after.length, 1, 'one session: the new one')
  t.not(after[0], before[0], 'under a new id; the old key is gone')
  t.equal(await client.exists(before[0]!), 0)

  // Replaying the old cookie does not bring the old session back.
  const replay = new Browser(browser.app)
  replay.jar.cookies.set('session', encodeURIComponent(`${before[0]!.slice('app-a:'.length)}`))
  t.equal(countOf(await replay.get('/')), 1)
})

t.test('redis: while Redis is down pages answer 503 and /healthz says why; it recovers by itself', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const app = await build(t, { SESSION_STORE: 'redis', REDIS_URL: redis.url })
  const browser = new Browser(app)
  await browser.get('/')
  t.same((await browser.get('/healthz')).json(), { status: 'ok' })

  await redis.stop()
  await sleep(100)
  const page = await browser.get('/')
  t.equal(page.statusCode, 503)
  t.match(page.body, 'Sessions are unavailable for a moment')
  t.notMatch(page.body, /ECONNREFUSED|Error:|at /, 'no internals')
  const json = await browser.getJson('/howdy')
  t.equal(json.statusCode, 503)
  t.match(json.json(), { statusCode: 503, error: 'Service Unavailable' })
  const health = await browser.get('/healthz')
  t.equal(health.statusCode, 503)
  t.match(health.json(), { status: 'unavailable', reason: /Redis at redis:\/\/127\.0\.0\.1:\d+.* cannot be reached/ })

  await redis.start(limit(30_000))
  // The client retries at least every 2 s.
  await eventually(30_000, '/healthz to answer 200 once Redis is back', async () => (await browser.get('/healthz')).statusCode === 200)
  t.pass('/healthz is ok again')
  const back = await browser.get('/')
  t.equal(back.statusCode, 200)
  t.equal(countOf(back), 1, 'this Redis kept no data (no persistence in the test), so a fresh session')
  t.equal(countOf(await browser.get('/')), 2)
})

t.test('redis: startup with Redis down fails fast with a clear message', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  await redis.stop()
  const err = await buildApp(testSettings({ SESSION_STORE: 'redis', REDIS_URL: redis.url })).catch((e: unknown) => e)
  t.ok(err instanceof SessionStoreUnreachable)
  t.match((err as Error).message, /^cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/? \(.*\)\. Start Redis or correct REDIS_URL; to wait for it instead, set REDIS_CONNECT_WAIT/)
})

t.test('redis: with REDIS_CONNECT_WAIT the app waits for Redis to come up', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  await redis.stop()
  const building = buildApp(testSettings({ SESSION_STORE: 'redis', REDIS_URL: redis.url, REDIS_CONNECT_WAIT: 10 }))
  await sleep(500)
  await redis.start(limit(30_000))
  const app = await building
  t.teardown(() => app.close())
  t.equal(countOf(await app.inject('/')), 1)
})

t.test('redis: the password never appears in messages', async (t) => {
  t.equal(redactUrl('redis://user:hunter2@example:6379/0'), 'redis://user:***@example:6379/0')
})

t.test('redis: after a key rotation, a request that changes nothing re-issues the cookie under the new key', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const settings = { SESSION_STORE: 'redis' as const, REDIS_URL: redis.url }
  const browser = new Browser(await build(t, { ...settings, SESSION_SECRET: OTHER_SECRET }))
  await browser.get('/')
  await browser.get('/')

  browser.app = await build(t, { ...settings, SESSION_SECRET: `${SECRET},${OTHER_SECRET}` })
  const readOnly = await browser.get('/session')
  t.match(readOnly.json(), { counter: 2 }, 'the old-key cookie is read')
  t.ok(browser.jar.cookies.has('session'), 'and not cleared, although nothing changed')

  browser.app = await build(t, { ...settings, SESSION_SECRET: SECRET })
  t.equal(countOf(await browser.get('/')), 3, 'it was re-signed: the old key is no longer needed')
})

t.test('redis: when the password stops working, the log line says why (WRONGPASS), not just "lost"', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(redis.port), '--no-auth-warning', ...args])
  cli('CONFIG', 'SET', 'requirepass', 'first-password')
  const logs = logCapture()
  const app = await buildApp(testSettings({ SESSION_STORE: 'redis', REDIS_URL: `redis://default:first-password@127.0.0.1:${redis.port}`, LOG_LEVEL: 'error' }),
    { fastify: { logger: { level: 'error', stream: logs.stream } } })
  t.teardown(() => app.close())
  t.equal(countOf(await app.inject('/')), 1)

  // The password changes and every connection is dropped: the app's reconnect is refused.
  cli('--pass', 'first-password', 'CONFIG', 'SET', 'requirepass', 'second-password')
  cli('--pass', 'second-password', 'CLIENT', 'KILL', 'TYPE', 'normal')
  let lost: Record<string, unknown> | undefined
  await eventually(30_000, 'a log line naming WRONGPASS', () => {
    lost = logs.lines().find((line) => /^redis: .*WRONGPASS/.test(String(line.msg)))
    return lost !== undefined
  })
  t.match(lost?.msg, /^redis: (unavailable|still unavailable) \(WRONGPASS[^)]*\); session requests answer 503 until it is back$/)
  t.notMatch(logs.text(), 'first-password', 'the password is never logged')
})

t.test('redis: a frozen Redis (SIGSTOP) answers 503 within REDIS_COMMAND_TIMEOUT, /healthz says timeout, and it recovers', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  t.teardown(() => redis.signal('SIGCONT'))
  const logs = logCapture()
  const app = await buildApp(testSettings({ SESSION_STORE: 'redis', REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT: 300, LOG_LEVEL: 'info' }),
    { fastify: { logger: { level: 'info', stream: logs.stream } } })
  t.teardown(() => app.close())
  const browser = new Browser(app)
  t.equal(countOf(await browser.get('/')), 1)
  t.equal(countOf(await browser.get('/')), 2)

  redis.signal('SIGSTOP')
  for (const url of ['/howdy', '/']) t.equal((await browser.get(url)).statusCode, 503)
  let started = Date.now()
  const page = await browser.get('/')
  const pageMs = Date.now() - started
  t.equal(page.statusCode, 503)
  t.match(page.body, 'Sessions are unavailable for a moment (the session store cannot be reached).')
  // Not before the deadline; and after it, bounded (a frozen Redis would otherwise hold the page
  // for ever). The bound is generous so that a busy machine cannot fail it: the reason above
  // already says the deadline, not something else, gave the 503.
  t.ok(pageMs >= 250 && pageMs < limit(5000), `the page answered after ${pageMs} ms (deadline 300 ms)`)
  started = Date.now()
  const health = await browser.get('/healthz')
  t.equal(health.statusCode, 503)
  t.match(health.json(), { status: 'unavailable', reason: /^timeout: Redis at .* did not answer within 300 ms$/ })
  t.ok(Date.now() - started < limit(5000), '/healthz answered within the deadline too')
  const css = await browser.get('/static/app.css')
  t.equal(css.statusCode, 200, 'a page without a session never waits on Redis')

  redis.signal('SIGCONT')
  await eventually(30_000, '/healthz to answer 200 after SIGCONT', async () => (await browser.get('/healthz')).statusCode === 200)
  t.pass('/healthz is ok again after SIGCONT, without a restart')
  t.equal(countOf(await browser.get('/')), 3, 'the count goes on from before the freeze')

  // The operator's view: one line when it went, one when it came back, none per request.
  const redisLines = logs.lines().map((line) => String(line.msg)).filter((msg) => msg.startsWith('redis:') && !msg.startsWith('redis: connected'))
  t.match(redisLines, [
    /^redis: unavailable \(Redis did not answer within 300 ms\); session requests answer 503 until it is back$/,
    /^redis: available again after \d+(\.\d)? s; 3 request\(s\) were answered 503$/
  ])
  t.equal(redisLines.length, 2)
  t.notOk(logs.lines().some((line) => (line.level as number) >= 50 && String(line.msg) === 'session store unavailable'), 'no error line per request')
})

t.test('redis: a write held up past its deadline is refused when Redis resumes: a 503 means nothing was saved', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const admin = await redisClient(t, redis)
  const app = await build(t, { SESSION_STORE: 'redis', REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT: 300 })
  const browser = new Browser(app)
  t.equal(countOf(await browser.get('/')), 1)
  t.equal(countOf(await browser.get('/')), 2)
  await browser.post('/cart', { item: 'tea' })

  // CLIENT PAUSE … WRITE holds every write (scripts included) while reads go on: a request reads
  // its session, and its first write waits in Redis past the request's deadline, as behind a freeze.
  // Released (CLIENT UNPAUSE) once the request has answered: the held write then reaches Redis
  // after its deadline, and the next request's read, on the same connection, comes after it.
  const holdWrites = async () => admin.sendCommand(['CLIENT', 'PAUSE', String(limit(30_000)), 'WRITE'])
  const releaseWrites = async () => admin.sendCommand(['CLIENT', 'UNPAUSE'])
  await holdWrites()
  t.equal((await browser.post('/session/reset')).statusCode, 503, 'a reset whose writes were held up answers 503')
  await releaseWrites()
  let page = await browser.get('/')
  t.same(cartOf(page), ['tea'], 'the reset answered 503 did not throw the session away when Redis resumed')
  t.equal(countOf(page), 3)

  await holdWrites()
  t.equal((await browser.get('/')).statusCode, 503, 'a page whose save was held up answers 503')
  await releaseWrites()
  page = await browser.get('/')
  t.equal(countOf(page), 4, 'the count goes on from 3: the save answered 503 did not land when Redis resumed')
})

t.test('redis: a full Redis (noeviction) answers 503 "the session store is full", and /healthz says out of memory', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' }).stdout
  const app = await build(t, { SESSION_STORE: 'redis', REDIS_URL: redis.url })
  const browser = new Browser(app)
  t.equal(countOf(await browser.get('/')), 1)

  const used = Number(/used_memory:(\d+)/.exec(cli('INFO', 'memory'))?.[1])
  cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')
  cli('CONFIG', 'SET', 'maxmemory', String(used))
  const page = await browser.get('/')
  t.equal(page.statusCode, 503)
  t.match(page.body, 'Sessions are unavailable for a moment (the session store is full).')
  const health = await browser.get('/healthz')
  t.equal(health.statusCode, 503)
  t.match(health.json(), { reason: /^out of memory: the session store is full/ })

  cli('CONFIG', 'SET', 'maxmemory', '0')
  t.equal((await browser.get('/healthz')).statusCode, 200)
  t.equal(countOf(await browser.get('/')), 2, 'nothing was lost: the session goes on')
})

t.test('memory: a flood of one-time visitors ten times SESSION_STORE_MAX leaves every returning session intact', async (t) => {
  const app = await build(t, { SESSION_STORE: 'memory', SESSION_STORE_MAX: 50 })
  // 30 returning users (two or more requests each), each with something in the cart.
  const returning = Array.from({ length: 30 }, () => new Browser(app))
  for (const [i, browser] of returning.entries()) {
    await browser.get('/')
    await browser.post('/cart', { item: `item ${i}` })
    await browser.get('/')
  }
  // 500 visitors who come once and never again.
  let answered = 0
  for (let i = 0; i < 500; i++) if ((await app.inject('/')).statusCode === 200) answered++
  t.equal(answered, 500, 'every one-time visitor got the page')
  let intact = 0
  for (const [i, browser] of returning.entries()) {
    const page = await browser.get('/')
    if (countOf(page) === 3 && cartOf(page)[0] === `item ${i}`) intact++
  }
  t.equal(intact, returning.length, `${intact} of ${returning.length} returning sessions intact`)
})

t.test('redis: with maxmemory and allkeys-lfu (the README\'s configuration), one-time visitors do not push out returning users', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const app = await build(t, { SESSION_STORE: 'redis', REDIS_URL: redis.url })
  // Every client of this Redis is connected before the limit is set: a connection costs Redis
  // ~20 kB of buffers, and one opened later would have to be paid for by evicting sessions.
  const admin = await redisClient(t, redis)
  const stat = async (section: string, field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(await admin.info(section))?.[1])
  const room = 200 * 1024 // a few hundred sessions above what Redis itself uses
  await admin.configSet({
    maxmemory: String(await stat('memory', 'used_memory') + room),
    'maxmemory-policy': 'allkeys-lfu',
    'lfu-log-factor': '0'
  })

  const returning = Array.from({ length: 30 }, () => new Browser(app))
  for (const [i, browser] of returning.entries()) {
    await browser.get('/')
    await browser.post('/cart', { item: `item ${i}` })
    await browser.get('/')
    await browser.get('/howdy')
  }
  const capacity = await admin.dbSize() + Math.floor(room / 600)
  // Over five times what fits: most of them must be evicted, and none of the returning users.
  const visitors = 2000
  let answered = 0
  for (let i = 0; i < visitors; i++) if ((await app.inject('/')).statusCode === 200) answered++
  t.equal(answered, visitors, 'every one-time visitor got the page')
  const evicted = await stat('stats', 'evicted_keys')
  t.ok(evicted > 4 * capacity, `Redis was full and evicted ${evicted} keys (room for about ${capacity})`)
  let intact = 0
  for (const [i, browser] of returning.entries()) {
    const page = await browser.get('/')
    if (countOf(page) === 4 && cartOf(page)[0] === `item ${i}`) intact++
  }
  t.equal(intact, returning.length, `${intact} of ${returning.length} returning sessions intact`)
})

for (const mode of ['memory', 'redis'] as const) {
  t.test(`${mode}: a session has a budget in the store (4096 bytes): a change past it is not saved, nothing is lost, the user is told`, { skip: mode === 'redis' ? noRedis : false }, async (t) => {
    const redis = mode === 'redis' ? await startRedis(t) : undefined
    const client = redis && await redisClient(t, redis)
    const logs = logCapture()
    const app = await buildApp(testSettings({ SESSION_STORE: mode, ...(redis ? { REDIS_URL: redis.url } : {}), LOG_LEVEL: 'warn' }),
      { fastify: { logger: { level: 'warn', stream: logs.stream } } })
    t.teardown(() => app.close())
    const browser = new Browser(app)
    await browser.get('/')

    // 75 four-byte characters: about 300 bytes of JSON each, within the item's own limits.
    const item = (n: number) => `${n} ${'🍎'.repeat(75)}`
    let accepted = 0
    let refusal
    // Every key's size as Redis holds it (redis mode), read after each request that may write.
    const keysWithinBudget = async (after: string) => {
      for (const key of await client?.keys(`${testSettings().REDIS_PREFIX}*`) ?? []) {
        const bytes = await client!.strLen(key)
        t.ok(bytes <= 4096, `after ${after}: STRLEN ${bytes} bytes`)
      }
    }
    for (let n = 1; n <= 20 && refusal === undefined; n++) {
      t.equal((await browser.post('/cart', { item: item(n) })).statusCode, 303)
      await keysWithinBudget(`adding item ${n}`)
      const page = await browser.get('/')
      await keysWithinBudget(`the page after item ${n}`)
      const flashes = flashesOf(page)
      if (flashes.some((f) => f.startsWith('error:'))) refusal = { page, flashes }
      else accepted = n
    }
    t.ok(refusal, 'the budget refused a change before the cart was full')
    t.ok(accepted >= 4, `the cart kept ${accepted} items first`)
    t.same(refusal?.flashes, ['error: That change was not saved: it would have made your session larger than this site keeps for one (4096 bytes).'])
    t.same(cartOf(refusal!.page), Array.from({ length: accepted }, (_, i) => item(i + 1)), 'the previous cart is intact')
    t.equal(countOf(refusal!.page), accepted + 2, 'and so is the counter')
    const warning = logs.lines().find((line) => line.msg === 'session too large for the store; change not saved')
    t.ok((warning?.sessionBytes as number) > 4096, `the size is logged (${String(warning?.sessionBytes)} bytes)`)

    const after = await browser.get('/')
    t.same(flashesOf(after), [], 'the message is shown once')
    t.equal(cartOf(after).length, accepted, 'and the session goes on')

    // Short items near the edge: each either fits or is refused, and the session is never lost
    // (a rotated id whose change is then refused must still be the one the cookie names).
    let count = countOf(after)
    let cart = cartOf(after)
    for (let i = 0; i < 6; i++) {
      t.equal((await browser.post('/cart', { item: `s${i}` })).statusCode, 303)
      const page = await browser.get('/')
      t.equal(countOf(page), ++count, `short item ${i}: the count goes on (${count})`)
      t.ok(cartOf(page).length >= cart.length, `short item ${i}: the cart kept its ${cart.length} items`)
      cart = cartOf(page)
      await keysWithinBudget(`short item ${i}`)
    }

    // Stale forms that never follow their 303 each queue a message: near the budget, those are
    // counted too, and the session never grows past it.
    const sameOrigin = { 'sec-fetch-site': 'same-origin' }
    for (let i = 0; i < 12; i++) {
      t.equal((await browser.post('/cart/clear', { _csrf: 'stale' }, sameOrigin)).statusCode, 303)
      await keysWithinBudget(`stale form ${i + 1}`)
    }
    const afterStale = await browser.get('/')
    t.same(cartOf(afterStale), cart, 'the stale forms changed nothing')
    t.ok(flashesOf(afterStale).length <= 10, `${flashesOf(afterStale).length} messages waited`)

    t.equal((await browser.post('/cart/clear')).statusCode, 303, 'a change that fits is saved again')
    t.same(cartOf(await browser.get('/')), [])
  })
}

t.test('memory: SESSION_MAX_BYTES sets the budget', async (t) => {
  const browser = new Browser(await build(t, { SESSION_STORE: 'memory', SESSION_MAX_BYTES: 1024 }))
  await browser.get('/')
  const item = (n: number) => `${n} ${'🍎'.repeat(75)}`
  t.equal((await browser.post('/cart', { item: item(1) })).statusCode, 303)
  t.same(cartOf(await browser.get('/')), [item(1)], 'one item fits in 1024 bytes')
  await browser.post('/cart', { item: item(2) })
  const page = await browser.get('/')
  t.same(cartOf(page), [item(1)], 'a second does not')
  t.same(flashesOf(page), ['error: That change was not saved: it would have made your session larger than this site keeps for one (1024 bytes).'])
})

t.test('redis: what something else wrote under the prefix never makes a page fail', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const client = await redisClient(t, redis)
  const browser = new Browser(await build(t, { SESSION_STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'odd:' }))
  /** Replaces the browser's stored session with what `rewrite` makes of it. */
  const overwrite = async (rewrite: (stored: Record<string, unknown>) => string) => {
    const [key] = await client.keys('odd:*')
    const stored = JSON.parse((await client.get(key!))!) as Record<string, unknown>
    await client.set(key!, rewrite(stored), { expiration: { type: 'EX', value: 60 } })
  }
  t.equal(countOf(await browser.get('/')), 1)

  await overwrite((stored) => JSON.stringify({ ...stored, touchedAt: 'yesterday', createdAt: null }))
  const odd = await browser.get('/')
  t.equal(odd.statusCode, 200, 'timestamps that are not numbers: the page, not a 500')
  t.equal(countOf(odd), 2, 'and the count goes on')

  await overwrite(() => 'this is not JSON')
  const junk = await browser.get('/')
  t.equal(junk.statusCode, 200, 'a value that is not JSON: the page')
  t.equal(countOf(junk), 1, 'in a fresh session')
})
