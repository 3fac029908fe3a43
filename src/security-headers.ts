/**
 * Security headers (helmet's defaults, with a Content-Security-Policy the pages satisfy), worked out
 * once at boot and set as a plain object on every response. @fastify/helmet rebuilds the helmet
 * middleware, parsing the CSP directives again, on every request; the headers never change here,
 * except Strict-Transport-Security, which is added only to responses that go out over https.
 * @see https://helmetjs.github.io/
 */
import type { FastifyInstance } from 'fastify'
import helmet, { type HelmetOptions } from 'helmet'
import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * The pages need nothing but their own stylesheet and script, and forms that post to this site.
 * Headers that only ever mattered to retired browsers and plugins (IE8 downloads, Flash policies,
 * the XSS auditor) are left out: they cost bytes on every response and protect nothing today.
 */
export const HELMET_OPTIONS: HelmetOptions = {
  // Not helmet's `no-referrer`: with it a browser sends `Origin: null` on this site's own forms,
  // and over plain http to a host that is not localhost (no Sec-Fetch-Site there) the cross-origin
  // check must refuse them. `same-origin` keeps the real Origin on our own posts and sends other
  // sites no referrer at all (Django's default, for the same reason). See docs/security.md.
  referrerPolicy: { policy: 'same-origin' },
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      // One script of the site's own (public/local-time.js); never an inline one.
      scriptSrc: ["'self'"],
      imgSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"]
    }
  }
}

/** Runs helmet once against a response that only records the headers it is given. */
export function securityHeaders (options: HelmetOptions = HELMET_OPTIONS): Record<string, string> {
  const headers: Record<string, string> = {}
  const recorder = {
    setHeader (name: string, value: string | number | readonly string[]) { headers[name.toLowerCase()] = String(value) },
    removeHeader (name: string) { delete headers[name.toLowerCase()] }
  }
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => {})
  return headers
}

export function addSecurityHeaders (app: FastifyInstance, options?: HelmetOptions): void {
  // HSTS means something only over https (browsers ignore it on http), so it goes out only there:
  // https as Fastify sees it, which believes X-Forwarded-Proto only from a trusted proxy.
  const { 'strict-transport-security': hsts, ...headers } = securityHeaders(options)
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers)
    if (hsts !== undefined && request.protocol === 'https') reply.header('strict-transport-security', hsts)
    done()
  })
}
