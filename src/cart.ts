/** The cart's rules, as pure functions: what an acceptable item is and when the cart is full. */
export const MAX_ITEM_LENGTH = 80
export const MAX_CART_ITEMS = 20

export type CartChange =
  | { ok: true, item: string, cart: string[] }
  | { ok: false, reason: string }

/** Characters as a person counts them (code points), not UTF-16 units. */
function lengthOf (text: string): number {
  return Array.from(text).length
}

/** The cart with `rawItem` added, or why it cannot be. Never changes `cart`. */
export function addToCart (cart: readonly string[], rawItem: string | undefined): CartChange {
  const item = (rawItem ?? '').trim()
  if (item === '') return { ok: false, reason: 'Type the name of an item before adding it.' }
  const length = lengthOf(item)
  if (length > MAX_ITEM_LENGTH) {
    return { ok: false, reason: `An item name can be at most ${MAX_ITEM_LENGTH} characters; that one has ${length}.` }
  }
  if (cart.length >= MAX_CART_ITEMS) {
    return { ok: false, reason: `Your cart is full: it holds at most ${MAX_CART_ITEMS} items. Clear it to add more.` }
  }
  return { ok: true, item, cart: [...cart, item] }
}

/** A stored cart, or an empty one if what is stored is not a list of strings. */
export function cartFrom (value: unknown): string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : []
}
