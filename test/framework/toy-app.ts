/**
 * A toy app on the session framework alone (nothing of the tutorial), for the framework's tests of
 * its stores: a page that counts visits and lists items, forms that add and clear items and reset
 * the session (POST, 303, GET, with a one-time message), a read-only view of the session, /healthz
 * from the store, and an error handler that answers a store's outage with 503 and its message.
 * Every answer is JSON; `ToyBrowser` carries its cookies and the last page's CSRF token.
 */
import Fastify, {
  type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyServerOptions,
  type InjectOptions, type LightMyRequestResponse
} from 'fastify'
import fastifyFormbody from '@fastify/formbody'
import type { Test } from 'tap'
import { STATUS_CODES } from 'node:http'
import {
  cameFromThisOrigin, CsrfTokenRefused, formCheckOf, hasSessionCookie, openSessionStore, sessionOf, sessionPlugin,
  SessionStoreUnavailable, type RequestSession, type SessionStore, type SessionStoreOptions
} from '../../src/framework/session-stores/index.js'
import { CookieJar } from '../../scripts/client.js'

declare module '../../src/framework/session-stores/index.js' {
  interface SessionData {
    /** Page views of this session, this one included. */
    visits: number
    /** What the item form added, in order. */
    items: string[]
  }
}

export const SECRET = 'a toy secret, long enough to derive keys: 0123456789'
export const OTHER_SECRET = 'another toy secret, long enough as well: 9876543210'
/** The key prefix in redis mode, unless a test gives its own. */
export const TOY_PREFIX = 'toy-sessions:'
/** What the tutorial calls the Redis options: for the tests that check the messages name the app's own settings. */
export const REDIS_NAMES = { url: 'REDIS_URL', connectWait: 'REDIS_CONNECT_WAIT' }
/** The one-time message a stale form (its token no longer the session's) leaves for the page. */
export const STALE_FORM = 'That form was out of date, so nothing was changed.'

type RedisOptions = NonNullable<SessionStoreOptions['redis']>

export type ToyOptions = Omit<Partial<SessionStoreOptions>, 'redis'> & {
  redis?: Partial<RedisOptions>
  /** Fastify's logger: tests that read the log pass a level and a stream (logCapture). */
  logger?: FastifyServerOptions['logger']
  /** A session store the test puts together from the framework's parts, instead of one opened from the options. */
  openStore?: (log: FastifyBaseLogger) => Promise<SessionStore>
}

/**
 * The framework's options: cookie mode, a fixed secret, and for Redis a long command deadline (test
 * files share two cores with their redis-servers: a moment without CPU must not turn into a 503 in
 * a test about something else; the fault tests set a short one).
 */
export function toyOptions ({ redis, logger: _logger, openStore: _openStore, ...options }: ToyOptions = {}): SessionStoreOptions {
  return {
    store: 'cookie',
    secrets: [SECRET],
    idleTimeout: 1200,
    ...options,
    redis: { url: 'redis://127.0.0.1:6379', prefix: TOY_PREFIX, connectWait: 0, commandTimeout: 10_000, ...redis }
  }
}

function visitsIn (session: RequestSession): number {
  const previous = session.get('visits')
  const visits = (Number.isSafeInteger(previous) ? previous as number : 0) + 1
  session.set('visits', visits)
  return visits
}

function itemsIn (session: RequestSession): string[] {
  const items: unknown = session.get('items')
  return Array.isArray(items) && items.every((item) => typeof item === 'string') ? items : []
}

/** The toy app, not closed after the test (for a test of a failed start); `toyApp` closes it. */
export async function buildToyApp (options: ToyOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false })
  try {
    const store = options.openStore ? await options.openStore(app.log) : await openSessionStore(toyOptions(options), app.log)
    app.addHook('onClose', () => store.close())
    await routes(app, store)
    await app.ready()
    return app
  } catch (err) {
    await app.close()
    throw err
  }
}

/** The toy app, closed after the test. */
export async function toyApp (t: Test, options: ToyOptions = {}): Promise<FastifyInstance> {
  const app = await buildToyApp(options)
  t.teardown(() => app.close())
  return app
}

