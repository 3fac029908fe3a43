/**
 * What a person (or curl) may know about their own session: where it lives, what it holds, how
 * big its cookie is and when it runs out. Read only: it never counts, never consumes a flash.
 */
import type { FastifyRequest } from 'fastify'
import { cartFrom } from './cart.js'
import { sessionOf, type SessionStoreName } from './framework/session-stores/index.js'
import { SESSION_COOKIE } from './session-data.js'

export interface SessionInfo {
  store: SessionStoreName
  counter: number
  cart: string[]
  pendingFlashes: number
  idleTimeoutSeconds: number
  /** When the session ends if nothing writes to it again; null before anything was written. */
  expiresAt: string | null
  /** Bytes of the session cookie this browser sent (0: none yet). */
  cookieBytes: number
}

export const sessionInfoSchema = {
  type: 'object',
  properties: {
    store: { type: 'string' },
    counter: { type: 'integer' },
    cart: { type: 'array', items: { type: 'string' } },
    pendingFlashes: { type: 'integer' },
    idleTimeoutSeconds: { type: 'integer' },
    expiresAt: { type: ['string', 'null'] },
    cookieBytes: { type: 'integer' }
  }
} as const

/** When the session ends, as an ISO date (the framework's rule: idle timeout or absolute lifetime). */
function expiresAtOf (request: FastifyRequest): string | null {
  const at = sessionOf(request).expiresAt()
  return at === undefined ? null : new Date(at * 1000).toISOString()
}

export function sessionInfo (request: FastifyRequest, store: SessionStoreName, idleTimeout: number): SessionInfo {
  const session = sessionOf(request)
  return {
    store,
    counter: session.get('counter') ?? 0,
    cart: cartFrom(session.get('cart')),
    pendingFlashes: session.peekFlash().length,
    idleTimeoutSeconds: idleTimeout,
    expiresAt: expiresAtOf(request),
    cookieBytes: sessionCookieBytes(request.headers.cookie)
  }
}

/**
 * Bytes of `session=…` as the browser sent it, read off the raw header (no decoding and re-encoding;
 * header strings hold one byte per character). 0 when there is none.
 */
export function sessionCookieBytes (header: string | undefined): number {
  if (header === undefined) return 0
  const name = `${SESSION_COOKIE}=`
  let start = 0
  if (!header.startsWith(name)) {
    const at = header.indexOf(`; ${name}`)
    if (at === -1) return 0
    start = at + 2
  }
  const end = header.indexOf(';', start)
  return (end === -1 ? header.length : end) - start
}

const STORE_TEXT: Record<SessionStoreName, string> = {
  cookie: 'an encrypted cookie in your browser (the server keeps nothing)',
  memory: 'this server process\'s memory (gone when it restarts)',
  redis: 'Redis, shared by every server process'
}

/**
 * What "Start a new session" does to the old one, truly in each store: a store deletes it; a cookie
 * session cannot be revoked, so a copy of the old cookie still works until it expires.
 */
const RESET_TEXT: Record<SessionStoreName, string> = {
  cookie: 'Your browser gets a new, empty session cookie. The server keeps nothing to delete, so a copy of the old cookie, if one was saved somewhere, would still work until it expires.',
  memory: 'The old session is deleted on the server: its cookie leads nowhere after this, and it cannot be brought back.',
  redis: 'The old session is deleted on the server: its cookie leads nowhere after this, and it cannot be brought back.'
}

export interface AboutPanel {
  storeText: string
  resetText: string
  idleText: string
  cookieBytes: number
  expiresAt: string | null
  expiresText: string | null
}

/** The "About this session" panel's facts, worded for people; what never changes is worded once. */
export function aboutPanelFor (store: SessionStoreName, idleTimeout: number): (request: FastifyRequest) => AboutPanel {
  const minutes = idleTimeout / 60
  const storeText = STORE_TEXT[store]
  const resetText = RESET_TEXT[store]
  const idleText = Number.isInteger(minutes) ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${idleTimeout} seconds`

  return (request) => {
    const expiresAt = expiresAtOf(request)
    return {
      storeText,
      resetText,
      idleText,
      cookieBytes: sessionCookieBytes(request.headers.cookie),
      expiresAt,
      expiresText: expiresAt === null ? null : `${expiresAt.slice(11, 16)} UTC`
    }
  }
}
