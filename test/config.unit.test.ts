import t from 'tap'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, loadSettings, parseSecrets, parseSentinels, parseTrustedOrigins, parseTrustProxy } from '../src/config.js'
import { sessionStoreOptions } from '../src/app.js'
import { SECRET, OTHER_SECRET } from './helper.js'

function load (env: Record<string, string>, devSecretFile = '/nonexistent/never-written') {
  const { settings, secretSource } = loadSettings({ env, dotenv: false, devSecretFile })
  return { ...settings, secretSource, secrets: parseSecrets(settings.SESSION_SECRET) }
}

/** The ConfigError's message for these variables (with a valid secret), or 'accepted'. */
function refusal (env: Record<string, string>): string {
  try {
    load({ SESSION_SECRET: SECRET, ...env })
    return 'accepted'
  } catch (err) {
    if (err instanceof ConfigError) return err.message
    throw err
  }
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

t.test('every number has a maximum: it is accepted, one more is refused naming the setting and its unit', async (t) => {
  const maxima = [
    ['PORT', 65535, ''],
    ['SESSION_TIMEOUT', 31_536_000, ' seconds'],
    ['SESSION_MAX_AGE', 31_536_000, ' seconds'],
    ['REQUEST_TIMEOUT', 3600, ' seconds'],
    ['SESSION_STORE_MAX', 1_000_000, ' sessions'],
    ['SESSION_MAX_BYTES', 1_048_576, ' bytes'],
    ['REDIS_CONNECT_WAIT', 3600, ' seconds'],
    ['REDIS_COMMAND_TIMEOUT', 60_000, ' milliseconds']
  ] as const
  for (const [name, max, unit] of maxima) {
    t.equal(load({ SESSION_SECRET: SECRET, [name]: String(max) })[name], max, `${name}=${max}`)
    t.equal(refusal({ [name]: String(max + 1) }), `invalid settings: ${name} must be <= ${max}${unit}`)
    // Ajv turns these into Infinity and skips its bounds: they are refused all the same.
    t.equal(refusal({ [name]: 'Infinity' }), `invalid settings: ${name} must be <= ${max}${unit}`)
    t.equal(refusal({ [name]: '1e400' }), `invalid settings: ${name} must be <= ${max}${unit}`)
  }
  t.equal(refusal({ SESSION_MAX_BYTES: '1023' }), 'invalid settings: SESSION_MAX_BYTES must be >= 1024 bytes', 'a session needs room for its token and cookie data')
  t.equal(refusal({ REDIS_CONNECT_WAIT: '-Infinity' }), 'invalid settings: REDIS_CONNECT_WAIT must be >= 0 seconds')
  t.equal(refusal({ PORT: '70000', REQUEST_TIMEOUT: '0' }), 'invalid settings: PORT must be <= 65535; REQUEST_TIMEOUT must be >= 1 seconds', 'all on one line')
  t.equal(refusal({ NODE_ENV: 'staging' }), 'invalid settings: NODE_ENV must be one of development, production, test')
})

t.test('TRUST_PROXY: at most 100 hops, and a CIDR prefix no longer than the address', async (t) => {
  t.equal(load({ SESSION_SECRET: SECRET, TRUST_PROXY: '100' }).TRUST_PROXY, 100)
  t.match(refusal({ TRUST_PROXY: '101' }), /^TRUST_PROXY hop count 101 is out of range: it must be 0 to 100/)
  t.match(refusal({ TRUST_PROXY: '-1' }), /^TRUST_PROXY hop count -1 is out of range/)
  for (const range of ['10.0.0.0/32', '0.0.0.0/0', '::1/128', '2001:db8::/32']) t.equal(refusal({ TRUST_PROXY: range }), 'accepted', range)
  t.match(refusal({ TRUST_PROXY: '10.0.0.1, 10.0.0.0/33' }), /^TRUST_PROXY has "10\.0\.0\.0\/33", whose prefix length is over 32, the most for IPv4: /)
  t.match(refusal({ TRUST_PROXY: '::1/129' }), /^TRUST_PROXY has "::1\/129", whose prefix length is over 128, the most for IPv6: /)
})

t.test('REDIS_URL is checked whole: scheme, host, port, database index', async (t) => {
  for (const url of ['redis://127.0.0.1:6379', 'redis://h:6379/', 'rediss://user:p%40ss@redis.example:6380/15', 'redis://[::1]:6379/0', 'redis://h/2147483647', 'redis://[::1]', 'redis://[::1]/0', 'redis://u:p@[::1]', 'redis://:50%25off@h']) {
    t.equal(refusal({ REDIS_URL: url }), 'accepted', url)
  }
  const refused = {
    'http://h:6379': /^REDIS_URL must start with redis:\/\/ \(or rediss:\/\/ for TLS\)/,
    'redis://h:p/abc': /^REDIS_URL has the port "p", which is not a number from 1 to 65535: set it like redis:\/\//,
    'redis://h:0': /^REDIS_URL has the port "0"/,
    'redis:///0': /^REDIS_URL has no host/,
    'redis://h?db=1': /^REDIS_URL has a \? or # part, which the Redis client ignores/,
    'redis://127.0.0.1:6379/abc': /^REDIS_URL has the database "\/abc", which is not a database index: end the URL with \/0 … \/2147483647/,
    'redis://h/-1': /the database "\/-1"/,
    'redis://h/1.5': /the database "\/1\.5"/,
    'redis://h/2147483648': /the database "\/2147483648"/,
    'redis://h/0/1': /the database "\/0\/1"/,
    'redis://:50%off@h:6379': /^REDIS_URL has a % in its user name or password that starts no %XX escape: write % as %25/
  }
  for (const [url, expected] of Object.entries(refused)) t.match(refusal({ REDIS_URL: url }), expected, url)
  // A password with an unescaped / or @ is never echoed, even in part.
  for (const url of ['redis://user:s3cr/et@h:6379', 'redis://user:s3cr@et@h:p']) {
    t.notMatch(refusal({ REDIS_URL: url }), /s3cr|et@/, url)
  }
})

t.test('REDIS_SENTINELS: host:port entries, comma-separated; REDIS_WRITE_REPLICAS: 0 to 100, 1 with sentinels unless set', async (t) => {
  for (const list of ['', '127.0.0.1:26379', 'a:26379, b:26380 ,c.example:1', '[::1]:26379,h:65535']) t.equal(refusal({ REDIS_SENTINELS: list }), 'accepted', list || '(empty)')
  t.same(parseSentinels(' [::1]:26379, s2.example:26380 '), [{ host: '::1', port: 26379 }, { host: 's2.example', port: 26380 }], 'parsed, the brackets off an IPv6 host')
  for (const entry of ['h', 'h:', ':26379', 'h:0', 'h:65536', 'h:2637x', 'redis://h:26379', 'h:26379/0', 'user@h:26379']) {
    t.match(refusal({ REDIS_SENTINELS: `a:1,${entry}` }), new RegExp(`^REDIS_SENTINELS has "${entry.replace(/[/.]/g, '\\$&')}", which is not host:port: list each sentinel as host:port, comma-separated, e\\.g\\. REDIS_SENTINELS=`), entry)
  }
  t.match(refusal({ REDIS_WRITE_REPLICAS: '101' }), /^invalid settings: REDIS_WRITE_REPLICAS must be <= 100 replicas/)
  t.match(refusal({ REDIS_WRITE_REPLICAS: 'one' }), /^invalid settings: REDIS_WRITE_REPLICAS must be integer/)
  t.match(refusal({ REDIS_SENTINEL_NAME: '' }), /^invalid settings: REDIS_SENTINEL_NAME must NOT have fewer than 1 characters/)
  const base = { SESSION_SECRET: SECRET, SESSION_STORE: 'redis' }
  t.equal(sessionStoreOptions(load(base)).redis?.writeReplicas, 0, 'no sentinels: answered once the primary has it')
  t.equal(sessionStoreOptions(load({ ...base, REDIS_SENTINELS: 'a:1' })).redis?.writeReplicas, 1, 'sentinels: once a replica has it too')
  t.equal(sessionStoreOptions(load({ ...base, REDIS_SENTINELS: 'a:1', REDIS_WRITE_REPLICAS: '0' })).redis?.writeReplicas, 0, 'unless set to 0')
  t.same(sessionStoreOptions(load({ ...base, REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'sessions', REDIS_SENTINEL_PASSWORD: 'pw' })).redis?.sentinels,
    { nodes: [{ host: 'a', port: 1 }], name: 'sessions', username: '', password: 'pw' }, 'the sentinels, their name and credentials')
})

// What the server must refuse at start (test/startup-failures.test.ts starts the real server with
// one of each kind): the message each one gets, which the server prints as its one line.
t.test('wrong settings the server refuses to start with: each named, with what to do', async (t) => {
  const refused: Array<[Record<string, string>, RegExp]> = [
    [{ SESSION_STORE: 'redis', REDIS_URL: 'redis://a b' }, /^REDIS_URL is not a valid URL: set it like redis:\/\//],
    [{ SESSION_STORE: 'redis', REDIS_URL: 'redis://h:p/abc' }, /^REDIS_URL has the port "p", which is not a number from 1 to 65535: set it like redis:\/\//],
    [{ SESSION_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:6379/abc' }, /^REDIS_URL has the database "\/abc", which is not a database index: end the URL with \/0/],
    [{ SESSION_STORE: 'redis', REDIS_COMMAND_TIMEOUT: '3000000000' }, /^invalid settings: REDIS_COMMAND_TIMEOUT must be <= 60000 milliseconds/],
    [{ SESSION_STORE: 'redis', REDIS_CONNECT_WAIT: '9999999999' }, /^invalid settings: REDIS_CONNECT_WAIT must be <= 3600 seconds/],
    [{ REQUEST_TIMEOUT: '3000000' }, /^invalid settings: REQUEST_TIMEOUT must be <= 3600 seconds/],
    [{ TRUST_PROXY: 'everyone' }, /^TRUST_PROXY has "everyone", which is not an address or CIDR range: .*hop count/],
    [{ TRUST_PROXY: '10.0.0.0/99' }, /^TRUST_PROXY has "10\.0\.0\.0\/99", whose prefix length is over 32, the most for IPv4: /],
    [{ HOST: '' }, /^HOST is set but empty, which would listen on every interface: set HOST=127\.0\.0\.1/],
    [{ NODE_ENV: 'production', SESSION_SECRET: 'a'.repeat(40) }, /^SESSION_SECRET is too weak for production: it has 1 different characters, it needs at least 10/]
  ]
  for (const [env, expected] of refused) {
    const message = refusal(env)
    t.match(message, expected, Object.entries(env).map(([key, value]) => `${key}=${value}`).join(' '))
    t.equal(message.split('\n').length, 1, 'one line')
  }
})

t.test('HOST set but empty is refused: it would listen on every interface', async (t) => {
  for (const host of ['', '  ']) {
    t.match(refusal({ HOST: host }), /^HOST is set but empty, which would listen on every interface: set HOST=127\.0\.0\.1 .*HOST=0\.0\.0\.0/)
  }
})
