// The options that used to be the tutorial's own facts: the cookie's name and attributes, the salt
// the keys are derived with, and the names Redis's messages give the options. A toy app on the
// framework alone: nothing of the tutorial is imported.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import { hasSessionCookie, openSessionStore, sessionOf, sessionPlugin, type SessionStoreOptions } from '../../../src/framework/session-stores/index.js'
import { freePort } from '../../../scripts/lib.js'

const SECRET = 'a toy secret, long enough to derive keys: 0123456789'

/** A toy app whose one route reads (or makes) the session's CSRF token and says whether a session cookie came. */
async function toyApp (t: Test, options: Partial<SessionStoreOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify()
  const store = await openSessionStore({ store: 'cookie', secrets: [SECRET], idleTimeout: 60, ...options }, app.log)
  await app.register(async (pages) => {
    await pages.register(sessionPlugin, { store })
    pages.get('/toy', async (request) => ({ token: sessionOf(request).csrfToken(), cameWithCookie: hasSessionCookie(request) }))
    // A field far larger than any session may keep, then what the next request finds waiting.
    pages.get('/toy/huge', async (request) => { sessionOf(request).set('formField', { name: 'x', value: 'x'.repeat(6000) }); return 'tried' })
    pages.get('/toy/flashes', async (request) => sessionOf(request).popFlash())
  })
  t.teardown(() => app.close())
  return app
}

for (const mode of ['cookie', 'memory'] as const) {
  t.test(`${mode}: the cookie has the name and attributes the options give, and the session is found under it`, async (t) => {
    const app = await toyApp(t, { store: mode, cookie: { name: 'toy', sameSite: 'strict', path: '/toy' } })
    const first = await app.inject('/toy')
    const setCookie = String(first.headers['set-cookie'])
    t.match(setCookie, /^toy=[^;]+; Path=\/toy; HttpOnly; SameSite=Strict/, `Set-Cookie: ${setCookie.slice(0, 60)}…`)
    t.equal(first.json().cameWithCookie, false)
    const cookie = setCookie.split(';')[0]!
    const second = await app.inject({ url: '/toy', headers: { cookie } })
    t.same(second.json(), { token: first.json().token, cameWithCookie: true }, 'the next request is the same session, seen as coming with its cookie')
    const wrongName = await app.inject({ url: '/toy', headers: { cookie: `session=${cookie.slice('toy='.length)}` } })
    t.same(wrongName.json().cameWithCookie, false, 'a cookie under another name is not the session cookie')
  })
}

t.test('the default cookie: named "session", path /, HttpOnly, SameSite=Lax', async (t) => {
  const app = await toyApp(t)
  t.match(String((await app.inject('/toy')).headers['set-cookie']), /^session=[^;]+; Path=\/; HttpOnly; SameSite=Lax/)
})

t.test('keySalt: the same secret with another salt cannot read the session; the default salt is "session-stores"', async (t) => {
  const writer = await toyApp(t, { keySalt: 'app one' })
  const first = await writer.inject('/toy')
  const cookie = String(first.headers['set-cookie']).split(';')[0]!
  const tokenIn = async (app: FastifyInstance) => (await app.inject({ url: '/toy', headers: { cookie } })).json().token as string
  t.equal(await tokenIn(await toyApp(t, { keySalt: 'app one' })), first.json().token, 'the same salt reads it')
  t.not(await tokenIn(await toyApp(t, { keySalt: 'app two' })), first.json().token, 'another salt starts a new session')
  t.not(await tokenIn(await toyApp(t)), first.json().token, 'so does the default')

  const byDefault = await toyApp(t)
  const defaultCookie = String((await byDefault.inject('/toy')).headers['set-cookie']).split(';')[0]!
  const defaultToken = (await byDefault.inject({ url: '/toy', headers: { cookie: defaultCookie } })).json().token
  const named = await toyApp(t, { keySalt: 'session-stores' })
  t.equal((await named.inject({ url: '/toy', headers: { cookie: defaultCookie } })).json().token, defaultToken, 'keySalt "session-stores" reads what the default wrote')
})

t.test('redis: an unreachable Redis is reported with the options\' names, or the names the app gives them', async (t) => {
  const url = `redis://127.0.0.1:${await freePort()}`
  const open = (names?: { url?: string, connectWait?: string }) =>
    openSessionStore({ store: 'redis', secrets: [SECRET], idleTimeout: 60, redis: { url, prefix: 'toy:', connectWait: 0, commandTimeout: 5000, names } }, Fastify().log)
  await t.rejects(open(), { name: 'SessionStoreUnreachable', message: /Start Redis or correct redis\.url; to wait for it instead, set redis\.connectWait to a number of seconds\.$/ })
  await t.rejects(open({ url: 'TOY_REDIS', connectWait: 'TOY_WAIT' }), { message: /Start Redis or correct TOY_REDIS; to wait for it instead, set TOY_WAIT to a number of seconds\.$/ })
})

for (const mode of ['cookie', 'memory'] as const) {
  t.test(`${mode}: a change too large to keep is refused with the app's own words`, async (t) => {
    const words = { cookieTooLarge: 'Too big for a cookie.', storeTooLarge: (limit: number) => `Too big: the limit is ${limit}.` }
    const app = await toyApp(t, { store: mode, maxSessionBytes: 1000, messages: words })
    const first = await app.inject('/toy')
    const cookie = String(first.headers['set-cookie']).split(';')[0]!
    const huge = await app.inject({ url: '/toy/huge', headers: { cookie } })
    // Cookie mode answers with the browser's old session plus the message; a store keeps it server-side.
    const next = huge.headers['set-cookie'] === undefined ? cookie : String(huge.headers['set-cookie']).split(';')[0]!
    const after = await app.inject({ url: '/toy/flashes', headers: { cookie: next } })
    t.same(after.json(), [{ category: 'error', message: mode === 'cookie' ? 'Too big for a cookie.' : 'Too big: the limit is 1000.' }])
  })
}

t.test('memory: an explicit `secure` is kept over https; the default follows the request\'s protocol', async (t) => {
  const over = async (secure: boolean | 'auto' | undefined) => {
    const app = Fastify({ trustProxy: true })
    t.teardown(() => app.close())
    const store = await openSessionStore({ store: 'memory', secrets: [SECRET], idleTimeout: 60, ...(secure === undefined ? {} : { cookie: { secure } }) }, app.log)
    await app.register(async (pages) => {
      await pages.register(sessionPlugin, { store })
      pages.get('/toy', async (request) => sessionOf(request).csrfToken())
    })
    return String((await app.inject({ url: '/toy', headers: { 'x-forwarded-proto': 'https' } })).headers['set-cookie'])
  }
  t.match(await over(undefined), /; Secure/, 'the default over https: Secure')
  t.notMatch(await over(false), /Secure/, 'secure: false is kept, even over https')
})

t.test('an app that registered @fastify/cookie itself keeps it; the session plugin uses it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyCookie)
  const store = await openSessionStore({ store: 'cookie', secrets: [SECRET], idleTimeout: 60 }, app.log)
  await app.register(async (pages) => {
    await pages.register(sessionPlugin, { store })
    pages.get('/toy', async (request) => ({ token: sessionOf(request).csrfToken() }))
  })
  const res = await app.inject('/toy')
  t.equal(res.statusCode, 200)
  t.match(String(res.headers['set-cookie']), /^session=/)
})
