// End to end in a real headless Chromium (Debian's package) against the app on a real HTTP port:
// what a person sees, clicks and types, an accessibility check, and the counter across a restart.
import t from 'tap'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { ROOT } from '../scripts/lib.js'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'
import { buildApp } from '../src/app.js'
import { testSettings } from './helper.js'

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

async function countOn (page: Page): Promise<number> {
  const text = await page.locator('.counter p').first().textContent()
  return Number(/Count: (\d+)/.exec(text ?? '')?.[1])
}

async function flashesOn (page: Page): Promise<string[]> {
  return page.locator('.flash').evaluateAll((nodes) => nodes.map((n) => `${n.className.replace('flash flash-', '')}: ${n.textContent}`))
}

t.test('a person browsing: counter, cart, flashes, reset, and a server restart', { skip, timeout: 120_000 }, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true })
  let server = await serve()
  t.teardown(() => server.app.close())
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  t.teardown(() => browser.close())

  let context = await browser.newContext({ viewport: { width: 1000, height: 900 } })
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
  const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true })
  /** Does something that submits a form, and waits for the page the redirect leads to. */
  const submit = async (action: () => Promise<void>) => { await Promise.all([page.waitForEvent('load'), action()]) }

  await page.goto(server.url + '/')
  t.equal(await page.locator('h1').textContent(), 'Hi Home View')
  t.equal(await countOn(page), 1, 'open / : Count 1')
  t.match(await page.locator('.about').textContent(), /an encrypted cookie in your browser/)
  t.equal(await page.evaluate<string>('getComputedStyle(document.querySelector(\'nav a[aria-current="page"]\')).backgroundColor'), 'rgb(31, 95, 191)', 'the stylesheet is applied')
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
  // Keyboard only: the field is found by its label, typed into, submitted with Enter.
  await page.getByLabel('Item').focus()
  await page.keyboard.type('apple')
  await submit(() => page.keyboard.press('Enter'))
  t.same(await flashesOn(page), ['success: Added “apple” to your cart.'], 'add an item: the flash is shown')
  t.same(await page.locator('.cart-items li').allTextContents(), ['apple'], 'and the item listed')
  t.equal(await countOn(page), 5, 'the redirect target counts, the POST does not')
  await shot('03-added')

  // The accessibility check, on the fullest page: flash, cart, forms, about panel.
  // Injected through the DevTools protocol, which the page's CSP (rightly) does not let a script tag do.
  await page.evaluate(AXE_SOURCE)
  // Evaluated in the page (as a string: this file is type-checked without the DOM library).
  const violations = await page.evaluate<Array<{ id: string, impact: string | null, help: string }>>(
    'axe.run().then((result) => result.violations.map(({ id, impact, help }) => ({ id, impact, help })))'
  )
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  t.same(serious, [], 'axe-core: no serious or critical violations')
  t.comment(`axe-core: ${violations.length} minor or moderate finding(s)${violations.map((v) => `\n  ${v.id}: ${v.help}`).join('')}`)

  // The same page in a dark scheme, as a reader who prefers one sees it: dark, and as accessible.
  const dark = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1000, height: 900 }, storageState: await context.storageState() })
  const darkPage = await dark.newPage()
  watchCsp(darkPage)
  await darkPage.goto(server.url + '/')
  t.equal(await darkPage.evaluate<string>('getComputedStyle(document.body).backgroundColor'), 'rgb(20, 23, 28)', 'dark scheme: a dark page')
  await darkPage.evaluate(AXE_SOURCE)
  const darkViolations = await darkPage.evaluate<Array<{ id: string, impact: string | null, help: string }>>(
    'axe.run().then((result) => result.violations.map(({ id, impact, help }) => ({ id, impact, help })))'
  )
  t.same(darkViolations.filter((v) => v.impact === 'serious' || v.impact === 'critical'), [], 'axe-core, dark scheme: no serious or critical violations')
  await darkPage.screenshot({ path: `${ARTIFACTS}03-added-dark.png`, fullPage: true })
  await dark.close()

  await page.reload()
  t.same(await flashesOn(page), [], 'reload: the flash is gone')
  t.same(await page.locator('.cart-items li').allTextContents(), ['apple'], 'the item is still there')

  await page.getByLabel('Item').fill('   ')
  await submit(() => page.getByRole('button', { name: 'Add to cart' }).click())
  t.same(await flashesOn(page), ['error: Type the name of an item before adding it.'], 'an empty item: an error flash')
  await shot('04-error')

  // On a phone: nothing wider than the screen.
  await page.setViewportSize({ width: 360, height: 740 })
  t.ok(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'), 'fits a 360 px wide screen')
  await shot('05-phone')
  await page.setViewportSize({ width: 1000, height: 900 })

  await submit(() => page.getByRole('button', { name: 'Start a new session' }).click())
  t.equal(await countOn(page), 1, 'reset: Count 1')
  t.equal(await page.locator('.cart-items li').count(), 0, 'and an empty cart')
  await page.reload()
  t.equal(await countOn(page), 2)

  // Restart the server on the same port, reopen the browser with the same cookies.
  const state = await context.storageState()
  await context.close()
  const { port } = new URL(server.url)
  await server.app.close()
  server = await serve(Number(port))
  context = await browser.newContext({ storageState: state, viewport: { width: 1000, height: 900 } })
  page = await context.newPage()
  watchCsp(page)
  await page.goto(server.url + '/')
  t.equal(await countOn(page), 3, 'after a server restart the count continues')
  await shot('06-after-restart')
  t.same(cspViolations, [], 'no Content-Security-Policy violations on any page')
  t.same(consoleErrors, [], 'no console errors on any page (the favicon included)')
})
