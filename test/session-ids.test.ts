// Session ids that cannot be reused against their owner: a reset (or rotation) is final even for
// requests already in flight, and every form that goes through changes the id.
import { Browser, cartOf, countOf } from './helper.js'
import { eachSessionStore } from './each-store.js'

/** Another client's address (the victim's, as inject's default, is 127.0.0.1). */
const ATTACKER = '203.0.113.7'

eachSessionStore(async (t, { app: shared }) => {
  // A reset racing requests on the old cookie: concurrency.test.ts (forms and page loads in one race).

  t.test('every successful form changes the session id; the old id leads nowhere (but for the grace, see concurrency.test.ts)', async (t) => {
    const browser = new Browser(await shared())
    await browser.get('/')
    const before = browser.jar.header()!
    const post = await browser.post('/cart', { item: 'apple' })
    t.equal(post.statusCode, 303)
    const after = browser.jar.header()!
    t.not(after, before, 'a new cookie')
    const page = await browser.get('/')
    t.same(cartOf(page), ['apple'], 'the data moved with it')
    t.equal(countOf(page), 2)
    // From another address the old id leads nowhere at once; from the browser's own, after FORWARD_GRACE_MS.
    const replay = (await browser.app.inject({ url: '/session', headers: { cookie: before }, remoteAddress: ATTACKER })).json()
    t.same({ counter: replay.counter, cart: replay.cart }, { counter: 0, cart: [] }, 'the old id is gone')

    const refused = await browser.post('/cart', { _csrf: 'not-the-token', item: 'evil' })
    t.equal(refused.statusCode, 403)
    t.notOk(refused.headers['set-cookie'], 'a refused form changes nothing, the id included')
  })
}, ['memory', 'redis']) // a cookie session has no id to delete: its replay window is in the README

eachSessionStore(async (t, { app: shared }) => {
  t.test('a planted session id stops tracking its victim at the victim\'s first form', async (t) => {
    const app = await shared()
    const attacker = new Browser(app)
    await attacker.get('/')
    const victim = new Browser(app)
    for (const [name, value] of attacker.jar.cookies) victim.jar.cookies.set(name, value)
    await victim.get('/')
    await victim.post('/cart', { item: 'a private purchase' })
    t.same(cartOf(await victim.get('/')), ['a private purchase'])
    const seen = (await attacker.request({ url: '/session', remoteAddress: ATTACKER })).json()
    t.same(seen.cart, [], 'the attacker\'s copy of the id shows nothing of the victim\'s cart')
  })
})
