/** GET /healthz: is the session store reachable? Outside the pages' context: it never reads or writes a session. */
import type { FastifyInstance } from 'fastify'
import type { SessionStore } from '../framework/session-stores/index.js'

export function addHealthRoute (app: FastifyInstance, sessions: SessionStore): void {
  app.get('/healthz', async (_request, reply) => {
    // Always the answer of now: a cache between a checker and the app must not repeat an old one.
    reply.header('cache-control', 'no-store')
    const health = await sessions.health()
    if (health.ok) return health.primary === undefined ? { status: 'ok' } : { status: 'ok', primary: health.primary }
    return reply.code(503).send({ status: 'unavailable', reason: health.reason })
  })
}
