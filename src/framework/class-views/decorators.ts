/**
 * TC39 standard decorators (not `experimentalDecorators`) that say where a view is mounted and
 * how it renders, in the spirit of Pyramid's `@view_defaults` / `@view_config`. They only record
 * metadata; `mountViews` reads it once at boot, so no request ever looks it up.
 */
import type { FieldState, FlashCategory, SessionAccess } from '../session-stores/index.js'

// No Node line yet has Symbol.metadata (20, 22, 24 and 26 all lack it), and without it tsc's output
// passes `context.metadata === undefined` (tsx polyfills it, so the bug only shows in the built
// app). The symbol is registered globally so every module, and a Node that ships it, agree on it.
(Symbol as { metadata?: symbol }).metadata ??= Symbol.for('Symbol.metadata')

export type ViewData = Record<string, unknown>

/** What a view class is given: the request's session (a fake one will do in unit tests). */
export interface ViewRequest {
  session: SessionAccess
}

export interface ViewDefaults {
  /** Template for every view method that names none. */
  template?: string
  /** JSON schema of the views' data, so JSON answers are serialised by Fastify's compiled serializer. */
  jsonSchema?: Record<string, unknown>
}

export interface ViewConfig {
  /** Name given to `RouteTable.addRoute`; resolved to a path when mounted. */
  routeName: string
  /** Handlebars template under templates/; falls back to the class's `@viewDefaults`. */
  template?: string
  /** The page renders forms, so it is given a CSRF token (`csrfToken`); other pages skip the work. */
  hasForms?: boolean
}

/**
 * What a form view decides. The browser is sent (303) to `redirectTo`, by default the form's own
 * page, which shows the flash once and gives `field` back: focused, and if refused, refilled and
 * with the reason beside it.
 */
export interface FormOutcome {
  flash?: { category: FlashCategory, message: string }
  field?: FieldState
  /** A named route; the form's `page` if not given. */
  redirectTo?: string
}

export interface FormConfig {
  routeName: string
  /** The named route of the page the form is on: where its outcome, or a stale copy of it, goes back to. */
  page: string
  /** JSON schema of the url-encoded body, checked (400) after the CSRF token and before the view runs. */
  body?: Record<string, unknown>
  /**
   * The body field that a stale form (its CSRF token no longer the session's) gets back, refilled,
   * when a browser says it came from this site's own page. Leave it out for fields not worth keeping.
   */
  refill?: string
}

export interface FormMethod extends FormConfig {
  call: (view: object, form: unknown) => FormOutcome | Promise<FormOutcome>
}

export interface ViewMethod {
  routeName: string
  template: string
  jsonSchema?: Record<string, unknown>
  hasForms: boolean
  call: (view: object) => ViewData
}

export interface ViewProperty {
  name: string
  read: (view: object) => unknown
}

interface Recorded {
  defaults: ViewDefaults
  methods: Array<ViewConfig & { call: (view: object) => ViewData }>
  properties: ViewProperty[]
  forms: FormMethod[]
}

const RECORDED = Symbol('views.recorded')

function recordedIn (metadata: DecoratorMetadataObject): Recorded {
  if (!Object.hasOwn(metadata, RECORDED)) {
    metadata[RECORDED] = { defaults: {}, methods: [], properties: [], forms: [] } satisfies Recorded
  }
  return metadata[RECORDED] as Recorded
}

/** Class decorator: defaults shared by the class's views. */
export function viewDefaults (defaults: ViewDefaults) {
  return (_target: abstract new (...args: never[]) => object, context: ClassDecoratorContext) => {
    recordedIn(context.metadata).defaults = defaults
  }
}

/** Method decorator: this method is the view for `routeName`; it returns the page's data, a new object each time (mountViews adds the page's parts to it). */
export function viewConfig (config: ViewConfig) {
  return <This extends object, Data extends ViewData>(
    method: (this: This) => Data,
    context: ClassMethodDecoratorContext<This, (this: This) => Data>
  ) => {
    recordedIn(context.metadata).methods.push({
      ...config,
      call: (view) => method.call(view as This)
    })
  }
}

/** Method decorator: this method handles the form POSTed to `routeName`; it gets the parsed body. */
export function formView (config: FormConfig) {
  return <This extends object, Form>(
    method: (this: This, form: Form) => FormOutcome | Promise<FormOutcome>,
    context: ClassMethodDecoratorContext<This, (this: This, form: Form) => FormOutcome | Promise<FormOutcome>>
  ) => {
    recordedIn(context.metadata).forms.push({
      ...config,
      // The body schema, checked before the call, is what makes `form` a Form.
      call: (view, form) => method.call(view as This, form as Form)
    })
  }
}

/**
 * Getter decorator: the getter's value joins every view's data. Templates get plain values
 * because Handlebars (since 4.6) refuses to read getters on a class prototype.
 */
export function viewProperty<This extends object, Value> (
  _getter: (this: This) => Value,
  context: ClassGetterDecoratorContext<This, Value>
) {
  recordedIn(context.metadata).properties.push({
    name: String(context.name),
    read: (view) => context.access.get(view as This)
  })
}

/** The decorated views of a class, templates resolved; throws at boot if one has no template. */
export function viewsOf (viewClass: abstract new (...args: never[]) => object): { methods: ViewMethod[], properties: ViewProperty[], forms: FormMethod[] } {
  const metadata = viewClass[Symbol.metadata]
  const recorded: Recorded = metadata ? recordedIn(metadata) : { defaults: {}, methods: [], properties: [], forms: [] }
  const methods = recorded.methods.map(({ routeName, template, hasForms = false, call }) => {
    const resolved = template ?? recorded.defaults.template
    if (!resolved) throw new Error(`${viewClass.name}: the view for route "${routeName}" has no template`)
    return { routeName, template: resolved, jsonSchema: recorded.defaults.jsonSchema, hasForms, call }
  })
  return { methods, properties: recorded.properties, forms: recorded.forms }
}
