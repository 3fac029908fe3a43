// The server-side stores: bounded memory, Redis (a real redis-server), and sharing between
// processes. On a toy app (test/framework/toy-app.ts): nothing of the tutorial is imported.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { createClient } from 'redis'
import { SessionStoreUnreachable } from '../../../src/framework/session-stores/index.js'
import { BoundedMemoryStore } from '../../../src/framework/session-stores/memory-store.js'
import { FreshIds } from '../../../src/framework/session-stores/fresh-ids.js'
import { redactUrl } from '../../../src/framework/session-stores/redis-store.js'
import { TestClock } from '../test-clock.js'
import {
  buildToyApp, flashesOf, itemsOf, logCapture, OTHER_SECRET, REDIS_NAMES, SECRET, STALE_FORM, TOY_PREFIX, toyApp, ToyBrowser, visitsOf
} from '../toy-app.js'
import { addUntilRefused } from '../until-refused.js'
import { hasRedisServer, REDIS_MISSING, startRedis, type RedisServer } from '../../redis-server.js'
import { eventually, limit, within } from '../../limits.js'

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
  ids.forEach((id, i) => store.set(id, { visits: i } as never, noop))
  t.equal(store.size, 100)
  store.get(ids[999]!, (_err, session) => t.match(session, { visits: 999 }))
  store.get(ids[0]!, (_err, session) => t.equal(session, null, 'the oldest were evicted'))
  clock.advance(1.1)
  store.get(ids[999]!, (_err, session) => t.equal(session, null, 'expired'))
})

t.test('memory: a cookieless flood stays within memory.max, evicting the least recently used', async (t) => {
  const app = await toyApp(t, { store: 'memory', memory: { max: 50 } })
  const early = new ToyBrowser(app)
  const regular = new ToyBrowser(app)
  await early.get('/')
  await regular.get('/')

  for (let i = 0; i < 200; i++) {
    const res = await app.inject('/')
    t.equal(res.statusCode, 200)
    if (i % 40 === 0) await regular.get('/')
  }
  t.equal(visitsOf(await regular.get('/')), 7, 'a session in use survives the flood')
  t.equal(visitsOf(await early.get('/')), 1, 'an idle one was evicted once the store was full')
})

t.test('store modes write nothing for requests that change nothing', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const client = await redisClient(t, redis)
  const app = await toyApp(t, { store: 'redis', redis: { url: redis.url } })

  for (const request of [
    { method: 'HEAD' as const, url: '/' },
    { method: 'GET' as const, url: '/healthz' },
    { method: 'GET' as const, url: '/nowhere' },
    { method: 'POST' as const, url: '/items', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'item=x' }
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
  const browser = new ToyBrowser(await toyApp(t, { store: 'redis', redis: { url: redis.url, prefix: 'ttl:' }, idleTimeout: 1 }))
  await browser.get('/')
  const [key] = await client.keys('ttl:*')
  t.ok(key, 'a key was written')
  const ttl = await client.pTTL(key!)
  t.ok(ttl > 0 && ttl <= 1000, `with a TTL of the idle timeout (${ttl} ms)`)
  // Redis drops it by itself: checked until it has (a lookup of an expired key never finds it).
  await eventually(30_000, 'Redis to drop the key when its TTL runs out', async () => (await client.exists(key!)) === 0)
  t.pass('Redis dropped it when the TTL ran out')
  t.equal(visitsOf(await browser.get('/')), 1, 'the old cookie leads to a fresh session')
})

t.test('redis: two app processes on one Redis share sessions', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const one = await toyApp(t, { store: 'redis', redis: { url: redis.url } })
  const two = await toyApp(t, { store: 'redis', redis: { url: redis.url } })
  const browser = new ToyBrowser(one)
  for (let n = 1; n <= 6; n++) {
    browser.app = n % 2 ? one : two
    t.equal(visitsOf(await browser.get(n % 3 ? '/' : '/hello')), n)
  }
})

t.test('cookie: two app processes sharing a secret share sessions', async (t) => {
  const one = await toyApp(t)
  const two = await toyApp(t)
  const browser = new ToyBrowser(one)
  for (let n = 1; n <= 6; n++) {
    browser.app = n % 2 ? one : two
    t.equal(visitsOf(await browser.get('/')), n)
  }
})

