// Property-based: random cookie headers and random form bodies never make a 5xx, always answer a
// valid page, and leave the session either intact or fresh (cookies) or changed only as the form allows.
import fc from 'fast-check'
import Handlebars from 'handlebars'
import { Browser, cartOf, countOf, flashesOf, itemFieldOf } from './helper.js'
import { eachSessionStore } from './each-store.js'
import type { SessionStoreName } from '../src/framework/session-stores/index.js'

// Random cases per property: enough to matter in a plain `npm test`, more where a case costs less.
// TEST_FUZZ_SCALE multiplies them; CI's first run uses 2, the depth this suite used to have.
const SCALE = Math.max(1, Number(process.env.TEST_FUZZ_SCALE ?? '1') || 1)
const BASE: Record<SessionStoreName, { cookies: number, forms: number, edges: number }> = {
  cookie: { cookies: 1000, forms: 500, edges: 100 },
  memory: { cookies: 500, forms: 250, edges: 50 },
  redis: { cookies: 250, forms: 150, edges: 40 }
}
const RUNS = Object.fromEntries(Object.entries(BASE).map(([store, runs]) =>
  [store, { cookies: runs.cookies * SCALE, forms: runs.forms * SCALE, edges: runs.edges * SCALE }])) as typeof BASE

/** Characters a cookie header can carry (Node rejects control characters before the app sees them). */
const headerChar = fc.oneof(
  fc.constantFrom(';', '=', ' ', '%', '"', ',', '\\', '+', '/'),
  fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)),
  fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code))
)
const headerText = (maxLength: number) => fc.array(headerChar, { maxLength }).map((chars) => chars.join(''))

/**
 * The browser's session as `/session` tells it (JSON, read-only: nothing counted, shown or written),
 * its cart escaped as the page escapes it, so it compares with what `cartOf(page)` read.
 */
async function sessionOfBrowser (browser: Browser): Promise<{ cart: string[], pendingFlashes: number, counter: number }> {
  const info = (await browser.getJson('/session')).json() as { cart: string[], pendingFlashes: number, counter: number }
  return { ...info, cart: info.cart.map((item) => Handlebars.escapeExpression(item)) }
}

function sameList (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => b[i] === item)
}

/** Clears the cart once it nears its limit, so adds stay possible; the cart the page now shows. */
async function keepRoomInCart (browser: Browser, shown: string[]): Promise<string[]> {
  if (shown.length < 15) return shown
  await browser.post('/cart/clear')
  return cartOf(await browser.get('/'))
}

