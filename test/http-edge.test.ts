// The HTTP edge: request timeouts, 405 with Allow (pages and static files), cross-origin form
// refusal, clean item names, trusted proxies, and views that cannot be mounted without the session plugin.
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { once } from 'node:events'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildApp } from '../src/app.js'
import { mountViews, RouteTable } from '../src/framework/class-views/index.js'
import { CartViews } from '../src/views/cart-views.js'
import { TutorialViews } from '../src/views/tutorial-views.js'
import { Browser, build, cartOf, itemFieldOf, testSettings } from './helper.js'

t.test('a body dribbled slower than REQUEST_TIMEOUT is cut off, while other requests are served', async (t) => {
  const app = await buildApp(testSettings({ REQUEST_TIMEOUT: 1 }))
  t.teardown(() => app.close())
  const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }))

  const socket = connect(Number(url.port), url.hostname)
  await once(socket, 'connect')
  const started = Date.now()
  socket.write('POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 8000\r\n\r\n')
  let answer = ''
  socket.on('data', (chunk: Buffer) => { answer += chunk.toString() })
  const dribble = setInterval(() => { if (!socket.destroyed) socket.write('a') }, 200)
  const closed = once(socket, 'close')

  // Meanwhile the server answers everyone else.
  const health = await fetch(`${url.origin}/healthz`)
  t.equal(health.status, 200, 'another request is served while the slow one dribbles')

  // Bounded: without a timeout the socket would stay open for as long as the client likes.
  const cutOff = await Promise.race([closed.then(() => true), sleep(5000).then(() => false)])
  clearInterval(dribble)
  socket.destroy()
  t.ok(cutOff, 'the server closed the connection')
  const elapsed = Date.now() - started
  t.match(answer, /^HTTP\/1\.1 408 /, 'the slow request gets 408 Request Timeout')
  t.ok(elapsed >= 1000 && elapsed < 3500, `cut off after ${elapsed} ms (timeout 1 s, checked every second)`)
})

t.test('a path that exists with another method answers 405 with Allow, as HTML or JSON', async (t) => {
  const app = await build(t)
  const cases: Array<[string, string, string]> = [
    ['GET', '/cart', 'POST'],
    ['PUT', '/', 'GET, HEAD'],
    ['DELETE', '/session/reset', 'POST'],
    ['POST', '/howdy', 'GET, HEAD'],
    ['PATCH', '/cart/clear', 'POST']
  ]
  for (const [method, url, allow] of cases) {
    const html = await app.inject({ method: method as 'GET', url })
    t.equal(html.statusCode, 405, `${method} ${url}`)
    t.equal(html.headers.allow, allow, `${method} ${url}: Allow`)
    t.match(html.body, `${method} is not allowed at ${url}; it answers ${allow}.`)
    t.notOk(html.headers['set-cookie'], 'no session is touched')
    const json = await app.inject({ method: method as 'GET', url, headers: { accept: 'application/json' } })
    t.match(json.json(), { statusCode: 405, error: 'Method Not Allowed' })
  }
  t.equal((await app.inject('/cart?x=1')).statusCode, 405, 'the query string does not hide the path')
  t.equal((await app.inject({ method: 'PUT', url: '/nowhere' })).statusCode, 404, 'an unknown path is still 404')
})

t.test('a static file answers other methods with 405 and Allow: GET, HEAD; an unknown one stays 404', async (t) => {
  const app = await build(t)
  for (const method of ['POST', 'PUT', 'DELETE'] as const) {
    const html = await app.inject({ method, url: '/static/app.css' })
    t.equal(html.statusCode, 405, `${method} /static/app.css`)
    t.equal(html.headers.allow, 'GET, HEAD', `${method}: Allow`)
    t.match(html.body, `${method} is not allowed at /static/app.css; it answers GET, HEAD.`)
    const json = await app.inject({ method, url: '/static/app.css', headers: { accept: 'application/json' } })
    t.match(json.json(), { statusCode: 405, error: 'Method Not Allowed' }, `${method}: JSON when asked`)
  }
  t.equal((await app.inject({ method: 'POST', url: '/static/app.css?v=2' })).headers.allow, 'GET, HEAD', 'the query string does not hide the path')
  t.equal((await app.inject('/static/app.css')).statusCode, 200, 'GET still serves it')
  t.equal((await app.inject({ method: 'HEAD', url: '/static/app.css' })).statusCode, 200, 'and HEAD')
  for (const [method, url] of [['GET', '/static/nope.css'], ['POST', '/static/nope.css'], ['GET', '/static/'], ['GET', '/static/../package.json']] as const) {
    const res = await app.inject({ method, url })
    t.equal(res.statusCode, 404, `${method} ${url}: 404`)
    t.notOk(res.headers.allow, `${method} ${url}: no Allow`)
  }
})

