/** Content negotiation: pages answer HTML unless the client prefers JSON (curl's default Accept gets HTML). */
import type { FastifyRequest } from 'fastify'

export function wantsJson (request: FastifyRequest): boolean {
  // Most requests (browsers, curl) never mention JSON: skip the full negotiation for them.
  const accept = request.headers.accept
  if (accept === undefined || !accept.includes('json')) return false
  return request.accepts().type(['html', 'json']) === 'json'
}
