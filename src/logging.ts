/**
 * Logs: one line per request (method, path, status, time) instead of Fastify's two; JSON for log
 * collectors, and in development readable lines through pino-pretty.
 * @see https://fastify.dev/docs/latest/Reference/Server/#logcontroller
 */
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { Settings } from './config.js'

/** The fields each request's line carries, as JSON; pino-pretty shows only its message. */
const REQUEST_FIELDS = ['method', 'url', 'statusCode', 'responseTime']

export function loggerOptions ({ NODE_ENV, LOG_LEVEL }: Settings): FastifyServerOptions['logger'] {
  if (NODE_ENV !== 'development') return { level: LOG_LEVEL }
  return {
    level: LOG_LEVEL,
    transport: {
      target: 'pino-pretty',
      options: { translateTime: 'SYS:HH:MM:ss', singleLine: true, ignore: ['pid', 'hostname', 'reqId', ...REQUEST_FIELDS].join(',') }
    }
  }
}

const INFO_OR_MORE = new Set(['info', 'debug', 'trace'])

/** Fastify's request lines, as one: `GET / 200 1.4 ms` when the answer is sent, nothing when it arrives. */
export class OneLinePerRequest extends LogController {
  override incomingRequest (): void {}

  /** The line written when the answer is sent says 404 already. */
  override routeNotFound (): void {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply)
    // The message is built only when it will be written (the benchmark runs at LOG_LEVEL=warn).
    if (!INFO_OR_MORE.has(reply.log.level)) return
    const { method, url } = request
    const { statusCode, elapsedTime: responseTime } = reply
    reply.log.info({ method, url, statusCode, responseTime }, `${method} ${url} ${statusCode} ${responseTime.toFixed(1)} ms`)
  }
}
