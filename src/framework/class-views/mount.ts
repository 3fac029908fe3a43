/**
 * The scan step: wires each decorated view method to its named route. Everything a view must not
 * care about happens here, once: rendering or JSON, flashes, CSRF, redirects, HEAD without side
 * effects, caching headers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AjvCompiler } from '@fastify/ajv-compiler'
import {
  cameFromThisOrigin, CsrfTokenRefused, formCheckOf, hasSessionCookie, requireSessionPlugin, sessionOf,
  type FieldState, type SessionAccess
} from '../session-stores/index.js'
import { wantsJson } from './negotiate.js'
import type { RouteTable } from './route-table.js'
import { viewsOf, type FormMethod, type FormOutcome, type ViewData, type ViewRequest } from './decorators.js'

/**
 * At most this many characters of a field travel back through the session: enough to fix a name a
 * little too long, never enough to push a cookie session past what browsers keep.
 */
export const MAX_REFILL_CHARACTERS = 200

/** What a visitor is told when a form comes back stale (its page outlived its session); English unless the app gives its own. */
export interface ViewMessages {
  /** Beside the field that was refilled with what was typed. */
  staleFormRefilled: string
  /** As a flash, when the form keeps no field. */
  staleForm: string
}

const STALE = 'This page had expired (your session was reset or timed out after it loaded), so nothing was changed.'
export const DEFAULT_VIEW_MESSAGES: ViewMessages = {
  staleFormRefilled: `${STALE} What you typed is still here: send it again.`,
  staleForm: `${STALE} Try again.`
}

export type ViewClass = new (request: ViewRequest) => object

export interface NavLink {
  routeName: string
  label: string
}

export interface MountOptions {
  /** The layout's navigation; each page gets it with its own link marked current. */
  nav?: NavLink[]
  /** Extra template data every HTML page gets, computed after the view ran. */
  pageContext?: (request: FastifyRequest) => Record<string, unknown>
  /** What a visitor is told; each left out keeps its English default. */
  messages?: Partial<ViewMessages>
}

export interface ClassViewsOptions extends MountOptions {
  routes: RouteTable
  /** The view classes to mount, each as `mountViews` would. */
  views: ViewClass[]
}

/**
 * The view classes as a Fastify plugin: `pages.register(classViews, { routes, views: [...] })`.
 * What the views need is declared, so a missing plugin is a boot error naming it (from Fastify:
 * "The decorator 'accepts' required by 'class-views' is not present in Request"), not a failure at
 * the first request that needs it: @fastify/view renders, @fastify/accepts tells HTML from JSON,
 * @fastify/formbody parses the forms, and session-stores gives every view its session.
 */
export const classViews = fp(async function classViews (app: FastifyInstance, { routes, views, ...options }: ClassViewsOptions) {
  for (const ViewClass of views) mountViews(app, routes, ViewClass, options)
}, {
  name: 'class-views',
  fastify: '5.x',
  dependencies: ['@fastify/view', '@fastify/accepts', '@fastify/formbody', 'session-stores'],
  decorators: { request: ['accepts'], reply: ['view'] }
})

/**
 * The names every HTML page gets from the framework, beside the view's own data: the named routes'
 * paths, the navigation, the flashes taken for this page, the field a form gave back, the CSRF token.
 */
export const FRAMEWORK_PAGE_KEYS = ['urls', 'nav', 'flashes', 'fields', 'csrfToken'] as const

function collisionError (where: string, key: string): Error {
  return new Error(`${where}: "${key}" is a name the framework gives every page (${FRAMEWORK_PAGE_KEYS.join(', ')}); call it something else`)
}

/**
 * Mounts one view class on `app` (a context with a session): the scan step, for one class.
 *
 * A page's template data is the view method's return value, with the class's `@viewProperty`
 * getters added (the one way a view adds data), then the app's `pageContext`, then the names the
 * framework adds (FRAMEWORK_PAGE_KEYS). A key given twice is an error, never a silent overwrite:
 * at boot for a view property or a JSON-schema key named like a framework key, else on the request
 * (a returned key that is also a view property, in the pageContext, or a framework name).
 */
