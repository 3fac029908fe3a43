// The benchmark's cost ladder: bare Fastify rendering the app's home page (same templates, same
// size), then with one of the app's costs added at a time, so one run shows what each one costs.
//   LADDER=bare            the page, no session (the ceiling)
//   LADDER=session         + @fastify/secure-session: decrypt, count, encrypt, Set-Cookie
//   LADDER=headers         + the app's security headers, Cache-Control and Vary
//   LADDER=csrf            + the session's CSRF token for the page's forms (as the session's csrfToken() makes it)
// and, beside the ladder, the store modes' plugin on its own:
//   LADDER=store-session   the page + @fastify/session with its own in-memory store: unsign the id,
//                          load, count, hash, save, sign, Set-Cookie
//   LADDER=store-session-redis  the same with the least a Redis store can do (REDIS_URL): GET to
//                          load, SET with a TTL to save, one JSON value per session, no deadline
//   …+page                 either of these with what every page of the app must also do: the
//                          security headers and the CSRF token (store-session+page,
//                          store-session-redis+page); the benchmark's bound for the store modes
//   …+bytes                any step with the page's bytes (BENCH_PAGE) sent as a string in place of
//                          the template, the step's work done all the same: bare+bytes is what
//                          Fastify and its logger cost before any rendering, and csrf+bytes,
//                          store-session+page+bytes and store-session-redis+page+bytes are each
//                          mode's bound if rendering cost nothing (any template engine in place of
//                          Handlebars and @fastify/view could at best reach it)
// Started by scripts/bench.ts on PORT; plain JavaScript so it needs no build (it reads the built
// security headers, view options and cart limits from dist/, which `npm run bench` builds first).
import Fastify from 'fastify'
import fastifyView from '@fastify/view'
import fastifyCookie from '@fastify/cookie'
import fastifySecureSession from '@fastify/secure-session'
import fastifySession from '@fastify/session'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createClient } from 'redis'
import { securityHeaders } from '../dist/src/security-headers.js'
import { viewOptions } from '../dist/src/templates.js'
import { MAX_CART_ITEMS, MAX_ITEM_LENGTH } from '../dist/src/cart.js'

const STEPS = ['bare', 'session', 'headers', 'csrf']

/** The session's CSRF token, made on first use: what the session door's csrfToken() does, on the plugin's own session. */
function csrfTokenOf (session) {
  let token = session.get('_csrf')
  if (token === undefined) session.set('_csrf', token = randomBytes(32).toString('base64url'))
  return token
}
const [base, ...extras] = (process.env.LADDER ?? 'bare').split('+')
const storeSession = base === 'store-session' || base === 'store-session-redis'
const withPage = extras.includes('page')
const pageString = extras.includes('bytes') ? readFileSync(process.env.BENCH_PAGE, 'utf8') : undefined
if (extras.some((extra) => extra !== 'page' && extra !== 'bytes')) throw new Error('a step takes only +page and +bytes')
if (withPage && !storeSession) throw new Error('only store-session and store-session-redis take +page')
const storeExtras = ['headers', 'csrf'] // what +page adds to a store step
const step = storeSession ? 0 : STEPS.indexOf(base)
if (step === -1) throw new Error(`LADDER must be one of ${STEPS.join(', ')}, store-session[+page], store-session-redis[+page], each with +bytes or not`)
const has = (name) => step >= STEPS.indexOf(name) || (withPage && storeExtras.includes(name))

const app = Fastify({ logger: { level: 'warn' } })
// +bytes renders nothing, so @fastify/view (and the onRequest hook it adds) is not there at all.
if (pageString === undefined) await app.register(fastifyView, viewOptions(true, { limits: { itemLength: MAX_ITEM_LENGTH, cartItems: MAX_CART_ITEMS } }))
if (has('session')) {
  await app.register(fastifyCookie)
  await app.register(fastifySecureSession, { key: randomBytes(32), cookie: { path: '/', httpOnly: true, sameSite: 'lax' } })
}
if (storeSession) {
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: randomBytes(32).toString('base64url'),
    saveUninitialized: false,
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: false },
    ...(base === 'store-session-redis' ? { store: await minimalRedisStore(process.env.REDIS_URL) } : {})
  })
}
if (has('headers')) {
  const headers = securityHeaders()
  app.addHook('onRequest', (_request, reply, done) => { reply.headers(headers); done() })
}

/** The least a Redis session store does: one JSON value per session id, the idle timeout as TTL. */
async function minimalRedisStore (url) {
  const client = createClient({ url })
  await client.connect()
  app.addHook('onClose', () => client.close())
  return {
    get: (id, callback) => { client.get(`ladder:${id}`).then((json) => callback(null, json === null ? null : JSON.parse(json)), callback) },
    set: (id, session, callback) => { client.set(`ladder:${id}`, JSON.stringify(session), { expiration: { type: 'EX', value: 1200 } }).then(() => callback(), callback) },
    destroy: (id, callback) => { client.del(`ladder:${id}`).then(() => callback(), callback) }
  }
}

const urls = { home: '/', hello: '/howdy', cart_add: '/cart', cart_clear: '/cart/clear', session_reset: '/session/reset', session_info: '/session' }
const nav = [{ label: 'Home', href: '/', current: true }, { label: 'Howdy', href: '/howdy', current: false }]
const about = {
  storeText: 'an encrypted cookie in your browser (the server keeps nothing)',
  cookieBytes: 281,
  idleText: '20 minutes',
  expiresAt: '2026-11-25T23:30:00.000Z',
  expiresText: '23:30 UTC'
}
const fixedToken = 'k3dXb3Qq-0cm1Q0Qz3bC8bTg1W9b3P1x2x9n0nZkVb4eYx5pQ6Vc'

app.get('/', (request, reply) => {
  let counter = 1234
  if (has('session') || storeSession) {
    counter = (request.session.get('counter') ?? 0) + 1
    request.session.set('counter', counter)
  }
  if (has('headers')) reply.header('cache-control', 'no-store').header('vary', 'Cookie, Accept')
  const csrfToken = has('csrf') ? csrfTokenOf(request.session) : fixedToken
  if (pageString !== undefined) return reply.type('text/html; charset=utf-8').send(pageString)
  return reply.view('home.hbs', { name: 'Home View', counter, cart: [], urls, nav, flashes: [], csrfToken, about })
})
app.get('/healthz', async () => ({ status: 'ok' }))

process.on('SIGTERM', () => { app.close().then(() => process.exit(0)) })
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
