/** Named routes, as in Pyramid's `config.add_route(name, pattern)`: views and templates refer to names, not paths. */
export class RouteTable {
  readonly #paths = new Map<string, string>()

  addRoute (name: string, path: string): this {
    if (this.#paths.has(name)) throw new Error(`route "${name}" is already defined`)
    this.#paths.set(name, path)
    return this
  }

  pathFor (name: string): string {
    const path = this.#paths.get(name)
    if (path === undefined) throw new Error(`no route named "${name}"; add it with addRoute() before mounting views`)
    return path
  }

  /** Navigation links for a page: each named route's path, the page's own marked current. */
  nav (links: ReadonlyArray<{ routeName: string, label: string }>, currentRouteName?: string) {
    return links.map(({ routeName, label }) => ({ label, href: this.pathFor(routeName), current: routeName === currentRouteName }))
  }

  /** `{ home: '/', hello: '/howdy' }`, for links in templates. */
  urls (): Record<string, string> {
    return Object.fromEntries(this.#paths)
  }
}
