// Hostile input, tampering, expiry, errors, headers, shutdown and concurrency, in every mode that applies.
import t from 'tap'
import { buildApp, BODY_LIMIT } from '../src/app.js'
import { Browser, build as buildCookieApp, cartOf, countOf, deferred, flashesOf, logCapture, OTHER_SECRET, TestClock, testSettings } from './helper.js'
import { eachSessionStore } from './each-store.js'
import { sessionOf } from '../src/framework/session-stores/index.js'

eachSessionStore(async (t, { store, build, settings, app: shared }) => {
  t.test('bad cookies give a fresh session (or the intact one), never an error, and are logged without their value', async (t) => {
    const logs = logCapture()
    const app = await buildApp(testSettings({ ...settings, LOG_LEVEL: 'debug' }), { fastify: { logger: { level: 'debug', stream: logs.stream } } })
    t.teardown(() => app.close())
    const browser = new Browser(app)
    await browser.get('/')
    await browser.get('/')
    const good = browser.jar.cookies.get('session')!
    const other = new Browser(await build(t, { SESSION_SECRET: OTHER_SECRET }))
    await other.get('/')
    const wrongKey = other.jar.cookies.get('session')!

    const fresh: Array<[string, string]> = [
      ['tampered', `session=${good.slice(0, -6)}${good.at(-6) === 'A' ? 'B' : 'A'}${good.slice(-5)}`],
      ['truncated', `session=${good.slice(0, Math.floor(good.length / 2))}`],
      ['made with another key', `session=${wrongKey}`],
      ['bad percent-encoding', 'session=%E0%A4%A'],
      ['quoted junk', 'session="\\"\\\\"'],
      ['binary junk', 'session=\xff\xfe\x80\x81'],
      ['empty', 'session='],
      ['10 KB', `session=${'A'.repeat(10 * 1024)}`],
      ['10 KB header of other cookies', `${'x'.repeat(10 * 1024)}=1; session=nope`],
      ['duplicated, bad first', `session=garbage; session=${good}`]
    ]
    for (const [label, cookie] of fresh) {
      const res = await app.inject({ url: '/', headers: { cookie } })
      t.equal(res.statusCode, 200, label)
      t.equal(countOf(res), 1, `${label}: a fresh session`)
    }
    const duplicatedGoodFirst = await app.inject({ url: '/', headers: { cookie: `session=${good}; session=garbage` } })
    t.equal(countOf(duplicatedGoodFirst), 3, 'duplicated, good first: the first cookie counts, the session is intact')

    const output = logs.text()
    t.match(output, store === 'cookie' ? /unable to decrypt|malformed|not long enough|nonce/ : /session cookie rejected.*|"reason":"bad signature"/, 'the reason is logged at debug')
    t.notMatch(output, good.slice(5, 40), 'the cookie value is never logged')
  })

  t.test('SESSION_MAX_AGE ends even an active session', async (t) => {
    // Timestamps are whole seconds; the clock moves by whole seconds, so the lifetime is exact.
    const clock = new TestClock()
    const browser = new Browser(await build(t, { SESSION_MAX_AGE: 30 }, { clock: clock.now }))
    t.equal(countOf(await browser.get('/')), 1)
    clock.advance(10)
    t.equal(countOf(await browser.get('/')), 2)
    clock.advance(19)
    t.equal(countOf(await browser.get('/')), 3, 'active, within the lifetime')
    clock.advance(1)
    t.equal(countOf(await browser.get('/')), 1, 'the absolute lifetime reached: a new session')
  })

  t.test(store === 'cookie'
    ? 'reset in cookie mode: the old cookie still works until it expires (a stateless cookie cannot be revoked)'
    : 'reset in store mode: replaying the old cookie does not bring the old session back', async (t) => {
    const browser = new Browser(await shared())
    await browser.get('/')
    await browser.post('/cart', { item: 'secret plans' })
    await browser.get('/')
    const oldCookie = browser.jar.header()!
    await browser.post('/session/reset')
    t.equal(countOf(await browser.get('/')), 1)

    const replay = await browser.app.inject({ url: '/', headers: { cookie: oldCookie } })
    t.equal(replay.statusCode, 200)
    if (store === 'cookie') {
      t.same(cartOf(replay), ['secret plans'], 'documented in the README: the replay window lasts until SESSION_TIMEOUT')
    } else {
      t.same(cartOf(replay), [], 'the old session was destroyed in the store')
      t.equal(countOf(replay), 1)
    }
  })

  t.test('bad form input: 413, 415, 400, and nothing stored', async (t) => {
    const browser = new Browser(await shared())
    await browser.get('/')
    await browser.post('/cart', { item: 'kept' })
    await browser.get('/')
    const cookie = browser.jar.header()
    // An object literal cannot carry an own `__proto__` key, so these bodies are written out.
    const postRaw = (payload: string) => browser.request({ method: 'POST', url: '/cart', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload })

    const rejected = [
      { label: 'oversized body', status: 413, res: await browser.post('/cart', { item: 'x'.repeat(BODY_LIMIT) }) },
      { label: 'JSON body', status: 415, res: await browser.request({ method: 'POST', url: '/cart', headers: { 'content-type': 'application/json', 'x-csrf-token': browser.csrfToken! }, payload: JSON.stringify({ item: 'evil' }) }) },
      { label: 'text body', status: 415, res: await browser.request({ method: 'POST', url: '/cart', headers: { 'content-type': 'text/plain' }, payload: 'item=evil' }) },
      { label: 'item twice', status: 400, res: await browser.post('/cart', { item: ['evil', 'twice'] }) },
      { label: '__proto__ field', status: 400, res: await postRaw(`__proto__=x&item=evil&_csrf=${browser.csrfToken!}`) },
      { label: '__proto__[item] field', status: 400, res: await postRaw(`__proto__%5Bitem%5D=x&item=evil&_csrf=${browser.csrfToken!}`) },
      { label: 'constructor field', status: 400, res: await browser.post('/cart', { item: 'evil', constructor: 'x' }) },
      { label: 'unknown field', status: 400, res: await browser.post('/cart', { item: 'evil', price: '0' }) }
    ]
    for (const { label, status, res } of rejected) {
      t.equal(res.statusCode, status, label)
      t.notOk(res.headers['set-cookie'], `${label}: no cookie written`)
      t.notMatch(res.body, /at .*\.(js|ts):\d+/, `${label}: no stack trace`)
    }
    t.equal(browser.jar.header(), cookie)
    const page = await browser.get('/')
    t.same(cartOf(page), ['kept'])
    t.same(flashesOf(page), [])
  })

  t.test('a failing view answers 500 without internals and writes no half-changed session', async (t) => {
    const logs = logCapture()
    const app = await buildApp(testSettings({ ...settings, LOG_LEVEL: 'error' }), {
      fastify: { logger: { level: 'error', stream: logs.stream } },
      extend (pages) {
        pages.get('/broken', async (request) => {
          sessionOf(request).set('counter', 1000)
          sessionOf(request).set('cart', ['half-made'])
          throw new Error('secret internal detail')
        })
      }
    })
    t.teardown(() => app.close())
    const browser = new Browser(app)
    await browser.get('/')
    await browser.get('/')

    const res = await browser.get('/broken')
    t.equal(res.statusCode, 500)
    t.match(res.body, 'Something went wrong on our side.')
    t.notMatch(res.body, 'secret internal detail')
    t.notOk(res.headers['set-cookie'])
    const json = await browser.getJson('/broken')
    t.same(json.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Something went wrong on our side. It has been logged.' })

    const page = await browser.get('/')
    t.equal(countOf(page), 3, 'the count is as before the failure')
    t.same(cartOf(page), [])
    const logged = logs.lines().find((line) => line.msg === 'request failed')
    t.match(logged, { reqId: String, err: { message: 'secret internal detail' } }, 'logged with the request id')
  })

  // Cookie mode: each answer carries its own copy, and the browser keeps the last. The store modes
  // take one request at a time per session (concurrency.test.ts tests that in depth).
  const lastWriteWins = store === 'cookie'
  t.test(`parallel requests from one browser: all answered, the session stays valid (${lastWriteWins ? 'last write wins' : 'nothing lost'})`, async (t) => {
    const browser = new Browser(await shared())
    await browser.get('/')
    const cookie = browser.jar.header()!
    const pages = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      browser.app.inject({ url: i % 2 ? '/' : '/howdy', headers: { cookie } })))
    t.same([...new Set(pages.map((res) => res.statusCode))], [200])
    for (const res of pages) t.ok(countOf(res) >= 2 && countOf(res) <= 21, `count ${countOf(res)}`)
    browser.jar.update(pages.at(-1)!.headers['set-cookie'])
    const after = await browser.get('/')
    t.equal(after.statusCode, 200)
    if (lastWriteWins) t.ok(countOf(after) >= 3, 'the session goes on from one of the parallel writes')
    else t.equal(countOf(after), 22, 'the session counted every one of the parallel pages')

    await browser.get('/')
    const token = browser.csrfToken!
    const cookieNow = browser.jar.header()!
    const posts = await Promise.all(['a', 'b', 'c', 'd'].map((item) => browser.app.inject({
      method: 'POST',
      url: '/cart',
      headers: { cookie: cookieNow, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: token, item }).toString()
    })))
    t.same([...new Set(posts.map((res) => res.statusCode))], [303])
    browser.jar.update(posts.at(-1)!.headers['set-cookie'])
    const cart = cartOf(await browser.get('/'))
    if (lastWriteWins) t.equal(cart.length, 1, 'each parallel add started from the same cart: the last write wins')
    else t.same(cart.sort(), ['a', 'b', 'c', 'd'], 'each parallel add started from the cart the one before it left')
  })
})

