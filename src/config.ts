/**
 * Settings, read from the environment (and `.env`) once, validated with one JSON schema (the
 * `Settings` type is derived from it by json-schema-to-ts, types only), and returned typed.
 * Nothing else in the app reads `process.env`: tests build the app from any `Settings` they like.
 * @see https://github.com/fastify/env-schema
 */
import envSchema from 'env-schema'
import type { FromSchema } from 'json-schema-to-ts'
import { SESSION_MODES } from './framework/session-modes/index.js'
import { readOrCreateDevSecret, DEV_SECRET_FILE } from './dev-secret.js'

export const MIN_SECRET_LENGTH = 32

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
    /** Behind a TLS-terminating proxy: believe X-Forwarded-Proto, so the cookie is marked Secure. */
    TRUST_PROXY: { type: 'boolean', default: false },
    /** Where session data lives: in the encrypted cookie, in this process's memory, or in Redis. */
    SESSION_STORE: { type: 'string', enum: SESSION_MODES, default: 'cookie' },
    /** Memory mode: at most this many sessions; the least recently used go first. */
    SESSION_STORE_MAX: { type: 'integer', minimum: 1, default: 10000 },
    REDIS_URL: { type: 'string', pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' },
    REDIS_PREFIX: { type: 'string', default: 'sessions-tutorial:' },
    /** Seconds to keep trying to reach Redis at startup; 0 fails at once with a clear message. */
    REDIS_CONNECT_WAIT: { type: 'number', minimum: 0, default: 0 }
  },
  additionalProperties: false
} as const

/** Derived from the schema (a property with a default is always present), so the two cannot drift. */
export type Settings = FromSchema<typeof settingsSchema>

export type SecretSource = 'environment' | 'development file'

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

  const secret = settings.SESSION_SECRET.trim()
  if (secret) {
    parseSecrets(secret) // a short secret stops the start here, with its one-line message
    return { settings: { ...settings, SESSION_SECRET: secret }, secretSource: 'environment' }
  }
  if (settings.NODE_ENV === 'production') {
    throw new ConfigError(
      'SESSION_SECRET is not set. In production the session cookie needs a secret of at least ' +
      `${MIN_SECRET_LENGTH} characters: set SESSION_SECRET, e.g. SESSION_SECRET=$(openssl rand -base64 48)`
    )
  }
  return { settings: { ...settings, SESSION_SECRET: readOrCreateDevSecret(devSecretFile) }, secretSource: 'development file' }
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
