/**
 * Settings, read from the environment (and `.env`) once, validated with a JSON schema, returned typed.
 * Nothing else in the app reads `process.env`: tests build the app from any `Settings` they like.
 * @see https://github.com/fastify/env-schema
 */
import envSchema from 'env-schema'
import { readOrCreateDevSecret, DEV_SECRET_FILE } from './dev-secret.js'

export const NODE_ENVS = ['development', 'production', 'test'] as const
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export const SESSION_STORES = ['cookie', 'memory', 'redis'] as const
export const MIN_SECRET_LENGTH = 32

export interface Settings {
  host: string
  port: number
  nodeEnv: typeof NODE_ENVS[number]
  logLevel: typeof LOG_LEVELS[number]
  /** Newest first: the first one encrypts new cookies, every one of them still decrypts. */
  sessionSecrets: string[]
  /** Where the secrets came from, for the boot log line. */
  sessionSecretSource: 'environment' | 'development file'
  /** Idle timeout in seconds: a session not written for this long starts afresh. */
  sessionTimeout: number
  /** Absolute lifetime in seconds from the session's first write, however active; 0: none. */
  sessionMaxAge: number
  /** Behind a TLS-terminating proxy: believe X-Forwarded-Proto, so the cookie is marked Secure. */
  trustProxy: boolean
  /** Where session data lives: in the encrypted cookie, in this process's memory, or in Redis. */
  sessionStore: typeof SESSION_STORES[number]
  /** Memory mode: at most this many sessions; the least recently used go first. */
  sessionStoreMax: number
  redisUrl: string
  redisPrefix: string
  /** Seconds to keep trying to reach Redis at startup; 0 fails at once with a clear message. */
  redisConnectWait: number
}

interface RawEnv {
  HOST: string
  PORT: number
  NODE_ENV: Settings['nodeEnv']
  LOG_LEVEL: Settings['logLevel']
  SESSION_SECRET?: string
  SESSION_TIMEOUT: number
  SESSION_MAX_AGE: number
  TRUST_PROXY: boolean
  SESSION_STORE: Settings['sessionStore']
  SESSION_STORE_MAX: number
  REDIS_URL: string
  REDIS_PREFIX: string
  REDIS_CONNECT_WAIT: number
}

const schema = {
  type: 'object',
  properties: {
    HOST: { type: 'string', default: '127.0.0.1' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 6543 },
    NODE_ENV: { type: 'string', enum: NODE_ENVS, default: 'development' },
    LOG_LEVEL: { type: 'string', enum: LOG_LEVELS, default: 'info' },
    SESSION_SECRET: { type: 'string' },
    SESSION_TIMEOUT: { type: 'integer', minimum: 1, default: 1200 },
    SESSION_MAX_AGE: { type: 'integer', minimum: 0, default: 0 },
    TRUST_PROXY: { type: 'boolean', default: false },
    SESSION_STORE: { type: 'string', enum: SESSION_STORES, default: 'cookie' },
    SESSION_STORE_MAX: { type: 'integer', minimum: 1, default: 10000 },
    REDIS_URL: { type: 'string', pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' },
    REDIS_PREFIX: { type: 'string', default: 'sessions-tutorial:' },
    REDIS_CONNECT_WAIT: { type: 'number', minimum: 0, default: 0 }
  }
}

/** The app cannot start (a setting is wrong, a service is down): the message says what to do, printed as is. */
export class StartupError extends Error {
  override name = 'StartupError'
}

/** A setting is wrong: the message names the variable and the fix. */
export class ConfigError extends StartupError {
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

export function loadSettings (options: LoadOptions = {}): Settings {
  const { env = process.env, dotenv = true, devSecretFile = DEV_SECRET_FILE } = options
  let raw: RawEnv
  try {
    raw = envSchema<RawEnv>({ schema: structuredClone(schema), data: { ...env }, env: false, dotenv })
  } catch (err) {
    throw new ConfigError(`invalid settings: ${(err as Error).message}`)
  }

  const secret = raw.SESSION_SECRET?.trim()
  if (secret) {
    return settingsFrom(raw, parseSecrets(secret), 'environment')
  }
  if (raw.NODE_ENV === 'production') {
    throw new ConfigError(
      'SESSION_SECRET is not set. In production the session cookie needs a secret of at least ' +
      `${MIN_SECRET_LENGTH} characters: set SESSION_SECRET, e.g. SESSION_SECRET=$(openssl rand -base64 48)`
    )
  }
  return settingsFrom(raw, [readOrCreateDevSecret(devSecretFile)], 'development file')
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

function settingsFrom (raw: RawEnv, sessionSecrets: string[], sessionSecretSource: Settings['sessionSecretSource']): Settings {
  return {
    host: raw.HOST,
    port: raw.PORT,
    nodeEnv: raw.NODE_ENV,
    logLevel: raw.LOG_LEVEL,
    sessionSecrets,
    sessionSecretSource,
    sessionTimeout: raw.SESSION_TIMEOUT,
    sessionMaxAge: raw.SESSION_MAX_AGE,
    trustProxy: raw.TRUST_PROXY,
    sessionStore: raw.SESSION_STORE,
    sessionStoreMax: raw.SESSION_STORE_MAX,
    redisUrl: raw.REDIS_URL,
    redisPrefix: raw.REDIS_PREFIX,
    redisConnectWait: raw.REDIS_CONNECT_WAIT
  }
}
