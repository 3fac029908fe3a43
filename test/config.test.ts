import t from 'tap'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, loadSettings, parseSecrets } from '../src/config.js'
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
  t.equal(first.secretSource, 'development file')
  t.ok(existsSync(file))
  t.equal(statSync(file).mode & 0o777, 0o600)
  t.ok(first.secrets[0]!.length >= 32)
  t.same(load({}, file).secrets, first.secrets, 'the same secret on the next start')
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
