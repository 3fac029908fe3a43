/**
 * Session stores: where a session lives (an encrypted cookie, this process's memory, or Redis) and
 * one door to it, the same whichever store it is in. This file is the only import point for code
 * outside this folder (eslint refuses deeper imports).
 *
 *   const store = await openSessionStore({ store: 'cookie', secrets, idleTimeout: 1200 }, app.log)
 *   await pages.register(sessionPlugin, { store })
 *   const session = sessionOf(request)
 *   session.flash('Item added!', 'success')   // and peekFlash, popFlash, csrfToken, expiresAt
 */
export {
  default as sessionPlugin, sessionOf, hasSessionCookie, formCheckOf, requireSessionPlugin,
  type FormCheck, type SessionPluginOptions
} from './session-plugin.js'
export { cameFromThisOrigin } from './origin-check.js'
export { openSessionStore, DEFAULT_COOKIE_NAME } from './open-store.js'
export {
  SESSION_STORES, SessionStoreUnavailable, SessionStoreUnreachable,
  type SessionStoreName, type SessionStoreOptions, type SessionCookieOptions, type SessionStore, type Health
} from './session-store.js'
export { RequestSession } from './request-session.js'
export type { ExpiryRule } from './expiry.js'
export { CsrfTokenRefused } from './csrf-token.js'
export { MAX_PENDING_FLASHES } from './flash-queue.js'
export { MAX_COOKIE_BYTES } from './cookie-budget.js'
export { DEFAULT_SESSION_MESSAGES, type SessionMessages } from './messages.js'
export type { SessionAccess, SessionStorage, SessionData, SessionKey, Flash, FlashCategory, FlashCategories, FlashQueue, FieldState } from './types.js'
