/**
 * Runs a suite once per session mode, so every mode passes the same tests (cookie, memory, and
 * redis with a real redis-server that this file starts).
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { BuildOptions } from '../src/app.js'
import type { Settings } from '../src/config.js'
import type { SessionMode } from '../src/framework/session-modes/index.js'
import { build } from './helper.js'
import { hasRedisServer, REDIS_MISSING, startRedis } from './redis-server.js'

export type Mode = SessionMode

export interface ModeContext {
  mode: Mode
  /** Builds an app in this mode (closed after the test). */
  build: (t: Test, overrides?: Partial<Settings>, options?: BuildOptions) => Promise<FastifyInstance>
  /** The mode's own settings (REDIS_URL for redis), to build with other helpers. */
  settings: Partial<Settings>
  /**
   * One app in this mode with the default settings, shared by the mode's tests (each with its own
   * Browser, so its own session) and closed after the last of them: building one costs ~65 ms of CPU.
   * A test that needs other settings, its own log or a restart builds its own with `build`.
   */
  app: () => Promise<FastifyInstance>
}

/** `TEST_SESSION_MODES=cookie` runs only those modes (`npm run test:functional`); unset, all of them. */
const ONLY = process.env.TEST_SESSION_MODES?.split(',').map((mode) => mode.trim())

export function eachSessionMode (suite: (t: Test, context: ModeContext) => Promise<void>, modes: readonly Mode[] = ['cookie', 'memory', 'redis']): void {
  for (const mode of modes.filter((mode) => ONLY === undefined || ONLY.includes(mode))) {
    const skip = mode === 'redis' && !hasRedisServer() ? REDIS_MISSING : false
    t.test(`${mode} sessions`, { skip }, async (t) => {
      const redis = mode === 'redis' ? await startRedis(t) : undefined
      const settings: Partial<Settings> = { SESSION_STORE: mode, ...(redis ? { REDIS_URL: redis.url } : {}) }
      let shared: Promise<FastifyInstance> | undefined
      const app = () => (shared ??= build(t, settings))
      await suite(t, { mode, settings, app, build: (t, overrides = {}, options = {}) => build(t, { ...settings, ...overrides }, options) })
    })
  }
}
