/** What each session store provides (cookie, memory, redis), and the options that pick and shape one. */
import type { SentinelOptions } from './redis-client.js'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { CookieSerializeOptions } from '@fastify/cookie'
import type { SessionMessages } from './messages.js'
import type { SessionStorage } from './types.js'

export type SessionCookieOptions = { name?: string } & Pick<CookieSerializeOptions, 'path' | 'domain' | 'httpOnly' | 'sameSite' | 'secure' | 'partitioned' | 'priority'>

export const SESSION_STORES = ['cookie', 'memory', 'redis'] as const
export type SessionStoreName = typeof SESSION_STORES[number]

export interface SessionStoreOptions {
  /** Where sessions live: an encrypted cookie, this process's memory, or Redis. */
  store: SessionStoreName
  /** Newest first: the first one encrypts (or signs) new cookies, every one still decrypts (or verifies). */
  secrets: readonly string[]
  /**
   * The salt the keys are derived from the secrets with (HKDF); default 'session-stores'. Give each
   * app its own, and keep it: a new salt makes every existing session unreadable.
   */
  keySalt?: string
  /**
   * The session cookie: its name (default 'session') and attributes (default: path '/', httpOnly,
   * sameSite 'lax', and secure 'auto': Secure when the request came over HTTPS).
   */
  cookie?: SessionCookieOptions
  /** What a visitor is told (refused forms, a change too large to keep); each left out keeps its English default. */
  messages?: Partial<SessionMessages>
  /** Seconds: a session not written for this long starts afresh. */
  idleTimeout: number
  /** Seconds from a session's first write, however active it is; 0 or absent: no limit. */
  maxAge?: number
  /**
   * Server-side stores: the most one session may take in the store, as JSON in UTF-8 bytes (default 4096,
   * what a cookie session gets from browsers). A change that would make it larger is not saved.
   */
  maxSessionBytes?: number
  /** Memory store: at most this many sessions. */
  memory?: { max: number }
  /**
   * The Redis store: where, under which key prefix, how long to wait for it at startup (seconds), and
   * how long one command may take (milliseconds).
   */
  redis?: {
    url: string
    prefix: string
    connectWait: number
    commandTimeout: number
    /** Follow the primary these sentinels name, across failovers; `url` then gives only credentials and database. */
    sentinels?: SentinelOptions
    /** A session write is answered only once this many replicas have it (WAIT); default 0. */
    writeReplicas?: number
    /**
     * What the person starting the app calls `url`, `connectWait` and `writeReplicas` (the app's
     * settings, such as REDIS_URL), for the messages that tell them what to change; default the option paths.
     */
    names?: { url?: string, connectWait?: string, writeReplicas?: string }
  }
  /** Milliseconds since the epoch; tests pass a clock they move by hand instead of sleeping. */
  clock?: () => number
}

/** `primary`: with Redis Sentinel, where the primary is now (`host:port`). */
export type Health = { ok: true, primary?: string } | { ok: false, reason: string }

export interface SessionStore {
  /** Which store this is. */
  readonly name: SessionStoreName
  /** 'encrypted cookie', 'memory' or 'redis', for logs and the page. */
  readonly description: string
  /** The session cookie's name. */
  readonly cookieName: string
  /** What a visitor is told, the options' over the defaults. */
  readonly messages: SessionMessages
  readonly idleTimeout: number
  readonly maxAge: number
  /** Unix seconds, from the options' clock. */
  now (): number
  /** Registers the session plugin in this context (cookie parsing is already registered). */
  register (app: FastifyInstance): Promise<void>
  access (request: FastifyRequest): SessionStorage
  health (): Promise<Health>
  close (): Promise<void>
}

/** The parts of a session store that do not depend on which it is. */
export function commonParts (options: SessionStoreOptions) {
  const clock = options.clock ?? Date.now
  return {
    name: options.store,
    idleTimeout: options.idleTimeout,
    maxAge: options.maxAge ?? 0,
    now: () => Math.floor(clock() / 1000)
  }
}

/**
 * Thrown by a store that cannot be reached, or that refuses what sessions need; the error page
 * answers 503 with this message. `why` is for the visitor: what is wrong, in a few words.
 */
export class SessionStoreUnavailable extends Error {
  override name = 'SessionStoreUnavailable'
  readonly statusCode = 503
  readonly code = 'SESSION_STORE_UNAVAILABLE'

  /**
   * `why`, in a few words, for an error page that words its own message (the default is English:
   * "Sessions are unavailable for a moment (why). Please try again shortly.").
   */
  readonly why: string

  constructor (cause: unknown, why = 'the session store cannot be reached') {
    super(`Sessions are unavailable for a moment (${why}). Please try again shortly.`, { cause })
    this.why = why
  }
}

/** The session store cannot be reached at startup: the message says what to do, printed as is. */
export class SessionStoreUnreachable extends Error {
  override name = 'SessionStoreUnreachable'
}

/**
 * The store answers at startup but refuses what sessions need (a write: no permission, a read-only
 * replica, full). A kind of SessionStoreUnreachable, so it is printed the same way: as is, one line.
 */
export class SessionStoreRefused extends SessionStoreUnreachable {
  override name = 'SessionStoreRefused'
}