t.test('redis: session keys live under the prefix with the idle timeout as TTL; reset deletes the old key', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const client = await redisClient(t, redis)
  const browser = new ToyBrowser(await toyApp(t, { store: 'redis', redis: { url: redis.url, prefix: 'app-a:' }, idleTimeout: 300 }))
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
  const replay = new ToyBrowser(browser.app)
  replay.jar.cookies.set('session', encodeURIComponent(`${before[0]!.slice('app-a:'.length)}`))
  t.equal(visitsOf(await replay.get('/')), 1)
})

t.test('redis: while Redis is down pages answer 503 and /healthz says why; it recovers by itself', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const app = await toyApp(t, { store: 'redis', redis: { url: redis.url } })
  const browser = new ToyBrowser(app)
  await browser.get('/')
  t.same((await browser.get('/healthz')).json(), { status: 'ok' })

  await redis.stop()
  await eventually(30_000, 'the app to see that Redis is gone', async () => (await browser.get('/healthz')).statusCode === 503)
  const page = await browser.get('/')
  t.equal(page.statusCode, 503)
  t.match(page.json().message, 'Sessions are unavailable for a moment')
  t.notMatch(page.body, /ECONNREFUSED|Error:|at /, 'no internals')
  const other = await browser.get('/hello')
  t.equal(other.statusCode, 503)
  t.match(other.json(), { statusCode: 503, error: 'Service Unavailable' })
  const health = await browser.get('/healthz')
  t.equal(health.statusCode, 503)
  t.match(health.json(), { status: 'unavailable', reason: /Redis at redis:\/\/127\.0\.0\.1:\d+.* cannot be reached/ })

  await redis.start(limit(30_000))
  // The client retries at least every 2 s.
  await eventually(30_000, '/healthz to answer 200 once Redis is back', async () => (await browser.get('/healthz')).statusCode === 200)
  t.pass('/healthz is ok again')
  const back = await browser.get('/')
  t.equal(back.statusCode, 200)
  t.equal(visitsOf(back), 1, 'this Redis kept no data (no persistence in the test), so a fresh session')
  t.equal(visitsOf(await browser.get('/')), 2)
})

t.test('redis: startup with Redis down fails fast with a clear message', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  await redis.stop()
  const err = await buildToyApp({ store: 'redis', redis: { url: redis.url, names: REDIS_NAMES } }).catch((e: unknown) => e)
  t.ok(err instanceof SessionStoreUnreachable)
  t.match((err as Error).message, /^cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/? \(.*\)\. Start Redis or correct REDIS_URL; to wait for it instead, set REDIS_CONNECT_WAIT/)
})

t.test('redis: with connectWait the app waits for Redis to come up', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  await redis.stop()
  // Until Redis starts, something on its port hangs up on every connection: the app's first
  // attempt is seen (the app is waiting, not yet connected) before Redis is started.
  let attempted = () => {}
  const attempt = new Promise<void>((resolve) => { attempted = resolve })
  const hangUp = createServer((socket) => {
    socket.destroy()
    attempted()
  })
  hangUp.listen(redis.port, '127.0.0.1')
  await once(hangUp, 'listening')
  const building = buildToyApp({ store: 'redis', redis: { url: redis.url, connectWait: 10 } })
  building.catch(() => {})
  await within(30_000, 'the app to try to connect', attempt)
  hangUp.close()
  await once(hangUp, 'close')
  await redis.start(limit(30_000))
  const app = await building
  t.teardown(() => app.close())
  t.equal(visitsOf(await app.inject('/')), 1)
})

t.test('redis: the password never appears in messages', async (t) => {
  t.equal(redactUrl('redis://user:hunter2@example:6379/0'), 'redis://user:***@example:6379/0')
})

t.test('redis: after a key rotation, a request that changes nothing re-issues the cookie under the new key', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const options = { store: 'redis' as const, redis: { url: redis.url } }
  const browser = new ToyBrowser(await toyApp(t, { ...options, secrets: [OTHER_SECRET] }))
  await browser.get('/')
  await browser.get('/')

  browser.app = await toyApp(t, { ...options, secrets: [SECRET, OTHER_SECRET] })
  const readOnly = await browser.get('/session')
  t.match(readOnly.json(), { visits: 2 }, 'the old-key cookie is read')
  t.ok(browser.jar.cookies.has('session'), 'and not cleared, although nothing changed')

  browser.app = await toyApp(t, { ...options, secrets: [SECRET] })
  t.equal(visitsOf(await browser.get('/')), 3, 'it was re-signed: the old key is no longer needed')
})

