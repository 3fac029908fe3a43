/**
 * Browsers silently drop a cookie over 4096 bytes, and with it the whole session. This onSend hook
 * encodes the changed session itself (once), and if the Set-Cookie would be too large it keeps the
 * session the browser already has, adds an error flash to it, and logs the size.
 * It runs before secure-session's own onSend hook and marks the session unchanged, so the plugin
 * does not encode it a second time.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CookieSerializeOptions } from '@fastify/cookie'
import { withFlash } from './flash-queue.js'
import { secureSessionOf } from './plugin-sessions.js'

export const MAX_COOKIE_BYTES = 4096

/** `tooLargeMessage`: what the visitor is told instead of the change. */
export function addCookieBudget (app: FastifyInstance, cookieName: string, cookieOptions: CookieSerializeOptions, tooLargeMessage: string): void {
  /**
   * Sets the cookie if its Set-Cookie header fits, else returns the size it would have had. The
   * header is measured as serialized, with every attribute it can carry (Secure included), so the
   * check is never short.
   */
  function setCookieWithin (reply: FastifyReply, value: string): number | undefined {
    const size = app.serializeCookie(cookieName, value, { ...cookieOptions, secure: true }).length
    if (size > MAX_COOKIE_BYTES) return size
    reply.setCookie(cookieName, value, cookieOptions)
  }

  app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload, done) => {
    const session = secureSessionOf(request)
    if (!session?.changed || session.deleted) return done(null, payload)

    // Marked unchanged either way: this hook has answered for the session.
    session.changed = false
    const tooLarge = setCookieWithin(reply, app.encodeSecureSession(session))
    if (tooLarge !== undefined) {
      // Keep what the browser has (decoded again from its cookie), plus a message saying why.
      const previous = app.decodeSecureSession(request.cookies[cookieName] ?? '', request.log) ?? app.createSecureSession()
      previous.set('flash', withFlash(previous.get('flash'), { category: 'error', message: tooLargeMessage }))
      const stillTooLarge = setCookieWithin(reply, app.encodeSecureSession(previous))
      request.log.warn({ cookieBytes: tooLarge, limit: MAX_COOKIE_BYTES, userTold: stillTooLarge === undefined }, 'session cookie too large; change not saved')
    }
    done(null, payload)
  })
}
