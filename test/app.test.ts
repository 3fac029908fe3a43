// Functional tier: the whole app through inject(), a cookie jar playing the browser.
import t from 'tap'
import { Browser, build as buildCookieApp, countOf, OTHER_SECRET, SECRET, TestClock } from './helper.js'
import { eachSessionStore } from './each-store.js'

eachSessionStore(async (t, { store, build, app: shared }) => {
  t.test('the counter goes 1, 2, 3 across /, /howdy, / in one browser', async (t) => {
    const browser = new Browser(await shared())

    const first = await browser.get('/')
    t.equal(first.statusCode, 200)
    t.match(first.headers['content-type'], /^text\/html/)
    t.match(first.body, '<h1>Hi Home View</h1>')
    t.match(first.body, '<p>Count: <strong>1</strong></p>')

    const second = await browser.get('/howdy')
    t.match(second.body, '<h1>Hi Hello View</h1>')
    t.match(second.body, '<p>Count: <strong>2</strong></p>')

    const third = await browser.get('/')
    t.match(third.body, '<p>Count: <strong>3</strong></p>')
  })

  t.test('pages are HTML5 with a language, and link to each other', async (t) => {
    const browser = new Browser(await shared())
    const home = await browser.get('/')
    t.match(home.body, /^<!doctype html>\s*<html lang="en">/)
    t.match(home.body, '<a href="/howdy">')
    const hello = await browser.get('/howdy')
    t.match(hello.body, '<a href="/">')
  })

  t.test('the session cookie is encrypted, HttpOnly, SameSite=Lax, Path=/', async (t) => {
    const app = await shared()
    const res = await app.inject('/')
    const cookie = res.cookies.find((c) => c.name === 'session')
    t.ok(cookie, 'a session cookie is set')
    t.equal(cookie?.path, '/')
    t.equal(cookie?.httpOnly, true)
    t.equal(cookie?.sameSite, 'Lax')
    t.notOk(cookie?.secure, 'not Secure over plain http')
    t.notMatch(cookie?.value ?? '', /counter/, 'the browser cannot read the data')
  })

  t.test('the cookie is Secure when the request came over HTTPS (behind a trusted proxy)', async (t) => {
    const res = await (await build(t, { TRUST_PROXY: true })).inject({ url: '/', headers: { 'x-forwarded-proto': 'https' } })
    t.match(res.headers['set-cookie'], /; Secure/)
  })

  t.test('Secure is decided per request behind a trusted proxy: http then https, https then http', async (t) => {
    const app = await build(t, { TRUST_PROXY: 1 })
    const overHttps = { 'x-forwarded-proto': 'https' }

    const begunOverHttp = new Browser(app)
    t.notMatch((await begunOverHttp.get('/')).headers['set-cookie'], /; Secure/i, 'over http: no Secure')
    const laterOverHttps = await begunOverHttp.get('/', overHttps)
    t.equal(countOf(laterOverHttps), 2)
    t.match(laterOverHttps.headers['set-cookie'], /; Secure/i, 'the same session over https: Secure')

    const begunOverHttps = new Browser(app)
    await begunOverHttps.get('/', overHttps)
    const laterOverHttp = await begunOverHttps.get('/')
    t.equal(countOf(laterOverHttp), 2)
    t.equal(countOf(await begunOverHttps.get('/', overHttps)), 3, 'the write made over http was kept, not dropped')
  })

  t.test('a second browser starts at 1', async (t) => {
    const app = await shared()
    const alice = new Browser(app)
    const bob = new Browser(app)
    await alice.get('/')
    await alice.get('/')
    t.equal(countOf(await bob.get('/')), 1)
    t.equal(countOf(await alice.get('/')), 3)
  })

  t.test('JSON: the same routes answer the view data when asked', async (t) => {
    const browser = new Browser(await shared())
    await browser.get('/')
    await browser.get('/howdy')
    const res = await browser.getJson('/')
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/json/)
    t.same(res.json(), { name: 'Home View', counter: 3, cart: [] })
    t.same((await browser.getJson('/howdy')).json(), { name: 'Hello View', counter: 4, cart: [] })
  })

  t.test('pages are never cached and vary by cookie', async (t) => {
    const res = await (await shared()).inject('/')
    t.equal(res.headers['cache-control'], 'no-store')
    t.match(res.headers.vary, /Cookie/)
  })

  t.test(store === 'memory' ? 'restart: memory sessions are gone' : 'restart: a new app with the same secret continues the count', async (t) => {
    const browser = new Browser(await build(t))
    await browser.get('/')
    await browser.get('/')
    await browser.app.close()

    browser.app = await build(t)
    if (store === 'memory') t.equal(countOf(await browser.get('/howdy')), 1, 'memory sessions die with the process')
    else t.equal(countOf(await browser.get('/howdy')), 3)
  })

  t.test('restart with a different secret starts again at 1', async (t) => {
    const browser = new Browser(await build(t))
    await browser.get('/')
    await browser.get('/')
    browser.app = await build(t, { SESSION_SECRET: OTHER_SECRET })
    t.equal(countOf(await browser.get('/')), 1)
  })

  // Rotating a secret means restarting the app, and a restart empties the memory store anyway.
  t.test('key rotation: a cookie made with the old secret is read and re-issued under the new one', { skip: store === 'memory' && 'memory sessions do not outlive the restart a rotation needs' }, async (t) => {
    const browser = new Browser(await build(t, { SESSION_SECRET: OTHER_SECRET }))
    await browser.get('/')
    await browser.get('/')

    browser.app = await build(t, { SESSION_SECRET: `${SECRET},${OTHER_SECRET}` })
    t.equal(countOf(await browser.get('/')), 3)

    // The re-issued cookie no longer needs the old secret.
    browser.app = await build(t, { SESSION_SECRET: SECRET })
    t.equal(countOf(await browser.get('/')), 4)
  })

  t.test('an idle session expires after SESSION_TIMEOUT, and each write slides it', async (t) => {
    const clock = new TestClock()
    const browser = new Browser(await build(t, { SESSION_TIMEOUT: 10 }, { clock: clock.now }))
    await browser.get('/')
    clock.advance(9)
    t.equal(countOf(await browser.get('/')), 2, 'still alive within the timeout')
    clock.advance(9)
    t.equal(countOf(await browser.get('/')), 3, '18 s after the first visit: each write slid the timeout')
    clock.advance(10)
    t.equal(countOf(await browser.get('/')), 1, 'idle for the whole timeout: a fresh session')
  })

  t.test('a tampered or garbage cookie gives a fresh session, never an error', async (t) => {
    const app = await shared()
    const browser = new Browser(app)
    await browser.get('/')
    await browser.get('/')
    const good = browser.jar.cookies.get('session') ?? ''
    const tampered = good.slice(0, -3) + (good.at(-3) === 'A' ? 'B' : 'A') + good.slice(-2)

    for (const cookie of [`session=${tampered}`, `session=${good.slice(0, 20)}`, 'session=garbage', 'session=;;;', 'session=%FF%FE', `session=${'x'.repeat(3000)}`]) {
      const res = await app.inject({ url: '/', headers: { cookie } })
      t.equal(res.statusCode, 200, cookie.slice(0, 40))
      t.equal(countOf(res), 1, cookie.slice(0, 40))
    }
  })

  t.test('HEAD answers like GET but never changes the session', async (t) => {
    const browser = new Browser(await shared())
    await browser.get('/')
    const head = await browser.request({ method: 'HEAD', url: '/howdy' })
    t.equal(head.statusCode, 200)
    t.equal(head.body, '')
    t.notOk(head.headers['set-cookie'], 'no Set-Cookie on HEAD')
    const get = await browser.get('/howdy')
    t.equal(countOf(get), 2)
    t.equal(Number(head.headers['content-length']), Buffer.byteLength(get.body), 'HEAD reports the length GET sends')
  })

  t.test('/healthz answers ok and never touches the session', async (t) => {
    const browser = new Browser(await shared())
    const fresh = await browser.get('/healthz')
    t.equal(fresh.statusCode, 200)
    t.same(fresh.json(), { status: 'ok' })
    t.notOk(fresh.headers['set-cookie'])

    await browser.get('/')
    const withCookie = await browser.get('/healthz')
    t.notOk(withCookie.headers['set-cookie'])
    t.equal(countOf(await browser.get('/')), 2)
  })

  t.test('unknown paths: 404 page (JSON when asked) that does not count', async (t) => {
    const browser = new Browser(await shared())
    await browser.get('/')

    const html = await browser.get('/nowhere')
    t.equal(html.statusCode, 404)
    t.match(html.headers['content-type'], /^text\/html/)
    t.match(html.body, '404 Not Found')
    t.match(html.body, '<p>There is no page at /nowhere.</p>', 'the path, in words, without the method')
    t.match(html.body, '<a href="/">')
    t.notOk(html.headers['set-cookie'])

    const json = await browser.getJson('/nowhere')
    t.equal(json.statusCode, 404)
    t.match(json.json(), { statusCode: 404, error: 'Not Found' })

    const notAllowed = await browser.request({ method: 'DELETE', url: '/' })
    t.equal(notAllowed.statusCode, 405, 'a path that exists with another method: 405, not 404')
    t.equal(notAllowed.headers.allow, 'GET, HEAD')

    t.equal(countOf(await browser.get('/howdy')), 2)
  })
})

t.test('every page links a favicon that is served, so browsers do not ask for /favicon.ico', async (t) => {
  const app = await buildCookieApp(t)
  for (const url of ['/', '/howdy', '/nowhere']) {
    t.match((await app.inject(url)).body, '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">', url)
  }
  const icon = await app.inject('/static/favicon.svg')
  t.equal(icon.statusCode, 200)
  t.match(icon.headers['content-type'], /^image\/svg\+xml/)
  t.match(icon.body, '<svg')
})

t.test('a 404 escapes the path it echoes', async (t) => {
  const res = await (await buildCookieApp(t)).inject('/<script>alert(1)</script>')
  t.equal(res.statusCode, 404)
  t.notMatch(res.body, '<script>alert(1)</script>')
})