t.test('cross-origin form posts are refused before the token, from the browser\'s own headers', async (t) => {
  const browser = new Browser(await build(t))
  await browser.get('/')
  await browser.post('/cart', { item: 'kept' })
  await browser.get('/')

  const refused: Array<[string, Record<string, string>]> = [
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site', origin: 'http://shop.localhost' }],
    ['a foreign Origin without Sec-Fetch-Site', { origin: 'https://evil.example' }],
    ['Origin: null (a sandboxed page, a data: URL)', { origin: 'null' }],
    ['an Origin on another port', { origin: 'http://localhost:8080' }]
  ]
  for (const [label, headers] of refused) {
    const res = await browser.post('/cart', { item: 'evil' }, headers)
    t.equal(res.statusCode, 403, label)
    t.match(res.body, 'This form was sent from another site, so nothing was changed.', label)
    t.notOk(res.headers['set-cookie'], `${label}: nothing written`)
  }
  const page = await browser.get('/')
  t.same(cartOf(page), ['kept'], 'the cart is unchanged')

  const sameOrigin = await browser.post('/cart', { item: 'from the page' }, { 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80' })
  t.equal(sameOrigin.statusCode, 303, 'a same-origin browser post')
  const oldBrowser = await browser.post('/cart', { item: 'old browser' }, { origin: 'http://localhost:80' })
  t.equal(oldBrowser.statusCode, 303, 'Origin naming this host, no Sec-Fetch-Site (an older browser)')
  const curl = await browser.post('/cart', { item: 'curl' })
  t.equal(curl.statusCode, 303, 'no Origin, no Sec-Fetch-Site (curl): the token decides')
  t.same(cartOf(await browser.get('/')), ['kept', 'from the page', 'old browser', 'curl'])

  // Without its token a same-origin post changes nothing; it is sent back to its page (stale-form recovery, cart-flow tests).
  const forged = await browser.post('/cart', { _csrf: 'not-the-token', item: 'not added' }, { 'sec-fetch-site': 'same-origin' })
  t.equal(forged.statusCode, 303, 'a same-origin post without its token goes back to its page')
  t.same(cartOf(await browser.get('/')), ['kept', 'from the page', 'old browser', 'curl'], 'and adds nothing: it still needs its token')
})

t.test('TRUSTED_ORIGINS admits the origins it names, and only those', async (t) => {
  const browser = new Browser(await build(t, { TRUSTED_ORIGINS: 'https://shop.example.com, https://admin.example.com:8443' }))
  await browser.get('/')
  const trusted = await browser.post('/cart', { item: 'from the shop' }, { 'sec-fetch-site': 'cross-site', origin: 'https://shop.example.com' })
  t.equal(trusted.statusCode, 303)
  const other = await browser.post('/cart', { item: 'evil' }, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example.com' })
  t.equal(other.statusCode, 403)
  t.same(cartOf(await browser.get('/')), ['from the shop'])
})

t.test('item names: control, format and separator characters are refused; NFC; graphemes counted', async (t) => {
  const browser = new Browser(await build(t))
  await browser.get('/')
  await browser.post('/cart', { item: 'kept' })
  await browser.get('/')
  const refusals: Array<[string, string]> = [
    ['NUL', 'a\u0000b'],
    ['CR LF', 'line\r\nbreak'],
    ['tab', 'tab\there'],
    ['U+2028 line separator', 'a\u2028b'],
    ['U+2029 paragraph separator', 'a\u2029b'],
    ['U+202E right-to-left override', 'gnp\u202e.exe'],
    ['U+2066 left-to-right isolate', 'a\u2066b'],
    ['U+200B zero-width space', 'a\u200bb'],
    ['U+FEFF byte order mark', 'a\ufeffb']
  ]
  for (const [label, item] of refusals) {
    const post = await browser.post('/cart', { item })
    t.equal(post.statusCode, 303, label)
    const page = await browser.get('/')
    const field = itemFieldOf(page)
    t.same([field.error, field.invalid], ['An item name cannot contain line breaks, tabs or invisible control characters.', true], label)
    t.same(cartOf(page), ['kept'], `${label}: cart unchanged`)
    t.notOk(/[\p{Cc}\p{Zl}\p{Zp}]/u.test(field.value) || /(?!\u200d)\p{Cf}/u.test(field.value), `${label}: the field comes back without it (${JSON.stringify(field.value)})`)
    t.notOk(['\u0000', '\u202e', '\u2066'].some((c) => page.body.includes(c)), `${label}: not written into the page`)
  }
  await browser.post('/cart', { item: 'gnp\u202e.exe' })
  t.equal(itemFieldOf(await browser.get('/')).value, 'gnp.exe', 'what was typed, minus the character that would reverse it')
  await browser.post('/cart', { item: 'line\r\nbreak' })
  t.equal(itemFieldOf(await browser.get('/')).value, 'line  break', 'a line break becomes a space')

  await browser.post('/cart', { item: 'cafe\u0301' })
  await browser.post('/cart', { item: '🇮🇩'.repeat(80) })
  await browser.post('/cart', { item: '👩‍💻 coder' })
  const page = await browser.get('/')
  t.same(cartOf(page), ['kept', 'caf\u00e9', '🇮🇩'.repeat(80), '👩‍💻 coder'], 'NFC; 80 flags are 80 characters; emoji with joiners are fine')
})

t.test('TRUST_PROXY: a hop count believes that many proxies, not a spoofed chain', async (t) => {
  const whoAmI = (pages: FastifyInstance) => {
    pages.get('/whoami', async (request) => ({ ip: request.ip, protocol: request.protocol }))
  }
  const spoofed = { 'x-forwarded-for': '6.6.6.6, 203.0.113.7', 'x-forwarded-proto': 'https' }

  const oneHop = await buildApp(testSettings({ TRUST_PROXY: 1 }), { extend: whoAmI })
  t.teardown(() => oneHop.close())
  t.same((await oneHop.inject({ url: '/whoami', headers: spoofed })).json(), { ip: '203.0.113.7', protocol: 'https' },
    'one proxy: the address it saw, not the one the client wrote')

  const everyHop = await buildApp(testSettings({ TRUST_PROXY: true }), { extend: whoAmI })
  t.teardown(() => everyHop.close())
  t.same((await everyHop.inject({ url: '/whoami', headers: spoofed })).json(), { ip: '6.6.6.6', protocol: 'https' },
    'true believes the whole chain, spoofed start included (why the README recommends a count)')

  const list = await buildApp(testSettings({ TRUST_PROXY: '127.0.0.1' }), { extend: whoAmI })
  t.teardown(() => list.close())
  t.same((await list.inject({ url: '/whoami', headers: spoofed })).json(), { ip: '203.0.113.7', protocol: 'https' }, 'an address list')
})

t.test('views cannot be mounted where there is no session plugin: a boot error naming it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  const routes = new RouteTable().addRoute('home', '/').addRoute('hello', '/howdy').addRoute('cart_add', '/cart')
    .addRoute('cart_clear', '/cart/clear').addRoute('session_reset', '/session/reset')
  t.throws(() => mountViews(app, routes, CartViews), /mountViews\(CartViews\) needs a session, but this context has none: register sessionPlugin/)
  t.throws(() => mountViews(app, routes, TutorialViews), /mountViews\(TutorialViews\) needs a session/)
  t.notOk(app.hasRoute({ method: 'POST', url: '/cart' }), 'no form route was registered without CSRF')
})
