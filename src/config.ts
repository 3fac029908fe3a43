/**
 * Settings, read from the environment (and `.env`) once, validated with one JSON schema (the
 * `Settings` type is derived from it by json-schema-to-ts, types only), and returned typed.
 * Nothing else in the app reads `process.env`: tests build the app from any `Settings` they like.
 * @see https://github.com/fastify/env-schema
 */
import envSchema from 'env-schema'
import type { FromSchema } from 'json-schema-to-ts'
import { SESSION_MODES } from './framework/session-modes/index.js'
import { isIP } from 'node:net'
import { readOrCreateDevSecret, DEV_SECRET_FILE } from './dev-secret.js'

export const MIN_SECRET_LENGTH = 32
export const MIN_DISTINCT_SECRET_CHARACTERS = 10

/** Every setting, by the name of its environment variable; `.env.example` explains each one. */
export const settingsSchema = {
  type: 'object',
  properties: {
    HOST: { type: 'string', default: '127.0.0.1' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 6543 },
    NODE_ENV: { type: 'string', enum: ['development', 'production', 'test'], default: 'development' },
    LOG_LEVEL: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    /** `new,old,older`: the first encrypts, all decrypt. Made on first start outside production. */
    SESSION_SECRET: { type: 'string', default: '' },
    /** Idle timeout in seconds: a session not written for this long starts afresh. */
    SESSION_TIMEOUT: { type: 'integer', minimum: 1, default: 1200 },
    /** Absolute lifetime in seconds from the session's first write, however active; 0: none. */
    SESSION_MAX_AGE: { type: 'integer', minimum: 0, default: 0 },
    /**
     * Which proxies' X-Forwarded-* headers to believe: false, true (every hop), a hop count (the
     * recommended form: how many proxies stand in front) or a comma list of addresses/CIDRs.
     */
    TRUST_PROXY: { anyOf: [{ type: 'boolean' }, { type: 'integer', minimum: 0 }, { type: 'string' }], default: false },
    /** Seconds a request has to arrive whole (headers and body); a slower client is cut off with 408. */
    REQUEST_TIMEOUT: { type: 'integer', minimum: 1, default: 30 },
    /** Comma list of other origins (scheme://host:port) whose pages may post the forms. */
    TRUSTED_ORIGINS: { type: 'string', default: '' },
    /** Where session data lives: in the encrypted cookie, in this process's memory, or in Redis. */
    SESSION_STORE: { type: 'string', enum: SESSION_MODES, default: 'cookie' },
    /** Memory mode: at most this many sessions; the least recently used go first. */
    SESSION_STORE_MAX: { type: 'integer', minimum: 1, default: 10000 },
    REDIS_URL: { type: 'string', pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' },
    REDIS_PREFIX: { type: 'string', default: 'sessions-tutorial:' },
    /** Seconds to keep trying to reach Redis at startup; 0 fails at once with a clear message. */
    REDIS_CONNECT_WAIT: { type: 'number', minimum: 0, default: 0 },
    /** Milliseconds one Redis command may take; a slower (or frozen) Redis answers 503 instead of hanging. */
    REDIS_COMMAND_TIMEOUT: { type: 'integer', minimum: 1, default: 1000 }
  },
  additionalProperties: false
} as const

/** Derived from the schema (a property with a default is always present), so the two cannot drift. */
export type Settings = FromSchema<typeof settingsSchema>

/** Where SESSION_SECRET came from; the development file is named when this start created it. */
export type SecretSource = 'environment' | 'development file' | { createdIn: string }

/** A setting is wrong: the message names the variable and the fix, printed as is. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

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
  let settings: Settings
  try {
    settings = envSchema<Settings>({ schema: structuredClone(settingsSchema), data: { ...env }, env: false, dotenv })
  } catch (err) {
    throw new ConfigError(`invalid settings: ${(err as Error).message}`)
  }

  // Each of these stops the start here, with its one-line message, rather than deep inside the app.
  parseTrustProxy(settings.TRUST_PROXY)
  parseTrustedOrigins(settings.TRUSTED_ORIGINS)
  if (!URL.canParse(settings.REDIS_URL)) {
    throw new ConfigError('REDIS_URL is not a valid URL: set it like redis://user:password@host:6379/0 (spaces and other special characters in a password must be percent-encoded)')
  }

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

/** TRUST_PROXY as Fastify takes it: a boolean, a hop count (as Fastify's own hop test), or addresses. */
export function parseTrustProxy (value: Settings['TRUST_PROXY']): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'boolean') return value
  if (typeof value === 'number') return (_address, hop) => hop < value
  const entries = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const bad = entries.find((entry) => {
    const [address = '', bits, ...rest] = entry.split('/')
    return isIP(address) === 0 || rest.length > 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits))
  })
  if (entries.length === 0 || bad !== undefined) {
    throw new ConfigError(
      `TRUST_PROXY ${bad === undefined ? 'is empty' : `has "${bad}", which is not an address or CIDR range`}: ` +
      'use false, true, a hop count (recommended: the number of proxies in front, e.g. TRUST_PROXY=1) or addresses like 10.0.0.1,10.0.0.0/8'
    )
  }
  return entries
}

/** TRUSTED_ORIGINS as a list of origins (`scheme://host[:port]`, nothing after). */
export function parseTrustedOrigins (value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '').map((entry) => {
    const origin = URL.canParse(entry) ? new URL(entry).origin : 'null'
    if (origin === 'null' || origin !== entry.replace(/\/$/, '')) {
      throw new ConfigError(`TRUSTED_ORIGINS has "${entry}", which is not an origin: write scheme://host[:port], e.g. https://shop.example.com`)
    }
    return origin
  })
}

/** `new,old,older`: the first encrypts, all decrypt, so a secret can be rotated without logging anyone out. */
export function parseSecrets (value: string): string[] {
  const secrets = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const short = secrets.findIndex((s) => s.length < MIN_SECRET_LENGTH)
  if (secrets.length === 0 || short !== -1) {
    const which = secrets.length > 1 ? ` (entry ${short + 1} of the comma-separated list)` : ''
    throw new ConfigError(
      `SESSION_SECRET is too short${which}: each secret needs at least ${MIN_SECRET_LENGTH} characters, ` +
      'e.g. SESSION_SECRET=$(openssl rand -base64 48)'
    )
  }
  return secrets
}
