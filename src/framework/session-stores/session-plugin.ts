/**
 * The session plugin: cookies, the store's session plugin, expiry on the store's clock, CSRF, and
 * a failed request's changes thrown away, registered together in the context that serves pages.
 * Everything reaches the session through one door, `sessionOf(request)` (request-session.ts):
 * get and set, flashes, the CSRF token and the expiry, the same in every store.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import fastifyCookie from '@fastify/cookie'
import type { SessionStore } from './session-store.js'
import { checkCsrfToken } from './csrf-token.js'
import { expiryOf } from './expiry.js'
import { refuseCrossOrigin } from './origin-check.js'
import { RequestSession } from './request-session.js'

/** The request's session, made on first use (null until then). */
const ACCESS = Symbol('session-stores.access')
/** Makes it: a request method, present only in a context where the session plugin is registered. */
const OPEN = Symbol('session-stores.open')
const FORM_CHECK = Symbol('session-stores.form-check')
/** The session cookie's name, in a context where the session plugin is registered. */
const COOKIE_NAME = Symbol('session-stores.cookie-name')

type WithAccess = FastifyRequest & { [ACCESS]?: RequestSession | null, [OPEN]?: (this: FastifyRequest) => RequestSession, [COOKIE_NAME]?: string }

/**
 * This request's session, whatever the store. Throws when the session plugin is not registered in
 * the request's context (a route outside the pages, such as /healthz, has no session).
 */
export function sessionOf (request: FastifyRequest): RequestSession {
  const withAccess = request as WithAccess
  const session = withAccess[ACCESS]
  if (session) return session
  const open = withAccess[OPEN]
  if (open === undefined) throw new Error('no session here: register the session plugin in this route\'s context')
  return (withAccess[ACCESS] = open.call(request))
}

/** Did the request bring a session cookie (valid or not)? A cookieless one has no session to go back to. */
export function hasSessionCookie (request: FastifyRequest): boolean {
  const name = (request as WithAccess)[COOKIE_NAME]
  return name !== undefined && request.cookies[name] !== undefined
}

/** After a failure: forget what this request changed in its session, if it has one. */
export function discardSessionChanges (request: FastifyRequest): void {
  (request as WithAccess)[ACCESS]?.discardChanges()
}

/** This context's session plugin, or a boot error saying what `forWhat` needs and how to fix it. */
export function requireSessionPlugin (app: FastifyInstance, forWhat: string): void {
  if (!app.hasRequestDecorator(OPEN)) {
    throw new Error(`${forWhat} needs a session, but this context has none: register sessionPlugin (framework/session-stores) before it`)
  }
}

/** Throws a FormRefused (403) unless a form post may reach its view. */
export type FormCheck = (request: FastifyRequest) => void

/**
 * The checks a form post must pass before its body reaches a view: the cross-origin refusal, then
 * the CSRF token. Run it after the body is parsed (the token is in it). Throws at boot where the
 * session plugin is missing, so no form can be mounted without CSRF protection.
 */
export function formCheckOf (app: FastifyInstance, forWhat: string): FormCheck {
  requireSessionPlugin(app, forWhat)
  return app.getDecorator<FormCheck>(FORM_CHECK)
}

export interface SessionPluginOptions {
  /** The opened session store (`openSessionStore`). */
  store: SessionStore
  /** Other origins whose pages may post forms here (`https://host[:port]`). */
  trustedOrigins?: readonly string[]
}

async function sessionPlugin (app: FastifyInstance, { store, trustedOrigins = [] }: SessionPluginOptions) {
  // An app that parses cookies already (in this context or a parent) keeps its own registration.
  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie)
  await store.register(app)
  // Made once per request, on first use, and kept in a slot every request of this context has
  // (null until then): a fixed shape for V8, and nothing for the garbage collector to track, as a
  // WeakMap keyed by request would be.
  app.decorateRequest(ACCESS, null)
  app.decorateRequest(COOKIE_NAME, store.cookieName)
  const rule = { idleTimeout: store.idleTimeout, maxAge: store.maxAge }
  app.decorateRequest(OPEN, function (this: FastifyRequest) {
    return new RequestSession(store.access(this), store.now, rule)
  })

  // Expiry on the store's clock, before anything (CSRF included) reads the session. The plugins
  // expire sessions on the real clock too; this check makes every store agree, to the second, and
  // lets tests move time. HEAD never writes, so it only ever shows what GET would. A callback
  // hook: it runs on every page and almost always returns at once, so it makes no promise for that.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.method === 'HEAD') return done()
    const session = sessionOf(request)
    const expiry = expiryOf(session, rule)
    if (expiry === undefined || store.now() < expiry.at) return done()
    request.log.debug({ reason: expiry.reason }, 'session: starting a new one')
    session.reset().then(() => done(), done)
  })

  // A request that failed leaves the session as it came: no half-made change is written. (Before
  // the error handler runs, and before the session is saved on the way out.)
  app.addHook('onError', (request, _reply, _error, done) => {
    discardSessionChanges(request)
    done()
  })
  // The cross-origin check first: it keeps no state, and it needs the body no more than the token does.
  const crossOriginCheck = refuseCrossOrigin(trustedOrigins, store.messages.crossOrigin)
  const formCheck: FormCheck = (request) => {
    crossOriginCheck(request)
    checkCsrfToken(request, sessionOf(request), store.messages.csrfRefused)
  }
  app.decorate(FORM_CHECK, formCheck)
}

export default fp(sessionPlugin, { name: 'session-stores', fastify: '5.x' })