async function routes (app: FastifyInstance, store: SessionStore): Promise<void> {
  // The store's outage: 503 with the framework's message (at debug: the store logs the outage once).
  app.setErrorHandler((err: FastifyError, request, reply) => {
    let statusCode = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
    let message = statusCode === 500 ? 'Something went wrong.' : err.message
    if (err instanceof SessionStoreUnavailable) {
      request.log.debug({ err }, 'session store unavailable')
      statusCode = 503
      message = err.message
    } else if (statusCode === 500) {
      request.log.error({ err }, 'request failed')
    }
    return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode], message })
  })

  // Outside the session's context: never reads or writes a session.
  app.get('/healthz', async (_request, reply) => {
    const health = await store.health()
    if (health.ok) return { status: 'ok' }
    return reply.code(503).send({ status: 'unavailable', reason: health.reason })
  })
  app.get('/plain', async () => ({ session: false }))

  await app.register(async (pages) => {
    await pages.register(fastifyFormbody)
    await pages.register(sessionPlugin, { store })
    const formCheck = formCheckOf(pages, 'the toy forms')

    // The page: counts the visit, lists the items, shows the waiting messages once, carries the token.
    // HEAD shows what GET would, changing nothing.
    pages.route({
      method: ['GET', 'HEAD'],
      url: '/',
      handler: async (request) => {
        const session = request.method === 'HEAD' ? sessionOf(request).dryRun() : sessionOf(request)
        return {
          visits: visitsIn(session),
          items: itemsIn(session),
          flashes: session.popFlash().map(({ category, message }) => `${category}: ${message}`),
          csrfToken: session.csrfToken()
        }
      }
    })
    // Another page that counts.
    pages.get('/hello', async (request) => ({ visits: visitsIn(sessionOf(request)) }))
    // Read only: what the session holds, no visit counted, no message taken.
    pages.get('/session', async (request) => {
      const session = sessionOf(request)
      return { visits: session.get('visits') ?? 0, items: itemsIn(session), pendingFlashes: session.peekFlash().length }
    })

    /**
     * A form: checked (origin, CSRF token), then its change, a message for the page, a new session
     * id, and 303 to the page. A stale token from this site's own page, with a session cookie, is
     * no forgery: back to the page with a message instead of a 403.
     */
    const form = (url: string, change: (session: RequestSession, body: Record<string, unknown>) => Promise<string> | string) => {
      pages.post(url, {
        preValidation: async (request, reply) => {
          try {
            formCheck(request)
          } catch (error) {
            if (!(error instanceof CsrfTokenRefused) || !cameFromThisOrigin(request) || !hasSessionCookie(request)) throw error
            sessionOf(request).flash(STALE_FORM, 'error')
            return reply.redirect('/', 303)
          }
        },
        handler: async (request, reply) => {
          const session = sessionOf(request)
          session.flash(await change(session, (request.body ?? {}) as Record<string, unknown>), 'info')
          await session.rotateId()
          return reply.redirect('/', 303)
        }
      })
    }
    form('/items', (session, { item }) => {
      session.set('items', [...itemsIn(session), String(item ?? '')])
      return `Added “${String(item)}”.`
    })
    form('/items/clear', (session) => {
      session.set('items', [])
      return 'No items any more.'
    })
    form('/session/reset', async (session) => {
      await session.reset()
      return 'A new session.'
    })
  })
}

/** One browser: its own cookie jar, pointed at an app (which may be swapped for another); it remembers the last page's CSRF token. */
export class ToyBrowser {
  csrfToken: string | undefined

  constructor (public app: FastifyInstance, readonly jar = new CookieJar()) {}

  async request (options: InjectOptions): Promise<LightMyRequestResponse> {
    const cookie = this.jar.header()
    const res = await this.app.inject({ ...options, headers: { ...(cookie ? { cookie } : {}), ...options.headers } })
    this.jar.update(res.headers['set-cookie'])
    const token = jsonOf(res)?.csrfToken
    if (typeof token === 'string') this.csrfToken = token
    return res
  }

  get (url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.request({ method: 'GET', url, headers })
  }

  /** A url-encoded form, with the last page's CSRF token unless `_csrf` is given. */
  post (url: string, fields: Readonly<Record<string, string>> = {}, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams()
    if (this.csrfToken !== undefined && !('_csrf' in fields)) body.append('_csrf', this.csrfToken)
    for (const [name, value] of Object.entries(fields)) body.append(name, value)
    return this.request({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: body.toString()
    })
  }
}

function jsonOf (res: LightMyRequestResponse): Record<string, unknown> | undefined {
  if (!String(res.headers['content-type']).startsWith('application/json')) return undefined
  try {
    return res.json()
  } catch {
    return undefined
  }
}

/** The visit count a page answered, or NaN when it answered none (an error). */
export function visitsOf (res: LightMyRequestResponse): number {
  const visits = jsonOf(res)?.visits
  return typeof visits === 'number' ? visits : NaN
}

/** The items a page listed ([] when it listed none). */
export function itemsOf (res: LightMyRequestResponse): string[] {
  const items = jsonOf(res)?.items
  return Array.isArray(items) ? items as string[] : []
}

/** The one-time messages a page showed, as `category: message`. */
export function flashesOf (res: LightMyRequestResponse): string[] {
  const flashes = jsonOf(res)?.flashes
  return Array.isArray(flashes) ? flashes as string[] : []
}

export { logCapture } from '../log-capture.js'