t.test('redis: when the password stops working, the log line says why (WRONGPASS), not just "lost"', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(redis.port), '--no-auth-warning', ...args])
  cli('CONFIG', 'SET', 'requirepass', 'first-password')
  const logs = logCapture()
  const app = await toyApp(t, { store: 'redis', redis: { url: `redis://default:first-password@127.0.0.1:${redis.port}` }, logger: { level: 'error', stream: logs.stream } })
  t.equal(visitsOf(await app.inject('/')), 1)

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

t.test('redis: a frozen Redis (SIGSTOP) answers 503 within the command timeout, /healthz says timeout, and it recovers', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  t.teardown(() => redis.signal('SIGCONT'))
  const logs = logCapture()
  const app = await toyApp(t, { store: 'redis', redis: { url: redis.url, commandTimeout: 300 }, logger: { level: 'info', stream: logs.stream } })
  const browser = new ToyBrowser(app)
  t.equal(visitsOf(await browser.get('/')), 1)
  t.equal(visitsOf(await browser.get('/')), 2)

  redis.signal('SIGSTOP')
  for (const url of ['/hello', '/']) t.equal((await browser.get(url)).statusCode, 503)
  let started = Date.now()
  const page = await browser.get('/')
  const pageMs = Date.now() - started
  t.equal(page.statusCode, 503)
  t.match(page.json().message, 'Sessions are unavailable for a moment (the session store cannot be reached).')
  // Not before the deadline; and after it, bounded (a frozen Redis would otherwise hold the page
  // for ever). The bound is generous so that a busy machine cannot fail it: the reason above
  // already says the deadline, not something else, gave the 503.
  t.ok(pageMs >= 250 && pageMs < limit(5000), `the page answered after ${pageMs} ms (deadline 300 ms)`)
  started = Date.now()
  const health = await browser.get('/healthz')
  t.equal(health.statusCode, 503)
  t.match(health.json(), { status: 'unavailable', reason: /^timeout: Redis at .* did not answer within 300 ms$/ })
  t.ok(Date.now() - started < limit(5000), '/healthz answered within the deadline too')
  const plain = await browser.get('/plain')
  t.equal(plain.statusCode, 200, 'a route without a session never waits on Redis')

  redis.signal('SIGCONT')
  await eventually(30_000, '/healthz to answer 200 after SIGCONT', async () => (await browser.get('/healthz')).statusCode === 200)
  t.pass('/healthz is ok again after SIGCONT, without a restart')
  t.equal(visitsOf(await browser.get('/')), 3, 'the count goes on from before the freeze')

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
  const app = await toyApp(t, { store: 'redis', redis: { url: redis.url, commandTimeout: 300 } })
  const browser = new ToyBrowser(app)
  t.equal(visitsOf(await browser.get('/')), 1)
  t.equal(visitsOf(await browser.get('/')), 2)
  await browser.post('/items', { item: 'tea' })

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
  t.same(itemsOf(page), ['tea'], 'the reset answered 503 did not throw the session away when Redis resumed')
  t.equal(visitsOf(page), 3)

  await holdWrites()
  t.equal((await browser.get('/')).statusCode, 503, 'a page whose save was held up answers 503')
  await releaseWrites()
  page = await browser.get('/')
  t.equal(visitsOf(page), 4, 'the count goes on from 3: the save answered 503 did not land when Redis resumed')
})

