/**
 * Runs a suite once per session mode, so every mode passes the same tests (cookie, memory, and
 * redis with a real redis-server that this file starts).
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Settings } from '../src/config.js'
import { build } from './helper.js'
import { hasRedisServer, REDIS_MISSING, startRedis } from './redis-server.js'

export type Mode = Settings['sessionStore']

export interface ModeContext {
  mode: Mode
  /** Builds an app in this mode (closed after the test). */
  build: (t: Test, overrides?: Partial<Settings>) => Promise<FastifyInstance>
  /** The mode's own settings (redisUrl for redis), to build with other helpers. */
  settings: Partial<Settings>
}

export function eachSessionMode (suite: (t: Test, context: ModeContext) => Promise<void>, modes: readonly Mode[] = ['cookie', 'memory', 'redis']): void {
  for (const mode of modes) {
    const skip = mode === 'redis' && !hasRedisServer() ? REDIS_MISSING : false
    t.test(`${mode} sessions`, { skip }, async (t) => {
      const redis = mode === 'redis' ? await startRedis(t) : undefined
      const settings: Partial<Settings> = { sessionStore: mode, ...(redis ? { redisUrl: redis.url } : {}) }
      await suite(t, { mode, settings, build: (t, overrides = {}) => build(t, { ...settings, ...overrides }) })
    })
  }
}