export function mountViews (app: FastifyInstance, routes: RouteTable, ViewClass: ViewClass, options: MountOptions = {}): void {
  const { methods, properties, forms } = viewsOf(ViewClass)
  // Wrong wiring fails here, at boot, naming what is missing: not at the first request.
  requireSessionPlugin(app, `mountViews(${ViewClass.name})`)
  const reserved = new Set<string>(FRAMEWORK_PAGE_KEYS)
  for (const { name } of properties) if (reserved.has(name)) throw collisionError(`${ViewClass.name}'s @viewProperty ${name}`, name)
  for (const view of methods) {
    for (const key of Object.keys((view.jsonSchema?.properties ?? {}) as object)) {
      if (reserved.has(key)) throw collisionError(`${ViewClass.name}'s view for "${view.routeName}" (its JSON schema)`, key)
    }
  }
  const formCheck = forms.length > 0 ? formCheckOf(app, `${ViewClass.name}'s forms`) : undefined
  const urls = routes.urls()
  const pageContext = options.pageContext ?? (() => ({}))
  const messages = { ...DEFAULT_VIEW_MESSAGES, ...options.messages }
  // The forms' own validator: Fastify's (its Ajv defaults, formats, this context's shared schemas),
  // but a field the view did not declare is refused (400), never silently dropped, whatever Ajv
  // options the app's instance has (Fastify's default, `removeAdditional: true`, drops it).
  const formValidator = forms.length > 0
    ? AjvCompiler()(app.getSchemas() as Parameters<ReturnType<typeof AjvCompiler>>[0], { customOptions: { removeAdditional: false }, plugins: [] })
    : undefined

  for (const view of methods) {
    // Worked out once here, not per request.
    const nav = routes.nav(options.nav ?? [], view.routeName)
    const where = `${ViewClass.name}'s view for "${view.routeName}"`
    app.route({
      // HEAD is declared rather than left to Fastify's automatic HEAD route, so it can run dry.
      method: ['GET', 'HEAD'],
      url: routes.pathFor(view.routeName),
      // Applies to the JSON answer only; an HTML page is a string and is sent as it is.
      ...(view.jsonSchema ? { schema: { response: { 200: view.jsonSchema } } } : {}),
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const isHead = request.method === 'HEAD'
        // HEAD shows what GET would without changing the session: its writes last until the response.
        const session = isHead ? sessionOf(request).dryRun() : sessionOf(request)
        const instance = new ViewClass({ session })
        const data: ViewData = view.call(instance)
        for (const property of properties) {
          if (Object.hasOwn(data, property.name)) throw new Error(`${where}: it returned "${property.name}", which is also a @viewProperty; drop one`)
          data[property.name] = property.read(instance)
        }

        // The page depends on the session cookie: never store it in a shared cache.
        reply.header('cache-control', 'no-store').header('vary', 'Cookie, Accept')
        if (wantsJson(request)) return data
        // The view's data is this request's own object: the page's parts are added to it rather
        // than copied with it into a new one, which cost about a fifth of the page's server CPU in
        // A/B rounds (BENCHMARKS.md, "What earlier runs found that still holds").
        for (const key of FRAMEWORK_PAGE_KEYS) if (Object.hasOwn(data, key)) throw collisionError(where, key)
        const context = pageContext(request)
        for (const key in context) if (Object.hasOwn(data, key)) throw new Error(`${where}: "${key}" is also in the app's pageContext; call one of them something else`)
        const page = Object.assign(data, context)
        page.urls = urls
        page.nav = nav
        page.flashes = session.popFlash()
        page.fields = view.hasForms ? takeField(session) : undefined
        // HEAD makes no CSRF token, so its Content-Length leaves out the form's token.
        page.csrfToken = view.hasForms && !isHead ? session.csrfToken() : undefined
        return reply.view(view.template, page)
      }
    })
  }

  for (const form of forms) {
    /** POST, 303, GET: the flash and the field go through the session to the page the browser is sent to. */
    const keepForNextPage = (request: FastifyRequest, { flash, field }: FormOutcome) => {
      const session = sessionOf(request)
      if (flash) session.flash(flash.message, flash.category)
      if (field) session.set('formField', keepable(field))
    }
    const redirect = (reply: FastifyReply, { redirectTo }: FormOutcome) =>
      reply.header('cache-control', 'no-store').redirect(routes.pathFor(redirectTo ?? form.page), 303)
    const sendBack = (request: FastifyRequest, reply: FastifyReply, outcome: FormOutcome) => {
      keepForNextPage(request, outcome)
      return redirect(reply, outcome)
    }

    app.route({
      method: 'POST',
      url: routes.pathFor(form.routeName),
      schema: { body: formBodySchema(form) },
      validatorCompiler: formValidator,
      // After the body is parsed (the token is in it), before validation and the view: a forged
      // or cross-origin request is refused with 403 and never reaches the view or the session.
      preValidation: async (request, reply) => {
        try {
          formCheck!(request)
        } catch (error) {
          // A stale token on a post a browser says came from this site's own page is no forgery: a
          // reset in another tab, or the idle timeout. Instead of a dead-end 403, the page comes back
          // with the form, what was typed in it, and why nothing happened. A post with no session
          // cookie at all has no session to return to (cookies off, or a script): a plain 403, so a
          // refused form never creates a session.
          if (!(error instanceof CsrfTokenRefused) || !cameFromThisOrigin(request) || !hasSessionCookie(request) || wantsJson(request)) throw error
          request.log.info({ form: form.routeName }, 'stale form sent back to its page')
          return sendBack(request, reply, staleFormOutcome(form, request.body, messages))
        }
      },
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const session = sessionOf(request)
        const outcome = await form.call(new ViewClass({ session }), request.body)
        // Every write of this request first (the message and the field too), so the rotation below
        // stores the session as it will be, and the store's size budget judges it whole.
        keepForNextPage(request, outcome)
        // A form that went through changes the session id (server-side stores), so an id planted in a
        // victim's browser stops tracking it at the victim's first action.
        await session.rotateId()
        return redirect(reply, outcome)
      }
    })
  }
}

