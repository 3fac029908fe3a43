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

export const TOO_LARGE_MESSAGE =
  'That change was not saved: it would have made your session cookie larger than browsers keep (4096 bytes).'

/** What encodeURIComponent makes of each ASCII character: 1 byte if left as it is, 3 if escaped. */
const ASCII_ENCODED_LENGTH = new Uint8Array(0x80).fill(3)
for (const character of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()") {
  ASCII_ENCODED_LENGTH[character.charCodeAt(0)] = 1
}

/** No UTF-16 unit encodes to more: 3 UTF-8 bytes, each escaped (a surrogate pair makes 12 of two). */
export const MAX_ENCODED_BYTES_PER_UNIT = 9

/** Length of encodeURIComponent(value), counted instead of built (a table lookup per ASCII character). */
export function uriEncodedLength (value: string): number {
  let length = 0
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code < 0x80) {
      length += ASCII_ENCODED_LENGTH[code]!
    } else if (code < 0x800) {
      length += 6
    } else if (code >= 0xd800 && code <= 0xdbff) {
      length += 12 // a surrogate pair: one 4-byte character
      i++
    } else {
      length += 9
    }
  }
  return length
}

export function addCookieBudget (app: FastifyInstance, cookieName: string, cookieOptions: CookieSerializeOptions): void {
  // The header's size is name=value plus attributes that never change: measured once, with every
  // attribute it can carry (Secure included), so the check is never short.
  let attributesLength: number | undefined

  function setCookieWithin (reply: FastifyReply, value: string): number | undefined {
    attributesLength ??= app.serializeCookie(cookieName, '', { ...cookieOptions, secure: true }).length - cookieName.length - 1
    const room = MAX_COOKIE_BYTES - cookieName.length - 1 - attributesLength
    // Most sessions are short enough to fit however they encode: only a long one is counted.
    if (value.length * MAX_ENCODED_BYTES_PER_UNIT > room) {
      const size = cookieName.length + 1 + uriEncodedLength(value) + attributesLength
      if (size > MAX_COOKIE_BYTES) return size
    }
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
      previous.set('flash', withFlash(previous.get('flash'), { category: 'error', message: TOO_LARGE_MESSAGE }))
      const stillTooLarge = setCookieWithin(reply, app.encodeSecureSession(previous))
      request.log.warn({ cookieBytes: tooLarge, limit: MAX_COOKIE_BYTES, userTold: stillTooLarge === undefined }, 'session cookie too large; change not saved')
    }
    done(null, payload)
  })
}
