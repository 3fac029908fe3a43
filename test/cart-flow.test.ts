// Flash messages and the cart through the whole app: POST, 303, GET, with CSRF and a cookie jar.
import t from 'tap'
import { Browser, build as buildCookieApp, cartOf, countOf, flashesOf, flashRolesOf, itemFieldOf, sessionReader } from './helper.js'
import { eachSessionStore, type StoreContext } from './each-store.js'
import { createClient } from 'redis'

async function browserOnHome (app: StoreContext['app']) {
  const browser = new Browser(await app())
  await browser.get('/')
  return browser
}

eachSessionStore(async (t, { build, settings, app: shared }) => {
  t.test('add an item: 303 to /, the message shows once, the item stays', async (t) => {
    const browser = await browserOnHome(shared)

    const post = await browser.post('/cart', { item: 'apple' })
    t.equal(post.statusCode, 303)
    t.equal(post.headers.location, '/')

    const next = await browser.get('/')
    t.same(flashesOf(next), ['success: Added “apple” to your cart.'])
    t.same(cartOf(next), ['apple'])
    t.equal(countOf(next), 2, 'the POST itself is not a page view')
    t.same(itemFieldOf(next), { value: '', autofocus: true, invalid: false, error: undefined, describedBy: 'item-hint' },
      'the field comes back empty and focused, for the next item')
    t.match(next.body, '<p id="item-hint" class="field-hint">Up to 80 characters; 1 of 20 items in your cart.</p>', 'the limits, before they are hit')

    const after = await browser.get('/')
    t.same(flashesOf(after), [], 'shown once')
    t.same(cartOf(after), ['apple'])
    t.equal(itemFieldOf(after).autofocus, false, 'focused once: a plain visit does not take the focus')
  })

  t.test('the flash is shown on whichever page comes next', async (t) => {
    const browser = await browserOnHome(shared)
    await browser.post('/cart', { item: 'pear' })
    const hello = await browser.get('/howdy')
    t.same(flashesOf(hello), ['success: Added “pear” to your cart.'])
    t.same(flashesOf(await browser.get('/')), [])
  })

  t.test('a pending flash survives a redirect, HEAD, /healthz, a 404 and a JSON request', async (t) => {
    const browser = await browserOnHome(shared)
    await browser.post('/cart', { item: 'plum' })
    // A stale "Clear cart" from this site's page: an error flash (the stale-form tests below).
    t.equal((await browser.post('/cart/clear', { _csrf: 'stale' }, { 'sec-fetch-site': 'same-origin' })).statusCode, 303)

    t.equal((await browser.request({ method: 'HEAD', url: '/' })).statusCode, 200)
    t.equal((await browser.get('/healthz')).statusCode, 200)
    t.equal((await browser.get('/no-such-page')).statusCode, 404)
    const json = await browser.getJson('/')
    t.same(json.json().cart, ['plum'])

    const page = await browser.get('/')
    t.same(flashesOf(page), [
      'error: This page had expired (your session was reset or timed out after it loaded), so nothing was changed. Try again.',
      'success: Added “plum” to your cart.'
    ], 'several messages queue; errors first')
    t.same(flashRolesOf(page), ['alert', 'status'], 'a screen reader announces the error at once, the rest when idle')
  })

  t.test('"Clear cart" is offered only when there is something to clear', async (t) => {
    const browser = await browserOnHome(shared)
    t.notMatch((await browser.get('/')).body, 'Clear cart', 'not on an empty cart')
    await browser.post('/cart', { item: 'fig' })
    t.match((await browser.get('/')).body, 'Clear cart')
    await browser.post('/cart/clear')
    const page = await browser.get('/')
    t.same(cartOf(page), [])
    t.notMatch(page.body, 'Clear cart', 'gone again once the cart is cleared')
    t.match(page.body, 'Start a new session', 'starting a new session is always offered')
  })

  t.test('validation: each rule leaves the cart unchanged and says why', async (t) => {
    const browser = await browserOnHome(shared)
    await browser.post('/cart', { item: 'kept' })
    await browser.get('/')

    const cases: Array<[string, string]> = [
      ['', 'Type the name of an item before adding it.'],
      ['   ', 'Type the name of an item before adding it.'],
      ['x'.repeat(81), 'An item name can be at most 80 characters; that one has 81.'],
      ['\u3164', 'An item name cannot contain line breaks, tabs or invisible control characters.'],
      ['\u2800', 'That name has nothing visible in it: type the name of an item.'],
      ['b' + '\u0301'.repeat(400), 'That name takes 801 bytes to store, and an item can take at most 640: it has too many accents, marks or emoji parts for its length.']
    ]
    for (const [item, error] of cases) {
      const label = JSON.stringify(item.slice(0, 10))
      const post = await browser.post('/cart', { item })
      t.equal(post.statusCode, 303)
      t.equal(post.headers.location, '/')
      const page = await browser.get('/')
      // Refilled as typed, up to the 200 code points a refill keeps.
      const refilled = Array.from(item).slice(0, 200).join('')
      t.same(itemFieldOf(page), { value: refilled, autofocus: true, invalid: true, error, describedBy: 'item-error item-hint' },
        `${label}: the message at the field, tied to it, the field marked and refilled as typed`)
      t.same(flashesOf(page), [], `${label}: not in the banner, away from the field`)
      t.same(cartOf(page), ['kept'])
      const again = itemFieldOf(await browser.get('/'))
      t.same([again.error, again.value, again.invalid], [undefined, '', false], `${label}: shown once`)
    }
  })

  t.test('a refused item comes back escaped, and cut to 200 characters when it is far too long', async (t) => {
    const browser = await browserOnHome(shared)
    const sneaky = '"><script>alert(1)</script>' + 'x'.repeat(80)
    await browser.post('/cart', { item: sneaky })
    const page = await browser.get('/')
    t.notMatch(page.body, '<script>alert(1)</script>')
    t.equal(itemFieldOf(page).value, '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;' + 'x'.repeat(80), 'in the value attribute, escaped')

    // 199 letters, then pears (two UTF-16 units each): a cut by units would split the 200th character.
    await browser.post('/cart', { item: 'x'.repeat(199) + '🍐'.repeat(300) })
    const field = itemFieldOf(await browser.get('/'))
    t.equal(field.error, 'An item name can be at most 80 characters; that one has 499.', 'the message counts all of it')
    t.equal(field.value, 'x'.repeat(199) + '🍐', 'the field keeps the first 200 characters, whole (no half of a pair)')
  })

  t.test('HEAD shows the returned field without taking it', async (t) => {
    const browser = await browserOnHome(shared)
    await browser.post('/cart', { item: '' })
    const head = await browser.request({ method: 'HEAD', url: '/' })
    t.equal(head.statusCode, 200)
    t.equal(itemFieldOf(await browser.get('/')).error, 'Type the name of an item before adding it.')
  })

  t.test('the item is trimmed', async (t) => {
    const browser = await browserOnHome(shared)
    await browser.post('/cart', { item: '  fig  ' })
    t.same(cartOf(await browser.get('/')), ['fig'])
  })

  t.test('the cart holds at most 20 items', async (t) => {
    const browser = await browserOnHome(shared)
    for (let i = 1; i <= 20; i++) await browser.post('/cart', { item: `item ${i}` })
    await browser.get('/')
    await browser.post('/cart', { item: 'item 21' })
    const page = await browser.get('/')
    t.equal(cartOf(page).length, 20)
    t.equal(cartOf(page).at(-1), 'item 20')
    t.same(itemFieldOf(page), {
      value: 'item 21',
      autofocus: true,
      invalid: true,
      describedBy: 'item-error item-hint',
      error: 'Your cart is full: it holds at most 20 items. Clear it to add more.'
    })
    t.match(page.body, '20 of 20 items in your cart.')
    t.same(flashesOf(page), [])
  })

  t.test('clear empties the cart and says so', async (t) => {
    const browser = await browserOnHome(shared)
    await browser.post('/cart', { item: 'a' })
    await browser.post('/cart', { item: 'b' })
    const post = await browser.post('/cart/clear')
    t.equal(post.statusCode, 303)
    const page = await browser.get('/')
    t.same(cartOf(page), [])
    t.match(page.body, 'Your cart is empty.')
    t.same(flashesOf(page).at(-1), 'info: Your cart is empty again.')
  })

  t.test('reset starts a new session: Count 1, empty cart, an info message', async (t) => {
    const browser = await browserOnHome(shared)
    await browser.get('/')
    await browser.post('/cart', { item: 'a' })
    // What the page says a reset does is true of this mode: only a store can delete the old session.
    const offer = /<details class="new-session">[\s\S]*?<p>([^<]*)<\/p>/.exec((await browser.get('/')).body)?.[1]
    t.equal(offer, 'This starts over with a count of 1 and an empty cart (the 1 item(s) in it now are dropped). ' + (settings.SESSION_STORE === 'cookie'
      ? 'Your browser gets a new, empty session cookie. The server keeps nothing to delete, so a copy of the old cookie, if one was saved somewhere, would still work until it expires.'
      : 'The old session is deleted on the server: its cookie leads nowhere after this, and it cannot be brought back.'))
    const post = await browser.post('/session/reset')
    t.equal(post.statusCode, 303)
    t.equal(post.headers.location, '/')

    const page = await browser.get('/')
    t.equal(countOf(page), 1)
    t.same(cartOf(page), [])
    t.same(flashesOf(page), ['info: You are in a new session, with a new count and an empty cart.'])
  })

  t.test('CSRF: a POST without a valid token gets 403 and changes nothing', async (t) => {
    const browser = await browserOnHome(shared)
    await browser.post('/cart', { item: 'kept' })
    const before = browser.jar.header()

    const attempts: Array<[string, Record<string, string | string[]>]> = [
      ['no token', { _csrf: '', item: 'evil' }],
      ['wrong token', { _csrf: 'not-a-token', item: 'evil' }],
      ['token twice', { _csrf: [browser.csrfToken!, browser.csrfToken!], item: 'evil' }]
    ]
    for (const [label, fields] of attempts) {
      for (const url of ['/cart', '/cart/clear', '/session/reset']) {
        const res = await browser.post(url, { ...fields })
        t.equal(res.statusCode, 403, `${label} ${url}`)
        t.notOk(res.headers['set-cookie'], `${label} ${url}: no new cookie`)
        t.match(res.body, 'This form was out of date or did not come from this site, so nothing was changed.')
      }
    }
    t.equal(browser.jar.header(), before, 'the cookie is the same')
    const page = await browser.get('/')
    t.same(cartOf(page), ['kept'])
    t.equal(countOf(page), 2)
  })

  t.test('CSRF: a token from another browser\'s session is refused', async (t) => {
    const app = await shared()
    const alice = new Browser(app)
    const mallory = new Browser(app)
    await alice.get('/')
    await mallory.get('/')
    const res = await alice.post('/cart', { _csrf: mallory.csrfToken!, item: 'evil' })
    t.equal(res.statusCode, 403)
  })

  t.test('CSRF: one token per session, as in Pyramid; a reset brings a new one and the old one is refused', async (t) => {
    const browser = await browserOnHome(shared)
    const first = browser.csrfToken!
    await browser.get('/howdy')
    t.equal(browser.csrfToken, first, 'every page of the session carries the same token')
    t.equal((await browser.post('/cart', { item: 'a' })).statusCode, 303)
    await browser.get('/')
    t.equal(browser.csrfToken, first, 'a form that went through (and rotated the id) keeps it')

    await browser.post('/session/reset')
    await browser.get('/')
    t.not(browser.csrfToken, first, 'the new session has a token of its own')
    const stale = await browser.post('/cart', { _csrf: first, item: 'evil' })
    t.equal(stale.statusCode, 403, 'the old session\'s token is refused')
    t.same(cartOf(await browser.get('/')), [])
  })

  t.test('a stale form from this site\'s page (reset in another tab) comes back with what was typed, and changes nothing', async (t) => {
    const browser = await browserOnHome(shared)
    await browser.post('/cart', { item: 'old' })
    const oldToken = browser.csrfToken!
    await browser.post('/session/reset') // "another tab"
    await browser.get('/')

    const sameOrigin = { 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80' }
    const stale = await browser.post('/cart', { _csrf: oldToken, item: 'milk' }, sameOrigin)
    t.equal(stale.statusCode, 303, 'not a dead-end 403')
    t.equal(stale.headers.location, '/', 'back to the form\'s page')
    const page = await browser.get('/')
    t.same(cartOf(page), [], 'nothing was added')
    t.same(itemFieldOf(page), {
      value: 'milk',
      autofocus: true,
      invalid: true,
      describedBy: 'item-error item-hint',
      error: 'This page had expired (your session was reset or timed out after it loaded), so nothing was changed. What you typed is still here: send it again.'
    })
    t.equal((await browser.post('/cart', { item: 'milk' }, sameOrigin)).statusCode, 303, 'sent again with the fresh page\'s token')
    t.same(cartOf(await browser.get('/')), ['milk'])

    // A form with no field to refill (Clear cart) gets its message as a flash, and clears nothing.
    const staleClear = await browser.post('/cart/clear', { _csrf: oldToken }, { origin: 'http://localhost:80' })
    t.equal(staleClear.statusCode, 303, 'an older browser (Origin only) naming this host')
    const after = await browser.get('/')
    t.same(cartOf(after), ['milk'])
    t.same(flashesOf(after), ['error: This page had expired (your session was reset or timed out after it loaded), so nothing was changed. Try again.'])
  })

  t.test('a stale token without a browser\'s word that it came from this site is a plain 403 (nothing echoed back)', async (t) => {
    const browser = await browserOnHome(shared)
    const cases: Array<[string, Record<string, string>]> = [
      ['no Origin, no Sec-Fetch-Site (curl, a script)', {}],
      ['Sec-Fetch-Site: none (typed into the address bar)', { 'sec-fetch-site': 'none' }],
      ['same-origin, but JSON asked for', { 'sec-fetch-site': 'same-origin', accept: 'application/json' }]
    ]
    for (const [label, headers] of cases) {
      const res = await browser.post('/cart', { _csrf: 'stale', item: 'echo me' }, headers)
      t.equal(res.statusCode, 403, label)
      t.notOk(res.headers['set-cookie'], `${label}: nothing written`)
    }
    const page = await browser.get('/')
    t.equal(itemFieldOf(page).value, '', 'nothing refilled')
    t.same(flashesOf(page), [])
  })

  t.test('a stale-looking form with no session cookie at all is a plain 403 and creates no session', async (t) => {
    const app = await shared()
    const redis = settings.REDIS_URL === undefined ? undefined : createClient({ url: settings.REDIS_URL })
    await redis?.connect()
    t.teardown(() => redis?.destroy())
    const keysBefore = await redis?.dbSize()
    const sameOrigin = { 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80', 'content-type': 'application/x-www-form-urlencoded' }
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({ method: 'POST', url: '/cart', headers: sameOrigin, payload: '_csrf=bogus&item=milk' })
      t.equal(res.statusCode, 403, 'refused, not sent back to a page')
      t.notOk(res.headers['set-cookie'], 'no session cookie')
    }
    if (redis !== undefined) t.equal(await redis.dbSize(), keysBefore, 'no key added in Redis')
    if (settings.SESSION_STORE === 'memory') {
      // One eviction-free way to see the memory store's size from outside: a store of one session
      // keeps a browser's session only if nothing else took the place.
      const small = await build(t, { SESSION_STORE_MAX: 1 })
      const browser = new Browser(small)
      await browser.get('/')
      await small.inject({ method: 'POST', url: '/cart', headers: sameOrigin, payload: '_csrf=bogus&item=milk' })
      t.equal(countOf(await browser.get('/')), 2, 'the one session in a store of one survived: the post stored nothing')
    }
  })

  t.test('at most 10 messages wait in a session: posts that never follow the 303 drop the oldest', async (t) => {
    const browser = await browserOnHome(shared)
    for (let i = 1; i <= 15; i++) t.equal((await browser.post('/cart', { item: `item ${i}` })).statusCode, 303)
    const page = await browser.get('/')
    t.same(flashesOf(page), Array.from({ length: 10 }, (_, i) => `success: Added “item ${i + 6}” to your cart.`), 'the newest ten')
    t.equal(cartOf(page).length, 15, 'every item was still added')
    t.same(flashesOf(await browser.get('/')), [], 'and shown once')
  })

  t.test('CSRF: 403 answers JSON when asked', async (t) => {
    const browser = await browserOnHome(shared)
    const res = await browser.post('/cart', { _csrf: 'x', item: 'a' }, { accept: 'application/json' })
    t.equal(res.statusCode, 403)
    t.match(res.json(), { statusCode: 403, error: 'Forbidden', message: /nothing was changed/ })
  })

  t.test('item names are escaped in the list and in the message', async (t) => {
    const browser = await browserOnHome(shared)
    await browser.post('/cart', { item: '<script>alert(1)</script>' })
    const page = await browser.get('/')
    t.notMatch(page.body, '<script>alert(1)</script>')
    t.same(cartOf(page), ['&lt;script&gt;alert(1)&lt;/script&gt;'])
    t.same(flashesOf(page), ['success: Added “&lt;script&gt;alert(1)&lt;/script&gt;” to your cart.'])
  })

  t.test('a non-string item is a 400 and the cart is unchanged', async (t) => {
    const browser = await browserOnHome(shared)
    await browser.post('/cart', { item: 'kept' })
    const res = await browser.post('/cart', { item: ['a', 'b'] })
    t.equal(res.statusCode, 400)
    t.same(cartOf(await browser.get('/')), ['kept'])
  })
})

t.test('cookie sessions: a page with no pending flash leaves the flash queue alone (no empty write)', async (t) => {
  const readSession = await sessionReader(t)
  const browser = new Browser(await buildCookieApp(t))
  await browser.get('/')
  await browser.get('/howdy')
  const session = readSession(browser.jar)
  t.equal(session?.counter, 2, 'the cookie decodes')
  t.notOk(session && 'flash' in session, 'no flash key was written')
})
