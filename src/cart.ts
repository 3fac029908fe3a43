/** The cart's rules, as pure functions: what an acceptable item is and when the cart is full. */
export const MAX_ITEM_LENGTH = 80
/**
 * Graphemes count what a person sees, but one grapheme can hide any number of code points (`a`
 * followed by 4,000 combining marks is one). So an item is also capped in UTF-8 bytes: enough for
 * 80 flags (8 bytes each), never more than a few hundred bytes of session.
 */
export const MAX_ITEM_BYTES = 640
export const MAX_CART_ITEMS = 20

export type CartChange =
  | { ok: true, item: string, cart: string[] }
  | { ok: false, reason: string }

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' })

/** Characters as a person sees them (graphemes: 🇮🇩 or é written as e + ◌́ is one), not UTF-16 units. */
function lengthOf (text: string): number {
  return Array.from(graphemes.segment(text)).length
}

/**
 * Emoji sequences (👩‍💻, ❤️, 🏴󠁧󠁢󠁳󠁣󠁴󠁿) are built with characters that are invisible on their own: the
 * zero-width joiner, variation selectors, tag characters. Inside an emoji they are allowed, so each
 * whole emoji is set aside before the check below, with the variation selector some keyboards add
 * to an emoji that needs none (☕ + U+FE0F).
 */
// Built with RegExp: the `v` flag (Unicode sets, for \p{RGI_Emoji}) is in Node 20, but TypeScript
// accepts it in a literal only when targeting ES2024, whose library types promise more than Node 20 has.
// eslint-disable-next-line prefer-regex-literals -- see above
const EMOJI = new RegExp(String.raw`\p{RGI_Emoji}[\uFE0E\uFE0F]?|\p{Emoji}[\uFE0E\uFE0F]`, 'gv')

/**
 * Invisible characters that are part of writing, not tricks: the zero-width non-joiner and joiner
 * between two letters of a script that spells with them (Persian کتاب‌ها, Sinhala ශ්‍රී, Hindi क्‌ष),
 * an ideographic variation selector after a kanji (葛󠄀), a Mongolian variation selector after a
 * Mongolian letter. They are set aside like emoji; the same characters anywhere else are refused.
 */
const JOINING_SCRIPTS = String.raw`\p{Script=Arabic}\p{Script=Syriac}\p{Script=Nko}\p{Script=Devanagari}\p{Script=Bengali}` +
  String.raw`\p{Script=Gurmukhi}\p{Script=Gujarati}\p{Script=Oriya}\p{Script=Tamil}\p{Script=Telugu}\p{Script=Kannada}` +
  String.raw`\p{Script=Malayalam}\p{Script=Sinhala}\p{Script=Mongolian}`
// Each alternative matches the invisible character first and only then looks behind it, so a long
// run of marks is scanned once, not once per position (an 8 KB name took 0.35 s the other way).
const VIRAMAS = String.raw`\u094D\u09CD\u0A4D\u0ACD\u0B4D\u0BCD\u0C4D\u0CCD\u0D4D\u0DCA`
const WRITING_JOINERS = new RegExp(
  String.raw`[\u200C\u200D](?<=[${JOINING_SCRIPTS}]\p{M}*.)(?=[${JOINING_SCRIPTS}])` +
  // After a virama the joiner may end the word (Malayalam's chillu: അവന്‍).
  String.raw`|[\u200C\u200D](?<=[${VIRAMAS}].)` +
  String.raw`|[\u{E0100}-\u{E01EF}\uFE00-\uFE0F](?<=\p{Ideographic}.)` +
  // One Mongolian variation selector, after a Mongolian letter (not after another selector).
  String.raw`|[\u180B-\u180F](?<=[\u1820-\u1878\u1880-\u18AA].)`, 'gu')

/**
 * Control (Cc: NUL, CR, LF, tab…), format (Cf: bidirectional overrides that make `gnp.exe` show as
 * `exe.png`, zero-width characters), line or paragraph separators (U+2028/2029), and every
 * character Unicode says renders as nothing (Default_Ignorable_Code_Point: the Hangul fillers
 * U+3164, U+115F, U+FFA0, the combining grapheme joiner U+034F, variation selectors…).
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u

/**
 * Characters that show as blank space: white space, and the printable characters drawn as nothing
 * (the Braille blank U+2800, the musical null notehead U+1D159, the Khitan filler U+16FE4).
 */
const BLANK = /[\p{White_Space}\u2800]|\u{1D159}|\u{16FE4}/gu

/** The cart with `rawItem` added, or why it cannot be. Never changes `cart`. */
export function addToCart (cart: readonly string[], rawItem: string | undefined): CartChange {
  // NFC, so the same name typed two ways (é as one character or as e + accent) is the same item.
  const item = (rawItem ?? '').normalize('NFC').trim()
  if (item === '') return { ok: false, reason: 'Type the name of an item before adding it.' }
  const withoutEmoji = item.replace(EMOJI, '🙂').replace(WRITING_JOINERS, '')
  if (INVISIBLE.test(withoutEmoji)) {
    return { ok: false, reason: 'An item name cannot contain line breaks, tabs or invisible control characters.' }
  }
  if (withoutEmoji.replace(BLANK, '') === '') {
    return { ok: false, reason: 'That name has nothing visible in it: type the name of an item.' }
  }
  const length = lengthOf(item)
  if (length > MAX_ITEM_LENGTH) {
    return { ok: false, reason: `An item name can be at most ${MAX_ITEM_LENGTH} characters; that one has ${length}.` }
  }
  const bytes = Buffer.byteLength(item)
  if (bytes > MAX_ITEM_BYTES) {
    return {
      ok: false,
      reason: `That name takes ${bytes} bytes to store, and an item can take at most ${MAX_ITEM_BYTES}: ` +
        'it has too many accents, marks or emoji parts for its length.'
    }
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