t.test('security headers on pages: CSP, no sniffing, no framing; no-store and Vary: Cookie', async (t) => {
  const res = await (await buildCookieApp(t)).inject('/')
  t.equal(res.headers['content-security-policy'], "default-src 'none';style-src 'self';script-src 'self';img-src 'self';form-action 'self';frame-ancestors 'none';base-uri 'none'")
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.equal(res.headers['x-frame-options'], 'SAMEORIGIN')
  t.equal(res.headers['referrer-policy'], 'same-origin', 'the real Origin on our own forms, no referrer to other sites')
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(res.headers.vary, /Cookie/)
})

t.test('Strict-Transport-Security only over https: absent on http, present behind a trusted proxy that says https', async (t) => {
  const overHttps = { 'x-forwarded-proto': 'https' }
  const direct = await buildCookieApp(t)
  for (const url of ['/', '/healthz', '/static/app.css', '/nowhere']) {
    t.notOk((await direct.inject(url)).headers['strict-transport-security'], `http ${url}: no HSTS`)
  }
  t.notOk((await direct.inject({ url: '/', headers: overHttps })).headers['strict-transport-security'],
    'X-Forwarded-Proto from a proxy that is not trusted is not https')

  const proxied = await buildCookieApp(t, { TRUST_PROXY: 1 })
  for (const url of ['/', '/healthz', '/static/app.css', '/nowhere']) {
    t.equal((await proxied.inject({ url, headers: overHttps })).headers['strict-transport-security'], 'max-age=31536000; includeSubDomains', `https ${url}: HSTS`)
  }
  const plain = await proxied.inject({ url: '/', headers: { 'x-forwarded-proto': 'http' } })
  t.notOk(plain.headers['strict-transport-security'], 'the same proxy saying http: no HSTS')
  t.equal(plain.headers['referrer-policy'], 'same-origin', 'the other headers on both')
})

t.test('/healthz is never cached: Cache-Control: no-store', async (t) => {
  const res = await (await buildCookieApp(t)).inject('/healthz')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
})

t.test('closing the app lets a request in flight finish', async (t) => {
  const handlerStarted = deferred()
  const released = deferred()
  const closeBegun = deferred()
  const app = await buildApp(testSettings(), {
    extend (pages) {
      pages.get('/slow', async () => {
        handlerStarted.resolve()
        await released.promise
        return { done: true }
      })
    }
  })
  app.addHook('preClose', async () => closeBegun.resolve())
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const inFlight = fetch(`${url}/slow`)
  // No sleeps: each step waits for the one before it to have happened.
  await handlerStarted.promise
  const closing = app.close()
  await closeBegun.promise
  released.resolve()
  const res = await inFlight
  t.equal(res.status, 200)
  t.same(await res.json(), { done: true })
  t.equal(res.headers.get('connection'), 'close', 'the response closes its keep-alive connection')
  await closing
})
