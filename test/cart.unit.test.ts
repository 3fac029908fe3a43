// Unit tests for the cart's rules.
import t from 'tap'
import { addToCart, cartFrom, MAX_CART_ITEMS, MAX_ITEM_BYTES } from '../src/cart.js'

t.test('addToCart trims, appends and never changes the cart it was given', async (t) => {
  const cart = ['apple']
  t.same(addToCart(cart, '  pear \n'), { ok: true, item: 'pear', cart: ['apple', 'pear'] })
  t.same(cart, ['apple'])
})

t.test('addToCart refuses empty, too long and full, saying why', async (t) => {
  t.match(addToCart([], undefined), { ok: false, reason: /Type the name of an item/ })
  t.match(addToCart([], '   '), { ok: false, reason: /Type the name of an item/ })
  t.match(addToCart([], 'x'.repeat(81)), { ok: false, reason: /at most 80 characters; that one has 81/ })
  t.match(addToCart([], 'x'.repeat(80)), { ok: true })
  const full = Array.from({ length: MAX_CART_ITEMS }, (_, i) => `item ${i}`)
  t.match(addToCart(full, 'one more'), { ok: false, reason: /cart is full: it holds at most 20 items/ })
})

t.test('item length counts characters as people do, not UTF-16 units', async (t) => {
  t.match(addToCart([], '🍎'.repeat(80)), { ok: true })
  t.match(addToCart([], '🍎'.repeat(81)), { ok: false, reason: /that one has 81/ })
})

t.test('cartFrom accepts only a list of strings', async (t) => {
  t.same(cartFrom(['a', 'b']), ['a', 'b'])
  t.same(cartFrom(undefined), [])
  t.same(cartFrom('a'), [])
  t.same(cartFrom(['a', 1]), [])
})

t.test('addToCart counts graphemes, normalises to NFC, refuses invisible and control characters', async (t) => {
  t.match(addToCart([], '🇮🇩'.repeat(80)), { ok: true }, 'a flag is one character, not two code points')
  t.match(addToCart([], '🇮🇩'.repeat(81)), { ok: false, reason: /that one has 81/ })
  t.match(addToCart([], 'cafe\u0301'), { ok: true, item: 'caf\u00e9' })
  t.match(addToCart([], '👩‍💻'), { ok: true }, 'the zero-width joiner inside an emoji is allowed')
  for (const item of ['a\u0000b', 'a\nb', 'a\u2028b', 'gnp\u202e.exe', 'a\u2069b', 'a\u200bb']) {
    // The label spells the character out: a raw U+2028 in a test name would break the TAP stream itself.
    const label = [...item].map((c) => c >= ' ' && c <= '~' ? c : `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join('')
    t.match(addToCart([], item), { ok: false, reason: /cannot contain line breaks, tabs or invisible control characters/ }, label)
  }
})

t.test('an item is capped in bytes too: one grapheme cannot hide kilobytes of combining marks', async (t) => {
  // b has no precomposed accented form, so NFC leaves every mark: 1 byte + 2 per mark.
  const zalgo = 'b' + '\u0301'.repeat(3990)
  t.match(addToCart([], zalgo), { ok: false, reason: /takes 7981 bytes to store, and an item can take at most 640/ })
  t.match(addToCart([], 'b' + '\u0301'.repeat(319)), { ok: true }, '639 bytes: stored')
  t.match(addToCart([], 'b' + '\u0301'.repeat(320)), { ok: false, reason: /at most 640/ }, '641 bytes: refused')
  t.ok(Buffer.byteLength('🇮🇩'.repeat(80)) <= MAX_ITEM_BYTES, 'eighty flags still fit')
})

t.test('names with nothing visible in them are refused; emoji sequences keep their joiners', async (t) => {
  const invisible = {
    'Hangul filler U+3164': '\u3164',
    'Hangul choseong filler U+115F': '\u115f',
    'halfwidth Hangul filler U+FFA0': '\uffa0',
    'combining grapheme joiner U+034F': 'a\u034fb',
    'zero-width joiners only': '\u200d\u200d\u200d',
    'a zero-width joiner outside an emoji': 'a\u200db',
    'a variation selector on a letter': 'a\ufe0f',
    'soft hyphen U+00AD': 'co\u00adop',
    'a zero-width non-joiner between Latin letters': 'a\u200cb',
    'a joiner after an Arabic letter, at the end': 'ک\u200c',
    'Mongolian variation selectors after a selector, hiding bytes': 'ᠠ' + '\u180b'.repeat(5),
    'ideographic variation selectors after a selector': '葛\u{E0100}\u{E0100}'
  }
  for (const [label, item] of Object.entries(invisible)) {
    t.match(addToCart([], item), { ok: false, reason: /invisible control characters/ }, label)
  }
  for (const item of ['\u2800', ' \u2800 \u3000 ', '\u2800\u2800', '\u{1D159}', '\u{16FE4}', '\u2800\u{1D159}']) {
    t.match(addToCart([], item), { ok: false, reason: /nothing visible in it/ }, 'blank: Braille blank and spaces')
  }
  for (const item of ['👩‍💻', '❤️', '1️⃣', '👍🏽', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', 'tea ☕️ and 👨‍👩‍👧', '❤️‍🔥']) {
    t.match(addToCart([], item), { ok: true, item }, `emoji sequence ${[...item].length} code points`)
  }
  // Words that are spelled with an invisible character: refusing them would refuse the language.
  const written = {
    'Persian, a non-joiner inside a word': 'کتاب\u200cها',
    'Urdu, a non-joiner inside a word': 'نان\u200cخطائی',
    'Sinhala, a joiner inside a word': 'ශ්\u200dරී ලංකා',
    'Bengali, a joiner before a virama': 'র\u200d্যাব',
    'Hindi, a non-joiner inside a conjunct': 'क्\u200cष',
    'Japanese, an ideographic variation selector': '葛\u{E0100}',
    'Mongolian, a free variation selector': 'ᠠ\u180b',
    'Malayalam, a joiner after a virama at the end of a word': 'അവന്\u200d'
  }
  for (const [label, item] of Object.entries(written)) t.match(addToCart([], item), { ok: true, item }, label)
})
