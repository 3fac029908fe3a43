// End to end in a real headless Chromium (Debian's package) against the app on a real HTTP port:
// what a person sees, clicks and types, an accessibility check, and the counter across a restart.
import t from 'tap'
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { ROOT } from '../scripts/lib.js'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page, type Response } from 'playwright-core'
import { buildApp } from '../src/app.js'
import { testSettings } from './helper.js'
import { limit, within } from './limits.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARTIFACTS = join(ROOT, 'test-artifacts') + '/'
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

// As root on a closed network: no sandbox, and no background traffic to hosts that cannot be reached.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'
]

const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM}: \`apt-get install chromium\` (Debian) or set CHROMIUM_PATH; CI installs it`

async function serve (port = 0): Promise<{ app: FastifyInstance, url: string }> {
  const app = await buildApp(testSettings())
  const url = await app.listen({ host: '127.0.0.1', port })
  return { app, url }
}

/**
 * Another site: `/` posts a form to `target` with the token it was given (as if it had leaked),
 * under the browser's default referrer policy; `/no-referrer` the same with `Referrer-Policy: no-referrer`.
 */
async function serveForger (target: string, token: string): Promise<{ server: Server, origin: string }> {
  const server = createServer((request, response) => {
    const page = `<!doctype html><html lang="en"><title>Win a prize</title>
      <form method="post" action="${target}"><input type="hidden" name="_csrf" value="${token}">
      <input type="hidden" name="item" value="forged"><button>Claim</button></form></html>`
    response.setHeader('content-type', 'text/html; charset=utf-8')
    if (request.url === '/no-referrer') response.setHeader('referrer-policy', 'no-referrer')
    response.end(page)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, origin: `http://evil.test:${(server.address() as AddressInfo).port}` }
}

async function countOn (page: Page): Promise<number> {
  const text = await page.locator('.counter p').first().textContent()
  return Number(/Count: (\d+)/.exec(text ?? '')?.[1])
}

async function flashesOn (page: Page): Promise<string[]> {
  return page.locator('.flash').evaluateAll((nodes) => nodes.map((n) => `${n.className.replace('flash flash-', '')}: ${n.textContent}`))
}

/** The item field as a person (and a screen reader) meets it after a form came back. */
async function itemFieldOn (page: Page) {
  // `autofocus` is applied at the page's next rendering update, which can come after the load
  // event on a busy machine: wait for two animation frames (the focus is settled by the first).
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))')
  // Evaluated in the page (as a string: this file is type-checked without the DOM library).
  return page.evaluate<{ value: string, focused: boolean, invalid: string | null, description: string, inView: boolean }>(`(() => {
    const field = document.getElementById('item')
    const box = field.getBoundingClientRect()
    const description = (field.getAttribute('aria-describedby') ?? '').split(' ')
      .map((id) => document.getElementById(id)?.textContent ?? '').join(' | ')
    return {
      value: field.value,
      focused: document.activeElement === field,
      invalid: field.getAttribute('aria-invalid'),
      description,
      inView: box.top >= 0 && box.bottom <= window.innerHeight
    }
  })()`)
}

