/**
 * Session secrets become purpose-bound keys with HKDF-SHA256: fast (microseconds, once at boot),
 * unlike secure-session's `secret` + `salt` option, whose deliberately slow derivation costs
 * ~400 ms per app build. The secret is already high-entropy (32+ characters), so a slow KDF adds
 * nothing; a separate key per use means the cookie cipher and the id signature never share one.
 */
import { hkdfSync } from 'node:crypto'

const SALT = 'fastify-sessions-tutorial'

function derive (secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, SALT, purpose, 32))
}

/** 32-byte libsodium secretbox keys for the encrypted cookie, newest first. */
export function deriveCookieKeys (secrets: readonly string[]): Buffer[] {
  return secrets.map((secret) => derive(secret, 'session cookie encryption key v1'))
}

/** HMAC keys that sign the session id cookie in the store modes, newest first. */
export function deriveSigningKeys (secrets: readonly string[]): string[] {
  return secrets.map((secret) => derive(secret, 'session id signing key v1').toString('base64url'))
}
