/**
 * `request.session`, typed per store. @fastify/secure-session and @fastify/session both declare
 * `FastifyRequest.session`, each with its own type (TS2717 when libraries are type-checked; see
 * tsconfig.json), so whichever the compiler meets first wins. Each store reads the session through
 * its accessor here: these are the only casts, and each is true because only that store's plugin
 * is registered in a context that uses it.
 */
import type { FastifyRequest } from 'fastify'
import type { Session as SecureSession } from '@fastify/secure-session'
import type { FastifySessionObject } from '@fastify/session'
import type { SessionData } from './types.js'

/** Cookie store: secure-session's session, keyed by our SessionData. */
export function secureSessionOf (request: FastifyRequest): SecureSession<SessionData> | undefined {
  return request.session as unknown as SecureSession<SessionData> | undefined
}

/** Server-side stores: @fastify/session's session object; null after `discardChanges`. */
export function serverSessionOf (request: FastifyRequest): FastifySessionObject | null | undefined {
  return request.session as unknown as FastifySessionObject | null | undefined
}

/** The server-side stores keep the app's data as plain properties of that object (that is what gets stored). */
export function serverSessionDataOf (request: FastifyRequest): Partial<SessionData> {
  return request.session as unknown as Partial<SessionData>
}

/** Server-side stores: with no session on the request the plugin saves nothing and sets no cookie. */
export function dropServerSession (request: FastifyRequest): void {
  (request as { session: unknown }).session = null
}
