// End to end: the built entry point (`npm start` runs this) as a child process, over real HTTP.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { once } from 'node:events'
import { SERVER_ENTRY } from '../scripts/lib.js'
import { SECRET } from './helper.js'
import { HttpBrowser } from '../scripts/client.js'
import { hasRedisServer, REDIS_MISSING, startRedis } from './redis-server.js'

const ENTRY = SERVER_ENTRY

interface Running {
  child: ChildProcess
  url: string
  exited: Promise<number | null>
}

/** Starts the built server on a free port and waits for its "Server listening at" log line. */
async function startServer (env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [ENTRY], {
    env: { PATH: process.env.PATH, NODE_ENV: 'production', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const url = await new Promise<string>((resolve, reject) => {
    let output = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match) resolve(match[1]!)
    })
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${output}`)), reject)
  })
  return { child, url, exited }
}

t.before(() => {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`npm run build\` (npm test does)`)
})

t.test('the real server counts per browser, survives a restart and stops cleanly on SIGTERM', async (t) => {
  let server = await startServer({ SESSION_SECRET: SECRET })
  t.teardown(() => { server.child.kill('SIGKILL') })
  const browser = new HttpBrowser(server.url)

  t.match((await browser.get('/')).body, '<p>Count: <strong>1</strong></p>')
  t.match((await browser.get('/howdy')).body, '<p>Count: <strong>2</strong></p>')
  const health = await fetch(`${server.url}/healthz`)
  t.same(await health.json(), { status: 'ok' })

  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0, 'exits 0 after SIGTERM')

  server = await startServer({ SESSION_SECRET: SECRET })
  browser.url = server.url
  const page = await browser.get('/')
  t.equal(page.status, 200)
  t.match(page.body, '<p>Count: <strong>3</strong></p>', 'the count continues after the restart')
  server.child.kill('SIGINT')
  t.equal(await server.exited, 0, 'exits 0 after SIGINT')
})

t.test('production without SESSION_SECRET: one line naming the variable, exit 1, no stack trace', async (t) => {
  const child = spawn(process.execPath, [ENTRY], {
    env: { PATH: process.env.PATH, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const [code] = await once(child, 'exit')
  t.equal(code, 1)
  t.match(stderr, /^error: SESSION_SECRET is not set\. .*SESSION_SECRET=/)
  t.equal(stderr.trim().split('\n').length, 1, 'a single line')
  t.notMatch(stderr, /\n\s+at /, 'no stack trace')
})

t.test('redis mode: the real server shares the count through Redis and closes its client on SIGTERM', { skip: hasRedisServer() ? false : REDIS_MISSING }, async (t) => {
  const redis = await startRedis(t)
  const env = { SESSION_SECRET: SECRET, SESSION_STORE: 'redis', REDIS_URL: redis.url }
  const [one, two] = await Promise.all([startServer(env), startServer(env)])
  t.teardown(() => { one.child.kill('SIGKILL'); two.child.kill('SIGKILL') })
  const browser = new HttpBrowser(one.url)

  t.match((await browser.get('/')).body, '<p>Count: <strong>1</strong></p>')
  browser.url = two.url
  t.match((await browser.get('/')).body, '<p>Count: <strong>2</strong></p>')
  browser.url = one.url
  t.match((await browser.get('/howdy')).body, '<p>Count: <strong>3</strong></p>')

  one.child.kill('SIGTERM')
  two.child.kill('SIGTERM')
  t.equal(await one.exited, 0)
  t.equal(await two.exited, 0)
})

t.test('redis mode with Redis down: one line saying what to do, exit 1', { skip: hasRedisServer() ? false : REDIS_MISSING }, async (t) => {
  const redis = await startRedis(t)
  await redis.stop()
  const child = spawn(process.execPath, [ENTRY], {
    env: { PATH: process.env.PATH, NODE_ENV: 'production', LOG_LEVEL: 'warn', SESSION_SECRET: SECRET, SESSION_STORE: 'redis', REDIS_URL: redis.url },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const [code] = await once(child, 'exit')
  t.equal(code, 1)
  t.match(stderr, /^error: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+.*REDIS_CONNECT_WAIT/)
  t.equal(stderr.trim().split('\n').length, 1, 'a single line')
})

t.test('redis mode: SIGTERM while Redis is frozen answers the request in flight with 503 and exits 0 promptly', { skip: hasRedisServer() ? false : REDIS_MISSING }, async (t) => {
  const redis = await startRedis(t)
  t.teardown(() => redis.signal('SIGCONT'))
  const server = await startServer({ SESSION_SECRET: SECRET, SESSION_STORE: 'redis', REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT: '500' })
  t.teardown(() => { server.child.kill('SIGKILL') })
  const browser = new HttpBrowser(server.url)
  t.match((await browser.get('/')).body, '<p>Count: <strong>1</strong></p>')

  redis.signal('SIGSTOP')
  const inFlight = browser.get('/')
  await new Promise((resolve) => setTimeout(resolve, 100))
  const started = Date.now()
  server.child.kill('SIGTERM')
  const page = await inFlight
  t.equal(page.status, 503, 'the request in flight gets its 503 within the deadline')
  t.equal(await server.exited, 0, 'exits 0')
  const elapsed = Date.now() - started
  t.ok(elapsed < 3000, `closed in ${elapsed} ms (deadline 500 ms, close budget 10 s)`)
})
