import t from 'tap'
import { RouteTable, viewConfig, viewDefaults, viewProperty, viewsOf } from '../../../src/framework/class-views/index.js'
import { ToyViews } from './toy-views.js'

t.test('each view gets its route and its template (its own or the class default); view properties are listed', async (t) => {
  const { methods, properties } = viewsOf(ToyViews)
  t.same(methods.map(({ routeName, template }) => ({ routeName, template })), [
    { routeName: 'toy', template: 'toy.hbs' },
    { routeName: 'other', template: 'other.hbs' }
  ])
  t.same(properties.map((p) => p.name), ['visits'])
})

t.test('a view with no template and no class default is refused at boot', async (t) => {
  class NoTemplate {
    @viewConfig({ routeName: 'home' })
    home () { return {} }
  }
  t.throws(() => viewsOf(NoTemplate), /view for route "home" has no template/)
})

t.test('a subclass keeps its own views apart from its parent', async (t) => {
  @viewDefaults({ template: 'a.hbs' })
  class Parent {
    @viewConfig({ routeName: 'a' })
    a () { return { from: 'a' } }
  }
  @viewDefaults({ template: 'b.hbs' })
  class Child extends Parent {
    @viewProperty
    get extra () { return 1 }

    @viewConfig({ routeName: 'b' })
    b () { return { from: 'b' } }
  }
  t.same(viewsOf(Parent).methods.map((m) => m.template), ['a.hbs'])
  t.same(viewsOf(Child).methods.map((m) => m.template), ['b.hbs'])
  t.same(viewsOf(Parent).properties, [])
  t.same(viewsOf(Child).methods[0]?.call(new Child()), { from: 'b' })
})

t.test('RouteTable: names resolve to paths; unknown or repeated names fail loudly', async (t) => {
  const routes = new RouteTable().addRoute('home', '/').addRoute('hello', '/howdy')
  t.equal(routes.pathFor('hello'), '/howdy')
  t.same(routes.urls(), { home: '/', hello: '/howdy' })
  t.throws(() => routes.pathFor('cart'), /no route named "cart"/)
  t.throws(() => routes.addRoute('home', '/again'), /already defined/)
})
