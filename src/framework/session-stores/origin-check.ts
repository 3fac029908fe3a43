/**
 * Cross-origin refusal before the CSRF token, from headers every current browser sends on a form
 * post, as Go's http.CrossOriginProtection and ASP.NET Core's fetch-metadata check do. It keeps no
 * state, so it costs nothing, and it stops a forged post even where a token has leaked.
 *  1. `Origin` is one of the trusted origins: allowed.
 *  2. `Sec-Fetch-Site` is present: allowed only if `same-origin` or `none` (typed by the user).
 *  3. No `Sec-Fetch-Site`, no `Origin`: not a browser form (curl, a script); the token decides.
 *  4. `Origin` only (older browsers): allowed if it names this host; `Origin: null` never is.
 * @see https://pkg.go.dev/net/http#CrossOriginProtection
 */
import type { FastifyRequest } from 'fastify'
import { FormRefused } from './form-refused.js'

export class CrossOriginRefused extends FormRefused {
  constructor (message: string) {
    super('CROSS_ORIGIN_FORM', message)
  }
}

export function refuseCrossOrigin (trustedOrigins: readonly string[], message: string) {
  const trusted = new Set(trustedOrigins)
  return function crossOriginCheck (request: FastifyRequest): void {
    const origin = request.headers.origin
    const site = request.headers['sec-fetch-site']
    if (origin !== undefined && trusted.has(origin)) return
    if (site !== undefined) {
      if (site === 'same-origin' || site === 'none') return
      throw new CrossOriginRefused(message)
    }
    if (origin === undefined) return
    if (sameHost(origin, request.host)) return
    throw new CrossOriginRefused(message)
  }
}

/** Does `origin` name `host` (the Host header)? Compared as URLs, so `:80` on http is no difference. */
function sameHost (origin: string, host: string): boolean {
  if (!URL.canParse(origin)) return false // `null` included
  const { protocol, host: originHost } = new URL(origin)
  return URL.canParse(`${protocol}//${host}`) && new URL(`${protocol}//${host}`).host === originHost
}

/**
 * Did a browser say this post came from one of this site's own pages? Stricter than the check above
 * (which also lets non-browser clients and trusted origins through): only a browser's own
 * `Sec-Fetch-Site: same-origin`, or, from a browser too old to send it, an `Origin` naming this host.
 * Such a post cannot be a forgery from another site, so what it typed may be shown back to it.
 */
export function cameFromThisOrigin (request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site']
  if (site !== undefined) return site === 'same-origin'
  const origin = request.headers.origin
  return origin !== undefined && sameHost(origin, request.host)
}
