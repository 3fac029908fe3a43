// A form view on a toy app, with Fastify's own Ajv options (which drop unknown fields quietly):
// the framework validates its forms itself, so a field the view did not declare is refused with a
// 400 and never reaches the view or the session. Nothing of the tutorial is imported.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyAccepts from '@fastify/accepts'
import fastifyFormbody from '@fastify/formbody'
import fastifyView from '@fastify/view'
import handlebars from 'handlebars'
import { classViews, formView, RouteTable, type FormOutcome, type ViewMessages, type ViewRequest } from '../../../src/framework/class-views/index.js'
import { openSessionStore, sessionOf, sessionPlugin, type SessionMessages } from '../../../src/framework/session-stores/index.js'

const received: unknown[] = []

class ToyForms {
  constructor (readonly request: ViewRequest) {}

  @formView({ routeName: 'keep', page: 'home', body: { type: 'object', properties: { item: { type: 'string' } } }, refill: 'item' })
  keep (): FormOutcome { return {} }

  /** Writes to the session, then fails: the framework must throw the write away. */
  @formView({ routeName: 'boom', page: 'home' })
  boom (): FormOutcome {
    this.request.session.flash('half-made change', 'info')
    throw new Error('the view failed')
  }

  @formView({ routeName: 'add', page: 'home', body: { type: 'object', properties: { item: { type: 'string' } }, required: ['item'] } })
  add (form: { item: string }): FormOutcome {
    received.push(form)
    return { flash: { category: 'success', message: `Added ${form.item}.` } }
  }
}

async function toyApp (t: Test, words: { session?: Partial<SessionMessages>, views?: Partial<ViewMessages> } = {}): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(fastifyAccepts)
  await app.register(fastifyView, { engine: { handlebars }, root: '.' })
  const store = await openSessionStore({ store: 'cookie', secrets: ['a toy secret, long enough to derive keys: 0123456789'], idleTimeout: 60, messages: words.session }, app.log)
  await app.register(async (pages) => {
    await pages.register(fastifyFormbody)
    await pages.register(sessionPlugin, { store })
    await pages.register(classViews, { routes: new RouteTable().addRoute('home', '/').addRoute('add', '/add').addRoute('keep', '/keep').addRoute('boom', '/boom'), views: [ToyForms], messages: words.views })
    pages.get('/flashes', async (request) => sessionOf(request).popFlash())
    pages.get('/field', async (request) => sessionOf(request).get('formField') ?? null)
    pages.get('/token', async (request) => ({ token: sessionOf(request).csrfToken() }))
  })
  t.teardown(() => app.close())
  return app
}

t.test('a declared field goes through; an undeclared one is refused with 400, the view never called', async (t) => {
  const app = await toyApp(t)
  const first = await app.inject('/token')
  const cookie = String(first.headers['set-cookie']).split(';')[0]!
  const post = (fields: Record<string, string>) => app.inject({
    method: 'POST',
    url: '/add',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    payload: new URLSearchParams({ _csrf: first.json().token, ...fields }).toString()
  })

  const ok = await post({ item: 'apple' })
  t.equal(ok.statusCode, 303)
  t.equal(ok.headers.location, '/')
  t.same(received, [{ _csrf: first.json().token, item: 'apple' }], 'the view got the form')

  const extra = await post({ item: 'pear', price: '0' })
  t.equal(extra.statusCode, 400, 'an undeclared field: 400')
  t.match(extra.json().message, /must NOT have additional properties/)
  t.equal(received.length, 1, 'the view was not called for it')
})

t.test('refusals and a stale form say what the app gives them to say', async (t) => {
  const app = await toyApp(t, { session: { crossOrigin: 'Not from here.', csrfRefused: 'Bad token.' }, views: { staleForm: 'Stale: again, please.' } })
  const first = await app.inject('/token')
  const cookie = String(first.headers['set-cookie']).split(';')[0]!
  const post = (headers: Record<string, string>, token: string) => app.inject({
    method: 'POST',
    url: '/add',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams({ _csrf: token, item: 'x' }).toString()
  })
  const crossSite = await post({ 'sec-fetch-site': 'cross-site' }, first.json().token)
  t.same([crossSite.statusCode, crossSite.json().message], [403, 'Not from here.'])
  const noBrowser = await post({}, 'not the token')
  t.same([noBrowser.statusCode, noBrowser.json().message], [403, 'Bad token.'], 'a wrong token from no browser page: refused')
  const stale = await post({ 'sec-fetch-site': 'same-origin' }, 'not the token')
  t.equal(stale.statusCode, 303, 'a wrong token from this site\'s own page: sent back to it')
  t.same((await app.inject({ url: '/flashes', headers: { cookie: String(stale.headers['set-cookie'] ?? cookie).split(';')[0]! } })).json(),
    [{ category: 'error', message: 'Stale: again, please.' }])
})

t.test('a stale form with a field to keep comes back with it, and the app\'s words beside it', async (t) => {
  const app = await toyApp(t, { views: { staleFormRefilled: 'Stale: what you typed is kept.' } })
  const cookie = String((await app.inject('/token')).headers['set-cookie']).split(';')[0]!
  const stale = await app.inject({
    method: 'POST',
    url: '/keep',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    payload: new URLSearchParams({ _csrf: 'not the token', item: 'typed' }).toString()
  })
  t.equal(stale.statusCode, 303)
  const next = String(stale.headers['set-cookie'] ?? cookie).split(';')[0]!
  t.same((await app.inject({ url: '/field', headers: { cookie: next } })).json(), { name: 'item', value: 'typed', error: 'Stale: what you typed is kept.' })
})

t.test('a form view that fails leaves the session as it came: the framework discards its writes', async (t) => {
  const app = await toyApp(t)
  const first = await app.inject('/token')
  const cookie = String(first.headers['set-cookie']).split(';')[0]!
  const failed = await app.inject({
    method: 'POST',
    url: '/boom',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    payload: new URLSearchParams({ _csrf: first.json().token }).toString()
  })
  t.equal(failed.statusCode, 500)
  t.equal(failed.headers['set-cookie'], undefined, 'no new cookie: nothing of the failed request was saved')
  t.same((await app.inject({ url: '/flashes', headers: { cookie } })).json(), [], 'the flash the view queued before failing is gone')
})