/** axe-core's serious and critical findings on the page as it is now. */
async function axeFindings (page: Page): Promise<string[]> {
  // Injected through the DevTools protocol, which the page's CSP (rightly) does not let a script tag do.
  await page.evaluate(AXE_SOURCE)
  const violations = await page.evaluate<Array<{ id: string, impact: string | null, help: string }>>(
    'axe.run().then((result) => result.violations.map(({ id, impact, help }) => ({ id, impact, help })))'
  )
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`)
}

/** The counter card's edge against the card itself: the contrast of its border with its background. */
async function cardEdgeContrast (page: Page): Promise<number> {
  const [edge, card] = await page.evaluate<[string, string]>('[getComputedStyle(document.querySelector(".counter")).borderTopColor, getComputedStyle(document.querySelector(".counter")).backgroundColor]')
  return contrast(edge, card)
}

/** WCAG contrast ratio between two computed `rgb(…)` colours. */
function contrast (a: string, b: string): number {
  const luminance = (rgb: string) => {
    const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((c) => {
      const v = Number(c) / 255
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4
    })
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
  }
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x)
  return (light! + 0.05) / (dark! + 0.05)
}

/**
 * One Chromium for the whole file (each test has contexts of its own): starting it is the costliest
 * step here. `app.test` and `evil.test` both reach this machine, so the browser treats them as two
 * sites on plain http (the host-name test); the other tests use 127.0.0.1.
 */
let sharedBrowser: Promise<Browser> | undefined
function launchedBrowser (): Promise<Browser> {
  sharedBrowser ??= within(60_000, 'Chromium to start', chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP app.test 127.0.0.1, MAP evil.test 127.0.0.1']
  }))
  return sharedBrowser
}
t.teardown(async () => { await (await sharedBrowser)?.close() })

/** A browser context whose every wait (navigation, click, event) has one generous, scaled limit. */
async function newContext (browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext(options)
  context.setDefaultTimeout(limit(30_000))
  return context
}

t.test('a person browsing: counter, cart, errors at the field, flashes, reset, and a server restart', { skip }, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true })
  let server = await serve()
  t.teardown(() => server.app.close())
  const browser = await launchedBrowser()

  // A reader in Jakarta, where the tutorial's report was written: the expiry is shown in their time.
  const contextOptions = { viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'Asia/Jakarta' }
  let context = await newContext(browser, contextOptions)
  let page = await context.newPage()
  // The pages' Content-Security-Policy must let them work: any violation is reported on the console.
  // So is any other error, such as a missing favicon.
  const cspViolations: string[] = []
  const consoleErrors: string[] = []
  const watchCsp = (p: Page) => p.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) cspViolations.push(message.text())
    else if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`)
  })
  watchCsp(page)
  // A picture of each step, for a person looking into a failure: TEST_SCREENSHOTS=1 (each costs
  // Chromium a full-page render and a PNG; they assert nothing, so a plain run skips them).
  const shot = async (name: string, on = page) => {
    if (process.env.TEST_SCREENSHOTS === '1') await on.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true })
  }
  /** Does something that submits a form, and waits for the page the redirect leads to. */
  const submit = async (action: () => Promise<void>, on = page) => { await Promise.all([on.waitForEvent('load'), action()]) }

  await page.goto(server.url + '/')
  t.equal(await page.locator('h1').textContent(), 'Hi Home View')
  t.equal(await countOn(page), 1, 'open / : Count 1')
  t.match(await page.locator('.about').textContent(), /an encrypted cookie in your browser/)
  t.equal(await page.evaluate<string>('getComputedStyle(document.querySelector(\'nav a[aria-current="page"]\')).backgroundColor'), 'rgb(31, 95, 191)', 'the stylesheet is applied')

  // The counter is the hero: the number at least twice the size of its label; the card's edge at 3:1.
  const sizes = await page.evaluate<{ label: number, number: number }>(`({
    label: parseFloat(getComputedStyle(document.querySelector('.counter p')).fontSize),
    number: parseFloat(getComputedStyle(document.querySelector('.counter strong')).fontSize)
  })`)
  t.ok(sizes.number >= 2 * sizes.label, `the number (${sizes.number} px) at least twice its label (${sizes.label} px)`)
  const lightEdge = await cardEdgeContrast(page)
  t.ok(lightEdge >= 3, `card edge ${lightEdge.toFixed(2)}:1 against the card (at least 3:1)`)

  // The expiry: UTC in the HTML, the reader's own time once the page's script ran (Jakarta: UTC+7).
  const expiry = page.locator('.about time')
  const utcHour = Number((await expiry.getAttribute('datetime'))!.slice(11, 13))
  const shown = (await expiry.textContent())!
  t.match(shown, /GMT\+7$/, `the expiry in the reader's time zone: ${shown}`)
  t.equal(Number(/^(\d\d):/.exec(shown)?.[1]) % 12, (utcHour + 7) % 12, 'seven hours after UTC')
  t.match(await expiry.getAttribute('title'), /^\d\d:\d\d UTC$/, 'UTC kept as the title')
  await shot('01-home')

  await page.reload()
  t.equal(await countOn(page), 2, 'reload: Count 2')

  const nav = () => page.getByRole('navigation', { name: 'Pages' })
  await nav().getByRole('link', { name: 'Howdy' }).click()
  await page.waitForURL('**/howdy')
  t.equal(await page.locator('h1').textContent(), 'Hi Hello View')
  t.equal(await countOn(page), 3, 'click to Howdy: Count 3')
  t.equal(await page.locator('nav a[aria-current="page"]').textContent(), 'Howdy')
  await shot('02-howdy')

  await nav().getByRole('link', { name: 'Home' }).click()
  t.equal(await countOn(page), 4)
  t.equal(await page.getByRole('button', { name: 'Clear cart' }).count(), 0, 'no "Clear cart" on an empty cart')

  // Keyboard only: Tab to the field, then three items in a row, each with Enter: the page comes
  // back with the field focused every time, so there is no tabbing back to it.
  for (let tabs = 0; tabs < 20 && !(await itemFieldOn(page)).focused; tabs++) await page.keyboard.press('Tab')
  t.ok((await itemFieldOn(page)).focused, 'the item field is reached with Tab')
  for (const item of ['apple', 'pear', 'plum']) {
    await page.keyboard.type(item)
    await submit(() => page.keyboard.press('Enter'))
    const field = await itemFieldOn(page)
    t.ok(field.focused && field.value === '' && field.invalid === null, `after adding ${item}: the field, empty and focused`)
  }
  t.same(await page.locator('.cart-items li').allTextContents(), ['apple', 'pear', 'plum'], 'three items added from the keyboard')
  t.same(await flashesOn(page), ['success: Added “plum” to your cart.'], 'the flash says what happened')
  t.equal(await page.locator('.flash-success').getAttribute('role'), 'status')
  t.equal(await countOn(page), 7, 'the redirect targets count, the POSTs do not')
  await shot('03-added')
  t.same(await axeFindings(page), [], 'axe-core: no serious or critical findings (flash, cart, forms, about panel)')

  // Errors at the field: refilled as typed, marked invalid, the message tied to the field.
  const refusals: Array<[string, string, RegExp]> = [
    ['empty', '   ', /^Type the name of an item before adding it\. \| Up to 80 characters/],
    ['over-long (no maxlength cuts it)', 'x'.repeat(95), /^An item name can be at most 80 characters; that one has 95\. \| /]
  ]
  for (const [label, typed, message] of refusals) {
    await page.getByLabel('Item').fill(typed)
    await submit(() => page.keyboard.press('Enter'))
    const field = await itemFieldOn(page)
    t.equal(field.value, typed, `${label}: the field refilled with what was typed`)
    t.equal(field.invalid, 'true', `${label}: marked aria-invalid`)
    t.match(field.description, message, `${label}: the message at the field, then the limits (aria-describedby)`)
    t.ok(field.focused, `${label}: focused, to fix it`)
    t.same(await flashesOn(page), [], `${label}: no banner far from the field`)
  }
  await shot('04-error')
  t.same(await axeFindings(page), [], 'axe-core: no serious or critical findings with an error at the field')

  // The 21st item: fill the cart to 20, then one more through the form. The 17 in between are
  // posted with the browser's own cookies but without rendering a page each (the form and its
  // pages were checked above; rendering 17 more cost Chromium about 9 s of CPU).
  const token = (await page.locator('form.add-item input[name="_csrf"]').getAttribute('value'))!
  for (let i = 4; i <= 20; i++) {
    const res = await context.request.post(server.url + '/cart', { form: { _csrf: token, item: `item ${i}` }, headers: { origin: server.url }, maxRedirects: 0 })
    if (res.status() !== 303) t.fail(`posting item ${i}: ${res.status()}`)
  }
  await page.reload()
  t.equal(await page.locator('.cart-items li').count(), 20)
  t.match(await page.locator('#item-hint').textContent(), '20 of 20 items in your cart', 'the limit shown before it is hit')
  await page.getByLabel('Item').fill('item 21')
  await submit(() => page.keyboard.press('Enter'))
  const full = await itemFieldOn(page)
  t.same([full.value, full.invalid, full.focused], ['item 21', 'true', true], 'the 21st: refilled, marked, focused')
  t.match(full.description, /^Your cart is full: it holds at most 20 items\. Clear it to add more\./)
  t.equal(await page.locator('.cart-items li').count(), 20, 'still 20')

  // On a phone, after adding: the field is focused and on screen, nothing wider than the screen.
  await submit(() => page.getByRole('button', { name: 'Clear cart' }).click())
  t.equal(await page.locator('.cart-items li').count(), 0, 'Clear cart empties it')
  await page.setViewportSize({ width: 360, height: 740 })
  await page.getByLabel('Item').fill('fig')
  await submit(() => page.keyboard.press('Enter'))
  const onPhone = await itemFieldOn(page)
  t.ok(onPhone.focused && onPhone.inView, 'on a 360 × 740 screen: the field is focused and in view')
  t.ok(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'), 'fits a 360 px wide screen')
  await shot('05-phone')

  // Light and dark, at 360 and 1280 px: axe finds nothing serious, with an error at the field and
  // the "Start a new session" step opened (so its button is checked too). One page, its colour
  // scheme and size switched: each new context cost Chromium several seconds of CPU.
  await page.goto(server.url + '/')
  await page.getByLabel('Item').fill('')
  await submit(() => page.keyboard.press('Enter'))
  await page.getByText('Start a new session…').click()
  for (const colorScheme of ['light', 'dark'] as const) {
    for (const width of [360, 1280]) {
      await page.emulateMedia({ colorScheme })
      await page.setViewportSize({ width, height: 900 })
      t.same(await axeFindings(page), [], `axe-core, ${colorScheme} at ${width} px: no serious or critical findings`)
      t.ok(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'), `${colorScheme} at ${width} px: no horizontal scroll`)
      if (colorScheme === 'dark') {
        t.equal(await page.evaluate<string>('getComputedStyle(document.body).backgroundColor'), 'rgb(20, 23, 28)', `dark at ${width} px: a dark page`)
        const darkEdge = await cardEdgeContrast(page)
        t.ok(darkEdge >= 3, `dark: card edge ${darkEdge.toFixed(2)}:1 against the card (at least 3:1)`)
      }
    }
  }

  // The README's screenshots: the same page (an item just added) in light and in dark, from this run.
  await page.setViewportSize({ width: 900, height: 900 })
  await page.emulateMedia({ colorScheme: 'light' })
  await page.goto(server.url + '/')
  await page.getByLabel('Item').fill('pear')
  await submit(() => page.keyboard.press('Enter'))
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme })
    const path = `${ARTIFACTS}readme-${colorScheme}.png`
    await page.screenshot({ path, fullPage: true })
    t.ok(statSync(path).size < 150 * 1024, `readme-${colorScheme}.png is under 150 KB (${Math.round(statSync(path).size / 1024)} KB)`)
  }
  await page.emulateMedia({ colorScheme: 'light' })
  await page.setViewportSize(contextOptions.viewport)

  // A stale form: the session is reset in one tab while an item is typed in another.
  const tabA = page
  const tabB = await context.newPage()
  watchCsp(tabB)
  await tabB.goto(server.url + '/')
  await tabB.getByLabel('Item').fill('milk')
  // "Start a new session" asks first: the button appears only once the step is opened.
  const resetButton = tabA.getByRole('button', { name: 'Yes, start a new session' })
  t.notOk(await resetButton.isVisible(), 'the destructive button is not one click away')
  await tabA.getByText('Start a new session…').click()
  t.ok(await resetButton.isVisible(), 'opening the step shows it')
  await submit(() => resetButton.click(), tabA)
  t.equal(await countOn(tabA), 1, 'reset: Count 1')
  t.equal(await tabA.locator('.cart-items li').count(), 0, 'and an empty cart')
  await submit(() => tabB.keyboard.press('Enter'), tabB)
  const stale = await itemFieldOn(tabB)
  t.equal(stale.value, 'milk', 'the other tab\'s form comes back with what was typed')
  t.match(stale.description, /^This page had expired \(your session was reset or timed out after it loaded\), so nothing was changed\./, 'and says what happened, at the field')
  t.equal(await tabB.locator('.cart-items li').count(), 0, 'nothing was added from the stale page')
  await submit(() => tabB.keyboard.press('Enter'), tabB)
  t.same(await tabB.locator('.cart-items li').allTextContents(), ['milk'], 'sent again, it goes through')
  await shot('07-stale-form-sent-again', tabB)
  await tabB.close()

  await page.reload()
  t.equal(await countOn(page), 4, 'one session in both tabs: reset (1), the stale post\'s page (2), sent again (3), reload (4)')

  // Restart the server on the same port, reopen the browser with the same cookies.
  const beforeRestart = await context.storageState()
  await context.close()
  const { port } = new URL(server.url)
  await server.app.close()
  server = await serve(Number(port))
  context = await newContext(browser, { ...contextOptions, storageState: beforeRestart })
  page = await context.newPage()
  watchCsp(page)
  await page.goto(server.url + '/')
  t.equal(await countOn(page), 5, 'after a server restart the count continues')
  await shot('06-after-restart')

  // The 404 page, in words, with a way home.
  await page.goto(server.url + '/nope')
  t.equal(await page.locator('main p').first().textContent(), 'There is no page at /nope.')
  await page.getByRole('link', { name: 'Back to the home page' }).click()
  t.equal(await page.locator('h1').textContent(), 'Hi Home View')

  t.same(cspViolations, [], 'no Content-Security-Policy violations on any page')
  // The one error expected: Chromium reports the 404 of the page that was asked for.
  const unexpected = consoleErrors.filter((error) => !error.endsWith('/nope)'))
  t.same(unexpected, [], 'no other console errors on any page (the favicon included)')
  t.equal(consoleErrors.length - unexpected.length, 1, 'the 404 itself was seen (so errors are being watched)')
})