/** The form again, with its `refill` field as typed and the reason beside it; or, without one, a flash. */
function staleFormOutcome ({ refill }: FormMethod, body: unknown, messages: ViewMessages): FormOutcome {
  const value = refill === undefined ? undefined : (body as Record<string, unknown> | undefined)?.[refill]
  if (refill !== undefined && typeof value === 'string') {
    return { field: { name: refill, value, error: messages.staleFormRefilled } }
  }
  return { flash: { category: 'error', message: messages.staleForm } }
}

/** Controls and line or paragraph separators: each becomes a space in a refilled field. */
const BREAKS = /[\p{Cc}\p{Zl}\p{Zp}]/gu
/**
 * Format characters (bidi overrides, zero-width spaces) are dropped, but for the zero-width joiner
 * and non-joiner, which emoji (👩‍💻) and words in Persian, Hindi or Sinhala are spelled with.
 */
const INVISIBLES = /(?![\u200c\u200d])\p{Cf}/gu

/**
 * The field as it may be shown again: what was typed, but with no invisible character that could
 * make it read otherwise (a right-to-left override turns `gnp‮.exe` into `exe.png`), and cut to
 * MAX_REFILL_CHARACTERS (whole code points, never half of a surrogate pair).
 */
function keepable (field: FieldState): FieldState {
  if (field.value === undefined) return field
  const value = field.value.replace(BREAKS, ' ').replace(INVISIBLES, '')
  return { ...field, value: value.length <= MAX_REFILL_CHARACTERS ? value : Array.from(value).slice(0, MAX_REFILL_CHARACTERS).join('') }
}

/**
 * The field a form left for this page, keyed by name for the templates (`fields.item.error`), taken
 * once (HEAD's dry run only looks). No field, no write.
 */
function takeField (session: SessionAccess): Record<string, FieldState> | undefined {
  const field = session.get('formField')
  if (field === undefined) return undefined
  session.set('formField', undefined)
  return { [field.name]: field }
}

/** Every form carries `_csrf`; nothing else beyond what the view declares gets through. */
function formBodySchema ({ body = {} }: FormMethod) {
  const properties = (body.properties ?? {}) as Record<string, unknown>
  return { type: 'object', ...body, properties: { ...properties, _csrf: { type: 'string' } }, additionalProperties: false }
}
