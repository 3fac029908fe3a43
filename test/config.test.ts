import t from 'tap'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, loadSettings, parseSecrets, parseTrustedOrigins, parseTrustProxy } from '../src/config.js'
import { SECRET, OTHER_SECRET } from './helper.js'

function load (env: Record<string, string>, devSecretFile = '/nonexistent/never-written') {
  const { settings, secretSource } = loadSettings({ env, dotenv: false, devSecretFile })
  return { ...settings, secretSource, secrets: parseSecrets(settings.SESSION_SECRET) }
}

t.test('defaults: Pyramid\'s port, loopback, development, 20-minute idle timeout', async (t) => {
  const settings = load({ SESSION_SECRET: SECRET })
  t.match(settings, {
    HOST: '127.0.0.1',
    PORT: 6543,
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    secrets: [SECRET],
    secretSource: 'environment',
    SESSION_TIMEOUT: 1200,
    TRUST_PROXY: false
  })
})

t.test('values from the environment are converted and validated', async (t) => {
  const settings = load({ SESSION_SECRET: SECRET, PORT: '8080', HOST: '0.0.0.0', LOG_LEVEL: 'warn', SESSION_TIMEOUT: '60', TRUST_PROXY: 'true' })
  t.match(settings, { PORT: 8080, HOST: '0.0.0.0', LOG_LEVEL: 'warn', SESSION_TIMEOUT: 60, TRUST_PROXY: true })
  t.throws(() => load({ SESSION_SECRET: SECRET, PORT: 'eighty' }), { name: 'ConfigError', message: /PORT must be integer/ })
  t.throws(() => load({ SESSION_SECRET: SECRET, PORT: '70000' }), { name: 'ConfigError', message: /PORT/ })
  t.throws(() => load({ SESSION_SECRET: SECRET, NODE_ENV: 'staging' }), { name: 'ConfigError', message: /NODE_ENV/ })
})

t.test('a comma-separated SESSION_SECRET is a rotation list, newest first', async (t) => {
  t.same(load({ SESSION_SECRET: ` ${SECRET} , ${OTHER_SECRET} ` }).secrets, [SECRET, OTHER_SECRET])
})

t.test('a short secret is refused with the variable and the fix named', async (t) => {
  t.throws(() => load({ SESSION_SECRET: 'too-short' }), { message: /SESSION_SECRET is too short.*at least 32 characters/ })
  t.throws(() => load({ SESSION_SECRET: `${SECRET},short` }), { message: /entry 2 of the comma-separated list/ })
})

t.test('production without SESSION_SECRET stops with one clear message', async (t) => {
  const err = t.throws(() => load({ NODE_ENV: 'production' })) as ConfigError
  t.ok(err instanceof ConfigError)
  t.match(err.message, /^SESSION_SECRET is not set\..*set SESSION_SECRET, e\.g\. SESSION_SECRET=\$\(openssl rand -base64 48\)$/)
  t.notMatch(err.message, /\n/, 'one line')
})

t.test('outside production, a missing secret is created once in a private file and reused', async (t) => {
  const dir = t.testdir()
  const file = join(dir, '.session-secret')
  const first = load({}, file)
  t.same(first.secretSource, { createdIn: file }, 'this start made it (the server says so once)')
  t.ok(existsSync(file))
  t.equal(statSync(file).mode & 0o777, 0o600)
  t.ok(first.secrets[0]!.length >= 32)
  const second = load({}, file)
  t.same(second.secrets, first.secrets, 'the same secret on the next start')
  t.equal(second.secretSource, 'development file', 'read, not made')
  t.equal(readFileSync(file, 'utf8').trim(), first.secrets[0])
})

t.test('a damaged development secret file is replaced', async (t) => {
  const file = join(t.testdir({ '.session-secret': 'short\n' }), '.session-secret')
  const secret = load({}, file).secrets[0]!
  t.ok(secret.length >= 32)
  writeFileSync(file, secret)
  t.equal(load({}, file).secrets[0], secret)
})

t.test('.env is read when present and the environment wins', async (t) => {
  const dir = t.testdir({ '.env': `PORT=7000\nHOST=0.0.0.0\nSESSION_SECRET=${SECRET}\n` })
  const cwd = process.cwd()
  process.chdir(dir)
  t.teardown(() => process.chdir(cwd))
  const { settings } = loadSettings({ env: { HOST: '127.0.0.2' }, devSecretFile: '/nonexistent' })
  t.match(settings, { PORT: 7000, HOST: '127.0.0.2', SESSION_SECRET: SECRET })
})

t.test('production refuses a secret with too little variety; development allows it', async (t) => {
  t.throws(() => load({ NODE_ENV: 'production', SESSION_SECRET: 'a'.repeat(32) }), { name: 'ConfigError', message: /too weak for production: it has 1 different characters, it needs at least 10/ })
  t.throws(() => load({ NODE_ENV: 'production', SESSION_SECRET: `${SECRET},${'ab'.repeat(20)}` }), { message: /entry 2 of the comma-separated list/ })
  t.equal(load({ NODE_ENV: 'production', SESSION_SECRET: SECRET }).secrets[0], SECRET)
  t.equal(load({ NODE_ENV: 'development', SESSION_SECRET: 'a'.repeat(32) }).secrets[0], 'a'.repeat(32))
})

t.test('TRUST_PROXY: a boolean, a hop count, or addresses and CIDR ranges', async (t) => {
  t.equal(load({ SESSION_SECRET: SECRET, TRUST_PROXY: 'true' }).TRUST_PROXY, true)
  t.equal(load({ SESSION_SECRET: SECRET, TRUST_PROXY: '2' }).TRUST_PROXY, 2)
  t.equal(load({ SESSION_SECRET: SECRET, TRUST_PROXY: '10.0.0.1, 10.0.0.0/8, ::1' }).TRUST_PROXY, '10.0.0.1, 10.0.0.0/8, ::1')
  t.same(parseTrustProxy('10.0.0.1, 10.0.0.0/8'), ['10.0.0.1', '10.0.0.0/8'])
  const twoHops = parseTrustProxy(2) as (address: string, hop: number) => boolean
  t.same([0, 1, 2].map((hop) => twoHops('10.0.0.1', hop)), [true, true, false])
  for (const bad of ['everyone', '10.0.0.1/8/1', '10.0.0', ' , ']) {
    t.throws(() => load({ SESSION_SECRET: SECRET, TRUST_PROXY: bad }), { name: 'ConfigError', message: /TRUST_PROXY/ }, bad)
  }
})

t.test('TRUSTED_ORIGINS and REQUEST_TIMEOUT', async (t) => {
  const settings = load({ SESSION_SECRET: SECRET, TRUSTED_ORIGINS: 'https://a.example, http://b.example:8080/' })
  t.same(parseTrustedOrigins(settings.TRUSTED_ORIGINS), ['https://a.example', 'http://b.example:8080'])
  t.equal(settings.REQUEST_TIMEOUT, 30, 'a request must arrive whole within 30 s by default')
  t.throws(() => load({ SESSION_SECRET: SECRET, TRUSTED_ORIGINS: 'https://a.example/path' }), { message: /TRUSTED_ORIGINS has "https:\/\/a.example\/path", which is not an origin/ })
  t.throws(() => load({ SESSION_SECRET: SECRET, TRUSTED_ORIGINS: 'a.example' }), { message: /not an origin/ })
  t.throws(() => load({ SESSION_SECRET: SECRET, REDIS_URL: 'redis://a b' }), { message: /REDIS_URL is not a valid URL/ })
})
