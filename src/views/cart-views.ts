/**
 * The shopping cart the seed names as a reason for sessions: forms that change the session,
 * then send the browser back to their page (POST, 303, GET) with a one-time message saying what
 * happened, or the field again with the reason it was refused.
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

  /** Either way the field comes back focused, for the next item; a refused one, refilled and with the reason. */
  @formView({ routeName: 'cart_add', page: 'home', body: addItemBody, refill: 'item' })
  addItem (form: AddItemForm): FormOutcome {
    const { session } = this.#request
    const change = addToCart(cartFrom(session.get('cart')), form.item)
    if (!change.ok) return { field: { name: 'item', value: form.item ?? '', error: change.reason } }
    session.set('cart', change.cart)
    return { flash: { category: 'success', message: `Added “${change.item}” to your cart.` }, field: { name: 'item' } }
  }

  @formView({ routeName: 'cart_clear', page: 'home' })
  clear (): FormOutcome {
    this.#request.session.set('cart', [])
    return { flash: { category: 'info', message: 'Your cart is empty again.' } }
  }

  @formView({ routeName: 'session_reset', page: 'home' })
  async resetSession (): Promise<FormOutcome> {
    await this.#request.session.reset()
    return { flash: { category: 'info', message: 'You are in a new session, with a new count and an empty cart.' } }
  }
}
