/** What each session mode provides; src/session/index.ts picks one from the settings. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SessionAccess } from './types.js'

export type Health = { ok: true } | { ok: false, reason: string }

export interface SessionBackend {
  /** 'encrypted cookie', 'memory' or 'redis', for logs and the page. */
  readonly description: string
  /** Which plugin holds `request.session`, for @fastify/csrf-protection. */
  readonly sessionPlugin: '@fastify/secure-session' | '@fastify/session'
  /** Registers the session plugin in this context (cookie parsing is already registered). */
  register (app: FastifyInstance): Promise<void>
  access (request: FastifyRequest): SessionAccess
  health (): Health
  close (): Promise<void>
}

/** Thrown by a store that cannot be reached; the error page answers 503 with this message. */
export class SessionStoreUnavailable extends Error {
  override name = 'SessionStoreUnavailable'
  readonly statusCode = 503
  readonly code = 'SESSION_STORE_UNAVAILABLE'

  constructor (cause: unknown) {
    super('Sessions are unavailable for a moment (the session store cannot be reached). Please try again shortly.', { cause })
  }
}
