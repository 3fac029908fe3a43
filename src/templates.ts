/**
 * How pages are rendered: Handlebars templates under templates/, and every file in
 * templates/partials/ as a partial by its name. The app and the benchmark's ladder both use this.
 *
 * Each page is one template call: it begins with `{{> layout-start}}` and ends with
 * `{{> layout-end}}`, the layout as two partials, instead of @fastify/view's `layout` option, which
 * renders the page, merges the data again and renders a second template around it on every
 * request. Measured on the home page, with the bytes unchanged (test/page-bytes.unit.test.ts):
 * BENCHMARKS.md, "The render path".
 * @see https://github.com/fastify/point-of-view
 */
import handlebars from 'handlebars'
import { readdirSync } from 'node:fs'
import { basename, extname, join } from 'node:path'
import type { FastifyViewOptions } from '@fastify/view'
import { PROJECT_ROOT } from './project-root.js'

export const TEMPLATES_DIR = join(PROJECT_ROOT, 'templates')
export const PUBLIC_DIR = join(PROJECT_ROOT, 'public')

/** `{ cart: 'partials/cart.hbs', … }` for every file in templates/partials/. */
function partials (): Record<string, string> {
  const files = readdirSync(join(TEMPLATES_DIR, 'partials')).filter((file) => extname(file) === '.hbs')
  return Object.fromEntries(files.sort().map((file) => [basename(file, '.hbs'), `partials/${file}`]))
}

/**
 * How screen readers hear a flash as the page loads: an error at once (`alert`), the others when
 * the reader is idle (`status`).
 */
const FLASH_ROLES = { error: 'alert', success: 'status', info: 'status' }

/**
 * @param production compile each template once and keep it (everywhere but development, where
 *   templates are edited while the server runs)
 * @param defaultContext data every template gets (the app passes the cart's limits)
 */
export function viewOptions (production: boolean, defaultContext: Record<string, unknown> = {}): FastifyViewOptions {
  return {
    engine: { handlebars },
    root: TEMPLATES_DIR,
    options: {
      partials: partials(),
      // Every helper the templates use is one of Handlebars' own (if, each, with, lookup), so
      // `{{name}}` compiles to a property read, not a call that first looks for a helper named
      // `name`. A template that names any other helper fails when it is first rendered
      // (Handlebars compiles on first use), which test/page-bytes.unit.test.ts does for every page.
      compileOptions: { knownHelpersOnly: true }
    },
    defaultContext: { flashRoles: FLASH_ROLES, ...defaultContext },
    production
  }
}
