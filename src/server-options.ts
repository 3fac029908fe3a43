/**
 * The Fastify server itself, apart from what it serves: its options (logging, timeouts, the body
 * limit) and the hooks that shape every response on the way out. fastify/demo keeps
 * these beside its entry point; here `createServer` is shared by src/server.ts and the tests.
 */
import type { Server } from 'node:http'
import Fastify, { type FastifyHttpOptions, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { parseTrustProxy, type Settings } from './config.js'
import { loggerOptions, OneLinePerRequest } from './logging.js'

/** The forms here post a few hundred bytes; anything much larger is refused (413) before parsing. */
export const BODY_LIMIT = 8 * 1024

export function serverOptions (settings: Settings): FastifyHttpOptions<Server> {
  return {
    logger: loggerOptions(settings),
    logController: new OneLinePerRequest(),
    trustProxy: parseTrustProxy(settings.TRUST_PROXY),
    // A request must arrive whole within REQUEST_TIMEOUT (408 otherwise), and a silent connection
    // is closed after as long, so a slow client cannot hold a connection for minutes. Node checks
    // the deadlines every connectionsCheckingInterval (30 s by default): once a second here.
    requestTimeout: settings.REQUEST_TIMEOUT * 1000,
    connectionTimeout: settings.REQUEST_TIMEOUT * 1000,
    keepAliveTimeout: 5000,
    http: { headersTimeout: Math.min(settings.REQUEST_TIMEOUT * 1000, 60_000), connectionsCheckingInterval: 1000 },
    bodyLimit: BODY_LIMIT
  }
}

/** A Fastify instance with this server's options (`overrides` over them) and response hooks. */
export function createServer (settings: Settings, overrides: FastifyServerOptions = {}): FastifyInstance {
  const app = Fastify({ ...serverOptions(settings), ...overrides })

  // While closing, in-flight requests still finish, but their keep-alive sockets must not hold the
  // close open (until keepAliveTimeout): their responses say Connection: close.
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    // JSON answers end with a newline, so `curl` leaves the shell's prompt on a line of its own.
    if (typeof payload === 'string' && String(reply.getHeader('content-type')).startsWith('application/json')) {
      return done(null, payload + '\n')
    }
    done(null, payload)
  })
  return app
}
