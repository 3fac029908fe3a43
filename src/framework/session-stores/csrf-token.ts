/**
 * CSRF: one random token per session, kept in the session and compared in constant time, as
 * Pyramid's `request.session.get_csrf_token()` and `check_csrf_token()` do. A forged post from
 * another site cannot read the page, so it cannot know the token.
 *
 * Why not a new salted token per page (@fastify/csrf-protection's design, used here before)? Salting
 * defends against BREACH, which needs an HTTP-compressed response that reflects attacker-chosen text
 * next to the token. These pages are never compressed (nothing here compresses them; keep it so
 * behind a proxy), so salting bought nothing, and it cost a hash and random bytes on every page.
 * A reset starts a new session, and with it a new token; a rotated id keeps the data, token included.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { FormRefused } from './form-refused.js'
import type { SessionStorage } from './types.js'

export class CsrfTokenRefused extends FormRefused {
  constructor (message: string) {
    super('CSRF_TOKEN_INVALID', message)
  }
}

/** The session's token, made on first use (32 random bytes, base64url). */
export function csrfTokenOf (session: SessionStorage): string {
  let token = session.get('_csrf')
  if (token === undefined) session.set('_csrf', token = randomBytes(32).toString('base64url'))
  return token
}

/**
 * Throws unless the form's `_csrf` field (or the `X-CSRF-Token` header) is the session's token. Run
 * it after the body is parsed (preValidation), before anything reads the form.
 */
export function checkCsrfToken (request: FastifyRequest, session: SessionStorage, refusal: string): void {
  const expected = session.get('_csrf')
  // Only a string counts; a repeated `_csrf` field (an array) is simply not a token.
  const fromBody = (request.body as { _csrf?: unknown } | undefined)?._csrf
  const sent = typeof fromBody === 'string' ? fromBody : request.headers['x-csrf-token']
  if (expected === undefined || typeof sent !== 'string' || !sameSecret(sent, expected)) throw new CsrfTokenRefused(refusal)
}

function sameSecret (sent: string, expected: string): boolean {
  const a = Buffer.from(sent)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
