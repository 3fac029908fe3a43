// The tutorial's own page while Redis is away: a 503 that says so in words, HTML for a browser and
// JSON for curl, with nothing of the internals. (The framework's tests check the store's side of the
// outage on a toy app; this is the error page the app makes of it.)
import t from 'tap'
import { Browser, build, countOf } from './helper.js'
import { eventually } from './limits.js'
import { hasRedisServer, REDIS_MISSING, startRedis } from './redis-server.js'

t.test('redis down: pages answer 503 in words, HTML or JSON, no internals; /healthz says why', { skip: hasRedisServer() ? false : REDIS_MISSING }, async (t) => {
  const redis = await startRedis(t)
  const app = await build(t, { SESSION_STORE: 'redis', REDIS_URL: redis.url })
  const browser = new Browser(app)
  t.equal(countOf(await browser.get('/')), 1)

  await redis.stop()
  await eventually(30_000, '/healthz to answer 503 once Redis is gone', async () => (await browser.get('/healthz')).statusCode === 503)
  const page = await browser.get('/')
  t.equal(page.statusCode, 503)
  t.match(String(page.headers['content-type']), /^text\/html/)
  t.match(page.body, 'Sessions are unavailable for a moment (the session store cannot be reached). Please try again shortly.')
  t.notMatch(page.body, /ECONNREFUSED|Error:|at |redis:\/\//, 'no internals')
  const json = await browser.getJson('/howdy')
  t.match(json.json(), { statusCode: 503, error: 'Service Unavailable', message: /^Sessions are unavailable for a moment/ })
  t.match((await browser.get('/healthz')).json(), { status: 'unavailable', reason: /Redis at redis:\/\/127\.0\.0\.1:\d+.* cannot be reached/ })
})
