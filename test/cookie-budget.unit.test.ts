// The 4096-byte cookie limit: an update that would not fit is not sent, the old session stays, the user is told.
import t from 'tap'
import { buildApp } from '../src/app.js'
import { MAX_COOKIE_BYTES } from '../src/framework/session-stores/index.js'
import { Browser, cartOf, countOf, flashesOf, logCapture, testSettings } from './helper.js'
import { addUntilRefused } from './framework/until-refused.js'

t.test('a cart of long non-ASCII items hits the cookie limit: nothing oversized is sent, nothing lost', async (t) => {
  const logs = logCapture()
  const app = await buildApp(testSettings({ LOG_LEVEL: 'warn' }), { fastify: { logger: { level: 'warn', stream: logs.stream } } })
  t.teardown(() => app.close())
  const browser = new Browser(app)
  await browser.get('/')

  // 80 four-byte characters per item: valid by the cart's rules, ~320 bytes each once encrypted.
  const item = (n: number) => `${n}`.padEnd(80, '🍎')
  const { accepted, refusal } = await addUntilRefused(20, async (n) => {
    const post = await browser.post('/cart', { item: item(n) })
    t.equal(post.statusCode, 303)
    for (const header of [post.headers['set-cookie'] ?? []].flat()) {
      t.ok(Buffer.byteLength(header) <= MAX_COOKIE_BYTES, `Set-Cookie is ${Buffer.byteLength(header)} bytes`)
    }
  }, () => browser.get('/'), flashesOf)

  t.ok(refusal, 'the guard refused an update before the cart was full')
  t.ok(accepted >= 5, `the cart kept ${accepted} items first`)
  t.same(refusal?.flashes, ['error: That change was not saved: it would have made your session cookie larger than browsers keep (4096 bytes).'])
  t.same(cartOf(refusal!.page).length, accepted, 'the previous cart is intact')
  t.equal(countOf(refusal!.page), accepted + 2, 'and so is the counter')

  const warning = logs.lines().find((line) => line.msg === 'session cookie too large; change not saved')
  t.ok(warning, 'a warning is logged')
  t.ok((warning?.cookieBytes as number) > MAX_COOKIE_BYTES, `with the size (${String(warning?.cookieBytes)} bytes)`)
  t.equal(warning?.limit, MAX_COOKIE_BYTES)

  // The browser can go on using its session.
  const after = await browser.get('/')
  t.same(flashesOf(after), [])
  t.equal(cartOf(after).length, accepted)
})
