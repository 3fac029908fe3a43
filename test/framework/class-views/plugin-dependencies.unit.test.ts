// classViews declares what its views need: a context without one of them fails at boot, naming
// it, instead of at the first request that needs it. A toy app: nothing of the tutorial is imported.
import t from 'tap'
import Fastify from 'fastify'
import fastifyAccepts from '@fastify/accepts'
import fastifyFormbody from '@fastify/formbody'
import fastifyView from '@fastify/view'
import handlebars from 'handlebars'
import { classViews, RouteTable, viewConfig } from '../../../src/framework/class-views/index.js'
import { openSessionStore, sessionPlugin } from '../../../src/framework/session-stores/index.js'

class ToyViews {
  @viewConfig({ routeName: 'toy', template: 'toy.hbs' })
  toy () { return { name: 'toy' } }
}

const PLUGINS = {
  '@fastify/view': async (app: ReturnType<typeof Fastify>) => app.register(fastifyView, { engine: { handlebars }, root: import.meta.dirname ?? '.' }),
  '@fastify/accepts': async (app: ReturnType<typeof Fastify>) => app.register(fastifyAccepts),
  '@fastify/formbody': async (app: ReturnType<typeof Fastify>) => app.register(fastifyFormbody),
  'session-stores': async (app: ReturnType<typeof Fastify>) => {
    const store = await openSessionStore({ store: 'cookie', secrets: ['a toy secret, long enough: 0123456789abcdef'], idleTimeout: 60 }, app.log)
    return app.register(sessionPlugin, { store })
  }
} as const

/** A toy app with every plugin classViews needs but `without`, then classViews itself. */
async function bootWithout (without: keyof typeof PLUGINS | undefined): Promise<void> {
  const app = Fastify()
  try {
    for (const [name, register] of Object.entries(PLUGINS)) if (name !== without) await register(app)
    await app.register(classViews, { routes: new RouteTable().addRoute('toy', '/'), views: [ToyViews] })
    await app.ready()
  } finally {
    await app.close()
  }
}

t.test('with everything it needs, classViews boots and mounts the toy view', async (t) => {
  await t.resolves(bootWithout(undefined))
})

// fastify-plugin checks the decorators first, then the plugins by name: each error names what is missing.
const EXPECTED: Record<keyof typeof PLUGINS, RegExp> = {
  '@fastify/view': /The decorator 'view' required by 'class-views' is not present in Reply/,
  '@fastify/accepts': /The decorator 'accepts' required by 'class-views' is not present in Request/,
  '@fastify/formbody': /The dependency '@fastify\/formbody' of plugin 'class-views' is not registered/,
  'session-stores': /The dependency 'session-stores' of plugin 'class-views' is not registered/
}
for (const [name, message] of Object.entries(EXPECTED) as Array<[keyof typeof PLUGINS, RegExp]>) {
  t.test(`without ${name}: a boot error naming it`, async (t) => {
    await t.rejects(bootWithout(name), { message })
  })
}
