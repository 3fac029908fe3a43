/**
 * Runs a suite once per session store, so every store passes the same tests (cookie, memory, and
 * redis with a real redis-server that this file starts).
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { BuildOptions } from '../src/app.js'
import type { Settings } from '../src/config.js'
import type { SessionStoreName } from '../src/framework/session-stores/index.js'
import { build } from './helper.js'
import { hasRedisServer, REDIS_MISSING, startRedis } from './redis-server.js'

export interface StoreContext {
  store: SessionStoreName
  /** Builds an app with this store (closed after the test). */
  build: (t: Test, overrides?: Partial<Settings>, options?: BuildOptions) => Promise<FastifyInstance>
  /** The store's own settings (REDIS_URL for redis), to build with other helpers. */
  settings: Partial<Settings>
  /**
   * One app with this store and the default settings, shared by the store's tests (each with its own
   * Browser, so its own session) and closed after the last of them: building one costs ~65 ms of CPU.
   * A test that needs other settings, its own log or a restart builds its own with `build`.
   */
  app: () => Promise<FastifyInstance>
}

/** `TEST_SESSION_STORES=cookie` runs only those stores (`npm run test:functional`); unset, all of them. */
const ONLY = process.env.TEST_SESSION_STORES?.split(',').map((store) => store.trim())

export function eachSessionStore (suite: (t: Test, context: StoreContext) => Promise<void>, stores: readonly SessionStoreName[] = ['cookie', 'memory', 'redis']): void {
  for (const store of stores.filter((store) => ONLY === undefined || ONLY.includes(store))) {
    const skip = store === 'redis' && !hasRedisServer() ? REDIS_MISSING : false
    t.test(`${store} sessions`, { skip }, async (t) => {
      const redis = store === 'redis' ? await startRedis(t) : undefined
      const settings: Partial<Settings> = { SESSION_STORE: store, ...(redis ? { REDIS_URL: redis.url } : {}) }
      let shared: Promise<FastifyInstance> | undefined
      const app = () => (shared ??= build(t, settings))
      await suite(t, { store, settings, app, build: (t, overrides = {}, options = {}) => build(t, { ...settings, ...overrides }, options) })
    })
  }
}
