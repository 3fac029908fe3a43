// End to end: every way the built server can fail to start says so in one line on stderr, what is
// wrong and what to do, and exits 1, with no stack trace and no JSON log line of level error first.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { freePort, SERVER_ENTRY } from '../scripts/lib.js'
import { builtAppCopy, SECRET } from './helper.js'
import { hasRedisServer, REDIS_MISSING, startRedis } from './redis-server.js'
import { exitOf, type Exit } from './built-server.js'

/** The built server, in production with a good secret unless `env` says otherwise, expected to refuse to start. */
function start (env: Record<string, string>, entry = SERVER_ENTRY): Promise<Exit> {
  return exitOf({ SESSION_SECRET: SECRET, ...env }, entry)
}

function oneLine (t: Test, { code, stdout, stderr }: Exit, expected: RegExp): void {
  t.equal(code, 1, 'exit 1')
  t.match(stderr, expected)
  t.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr.trim()}`)
  t.notMatch(stderr, /\n\s+at /, 'no stack trace')
  t.notMatch(stdout, /"level":5\d/, 'no error-level log line before it')
}

t.test('the port is in use', async (t) => {
  const blocker = createServer().listen(0, '127.0.0.1')
  await once(blocker, 'listening')
  t.teardown(() => { blocker.close() })
  const { port } = blocker.address() as { port: number }
  oneLine(t, await start({ PORT: String(port) }), new RegExp(`^error: cannot listen on 127\\.0\\.0\\.1:${port}: port ${port} is in use on 127\\.0\\.0\\.1: stop what uses it, or set PORT`))
})

t.test('the development secret cannot be written', async (t) => {
  // A copy of the built app whose project folder has a directory where the secret file would go.
  const { dir, entry } = builtAppCopy(t)
  mkdirSync(join(dir, '.session-secret'))
  const exit = await start({ NODE_ENV: 'development', SESSION_SECRET: '' }, entry)
  oneLine(t, exit, /^error: cannot keep the development session secret in .*\.session-secret \(EISDIR\): make that folder writable, or set SESSION_SECRET/)
})

// Wrong settings are refused before anything connects, never passed on to break later (a timer
// overflowing into 1 ms, a library's stack trace, a server listening on every interface). Every
// refusal is a ConfigError that the server prints the same way: config.unit.test.ts checks each
// setting's message in-process; here one of each kind (the URL parser, the schema's bounds, a rule
// for production only) goes through a real start.
const refusedSettings: Array<[Record<string, string>, RegExp]> = [
  [{ SESSION_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:6379/abc' }, /^error: REDIS_URL has the database "\/abc", which is not a database index: end the URL with \/0/],
  [{ REQUEST_TIMEOUT: '3000000' }, /^error: invalid settings: REQUEST_TIMEOUT must be <= 3600 seconds/],
  [{ SESSION_SECRET: 'a'.repeat(40) }, /^error: SESSION_SECRET is too weak for production: it has 1 different characters, it needs at least 10/]
]

t.test('a wrong setting stops the start before anything connects', async (t) => {
  // Independent processes: started at once, each waiting only for its own exit.
  t.jobs = refusedSettings.length
  for (const [env, expected] of refusedSettings) {
    const name = Object.entries(env).map(([key, value]) => `${key}=${value}`).join(' ')
    t.test(name, { buffered: true }, async (t) => oneLine(t, await start(env), expected))
  }
})

t.test('Redis refuses the connection (nothing listens on its port)', async (t) => {
  const port = await freePort()
  oneLine(t, await start({ SESSION_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${port}` }), /^error: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED.*REDIS_CONNECT_WAIT/)
})

// One Redis for the two refusals that only need its users set up: a wrong password, and a user
// that may not run scripts.
t.test('Redis refuses the user', { skip: hasRedisServer() ? false : REDIS_MISSING }, async (t) => {
  const redis = await startRedis(t)
  const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(redis.port), '--no-auth-warning', ...args])
  cli('ACL', 'SETUSER', 'app', 'on', '>scriptless-password', '~*', '&*', '+@all', '-eval', '-evalsha', '-script', '-fcall')
  cli('CONFIG', 'SET', 'requirepass', 'the-right-one')

  t.test('a wrong password', async (t) => {
    const exit = await start({ SESSION_STORE: 'redis', REDIS_URL: `redis://default:the-wrong-one@127.0.0.1:${redis.port}` })
    oneLine(t, exit, /^error: cannot reach Redis at redis:\/\/default:\*\*\*@127\.0\.0\.1:\d+\/? \(WRONGPASS/)
    t.notMatch(exit.stderr, 'the-wrong-one', 'the password is not printed')
  })

  t.test('a user without scripts: the session writes are refused', async (t) => {
    const exit = await start({ SESSION_STORE: 'redis', REDIS_URL: `redis://app:scriptless-password@127.0.0.1:${redis.port}` })
    oneLine(t, exit, /^error: Redis at redis:\/\/app:\*\*\*@127\.0\.0\.1:\d+\/? refuses the session writes \(NOPERM [^)]*\): the Redis user may not run scripts .*grant it \+eval \+evalsha/)
    t.notMatch(exit.stderr, 'scriptless-password', 'the password is not printed')
  })
})

t.test('Redis is frozen (SIGSTOP): with REDIS_CONNECT_WAIT=0 the start gives up after REDIS_COMMAND_TIMEOUT', { skip: hasRedisServer() ? false : REDIS_MISSING }, async (t) => {
  const redis = await startRedis(t)
  // Thawed as soon as the app has exited; the teardown is for a test that failed before that
  // (a stopped Redis would never act on the SIGTERM that stops it).
  t.teardown(() => redis.signal('SIGCONT'))
  redis.signal('SIGSTOP')
  // The socket connects (the kernel accepts it) and the handshake is never answered.
  const exit = await start({ SESSION_STORE: 'redis', REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT: '1000' })
  redis.signal('SIGCONT')
  oneLine(t, exit, /^error: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/? \(Redis did not answer within 1000 ms\)\. Start Redis or correct REDIS_URL; to wait for it instead, set REDIS_CONNECT_WAIT/)
})
