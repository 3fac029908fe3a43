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

export const MAX_COOKIE_BYTES = 4096

export const TOO_LARGE_MESSAGE =
  'That change was not saved: it would have made your session cookie larger than browsers keep (4096 bytes).'

export function addCookieBudget (app: FastifyInstance, cookieName: string, cookieOptions: CookieSerializeOptions): void {
  // Measured with every attribute the header can carry (Secure included), so the check is never short.
  const measured = { ...cookieOptions, secure: true }

  function setCookieWithin (reply: FastifyReply, value: string): number | undefined {
    const size = Buffer.byteLength(app.serializeCookie(cookieName, value, measured))
    if (size > MAX_COOKIE_BYTES) return size
    reply.setCookie(cookieName, value, cookieOptions)
  }

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply) => {
    const session = request.session
    if (!session?.changed || session.deleted) return

    // Marked unchanged either way: this hook has answered for the session.
    session.changed = false
    const tooLarge = setCookieWithin(reply, app.encodeSecureSession(session))
    if (tooLarge === undefined) return

    // Keep what the browser has (decoded again from its cookie), plus a message saying why.
    const previous = app.decodeSecureSession(request.cookies[cookieName] ?? '', request.log) ?? app.createSecureSession()
    previous.set('flash', withFlash(previous.get('flash'), { category: 'error', message: TOO_LARGE_MESSAGE }))
    const stillTooLarge = setCookieWithin(reply, app.encodeSecureSession(previous))
    request.log.warn({ cookieBytes: tooLarge, limit: MAX_COOKIE_BYTES, userTold: stillTooLarge === undefined }, 'session cookie too large; change not saved')
  })
}
