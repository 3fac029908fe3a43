/**
 * Settings, read from the environment (and `.env`) once, validated with one JSON schema (the
 * `Settings` type is derived from it by json-schema-to-ts, types only), and returned typed.
 * Nothing else in the app reads `process.env`: tests build the app from any `Settings` they like.
 * @see https://github.com/fastify/env-schema
 */
import envSchema from 'env-schema'
import type { FromSchema } from 'json-schema-to-ts'
import { SESSION_STORES } from './framework/session-stores/index.js'
import { readOrCreateDevSecret, DEV_SECRET_FILE } from './dev-secret.js'
import { checkRedisUrl, ConfigError, MAX_TRUST_PROXY_HOPS, MIN_SECRET_LENGTH, parseSecrets, parseSentinels, parseTrustedOrigins, parseTrustProxy } from './setting-parsers.js'

export {
  checkRedisUrl, ConfigError, MAX_REDIS_DATABASE, MAX_TRUST_PROXY_HOPS, MIN_SECRET_LENGTH, parseSecrets, parseSentinels, parseTrustedOrigins, parseTrustProxy
} from './setting-parsers.js'

export const MIN_DISTINCT_SECRET_CHARACTERS = 10

/**
 * Maxima: each keeps what a number becomes safe (a Node timer holds at most 2^31-1 ms, about 24.8
 * days; a date at most 8.64e15 ms; the memory store allocates its slots at start) while staying far
 * above any real use. `description` is the unit, named in the message when a bound is crossed.
 */
export const ONE_YEAR = 365 * 24 * 60 * 60

/** Every setting, by the name of its environment variable; `.env.example` explains each one. */
export const settingsSchema = {
  type: 'object',
  properties: {
    /** Never empty: an empty host would listen on every interface (checked below, with the fix). */
    HOST: { type: 'string', default: '127.0.0.1' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 6543 },
    NODE_ENV: { type: 'string', enum: ['development', 'production', 'test'], default: 'development' },
    LOG_LEVEL: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    /** `new,old,older`: the first encrypts, all decrypt. Made on first start outside production. */
    SESSION_SECRET: { type: 'string', default: '' },
    /** Idle timeout: a session not written for this long starts afresh. A year keeps every expiry date valid. */
    SESSION_TIMEOUT: { type: 'integer', minimum: 1, maximum: ONE_YEAR, default: 1200, description: 'seconds' },
    /** Absolute lifetime from the session's first write, however active; 0: none. */
    SESSION_MAX_AGE: { type: 'integer', minimum: 0, maximum: ONE_YEAR, default: 0, description: 'seconds' },
    /**
     * Which proxies' X-Forwarded-* headers to believe: false, true (every hop), a hop count (the
     * recommended form: how many proxies stand in front) or a comma list of addresses/CIDRs.
     * A count over the maximum falls through to the string branch; parseTrustProxy refuses it.
     */
    TRUST_PROXY: { anyOf: [{ type: 'boolean' }, { type: 'integer', minimum: 0, maximum: MAX_TRUST_PROXY_HOPS }, { type: 'string' }], default: false },
    /** Time a request has to arrive whole (headers and body); a slower client is cut off with 408. Becomes a socket timer in ms. */
    REQUEST_TIMEOUT: { type: 'integer', minimum: 1, maximum: 3600, default: 30, description: 'seconds' },
    /** Comma list of other origins (scheme://host:port) whose pages may post the forms. */
    TRUSTED_ORIGINS: { type: 'string', default: '' },
    /** Where session data lives: in the encrypted cookie, in this process's memory, or in Redis. */
    SESSION_STORE: { type: 'string', enum: SESSION_STORES, default: 'cookie' },
    /** Memory store: at most this many sessions; the least recently used go first. Slots are allocated at start (about 33 MB per million). */
    SESSION_STORE_MAX: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 10000, description: 'sessions' },
    /**
     * Memory and Redis stores: the most one session may take in the store (its JSON, in UTF-8
     * bytes); a change that would make it larger is not saved. 4096, as browsers give a cookie.
     */
    SESSION_MAX_BYTES: { type: 'integer', minimum: 1024, maximum: 1_048_576, default: 4096, description: 'bytes' },
    /** redis:// or rediss://, a host, a port, a database index: checked whole by checkRedisUrl. */
    REDIS_URL: { type: 'string', default: 'redis://127.0.0.1:6379' },
    REDIS_PREFIX: { type: 'string', default: 'sessions-tutorial:' },
    /** How long to keep trying to reach Redis at startup; 0 fails at once with a clear message. A timer in ms. */
    REDIS_CONNECT_WAIT: { type: 'number', minimum: 0, maximum: 3600, default: 0, description: 'seconds' },
    /** How long one Redis command may take; a slower (or frozen) Redis answers 503 instead of hanging. A timer. */
    REDIS_COMMAND_TIMEOUT: { type: 'integer', minimum: 1, maximum: 60_000, default: 1000, description: 'milliseconds' },
    /** Comma list of Sentinel `host:port`s: the primary is asked of them and followed across failovers (REDIS_URL's host is then not used). */
    REDIS_SENTINELS: { type: 'string', default: '' },
    /** The name the sentinels monitor the primary under (`sentinel monitor NAME …`). */
    REDIS_SENTINEL_NAME: { type: 'string', minLength: 1, default: 'mymaster' },
    /** The sentinels' own credentials, when they require them (their `requirepass`, or an ACL user). */
    REDIS_SENTINEL_USERNAME: { type: 'string', default: '' },
    REDIS_SENTINEL_PASSWORD: { type: 'string', default: '' },
    /** A session write is answered only once this many replicas have it (WAIT); unset: 1 with sentinels, else 0. */
    REDIS_WRITE_REPLICAS: { type: 'integer', minimum: 0, maximum: 100, description: 'replicas' }
  },
  additionalProperties: false
} as const

