/**
 * Session modes: where a session lives (an encrypted cookie, this process's memory, or Redis) and
 * one way to reach it from a view in every mode. This file is the only import point for code
 * outside this folder (eslint refuses deeper imports).
 *
 *   const backend = await openSessionBackend({ mode: 'cookie', secrets, idleTimeout: 1200 }, app.log)
 *   await pages.register(sessionPlugin, { backend })
 *   sessionOf(request).get('flash')
 */
export {
  default as sessionPlugin, sessionOf, discardSessionChanges, hasSessionCookie, formCheckOf, requireSessionPlugin,
  type FormCheck, type SessionPluginOptions
} from './session-plugin.js'
export { cameFromThisOrigin } from './origin-check.js'
export { openSessionBackend, DEFAULT_COOKIE_NAME } from './open-backend.js'
export {
  SESSION_MODES, SessionStoreUnavailable, SessionStoreUnreachable,
  type SessionMode, type SessionModeOptions, type SessionCookieOptions, type SessionBackend, type Health
} from './backend.js'
export { dryRunSession } from './dry-run.js'
export { expiryOf, type Expiry, type ExpiryRule } from './expiry.js'
export { csrfTokenOf, CsrfTokenRefused } from './csrf-token.js'
export { flashList, MAX_PENDING_FLASHES, pendingFlashCount, withFlash, withinFlashLimit, type Flash } from './flash-queue.js'
export type { SessionAccess, SessionData, SessionKey, FlashCategory, FlashQueue, FieldState } from './types.js'
