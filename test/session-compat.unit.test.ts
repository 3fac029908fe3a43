// Sessions made before an upgrade stay readable after it: the app's cookie is named "session" and
// its keys are derived from SESSION_SECRET with the salt "fastify-sessions-tutorial", the values it
// has always used. Written here as literals, not read from the app, so a change to either fails.
import t from 'tap'
import Fastify from 'fastify'
import { openSessionStore, sessionOf, sessionPlugin } from '../src/framework/session-stores/index.js'
import { Browser, build, SECRET } from './helper.js'

t.test('a session cookie the app issues is read by the framework with the app\'s historical salt and name', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  await browser.get('/')
  await browser.get('/')
  const cookie = browser.jar.header()!
  t.match(cookie, /^session=/, 'the cookie is named "session"')

  const readWith = async (keySalt: string) => {
    const reader = Fastify()
    t.teardown(() => reader.close())
    const store = await openSessionStore({ store: 'cookie', secrets: [SECRET], idleTimeout: 1200, keySalt, cookie: { name: 'session' } }, reader.log)
    await reader.register(async (pages) => {
      await pages.register(sessionPlugin, { store })
      pages.get('/', async (request) => ({ counter: sessionOf(request).get('counter') ?? null }))
    })
    return (await reader.inject({ url: '/', headers: { cookie } })).json().counter
  }
  t.equal(await readWith('fastify-sessions-tutorial'), 2, 'derived with "fastify-sessions-tutorial", the cookie reads back: two pages counted')
  t.equal(await readWith('session-stores'), null, 'derived with another salt (the framework\'s default), it does not')
})