t.test('under a host name over plain http (no Sec-Fetch-Site): our own form goes through, another site\'s is refused', { skip }, async (t) => {
  const server = await serve()
  t.teardown(() => server.app.close())
  const app = `http://app.test:${new URL(server.url).port}`
  const browser = await launchedBrowser()
  const context = await newContext(browser)
  t.teardown(() => context.close())
  const page = await context.newPage()
  /** Does `action` and waits for the answer to the form it posts to the app's /cart, then for the page after it. */
  const postToCart = async (action: () => Promise<void>): Promise<Response> => {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === `${app}/cart`),
      page.waitForEvent('load'),
      action()
    ])
    return response
  }

  await page.goto(`${app}/`)
  t.equal(await page.locator('h1').textContent(), 'Hi Home View')
  await page.getByLabel('Item').fill('apple')
  const own = await postToCart(() => page.keyboard.press('Enter'))
  const ownHeaders = await own.request().allHeaders()
  t.equal(ownHeaders['sec-fetch-site'], undefined, 'not a secure context: the browser sends no Sec-Fetch-Site')
  t.equal(ownHeaders.origin, app, 'the referrer policy keeps the real Origin on our own form (not "null")')
  t.equal(own.status(), 303, 'our own form goes through')
  t.equal(page.url(), `${app}/`)
  t.same(await page.locator('.cart-items li').allTextContents(), ['apple'], 'the item is in the cart')

  // The token leaks to another site (the worst case): the origin check still refuses its form.
  const token = (await page.locator('form.add-item input[name="_csrf"]').getAttribute('value'))!
  const forger = await serveForger(`${app}/cart`, token)
  t.teardown(() => new Promise<void>((resolve) => {
    forger.server.closeAllConnections()
    forger.server.close(() => resolve())
  }))
  for (const [path, origin] of [['/', forger.origin], ['/no-referrer', 'null']]) {
    await page.goto(forger.origin + path)
    const forged = await postToCart(() => page.getByRole('button', { name: 'Claim' }).click())
    t.equal((await forged.request().allHeaders()).origin, origin, `evil.test${path}: Origin ${origin}`)
    t.equal(forged.status(), 403, `evil.test${path}: refused`)
    t.match(await page.locator('main').textContent(), 'This form was sent from another site, so nothing was changed.',
      `evil.test${path}: refused by the origin check, not only for a missing session cookie`)
  }

  await page.goto(`${app}/`)
  t.same(await page.locator('.cart-items li').allTextContents(), ['apple'], 'the cart is unchanged')
})
