/**
 * `npm run bench:parts`: what the pieces of a session page cost, in microseconds of CPU, each timed
 * on its own in this process. No HTTP and no other process, so the figures are far steadier than
 * `npm run bench`'s, whose ratios they explain. Each figure is the fastest of 7 batches.
 *
 *   npm run bench:parts
 */
import Fastify from 'fastify'
import fastifySecureSession from '@fastify/secure-session'
import { signerFactory } from '@fastify/cookie'
import { configure } from 'safe-stable-stringify'
import { createHash, randomBytes } from 'node:crypto'
import { addToCart, MAX_CART_ITEMS, MAX_ITEM_LENGTH } from '../src/cart.js'
import { viewOptions } from '../src/templates.js'

const BATCHES = 7

/** Microseconds per call: the fastest of BATCHES batches of `n` calls. */
function time (n: number, work: () => unknown): number {
  let best = Infinity
  for (let batch = 0; batch < BATCHES; batch++) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < n; i++) work()
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1000 / n)
  }
  return best
}

// A session as the app keeps it after a few pages and one item: what every page decrypts and encrypts.
const session = {
  counter: 42,
  _csrf: randomBytes(32).toString('base64url'),
  touchedAt: 1_764_300_000,
  createdAt: 1_764_299_000,
  cart: ['apple']
}

const app = Fastify()
await app.register(fastifySecureSession, { key: randomBytes(32), cookie: { path: '/' } })
await app.ready()
const cookieValue = app.encodeSecureSession(app.createSecureSession(session))

const signer = signerFactory(randomBytes(32).toString('base64url'))
const id = randomBytes(24).toString('base64url')
const signedId = signer.sign(id)
const stringify = configure({ bigint: false })

const render = await (async () => {
  const view = Fastify()
  await view.register((await import('@fastify/view')).default, viewOptions(true, { limits: { itemLength: MAX_ITEM_LENGTH, cartItems: MAX_CART_ITEMS } }))
  await view.ready()
  const context = {
    name: 'Home View',
    counter: 42,
    cart: ['apple'],
    urls: { home: '/', hello: '/howdy', cart_add: '/cart', cart_clear: '/cart/clear', session_reset: '/session/reset', session_info: '/session' },
    nav: [{ label: 'Home', href: '/', current: true }, { label: 'Howdy', href: '/howdy', current: false }],
    flashes: [],
    csrfToken: session._csrf,
    about: { storeText: 'an encrypted cookie in your browser', cookieBytes: cookieValue.length, idleText: '20 minutes', expiresAt: '2026-11-28T03:20:00.000Z', expiresText: '03:20 UTC' }
  }
  await view.view('home.hbs', context)
  return () => view.view('home.hbs', context)
})()

const rows: Array<[string, number]> = [
  ['secure-session: decrypt the cookie (decodeSecureSession)', time(20_000, () => app.decodeSecureSession(cookieValue))],
  ['secure-session: encrypt the session (encodeSecureSession)', time(20_000, () => app.encodeSecureSession(app.createSecureSession(session)))],
  ['@fastify/session: unsign the id cookie (HMAC-SHA256)', time(50_000, () => signer.unsign(signedId))],
  ['@fastify/session: sign the id (HMAC-SHA256)', time(50_000, () => signer.sign(id))],
  ['@fastify/session: its change hash (stable stringify + SHA-256), done 2–3 times per request (3 when it saves)', time(50_000, () => createHash('sha256').update(stringify(session) ?? '', 'utf8').digest('hex'))],
  ['memory and redis stores: JSON.stringify + JSON.parse of the session', time(50_000, () => JSON.parse(JSON.stringify(session)))],
  ['a new session id or CSRF token (randomBytes + base64url)', time(50_000, () => randomBytes(32).toString('base64url'))],
  ['the cart rule, ASCII item (addToCart)', time(50_000, () => addToCart(['apple'], 'banana'))],
  ['the cart rule, an item with an emoji (grapheme count)', time(50_000, () => addToCart(['apple'], 'café ☕'))]
]
// Rendering is asynchronous: timed over awaited calls.
let bestRender = Infinity
for (let batch = 0; batch < BATCHES; batch++) {
  const started = process.hrtime.bigint()
  for (let i = 0; i < 2000; i++) await render()
  bestRender = Math.min(bestRender, Number(process.hrtime.bigint() - started) / 1000 / 2000)
}
rows.push(['the home page, rendered (Handlebars through @fastify/view)', bestRender])

process.stdout.write(`Node ${process.version}; microseconds per call, the fastest of ${BATCHES} batches\n\n| part | µs |\n|---|---:|\n`)
for (const [name, us] of rows) process.stdout.write(`| ${name} | ${us.toFixed(2)} |\n`)
