// GET /session (for curl) and the "About this session" panel, in every mode.
import t from 'tap'
import { Browser, build as buildCookieApp, countOf, flashesOf, TestClock } from './helper.js'
import { eachSessionStore } from './each-store.js'

const STORE_TEXT = {
  cookie: 'an encrypted cookie in your browser',
  memory: 'this server process&#x27;s memory',
  redis: 'Redis, shared by every server process'
}

eachSessionStore(async (t, { store, build, app: shared }) => {
  t.test('GET /session tells the session\'s public data without counting, consuming or writing', async (t) => {
    const browser = new Browser(await build(t, { SESSION_TIMEOUT: 600 }))
    await browser.get('/')
    await browser.post('/cart', { item: 'apple' })
    const cookieBefore = browser.jar.header()

    const before = Date.now()
    const res = await browser.get('/session')
    t.equal(res.statusCode, 200)
    t.equal(res.headers['cache-control'], 'no-store')
    t.notOk(res.headers['set-cookie'], 'no cookie written')
    const info = res.json()
    t.match(info, { store, counter: 1, cart: ['apple'], pendingFlashes: 1, idleTimeoutSeconds: 600 })
    t.equal(info.cookieBytes, Buffer.byteLength(cookieBefore!), 'the size of the cookie the browser holds')
    const expires = Date.parse(info.expiresAt)
    t.ok(expires > before + 590_000 && expires <= Date.now() + 600_000, `expires in ~10 minutes (${info.expiresAt})`)

    const page = await browser.get('/')
    t.equal(countOf(page), 2, 'the next page counts on from 1')
    t.same(flashesOf(page), ['success: Added “apple” to your cart.'], 'the flash was still waiting')
  })

  t.test('GET /session for a new browser: nothing yet', async (t) => {
    const res = await (await shared()).inject('/session')
    t.same(res.json(), { store, counter: 0, cart: [], pendingFlashes: 0, idleTimeoutSeconds: 1200, expiresAt: null, cookieBytes: 0 })
    t.notOk(res.headers['set-cookie'])
  })

  t.test('with SESSION_MAX_AGE, /session and the About panel give the absolute end when it comes first', async (t) => {
    const clock = new TestClock()
    const browser = new Browser(await build(t, { SESSION_MAX_AGE: 60 }, { clock: clock.now }))
    await browser.get('/')
    const startedAt = clock.now()
    clock.advance(30)
    const page = await browser.get('/howdy')
    const info = (await browser.getJson('/session')).json()
    // The session began at startedAt: it ends 60 s later however active (the idle end is 20 min away).
    const expected = new Date(Math.floor(startedAt / 1000) * 1000 + 60_000).toISOString()
    t.equal(info.expiresAt, expected, `expires at ${expected}, not ${info.expiresAt}`)
    t.match(page.body, `datetime="${expected}"`, 'the About panel gives the same time')
    clock.advance(31)
    t.equal(countOf(await browser.get('/')), 1, 'and the session does end then')
  })

  t.test('the About panel says where the session lives and when it expires', async (t) => {
    const browser = new Browser(await shared())
    const first = await browser.get('/')
    t.match(first.body, STORE_TEXT[store])
    t.match(first.body, 'none yet: this page sets the first one')
    t.match(first.body, /after 20 minutes without a visit, at <time datetime="[^"]+" data-local-time>\d\d:\d\d UTC<\/time>/)
    const second = await browser.get('/howdy')
    t.match(second.body, /\d+ bytes, sent by your browser with this request/)
  })
})

t.test('the stylesheet is served with caching, and without a session', async (t) => {
  const res = await (await buildCookieApp(t)).inject('/static/app.css')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/css/)
  t.match(res.headers['cache-control'], /max-age=86400/)
  t.ok(res.headers.etag)
  t.notOk(res.headers['set-cookie'])
  const development = await (await buildCookieApp(t, { NODE_ENV: 'development' })).inject('/static/app.css')
  t.match(development.headers['cache-control'], /max-age=0/, 'in development, asked for again on every reload, so an edit shows')
})

t.test('JSON answers end with a newline, so curl leaves the prompt on a line of its own', async (t) => {
  const app = await buildCookieApp(t)
  for (const [url, accept] of [['/session', '*/*'], ['/healthz', '*/*'], ['/', 'application/json'], ['/nowhere', 'application/json']] as const) {
    const res = await app.inject({ url, headers: { accept } })
    t.match(res.headers['content-type'], /^application\/json/, url)
    t.ok(res.body.endsWith('}\n'), `${url}: ${JSON.stringify(res.body.slice(-3))}`)
    t.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body), `${url}: Content-Length counts it`)
  }
  t.notOk((await app.inject('/')).body.endsWith('\n\n'), 'HTML pages are left as they are')
})
