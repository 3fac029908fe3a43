/**
 * Test helpers: settings for a test app, `build(t, settings, options)` that closes the app after
 * the test, a clock to move by hand, and a `Browser` that carries its cookies from one `inject` to
 * the next, as a real browser would.
 */
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../scripts/lib.js'
import { buildApp, sessionStoreOptions, type BuildOptions } from '../src/app.js'
import { loadSettings, type Settings } from '../src/config.js'
import { openSessionStore, sessionPlugin } from '../src/framework/session-stores/index.js'
import { CookieJar, countIn, csrfTokenIn } from '../scripts/client.js'

export const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
export const OTHER_SECRET = 'another-secret-9876543210-zyxwvutsrqponmlkjihgfedcba'

/**
 * The app's own defaults (from the settings schema), made quiet and given a fixed secret. The Redis
 * deadline is long: four test files share two cores with their redis-servers, and a moment without
 * CPU must not turn into a 503 in a test about something else. The fault tests set a short one.
 */
const TEST_DEFAULTS = loadSettings({
  env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', SESSION_SECRET: SECRET, REDIS_PREFIX: 'sessions-test:', REDIS_COMMAND_TIMEOUT: '10000' },
  dotenv: false
}).settings

export function testSettings (overrides: Partial<Settings> = {}): Settings {
  return { ...TEST_DEFAULTS, ...overrides }
}

export { TestClock } from './framework/test-clock.js'

/** Builds the app with these settings and options, and closes it after the test. */
export async function build (t: Test, overrides: Partial<Settings> = {}, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp(testSettings(overrides), options)
  t.teardown(() => app.close())
  return app
}

export { logCapture } from './log-capture.js'

/** Reads what is inside a browser's encrypted session cookie, as the app with these settings would. */
export async function sessionReader (t: Test, overrides: Partial<Settings> = {}) {
  const reader = Fastify()
  const store = await openSessionStore({ ...sessionStoreOptions(testSettings(overrides)), store: 'cookie' }, reader.log)
  await reader.register(sessionPlugin, { store })
  await reader.ready()
  t.teardown(() => reader.close())
  return (jar: CookieJar) => {
    const cookie = jar.cookies.get('session')
    return cookie === undefined ? null : reader.decodeSecureSession(decodeURIComponent(cookie))?.data() ?? null
  }
}

/**
 * One browser: its own cookie jar, pointed at an app (which may be swapped for a restarted one).
 * Like a person with a page open, it remembers the CSRF token of the last page it was shown.
 */
export class Browser {
  csrfToken: string | undefined

  constructor (public app: FastifyInstance, readonly jar = new CookieJar()) {}

  async request (options: InjectOptions): Promise<LightMyRequestResponse> {
    const cookie = this.jar.header()
    const headers = { ...(cookie ? { cookie } : {}), ...options.headers }
    const res = await this.app.inject({ ...options, headers })
    this.jar.update(res.headers['set-cookie'])
    this.csrfToken = csrfTokenIn(res.body) ?? this.csrfToken
    return res
  }

  /** Submits a form as a browser does (url-encoded), with the page's CSRF token unless `_csrf` is given. */
  post (url: string, fields: Readonly<Record<string, string | string[]>> = {}, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams()
    if (this.csrfToken !== undefined && !('_csrf' in fields)) body.append('_csrf', this.csrfToken)
    for (const [name, value] of Object.entries(fields)) {
      for (const one of [value].flat()) body.append(name, one)
    }
    return this.request({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: body.toString()
    })
  }

  get (url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.request({ method: 'GET', url, headers })
  }

  getJson (url: string): Promise<LightMyRequestResponse> {
    return this.get(url, { accept: 'application/json' })
  }
}

/** The flash banners on a page, as `category: message` (HTML entities as sent). */
export function flashesOf (res: LightMyRequestResponse): string[] {
  return [...res.body.matchAll(/<p class="flash flash-(\w+)"[^>]*>([^<]*)<\/p>/g)].map((m) => `${m[1]}: ${m[2]}`)
}

/** How each flash is announced: its `role` (`alert` or `status`), in page order. */
export function flashRolesOf (res: LightMyRequestResponse): string[] {
  return [...res.body.matchAll(/<p class="flash flash-\w+" role="(\w+)">/g)].map((m) => m[1]!)
}

/** The item field as the page gives it back: what it holds, whether it is focused and marked, and the message at it. */
export function itemFieldOf (res: LightMyRequestResponse): { value: string, autofocus: boolean, invalid: boolean, error: string | undefined, describedBy: string } {
  const input = /<input id="item"[^>]*>/.exec(res.body)?.[0]
  if (input === undefined) throw new Error('no item field on this page')
  return {
    value: /\svalue="([^"]*)"/.exec(input)?.[1] ?? '',
    autofocus: /\sautofocus[\s>]/.test(input),
    invalid: input.includes('aria-invalid="true"'),
    error: /<p id="item-error" class="field-error">([^<]*)<\/p>/.exec(res.body)?.[1],
    describedBy: /aria-describedby="([^"]*)"/.exec(input)?.[1] ?? ''
  }
}

/** The items listed in the page's cart. */
export function cartOf (res: LightMyRequestResponse): string[] {
  return [...res.body.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => m[1]!)
}

export { fakeSession } from './framework/fake-session.js'

/** The number in the page's `<p>Count: <strong>N</strong></p>`, or NaN when the page has none. */
export function countOf (res: LightMyRequestResponse): number {
  return countIn(res.body)
}

/** A promise and the function that resolves it (Promise.withResolvers, which Node 20 lacks). */
export function deferred (): { promise: Promise<void>, resolve: () => void } {
  let settle = () => {}
  const promise = new Promise<void>((resolve) => { settle = resolve })
  return { promise, resolve: settle }
}

/**
 * A copy of the built app with a project folder of its own (so its `.session-secret` is its own),
 * removed after the test. Returns the folder and the server's entry point in it.
 */
export function builtAppCopy (t: Test): { dir: string, entry: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sessions-app-copy-'))
  t.teardown(() => spawnSync('rm', ['-rf', dir]))
  cpSync(join(ROOT, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true })
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n')
  for (const linked of ['node_modules', 'templates', 'public']) symlinkSync(join(ROOT, linked), join(dir, linked))
  return { dir, entry: join(dir, 'dist', 'src', 'server.js') }
}
