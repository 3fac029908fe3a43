// End to end on the built server: what the log says in development (pino-pretty, one line per
// request, the settings before the store, a note when the secret is first made) and in production
// (JSON, one line per request).
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { SERVER_ENTRY } from '../scripts/lib.js'
import { builtAppCopy, SECRET } from './helper.js'
import { startBuiltServer } from './built-server.js'

/** Starts the built server, makes the requests, stops it (SIGTERM) and returns its log lines. */
async function logOf (t: Test, env: Record<string, string>, paths: string[], entry = SERVER_ENTRY): Promise<string[]> {
  const server = await startBuiltServer(t, env, entry)
  for (const path of paths) await (await fetch(server.url + path)).arrayBuffer()
  const { stdout } = await server.stop('SIGTERM')
  return stdout.trimEnd().split('\n')
}

t.test('development: readable lines, the settings first, and a word when the secret is made', async (t) => {
  // A folder of its own, so its .session-secret is made here, by this start.
  const { dir, entry } = builtAppCopy(t)

  const first = await logOf(t, { NODE_ENV: 'development', SESSION_SECRET: '' }, ['/', '/nope'], entry)
  t.comment(first.join('\n'))
  t.notOk(first.some((line) => line.startsWith('{')), 'no raw JSON line')
  const messages = first.map((line) => line.replace(/^\[\d\d:\d\d:\d\d\] INFO: /, ''))
  t.match(messages[0], /^settings loaded \{"nodeEnv":"development","store":"cookie","secrets":1,"from":"development file"\}$/, 'first: the settings')
  t.equal(messages[1], `session secret created in ${join(dir, '.session-secret')}: it is git-ignored and reused on every later start, so sessions survive restarts (set SESSION_SECRET to choose one)`,
    'then: the secret was just made, where, and that it stays')
  t.match(messages[2], /^sessions ready/, 'then the session store')
  t.equal(first.filter((line) => / \/ /.test(line)).length, 1, 'one line for GET /')
  t.ok(first.some((line) => /^\[\d\d:\d\d:\d\d\] INFO: GET \/ 200 \d+\.\d ms$/.test(line)), 'method, path, status, time')
  t.ok(first.some((line) => /^\[\d\d:\d\d:\d\d\] INFO: GET \/nope 404 \d+\.\d ms$/.test(line)), 'a 404 in one line too')

  const second = await logOf(t, { NODE_ENV: 'development', SESSION_SECRET: '' }, [], entry)
  t.notOk(second.some((line) => line.includes('secret created')), 'the next start reuses it, silently')
})

t.test('production: JSON, one line per request with its fields', async (t) => {
  const lines = await logOf(t, { NODE_ENV: 'production', SESSION_SECRET: SECRET }, ['/', '/howdy'])
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  t.match(entries[0], { msg: 'settings loaded', nodeEnv: 'production', from: 'environment' })
  const requests = entries.filter((entry) => 'statusCode' in entry)
  t.match(requests, [
    { method: 'GET', url: '/', statusCode: 200, responseTime: Number, msg: /^GET \/ 200 \d+\.\d ms$/ },
    { method: 'GET', url: '/howdy', statusCode: 200 }
  ])
  t.equal(requests.length, 2, 'one line each')
  t.notOk(entries.some((entry) => entry.msg === 'incoming request' || entry.msg === 'request completed'), 'not Fastify\'s two')
})
