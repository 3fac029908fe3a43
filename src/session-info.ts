/**
 * What a person (or curl) may know about their own session: where it lives, what it holds, how
 * big its cookie is and when it runs out. Read only: it never counts, never consumes a flash.
 */
import type { FastifyRequest } from 'fastify'
import { cartFrom } from './cart.js'
import { pendingFlashCount } from './session/flash-queue.js'
import { SESSION_COOKIE } from './session/index.js'
import type { Settings } from './config.js'

export interface SessionInfo {
  store: Settings['sessionStore']
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

export function sessionInfo (request: FastifyRequest, store: Settings['sessionStore'], idleTimeoutSeconds: number): SessionInfo {
  const session = request.appSession
  const touchedAt = session.get('touchedAt')
  const cookie = request.cookies[SESSION_COOKIE]
  return {
    store,
    counter: session.get('counter') ?? 0,
    cart: cartFrom(session.get('cart')),
    pendingFlashes: pendingFlashCount(session.get('flash')),
    idleTimeoutSeconds,
    expiresAt: typeof touchedAt === 'number' ? new Date((touchedAt + idleTimeoutSeconds) * 1000).toISOString() : null,
    // As the browser holds it: URL-encoded, as @fastify/cookie sent it.
    cookieBytes: cookie === undefined ? 0 : Buffer.byteLength(`${SESSION_COOKIE}=${encodeURIComponent(cookie)}`)
  }
}

const STORE_TEXT: Record<Settings['sessionStore'], string> = {
  cookie: 'an encrypted cookie in your browser (the server keeps nothing)',
  memory: 'this server process\'s memory (gone when it restarts)',
  redis: 'Redis, shared by every server process'
}

/** The same facts, worded for the "About this session" panel. */
export function aboutPanel (info: SessionInfo) {
  const minutes = info.idleTimeoutSeconds / 60
  return {
    ...info,
    storeText: STORE_TEXT[info.store],
    idleText: Number.isInteger(minutes) ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${info.idleTimeoutSeconds} seconds`,
    expiresText: info.expiresAt === null ? null : `${info.expiresAt.slice(11, 16)} UTC`
  }
}
