/**
 * The tutorial's views, after Pyramid's quick tutorial `sessions` step: one class, made per
 * request, whose methods return plain data and share a `counter` kept in the session.
 */
import { cartFrom } from '../cart.js'
import { viewConfig, viewDefaults, viewProperty, type ViewRequest } from '../framework/class-views/index.js'

/** What every view here answers as JSON: the method's data plus the view properties. */
const pageData = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    counter: { type: 'integer' },
    cart: { type: 'array', items: { type: 'string' } }
  },
  required: ['name', 'counter', 'cart']
}

@viewDefaults({ template: 'home.hbs', jsonSchema: pageData })
export class TutorialViews {
  readonly #request: ViewRequest
  #counter: number | undefined

  constructor (request: ViewRequest) {
    this.#request = request
  }

  /** Page requests this browser has made, this one included; counted once however often it is read. */
  @viewProperty
  get counter (): number {
    if (this.#counter === undefined) {
      const { session } = this.#request
      const previous = session.get('counter')
      this.#counter = (Number.isSafeInteger(previous) ? previous as number : 0) + 1
      session.set('counter', this.#counter)
    }
    return this.#counter
  }

  /** What this browser has put in its cart (read only: CartViews changes it). */
  @viewProperty
  get cart (): string[] {
    return cartFrom(this.#request.session.get('cart'))
  }

  @viewConfig({ routeName: 'home', hasForms: true })
  home () {
    return { name: 'Home View' }
  }

  @viewConfig({ routeName: 'hello', template: 'hello.hbs' })
  hello () {
    return { name: 'Hello View' }
  }
}
