/**
 * A real redis-server for the tests: started on a free loopback port and stopped (restartable on
 * the same port) by the test itself, with the same helper the soak and bench scripts use. Without
 * the binary, the tests that need it are skipped with a message saying how to install it;
 * .ci/run installs it, so CI always runs them.
 */
import type { Test } from 'tap'
import { hasCommand, OwnRedis } from '../scripts/lib.js'
import { limit } from './limits.js'

export type RedisServer = OwnRedis

export const REDIS_MISSING = 'redis-server is not installed: `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis`; CI installs it'

export function hasRedisServer (): boolean {
  return hasCommand('redis-server')
}

/** A redis-server for this test, without persistence, stopped at teardown. */
export async function startRedis (t: Test): Promise<RedisServer> {
  const redis = await OwnRedis.start(false, limit(30_000))
  t.teardown(() => redis.stop())
  return redis
}
