/**
 * Test helpers: settings for a test app, `build(t)` that closes the app after the test, and a
 * `Browser` that carries its cookies from one `inject` to the next, as a real browser would.
 */
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { Writable } from 'node:stream'
import { buildApp } from '../src/app.js'
import sessionPlugin, { openSessionBackend } from '../src/session/index.js'
import type { Settings } from '../src/config.js'
import type { SessionAccess, SessionData } from '../src/session/index.js'

export const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
export const OTHER_SECRET = 'another-secret-9876543210-zyxwvutsrqponmlkjihgfedcba'

export function testSettings (overrides: Partial<Settings> = {}): Settings {
  return {
    host: '127.0.0.1',
    port: 0,
    nodeEnv: 'test',
    logLevel: 'silent',
    sessionSecrets: [SECRET],
    sessionSecretSource: 'environment',
    sessionTimeout: 1200,
    sessionMaxAge: 0,
    trustProxy: false,
    sessionStore: 'cookie',
    sessionStoreMax: 10000,
    redisUrl: 'redis://127.0.0.1:6379',
    redisPrefix: 'sessions-test:',
    redisConnectWait: 0,
    ...overrides
  }
}

export async function build (t: Test, overrides: Partial<Settings> = {}): Promise<FastifyInstance> {
  const app = await buildApp(testSettings(overrides))
  t.teardown(() => app.close())
  return app
}

/** A pino destination that keeps what is logged: `lines()` parses each line, `text()` is it raw. */
export function logCapture () {
  const raw: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { raw.push(chunk.toString()); done() } })
  return {
    stream,
    text: () => raw.join(''),
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>)
  }
}

/** Reads what is inside a browser's encrypted session cookie, as the app with these settings would. */
export async function sessionReader (t: Test, overrides: Partial<Settings> = {}) {
  const reader = Fastify()
  await reader.register(sessionPlugin, { backend: await openSessionBackend(testSettings(overrides), reader.log) })
  await reader.ready()
  t.teardown(() => reader.close())
  return (jar: CookieJar) => {
    const cookie = jar.cookies.get('session')
    return cookie === undefined ? null : reader.decodeSecureSession(decodeURIComponent(cookie))?.data() ?? null
  }
}

/** Cookies by name, sent back on every request; a cookie set to expire is forgotten. */
export class CookieJar {
  readonly cookies = new Map<string, string>()

  update (res: LightMyRequestResponse): void {
    for (const cookie of res.cookies as Array<{ name: string, value: string, maxAge?: number, expires?: Date }>) {
      const expired = cookie.maxAge === 0 || (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now())
      if (expired) this.cookies.delete(cookie.name)
      // inject() hands values back URL-decoded; encrypted cookies hold `+ / = ;`, so encode them again.
      else this.cookies.set(cookie.name, encodeURIComponent(cookie.value))
    }
  }

  header (): string | undefined {
    if (this.cookies.size === 0) return undefined
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
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
    this.jar.update(res)
    this.csrfToken = csrfTokenOf(res) ?? this.csrfToken
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

/** The CSRF token in a page's forms. */
export function csrfTokenOf (res: LightMyRequestResponse): string | undefined {
  return /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1]
}

/** The flash banners on a page, as `category: message` (HTML entities as sent). */
export function flashesOf (res: LightMyRequestResponse): string[] {
  return [...res.body.matchAll(/<p class="flash flash-(\w+)">([^<]*)<\/p>/g)].map((m) => `${m[1]}: ${m[2]}`)
}

/** The items listed in the page's cart. */
export function cartOf (res: LightMyRequestResponse): string[] {
  return [...res.body.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => m[1]!)
}

/** A session kept in a plain object, for unit tests of views; counts writes. */
export function fakeSession (initial: Partial<SessionData> = {}): SessionAccess & { data: Partial<SessionData>, writes: number } {
  const fake = {
    data: { ...initial } as Partial<SessionData>,
    writes: 0,
    get<K extends keyof SessionData>(key: K): SessionData[K] | undefined { return fake.data[key] },
    set<K extends keyof SessionData>(key: K, value: SessionData[K] | undefined) {
      fake.writes++
      fake.data[key] = value
    },
    async reset () {
      fake.writes++
      fake.data = {}
    },
    discardChanges () {}
  }
  return fake
}

/** The number in the page's `<p>Count: N</p>`, or NaN when the page has none. */
export function countOf (res: LightMyRequestResponse): number {
  const match = /<p>Count: (\d+)<\/p>/.exec(res.body)
  return match ? Number(match[1]) : NaN
}
