/** Content negotiation: pages answer HTML unless the client prefers JSON (curl's default Accept gets HTML). */
import type { FastifyRequest } from 'fastify'

export function wantsJson (request: FastifyRequest): boolean {
  return request.accepts().type(['html', 'json']) === 'json'
}
