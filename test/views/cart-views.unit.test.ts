// Unit tier: the cart's form views with a fake session. They return outcomes (a flash, a field to
// give back); mountViews turns those into the session writes and the 303 (test/cart-flow.test.ts).
import t from 'tap'
import { CartViews } from '../../src/views/cart-views.js'
import { fakeSession } from '../helper.js'

t.test('addItem: the item goes into the cart; the outcome says so and asks for the field again, empty', async (t) => {
  const session = fakeSession({ cart: ['apple'] })
  const outcome = new CartViews({ session }).addItem({ item: '  pear ' })
  t.same(session.data.cart, ['apple', 'pear'])
  t.same(outcome, { flash: { category: 'success', message: 'Added “pear” to your cart.' }, field: { name: 'item' } })
})

t.test('addItem refused: the cart untouched, the field back with what was typed and why', async (t) => {
  const session = fakeSession({ cart: ['apple'] })
  const outcome = new CartViews({ session }).addItem({ item: 'x'.repeat(81) })
  t.same(session.data.cart, ['apple'])
  t.equal(session.writes, 0)
  t.same(outcome, { field: { name: 'item', value: 'x'.repeat(81), error: 'An item name can be at most 80 characters; that one has 81.' } })
  t.same(new CartViews({ session }).addItem({}).field, { name: 'item', value: '', error: 'Type the name of an item before adding it.' }, 'no field at all: refilled empty')
})

t.test('clear empties the cart; resetSession starts a new session', async (t) => {
  const session = fakeSession({ cart: ['apple'], counter: 7 })
  t.same(new CartViews({ session }).clear(), { flash: { category: 'info', message: 'Your cart is empty again.' } })
  t.same(session.data, { cart: [], counter: 7 })
  const outcome = await new CartViews({ session }).resetSession()
  t.same(session.data, {}, 'every key gone')
  t.equal(outcome.flash?.category, 'info')
})