t.test('redis: a full Redis (noeviction) answers 503 "the session store is full", and /healthz says out of memory', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' }).stdout
  const app = await toyApp(t, { store: 'redis', redis: { url: redis.url } })
  const browser = new ToyBrowser(app)
  t.equal(visitsOf(await browser.get('/')), 1)

  const used = Number(/used_memory:(\d+)/.exec(cli('INFO', 'memory'))?.[1])
  cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')
  cli('CONFIG', 'SET', 'maxmemory', String(used))
  const page = await browser.get('/')
  t.equal(page.statusCode, 503)
  t.match(page.json().message, 'Sessions are unavailable for a moment (the session store is full).')
  const health = await browser.get('/healthz')
  t.equal(health.statusCode, 503)
  t.match(health.json(), { reason: /^out of memory: the session store is full/ })

  cli('CONFIG', 'SET', 'maxmemory', '0')
  t.equal((await browser.get('/healthz')).statusCode, 200)
  t.equal(visitsOf(await browser.get('/')), 2, 'nothing was lost: the session goes on')
})

t.test('memory: a flood of one-time visitors ten times memory.max leaves every returning session intact', async (t) => {
  const app = await toyApp(t, { store: 'memory', memory: { max: 50 } })
  // 30 returning users (two or more requests each), each with an item of their own.
  const returning = Array.from({ length: 30 }, () => new ToyBrowser(app))
  for (const [i, browser] of returning.entries()) {
    await browser.get('/')
    await browser.post('/items', { item: `item ${i}` })
    await browser.get('/')
  }
  // 500 visitors who come once and never again.
  let answered = 0
  for (let i = 0; i < 500; i++) if ((await app.inject('/')).statusCode === 200) answered++
  t.equal(answered, 500, 'every one-time visitor got the page')
  let intact = 0
  for (const [i, browser] of returning.entries()) {
    const page = await browser.get('/')
    if (visitsOf(page) === 3 && itemsOf(page)[0] === `item ${i}`) intact++
  }
  t.equal(intact, returning.length, `${intact} of ${returning.length} returning sessions intact`)
})

t.test('redis: with maxmemory and allkeys-lfu (the README\'s configuration), one-time visitors do not push out returning users', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const app = await toyApp(t, { store: 'redis', redis: { url: redis.url } })
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

  const returning = Array.from({ length: 30 }, () => new ToyBrowser(app))
  for (const [i, browser] of returning.entries()) {
    await browser.get('/')
    await browser.post('/items', { item: `item ${i}` })
    await browser.get('/')
    await browser.get('/hello')
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
    if (visitsOf(page) === 4 && itemsOf(page)[0] === `item ${i}`) intact++
  }
  t.equal(intact, returning.length, `${intact} of ${returning.length} returning sessions intact`)
})

