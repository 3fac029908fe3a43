/**
 * A session that remembers writes for this request only: a HEAD request computes exactly what
 * GET would show (Content-Length included) without changing the browser's session.
 */
import type { SessionAccess, SessionData } from './types.js'

export function dryRunSession (session: SessionAccess): SessionAccess {
  const writes: Partial<SessionData> = {}
  return {
    get (key) {
      return Object.hasOwn(writes, key) ? writes[key] : session.get(key)
    },
    set (key, value) {
      writes[key] = value
    },
    async reset () {
      for (const key of ['counter', 'cart', 'flash', '_csrf', 'touchedAt', 'createdAt'] as const) writes[key] = undefined
    },
    discardChanges () {
      for (const key of Object.keys(writes) as Array<keyof SessionData>) delete writes[key]
    }
  }
}
