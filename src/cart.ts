/** The cart's rules, as pure functions: what an acceptable item is and when the cart is full. */
export const MAX_ITEM_LENGTH = 80
export const MAX_CART_ITEMS = 20

export type CartChange =
  | { ok: true, item: string, cart: string[] }
  | { ok: false, reason: string }

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' })

/** Characters as a person sees them (graphemes: 🇮🇩 or é written as e + ◌́ is one), not UTF-16 units. */
function lengthOf (text: string): number {
  // Printable ASCII is one grapheme per character; segmenting costs microseconds, so only others pay.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length
  return Array.from(graphemes.segment(text)).length
}

/**
 * Control (Cc: NUL, CR, LF, tab…), format (Cf: bidirectional overrides that make `gnp.exe` show as
 * `exe.png`, zero-width characters) and line or paragraph separators (U+2028/2029). The zero-width
 * joiner is a format character too, but emoji such as 👩‍💻 are built with it, so it is allowed.
 */
const INVISIBLE = /(?!\u200d)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u

/** The cart with `rawItem` added, or why it cannot be. Never changes `cart`. */
export function addToCart (cart: readonly string[], rawItem: string | undefined): CartChange {
  // NFC, so the same name typed two ways (é as one character or as e + accent) is the same item.
  const item = (rawItem ?? '').normalize('NFC').trim()
  if (item === '') return { ok: false, reason: 'Type the name of an item before adding it.' }
  if (INVISIBLE.test(item)) {
    return { ok: false, reason: 'An item name cannot contain line breaks, tabs or invisible control characters.' }
  }
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