for (const mode of ['memory', 'redis'] as const) {
  t.test(`${mode}: a session has a budget in the store (4096 bytes): a change past it is not saved, nothing is lost, the user is told`, { skip: mode === 'redis' ? noRedis : false }, async (t) => {
    const redis = mode === 'redis' ? await startRedis(t) : undefined
    const client = redis && await redisClient(t, redis)
    const logs = logCapture()
    const app = await toyApp(t, { store: mode, ...(redis ? { redis: { url: redis.url } } : {}), logger: { level: 'warn', stream: logs.stream } })
    const browser = new ToyBrowser(app)
    await browser.get('/')

    // 75 four-byte characters: about 300 bytes of JSON each.
    const item = (n: number) => `${n} ${'🍎'.repeat(75)}`
    // Every key's size as Redis holds it (redis mode), read after each request that may write.
    const keysWithinBudget = async (after: string) => {
      for (const key of await client?.keys(`${TOY_PREFIX}*`) ?? []) {
        const bytes = await client!.strLen(key)
        t.ok(bytes <= 4096, `after ${after}: STRLEN ${bytes} bytes`)
      }
    }
    let sent = 0
    const { accepted, refusal } = await addUntilRefused(20, async (n) => {
      sent = n
      t.equal((await browser.post('/items', { item: item(n) })).statusCode, 303)
      await keysWithinBudget(`adding item ${n}`)
    }, async () => {
      const page = await browser.get('/')
      await keysWithinBudget(`the page after item ${sent}`)
      return page
    }, flashesOf)
    t.ok(refusal, 'the budget refused a change before 20 items')
    t.ok(accepted >= 4, `the session kept ${accepted} items first`)
    t.same(refusal?.flashes, ['error: That change was not saved: it would have made your session larger than this site keeps for one (4096 bytes).'])
    t.same(itemsOf(refusal!.page), Array.from({ length: accepted }, (_, i) => item(i + 1)), 'the previous items are intact')
    t.equal(visitsOf(refusal!.page), accepted + 2, 'and so is the visit count')
    const warning = logs.lines().find((line) => line.msg === 'session too large for the store; change not saved')
    t.ok((warning?.sessionBytes as number) > 4096, `the size is logged (${String(warning?.sessionBytes)} bytes)`)

    const after = await browser.get('/')
    t.same(flashesOf(after), [], 'the message is shown once')
    t.equal(itemsOf(after).length, accepted, 'and the session goes on')

    // Short items near the edge: each either fits or is refused, and the session is never lost
    // (a rotated id whose change is then refused must still be the one the cookie names).
    let count = visitsOf(after)
    let items = itemsOf(after)
    for (let i = 0; i < 6; i++) {
      t.equal((await browser.post('/items', { item: `s${i}` })).statusCode, 303)
      const page = await browser.get('/')
      t.equal(visitsOf(page), ++count, `short item ${i}: the count goes on (${count})`)
      t.ok(itemsOf(page).length >= items.length, `short item ${i}: the session kept its ${items.length} items`)
      items = itemsOf(page)
      await keysWithinBudget(`short item ${i}`)
    }

    // Stale forms that never follow their 303 each queue a message: near the budget, those are
    // counted too, and the session never grows past it.
    const sameOrigin = { 'sec-fetch-site': 'same-origin' }
    for (let i = 0; i < 12; i++) {
      t.equal((await browser.post('/items/clear', { _csrf: 'stale' }, sameOrigin)).statusCode, 303)
      await keysWithinBudget(`stale form ${i + 1}`)
    }
    const afterStale = await browser.get('/')
    t.same(itemsOf(afterStale), items, 'the stale forms changed nothing')
    t.ok(flashesOf(afterStale).length <= 10, `${flashesOf(afterStale).length} messages waited`)
    t.ok(flashesOf(afterStale).every((f) => f === `error: ${STALE_FORM}` || f.startsWith('error: That change was not saved')), 'each one the stale form\'s, or the budget\'s')

    t.equal((await browser.post('/items/clear')).statusCode, 303, 'a change that fits is saved again')
    t.same(itemsOf(await browser.get('/')), [])
  })
}

t.test('memory: maxSessionBytes sets the budget', async (t) => {
  const browser = new ToyBrowser(await toyApp(t, { store: 'memory', maxSessionBytes: 1024 }))
  await browser.get('/')
  const item = (n: number) => `${n} ${'🍎'.repeat(75)}`
  t.equal((await browser.post('/items', { item: item(1) })).statusCode, 303)
  t.same(itemsOf(await browser.get('/')), [item(1)], 'one item fits in 1024 bytes')
  await browser.post('/items', { item: item(2) })
  const page = await browser.get('/')
  t.same(itemsOf(page), [item(1)], 'a second does not')
  t.same(flashesOf(page), ['error: That change was not saved: it would have made your session larger than this site keeps for one (1024 bytes).'])
})

t.test('redis: what something else wrote under the prefix never makes a page fail', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const client = await redisClient(t, redis)
  const browser = new ToyBrowser(await toyApp(t, { store: 'redis', redis: { url: redis.url, prefix: 'odd:' } }))
  /** Replaces the browser's stored session with what `rewrite` makes of it. */
  const overwrite = async (rewrite: (stored: Record<string, unknown>) => string) => {
    const [key] = await client.keys('odd:*')
    const stored = JSON.parse((await client.get(key!))!) as Record<string, unknown>
    await client.set(key!, rewrite(stored), { expiration: { type: 'EX', value: 60 } })
  }
  t.equal(visitsOf(await browser.get('/')), 1)

  await overwrite((stored) => JSON.stringify({ ...stored, touchedAt: 'yesterday', createdAt: null }))
  const odd = await browser.get('/')
  t.equal(odd.statusCode, 200, 'timestamps that are not numbers: the page, not a 500')
  t.equal(visitsOf(odd), 2, 'and the count goes on')

  await overwrite(() => 'this is not JSON')
  const junk = await browser.get('/')
  t.equal(junk.statusCode, 200, 'a value that is not JSON: the page')
  t.equal(visitsOf(junk), 1, 'in a fresh session')
})
