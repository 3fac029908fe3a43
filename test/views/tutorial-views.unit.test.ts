// Unit tier, like the Pyramid tutorial's: the view class with a fake session, no app, no HTTP.
import t from 'tap'
import { viewsOf } from '../../src/framework/class-views/index.js'
import { TutorialViews } from '../../src/views/tutorial-views.js'
import { fakeSession } from '../helper.js'

t.test('TutorialViews: each view gets its route and template, counter and cart are view properties', async (t) => {
  const { methods, properties } = viewsOf(TutorialViews)
  t.same(methods.map(({ routeName, template }) => ({ routeName, template })), [
    { routeName: 'home', template: 'home.hbs' },
    { routeName: 'hello', template: 'hello.hbs' }
  ])
  t.same(properties.map((p) => p.name), ['counter', 'cart'])
})

t.test('home() and hello() return the page names', async (t) => {
  const views = new TutorialViews({ session: fakeSession() })
  t.same(views.home(), { name: 'Home View' })
  t.same(views.hello(), { name: 'Hello View' })
})

t.test('counter starts at 1 in a new session and stores it', async (t) => {
  const session = fakeSession()
  const views = new TutorialViews({ session })
  t.equal(views.counter, 1)
  t.equal(session.data.counter, 1)
})

t.test('counter increments the value already in the session', async (t) => {
  const session = fakeSession({ counter: 41 })
  t.equal(new TutorialViews({ session }).counter, 42)
  t.equal(session.data.counter, 42)
})

t.test('counter counts once per view instance, however often it is read', async (t) => {
  const session = fakeSession({ counter: 5 })
  const views = new TutorialViews({ session })
  t.equal(views.counter, 6)
  t.equal(views.counter, 6)
  t.equal(session.data.counter, 6)
  t.equal(session.writes, 1)
})

t.test('a new view instance (the next request) counts again', async (t) => {
  const session = fakeSession()
  t.equal(new TutorialViews({ session }).counter, 1)
  t.equal(new TutorialViews({ session }).counter, 2)
  t.equal(new TutorialViews({ session }).counter, 3)
})

t.test('a counter that is not a whole number starts again at 1', async (t) => {
  const session = fakeSession({ counter: 'x' as unknown as number })
  t.equal(new TutorialViews({ session }).counter, 1)
})

t.test('cart is what the session holds, read without writing', async (t) => {
  const session = fakeSession({ cart: ['apple', 'pear'] })
  t.same(new TutorialViews({ session }).cart, ['apple', 'pear'])
  t.same(new TutorialViews({ session: fakeSession() }).cart, [])
  t.equal(session.writes, 0)
})
