/**
 * Session secrets become 32-byte keys with HKDF-SHA256: fast (microseconds, once at boot),
 * unlike secure-session's `secret` + `salt` option, whose deliberately slow derivation costs
 * ~400 ms per app build. The secret is already high-entropy (32+ characters), so a slow KDF adds nothing.
 */
import { hkdfSync } from 'node:crypto'

const SALT = 'fastify-sessions-tutorial'
const INFO = 'session cookie encryption key v1'

export function deriveCookieKeys (secrets: readonly string[]): Buffer[] {
  return secrets.map((secret) => Buffer.from(hkdfSync('sha256', secret, SALT, INFO, 32)))
}