/** Derived from the schema (a property with a default is always present), so the two cannot drift. */
export type Settings = FromSchema<typeof settingsSchema>

/** Where SESSION_SECRET came from; the development file is named when this start created it. */
export type SecretSource = 'environment' | 'development file' | { createdIn: string }

export interface LoadOptions {
  /** Variables to read; defaults to `process.env`. */
  env?: Record<string, string | undefined>
  /** Read `.env` from the working directory (variables already set win). */
  dotenv?: boolean
  /** Where the development secret lives when SESSION_SECRET is not set. */
  devSecretFile?: string
}

/** The settings, with SESSION_SECRET always set, and where the secret came from. */
export function loadSettings (options: LoadOptions = {}): { settings: Settings, secretSource: SecretSource } {
  const { env = process.env, dotenv = true, devSecretFile = DEV_SECRET_FILE } = options
  const settings = validate({ ...env }, dotenv)

  // Each of these stops the start here, with its one-line message, rather than deep inside the app.
  if (settings.HOST.trim() === '') {
    throw new ConfigError('HOST is set but empty, which would listen on every interface: set HOST=127.0.0.1 (this machine only, the default), or HOST=0.0.0.0 to listen on every interface on purpose')
  }
  parseTrustProxy(settings.TRUST_PROXY)
  parseTrustedOrigins(settings.TRUSTED_ORIGINS)
  checkRedisUrl(settings.REDIS_URL)
  parseSentinels(settings.REDIS_SENTINELS)

  const secret = settings.SESSION_SECRET.trim()
  if (secret) {
    const secrets = parseSecrets(secret)
    if (settings.NODE_ENV === 'production') secrets.forEach(refuseWeakSecret)
    return { settings: { ...settings, SESSION_SECRET: secret }, secretSource: 'environment' }
  }
  if (settings.NODE_ENV === 'production') {
    throw new ConfigError(
      'SESSION_SECRET is not set. In production the session cookie needs a secret of at least ' +
      `${MIN_SECRET_LENGTH} characters: set SESSION_SECRET, e.g. SESSION_SECRET=$(openssl rand -base64 48)`
    )
  }
  const { secret: made, created } = devSecret(devSecretFile)
  return { settings: { ...settings, SESSION_SECRET: made }, secretSource: created ? { createdIn: devSecretFile } : 'development file' }
}

/** An error as ajv reports it (env-schema passes them on as `err.errors`). */
interface SchemaError { instancePath: string, keyword: string, message?: string, params: { allowedValues?: unknown[] } }

/** The variables, validated by the schema; every problem named on one line. */
function validate (data: Record<string, unknown>, dotenv: boolean): Settings {
  let settings: Settings
  try {
    settings = envSchema<Settings>({ schema: structuredClone(settingsSchema), data, env: false, dotenv })
  } catch (err) {
    const errors = (err as { errors?: SchemaError[] }).errors
    throw new ConfigError(`invalid settings: ${errors ? describe(errors) : (err as Error).message}`)
  }
  // Ajv coerces "Infinity" (or 1e400) to Infinity, then checks minimum and maximum on finite numbers only.
  const infinite = Object.entries(settingsSchema.properties).flatMap(([name, property]): SchemaError[] => {
    const value: unknown = settings[name as keyof Settings]
    if (!('maximum' in property) || typeof value !== 'number' || Number.isFinite(value)) return []
    return [value > 0
      ? { instancePath: `/${name}`, keyword: 'maximum', message: `must be <= ${property.maximum}`, params: {} }
      : { instancePath: `/${name}`, keyword: 'minimum', message: `must be >= ${property.minimum}`, params: {} }]
  })
  if (infinite.length > 0) throw new ConfigError(`invalid settings: ${describe(infinite)}`)
  return settings
}

/** `NAME must be …`, with the unit of a bound (the property's `description`), joined by semicolons. */
function describe (errors: SchemaError[]): string {
  return errors.map(({ instancePath, keyword, message, params }) => {
    const name = instancePath.slice(1) as keyof typeof settingsSchema.properties
    if (keyword === 'enum') return `${name} must be one of ${params.allowedValues?.join(', ')}`
    const unit = (settingsSchema.properties[name] as { description?: string } | undefined)?.description
    return `${name} ${message}${unit && (keyword === 'maximum' || keyword === 'minimum') ? ` ${unit}` : ''}`
  }).join('; ')
}

function devSecret (file: string): { secret: string, created: boolean } {
  try {
    return readOrCreateDevSecret(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw new ConfigError(`cannot keep the development session secret in ${file} (${code}): make that folder writable, or set SESSION_SECRET`)
  }
}

/**
 * Production refuses a secret with fewer than MIN_DISTINCT_SECRET_CHARACTERS different characters
 * (32 × "a" is long enough and guessable). Django's deploy check warns under 5; a random secret of
 * 32 base64 characters has about 25, so 10 refuses only secrets a person typed.
 */
function refuseWeakSecret (secret: string, index: number, secrets: string[]): void {
  const distinct = new Set(secret).size
  if (distinct < MIN_DISTINCT_SECRET_CHARACTERS) {
    const which = secrets.length > 1 ? ` (entry ${index + 1} of the comma-separated list)` : ''
    throw new ConfigError(
      `SESSION_SECRET is too weak for production${which}: it has ${distinct} different characters, it needs at least ` +
      `${MIN_DISTINCT_SECRET_CHARACTERS}; use a random one, e.g. SESSION_SECRET=$(openssl rand -base64 48)`
    )
  }
}