eachSessionStore(async (t, { store, build, app: shared }) => {
  t.test(`random cookie headers (${RUNS[store].cookies} cases): a valid page, the session intact or fresh`, async (t) => {
    const app = await shared()
    const browser = new Browser(app)
    await browser.get('/')
    await browser.get('/')
    const good = browser.jar.cookies.get('session')!

    // Junk, junk next to the real cookie, and the real cookie damaged in one place.
    const cookieHeader = fc.oneof(
      headerText(300),
      headerText(60).map((junk) => `${junk}; session=${good}`),
      fc.tuple(fc.nat({ max: good.length - 1 }), headerChar).map(([at, c]) => `session=${good.slice(0, at)}${c}${good.slice(at + 1)}`),
      fc.nat({ max: good.length - 1 }).map((length) => `session=${good.slice(0, length)}`),
      headerText(40).map((junk) => `session=${junk}`)
    )

    // Each case sends a copy of the cookie as it was (count 2) and keeps no answer. A page shows a
    // fresh session (1) or the real one counted once more: in cookie mode always 3 (the data is in
    // the copy), in store modes one more than last time (the data is on the server). A damaged copy
    // can still be the real one when the change was harmless, such as an equivalent percent-encoding.
    let count = 2
    await fc.assert(fc.asyncProperty(cookieHeader, async (cookie) => {
      const res = await app.inject({ url: '/', headers: { cookie } })
      if (res.statusCode !== 200 || !res.body.includes('<h1>Hi Home View</h1>')) return false
      const shown = countOf(res)
      if (shown === 1) return true
      if (store === 'cookie') return shown === 3
      count++
      return shown === count
    }), { numRuns: RUNS[store].cookies })

    t.equal(countOf(await browser.get('/')), store === 'cookie' ? 3 : count + 1, 'the real session is intact')
  })

  t.test(`random form bodies (${RUNS[store].forms} cases): never a 5xx, the cart changes only by a valid add`, async (t) => {
    const browser = new Browser(await shared())
    await browser.get('/')
    const token = browser.csrfToken!

    const key = fc.oneof(fc.constantFrom('item', '_csrf', '__proto__', 'constructor', 'prototype', 'item[]', '__proto__[item]'), headerText(8))
    const value = fc.oneof(fc.string({ maxLength: 100 }), fc.constant(token), fc.string({ unit: 'grapheme', maxLength: 90 }))
    const body = fc.oneof(
      // A well-formed form: the token and an item, maybe more fields.
      fc.tuple(value, fc.array(fc.tuple(key, value), { maxLength: 3 })).map(([item, extra]) =>
        new URLSearchParams([['_csrf', token], ['item', item], ...extra]).toString()),
      // Anything at all.
      fc.array(fc.tuple(key, value), { maxLength: 6 }).map((pairs) => new URLSearchParams(pairs).toString()),
      headerText(200)
    )
    const contentType = fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'application/json', 'text/plain', 'multipart/form-data; boundary=x')

    // The cart and count as the last page showed them: each case's page is the next case's starting point.
    const first = await browser.get('/')
    let shown = cartOf(first)
    let countBefore = countOf(first)
    await fc.assert(fc.asyncProperty(body, contentType, async (payload, type) => {
      const before = shown
      const res = await browser.request({ method: 'POST', url: '/cart', headers: { 'content-type': type }, payload })
      if (res.statusCode >= 500) return false
      if (![303, 400, 403, 413, 415].includes(res.statusCode)) return false
      if (res.statusCode !== 303) {
        // Refused: read back through /session (read-only, no page to render): the same cart, nothing
        // waiting to be shown, the count untouched.
        const { cart, pendingFlashes, counter } = await sessionOfBrowser(browser)
        return sameList(cart, before) && pendingFlashes === 0 && counter === countBefore
      }
      const page = await browser.get('/')
      if (page.statusCode !== 200) return false
      const after = shown = cartOf(page)
      countBefore = countOf(page)
      const added = after.length === before.length + 1 && before.every((item, i) => after[i] === item)
      const unchanged = sameList(after, before)
      const flashes = flashesOf(page)
      const field = itemFieldOf(page)
      // A 303 either added exactly one item and said so, or changed nothing and said why, at the field.
      return (added && flashes.some((f) => f.startsWith('success:')) && field.error === undefined) ||
        (unchanged && field.invalid && field.error !== undefined && field.error !== '')
    }).beforeEach(async () => {
      shown = await keepRoomInCart(browser, shown)
      countBefore = (await sessionOfBrowser(browser)).counter
    }), { numRuns: RUNS[store].forms })
    t.pass('every case held')
  })

  t.test(`random methods, paths, Origin and Sec-Fetch-Site (${RUNS[store].edges} cases): never a 5xx, the cart changes only by a same-origin add`, async (t) => {
    const browser = new Browser(await shared())
    await browser.get('/')
    const token = browser.csrfToken!

    const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS')
    const path = fc.oneof(fc.constantFrom('/', '/howdy', '/cart', '/cart/clear', '/session', '/healthz', '/static/app.css', '/nowhere'), headerText(12).map((p) => `/${encodeURIComponent(p)}`))
    const origin = fc.option(fc.constantFrom('http://localhost:80', 'http://localhost', 'https://localhost', 'https://evil.example', 'null', 'http://localhost:8080', 'not a url'), { nil: undefined })
    const site = fc.option(fc.constantFrom('same-origin', 'same-site', 'cross-site', 'none', 'junk'), { nil: undefined })

    let shown = cartOf(await browser.get('/'))
    await fc.assert(fc.asyncProperty(method, path, origin, site, async (method, url, origin, site) => {
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
      if (origin !== undefined) headers.origin = origin
      if (site !== undefined) headers['sec-fetch-site'] = site
      const payload = method === 'GET' || method === 'HEAD' ? undefined : new URLSearchParams({ _csrf: token, item: 'x' }).toString()
      const res = await browser.request({ method: method as 'GET', url, headers, payload })
      if (res.statusCode >= 500 || ![200, 303, 304, 400, 403, 404, 405, 415].includes(res.statusCode)) return false
      const before = shown
      const after = shown = (await sessionOfBrowser(browser)).cart
      // The rule, written out independently of the code: a browser's own headers say same origin.
      const sameOrigin = site !== undefined
        ? site === 'same-origin' || site === 'none'
        : origin === undefined || origin === 'http://localhost:80' || origin === 'http://localhost'
      const added = method === 'POST' && url === '/cart' && sameOrigin
      if (added !== (res.statusCode === 303 && url === '/cart')) return false
      return after.length === (added ? before.length + 1 : url === '/cart/clear' && res.statusCode === 303 ? 0 : before.length)
    }).beforeEach(async () => { shown = await keepRoomInCart(browser, shown) }), { numRuns: RUNS[store].edges })
    t.pass('every case held')
  })
})
