/**
 * A client that behaves like one browser tab: it keeps the cookies it is given and sends them back,
 * and reads what a person would read off a page (the count, the form's CSRF token). The tests (over
 * inject), the end-to-end tests, the soak and the benchmark (over HTTP) all use it.
 */

/** Cookies by name, as sent (still URL-encoded); a cookie set to expire is forgotten. */
export class CookieJar {
  readonly cookies = new Map<string, string>()

  /** Takes a response's Set-Cookie header(s). */
  update (setCookie: string | readonly string[] | null | undefined): void {
    for (const line of [setCookie ?? []].flat()) {
      const [pair = '', ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq).trim()
      if (attributes.some(isExpiry)) this.cookies.delete(name)
      else this.cookies.set(name, pair.slice(eq + 1).trim())
    }
  }

  /** The Cookie request header, or undefined when the jar is empty. */
  header (): string | undefined {
    if (this.cookies.size === 0) return undefined
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

function isExpiry (attribute: string): boolean {
  const [name = '', value = ''] = attribute.trim().split('=')
  if (name.toLowerCase() === 'max-age') return Number(value) <= 0
  if (name.toLowerCase() === 'expires') return Date.parse(value) <= Date.now()
  return false
}

/** The CSRF token in a page's forms. */
export function csrfTokenIn (html: string): string | undefined {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1]
}

/** The number in the page's `<p>Count: <strong>N</strong></p>`, or NaN when the page has none. */
export function countIn (html: string): number {
  const match = /<p>Count: <strong>(\d+)<\/strong><\/p>/.exec(html)
  return match ? Number(match[1]) : NaN
}

export interface Page {
  status: number
  headers: Headers
  body: string
}

/** One browser tab against a real server, over fetch: cookies kept, the last page's token remembered. */
export class HttpBrowser {
  readonly jar = new CookieJar()
  csrfToken: string | undefined

  constructor (public url: string) {}

  async request (path: string, init: RequestInit = {}): Promise<Page> {
    const cookie = this.jar.header()
    const res = await fetch(this.url + path, {
      redirect: 'manual',
      ...init,
      headers: { ...(cookie ? { cookie } : {}), ...init.headers as Record<string, string> }
    })
    const body = await res.text()
    this.jar.update(res.headers.getSetCookie())
    this.csrfToken = csrfTokenIn(body) ?? this.csrfToken
    return { status: res.status, headers: res.headers, body }
  }

  get (path: string): Promise<Page> {
    return this.request(path)
  }

  /** A url-encoded form, with the page's CSRF token. */
  post (path: string, fields: Record<string, string> = {}): Promise<Page> {
    const body = new URLSearchParams({ ...(this.csrfToken ? { _csrf: this.csrfToken } : {}), ...fields })
    return this.request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() })
  }
}
