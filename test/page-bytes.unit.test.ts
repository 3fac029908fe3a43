// The pages' bytes, held still: each page the templates make, for data that takes every branch
// (empty and full cart, each kind of flash, a refused field, a first visit, the error page, text
// that must be escaped, characters beyond ASCII), rendered as the app renders it (@fastify/view
// with src/templates.ts `viewOptions`) and compared byte for byte with the page as it was before
// the render path was made cheaper (test/fixtures/pages/, written by the templates of commit
// bc78282: a layout rendered around each page by @fastify/view). A change that makes rendering
// cheaper must not change a byte; a change meant to change the page rewrites the fixtures, on
// purpose and in the same commit: `WRITE_PAGE_FIXTURES=1 npm run test:file -- dist/test/page-bytes.unit.test.js`.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import fastifyView from '@fastify/view'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { viewOptions } from '../src/templates.js'
import { MAX_CART_ITEMS, MAX_ITEM_LENGTH } from '../src/cart.js'
import { PROJECT_ROOT } from '../src/project-root.js'

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'pages')

const urls = { home: '/', hello: '/howdy', cart_add: '/cart', cart_clear: '/cart/clear', session_reset: '/session/reset', session_info: '/session' }
const homeNav = [{ label: 'Home', href: '/', current: true }, { label: 'Howdy', href: '/howdy', current: false }]
const helloNav = [{ label: 'Home', href: '/', current: false }, { label: 'Howdy', href: '/howdy', current: true }]
const about = {
  storeText: 'an encrypted cookie in your browser (the server keeps nothing)',
  resetText: 'Your browser gets a new, empty session cookie.',
  idleText: '20 minutes',
  cookieBytes: 281,
  expiresAt: '2026-11-25T23:30:00.000Z',
  expiresText: '23:30 UTC'
}
const firstVisit = { ...about, cookieBytes: 0, expiresAt: null, expiresText: null }
const token = 'k3dXb3Qq-0cm1Q0Qz3bC8bTg1W9b3P1x2x9n0nZkVb4eYx5pQ6Vc'

/** Each fixture: the template and its data, as the views and the error pages give them. */
const PAGES: Record<string, { template: string, data: Record<string, unknown> }> = {
  'home-first-visit': { template: 'home.hbs', data: { name: 'Home View', counter: 1, cart: [], urls, nav: homeNav, flashes: [], csrfToken: token, about: firstVisit } },
  'home-cart-and-flashes': {
    template: 'home.hbs',
    data: {
      name: 'Home View',
      counter: 42,
      cart: ['apple', '<b>bold</b> & "quoted" \'single\' `tick` =', 'Café, naïve, 日本語, 🍎'],
      urls,
      nav: homeNav,
      flashes: [{ category: 'success', message: 'Item added!' }, { category: 'error', message: 'Not <saved>' }, { category: 'info', message: 'Note & more' }],
      csrfToken: token,
      about
    }
  },
  'home-refused-field': {
    template: 'home.hbs',
    data: { name: 'Home View', counter: 7, cart: ['pear'], urls, nav: homeNav, flashes: [], fields: { item: { value: 'x'.repeat(81), error: 'Item names are at most 80 characters; this one has 81.' } }, csrfToken: token, about }
  },
  'home-refilled-field-no-error': {
    template: 'home.hbs',
    data: { name: 'Home View', counter: 3, cart: [], urls, nav: homeNav, flashes: [], fields: { item: { value: '"><script>' } }, csrfToken: token, about }
  },
  'home-head-request': { template: 'home.hbs', data: { name: 'Home View', counter: 2, cart: [], urls, nav: homeNav, flashes: [], csrfToken: undefined, about } },
  'hello-empty': { template: 'hello.hbs', data: { name: 'Hello View', counter: 2, cart: [], urls, nav: helloNav, flashes: [], about } },
  'hello-cart-and-flash': { template: 'hello.hbs', data: { name: 'Hello View', counter: 9, cart: ['a', 'b'], urls, nav: helloNav, flashes: [{ category: 'success', message: 'Cart cleared.' }], about } },
  'error-404': { template: 'error.hbs', data: { name: 'Not Found', statusCode: 404, message: 'There is no page at /nope<x>.', urls, nav: homeNav } }
}

const writing = process.env.WRITE_PAGE_FIXTURES === '1'

// In production the templates are compiled once; in development read and compiled on every render
// (partials included), so an edit shows on reload: both must make the same page.
for (const production of [true, false]) {
  t.test(`every page renders to the same bytes as before (${production ? 'production' : 'development'})`, async (t) => {
    const app = Fastify()
    await app.register(fastifyView, viewOptions(production, { limits: { itemLength: MAX_ITEM_LENGTH, cartItems: MAX_CART_ITEMS } }))
    t.teardown(() => app.close())
    await comparePages(t, (template, data) => app.view(template, data))
  })
}

async function comparePages (t: Test, render: (template: string, data: Record<string, unknown>) => Promise<string>) {
  for (const [name, { template, data }] of Object.entries(PAGES)) {
    const file = join(FIXTURES, `${name}.html`)
    const bytes = Buffer.from(await render(template, structuredClone(data)))
    if (writing) writeFileSync(file, bytes)
    const before = readFileSync(file)
    // Compared as bytes; on a difference, the first line that differs says where.
    if (!bytes.equals(before)) {
      const now = bytes.toString().split('\n')
      const then = before.toString().split('\n')
      const line = now.findIndex((text, i) => text !== then[i])
      t.fail(`${name}: ${bytes.length} bytes, was ${before.length}; line ${line + 1} is ${JSON.stringify(now[line])}, was ${JSON.stringify(then[line])}`)
    } else {
      t.pass(`${name}: ${bytes.length} bytes, unchanged`)
    }
  }
}

t.test('the fixtures are real pages: the count, the escaped cart item and the flash are in them', async (t) => {
  const page = readFileSync(join(FIXTURES, 'home-cart-and-flashes.html'), 'utf8')
  t.match(page, /^<!doctype html>/)
  t.match(page, 'Count: <strong>42</strong>')
  t.match(page, '<li>&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; &#x27;single&#x27; &#x60;tick&#x60; &#x3D;</li>')
  t.match(page, 'role="status">Item added!</p>')
  t.match(page, 'role="alert">Not &lt;saved&gt;</p>')
  t.match(page, '</html>\n')
})
