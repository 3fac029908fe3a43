/** Opens the session store the options name, connecting to Redis first in redis's case. */
import type { FastifyBaseLogger } from 'fastify'
import type { CookieSerializeOptions } from '@fastify/cookie'
import type { SessionStore, SessionStoreOptions } from './session-store.js'
import { DEFAULT_KEY_SALT } from './keys.js'
import { DEFAULT_SESSION_MESSAGES } from './messages.js'
import { cookieSessionStore } from './cookie-store.js'
import { BoundedMemoryStore } from './memory-store.js'
import { serverSessionStore } from './server-store.js'
import { FreshIds } from './fresh-ids.js'

export const DEFAULT_COOKIE_NAME = 'session'

const DEFAULT_COOKIE: CookieSerializeOptions = {
  path: '/',
  httpOnly: true,
  sameSite: 'lax',
  // 'auto': Secure when the request came over HTTPS, so plain-http development still works.
  // (@fastify/session's default, `true`, would silently set no cookie at all over http.)
  secure: 'auto'
}

export async function openSessionStore (given: SessionStoreOptions, log: FastifyBaseLogger): Promise<SessionStore> {
  const options = { ...given, keySalt: given.keySalt ?? DEFAULT_KEY_SALT }
  const { name: cookieName = DEFAULT_COOKIE_NAME, ...attributes } = options.cookie ?? {}
  const cookie: CookieSerializeOptions = { ...DEFAULT_COOKIE, ...attributes }
  const messages = { ...DEFAULT_SESSION_MESSAGES, ...options.messages }
  const fresh = new FreshIds()
  switch (options.store) {
    case 'cookie':
      return cookieSessionStore(options, cookieName, cookie, messages)
    case 'memory':
      return serverSessionStore(options, cookieName, cookie, fresh, {
        description: 'memory',
        pluginStore: new BoundedMemoryStore({ max: options.memory?.max ?? 10_000, ttlSeconds: options.idleTimeout, clock: options.clock, fresh }),
        health: async () => ({ ok: true }),
        close: async () => {}
      }, messages)
    case 'redis': {
      const { redis } = options
      if (redis === undefined) throw new Error('the redis store needs options.redis (url, prefix, connectWait, commandTimeout)')
      // Loaded only for this store: the Redis client costs a third of a second at every start.
      const { connectRedisStore } = await import('./redis-store.js')
      return serverSessionStore(options, cookieName, cookie, fresh, await connectRedisStore({ ...redis, ttlSeconds: options.idleTimeout }, fresh, log), messages)
    }
  }
}
