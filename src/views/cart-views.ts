/**
 * The shopping cart the seed names as a reason for sessions: forms that change the session,
 * then send the browser back to a page (POST, 303, GET) with a one-time message saying what happened.
 */
import { addToCart, cartFrom } from '../cart.js'
import { formView, type FormOutcome, type ViewRequest } from '../framework/class-views/index.js'

export interface AddItemForm {
  item?: string
}

const addItemBody = {
  type: 'object',
  properties: {
    item: { type: 'string' }
  }
}

export class CartViews {
  readonly #request: ViewRequest

  constructor (request: ViewRequest) {
    this.#request = request
  }

  @formView({ routeName: 'cart_add', body: addItemBody })
  addItem (form: AddItemForm): FormOutcome {
    const { session } = this.#request
    const change = addToCart(cartFrom(session.get('cart')), form.item)
    if (!change.ok) return { flash: { category: 'error', message: change.reason }, redirectTo: 'home' }
    session.set('cart', change.cart)
    return { flash: { category: 'success', message: `Added “${change.item}” to your cart.` }, redirectTo: 'home' }
  }

  @formView({ routeName: 'cart_clear' })
  clear (): FormOutcome {
    this.#request.session.set('cart', [])
    return { flash: { category: 'info', message: 'Your cart is empty again.' }, redirectTo: 'home' }
  }

  @formView({ routeName: 'session_reset' })
  async resetSession (): Promise<FormOutcome> {
    await this.#request.session.reset()
    return { flash: { category: 'info', message: 'You are in a new session: the old one, its counter and its cart are gone.' }, redirectTo: 'home' }
  }
}
