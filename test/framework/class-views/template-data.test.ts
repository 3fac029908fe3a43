// A page's template data: the view's return value and view properties, then the names the
// framework adds. A view key that one of those names would overwrite is an error, never silent.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyAccepts from '@fastify/accepts'
import fastifyFormbody from '@fastify/formbody'
import fastifyView from '@fastify/view'
import handlebars from 'handlebars'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { classViews, FRAMEWORK_PAGE_KEYS, RouteTable, viewConfig, viewDefaults, viewProperty, type ViewClass } from '../../../src/framework/class-views/index.js'
import { openSessionStore, sessionPlugin } from '../../../src/framework/session-stores/index.js'
import { ToyViews } from './toy-views.js'

const templates = mkdtempSync(join(tmpdir(), 'toy-templates-'))
writeFileSync(join(templates, 'toy.hbs'), '<p>{{greeting}} {{visits}} {{#each nav}}[{{label}}]{{/each}}</p>')

async function boot (t: Test, views: ViewClass[], pageContext?: () => Record<string, unknown>): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyAccepts)
  await app.register(fastifyView, { engine: { handlebars }, root: templates })
  const store = await openSessionStore({ store: 'cookie', secrets: ['a toy secret, long enough to derive keys: 0123456789'], idleTimeout: 60 }, app.log)
  await app.register(async (pages) => {
    await pages.register(fastifyFormbody)
    await pages.register(sessionPlugin, { store })
    await pages.register(classViews, { routes: new RouteTable().addRoute('toy', '/').addRoute('other', '/other'), views, nav: [{ routeName: 'toy', label: 'Toy' }], pageContext })
  })
  await app.ready()
  return app
}

t.test('the view\'s data, its properties and the framework\'s names all reach the template', async (t) => {
  const app = await boot(t, [ToyViews])
  const page = await app.inject('/')
  t.equal(page.statusCode, 200)
  t.equal(page.body, '<p>Hello 3 [Toy]</p>')
})

t.test('a view property named like a framework key is a boot error naming both', async (t) => {
  @viewDefaults({ template: 'toy.hbs' })
  class NavProperty {
    @viewProperty
    get nav (): string { return 'mine' }

    @viewConfig({ routeName: 'toy' })
    toy () { return {} }
  }
  await t.rejects(boot(t, [NavProperty]), { message: /^NavProperty's @viewProperty nav: "nav" is a name the framework gives every page \(urls, nav, flashes, fields, csrfToken\); call it something else$/ })
})

t.test('a key the view\'s JSON schema declares is checked at boot too', async (t) => {
  @viewDefaults({ template: 'toy.hbs', jsonSchema: { type: 'object', properties: { flashes: { type: 'array' } } } })
  class FlashesKey {
    @viewConfig({ routeName: 'toy' })
    toy () { return {} }
  }
  await t.rejects(boot(t, [FlashesKey]), { message: /FlashesKey's view for "toy" \(its JSON schema\): "flashes" is a name the framework gives/ })
})

t.test('a returned key that would be overwritten fails the page (500), never silently', async (t) => {
  t.equal(FRAMEWORK_PAGE_KEYS.length, 5)
  @viewDefaults({ template: 'toy.hbs' })
  class UrlsKey {
    @viewConfig({ routeName: 'toy' })
    toy () { return { urls: 'mine' } }
  }
  const app = await boot(t, [UrlsKey])
  const page = await app.inject('/')
  t.equal(page.statusCode, 500)
  t.match(page.json().message, /^UrlsKey's view for "toy": "urls" is a name the framework gives every page/)
  t.equal((await app.inject({ url: '/', headers: { accept: 'application/json' } })).json().urls, 'mine', 'JSON has no framework names: the key is the view\'s own')
})

t.test('a returned key that is also a view property, or in the app\'s pageContext, fails the page naming it', async (t) => {
  class Twice {
    @viewConfig({ routeName: 'toy', template: 'toy.hbs' })
    toy () { return { visits: 4, greeting: 'Hello' } }

    @viewProperty
    get visits (): number { return 3 }
  }
  const twice = await (await boot(t, [Twice])).inject('/')
  t.equal(twice.statusCode, 500)
  t.match(twice.json().message, /^Twice's view for "toy": it returned "visits", which is also a @viewProperty; drop one$/)

  @viewDefaults({ template: 'toy.hbs' })
  class Greets {
    @viewConfig({ routeName: 'toy' })
    toy () { return { greeting: 'Hello' } }
  }
  const both = await (await boot(t, [Greets], () => ({ greeting: 'Hi' }))).inject('/')
  t.equal(both.statusCode, 500)
  t.match(both.json().message, /^Greets's view for "toy": "greeting" is also in the app's pageContext; call one of them something else$/)
  t.equal((await (await boot(t, [Greets], () => ({ visits: 9 }))).inject('/')).body, '<p>Hello 9 [Toy]</p>', 'a pageContext key of its own joins the page')
})
