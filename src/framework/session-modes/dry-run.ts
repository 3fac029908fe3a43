/**
 * A session that remembers writes for this request only: a HEAD request computes exactly what
 * GET would show (Content-Length included) without changing the browser's session.
 */
import type { SessionAccess, SessionData, SessionKey } from './types.js'

export function dryRunSession (session: SessionAccess): SessionAccess {
  let writes: Partial<SessionData> = {}
  // After a reset every key reads as unset, whatever the real session holds: no list of keys needed.
  let wasReset = false
  return {
    get<K extends SessionKey>(key: K) {
      if (Object.hasOwn(writes, key)) return writes[key]
      return wasReset ? undefined : session.get(key)
    },
    set (key, value) {
      writes[key] = value
    },
    async reset () {
      writes = {}
      wasReset = true
    },
    discardChanges () {
      writes = {}
      wasReset = false
    },
    async rotateId () {}
  }
}
