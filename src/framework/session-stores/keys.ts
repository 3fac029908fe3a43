/**
 * Session secrets become purpose-bound keys with HKDF-SHA256: fast (microseconds, once at boot),
 * unlike secure-session's `secret` + `salt` option, whose deliberately slow derivation costs
 * ~400 ms per app build. The secret is already high-entropy (32+ characters), so a slow KDF adds
 * nothing; a separate key per use means the cookie cipher and the id signature never share one.
 */
import { hkdfSync } from 'node:crypto'

/** The HKDF salt when the options give none (`keySalt`): one app's keys differ from another's with the same secret. */
export const DEFAULT_KEY_SALT = 'session-stores'

function derive (secret: string, salt: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, salt, purpose, 32))
}

/** 32-byte libsodium secretbox keys for the encrypted cookie, newest first. */
export function deriveCookieKeys (secrets: readonly string[], salt: string): Buffer[] {
  return secrets.map((secret) => derive(secret, salt, 'session cookie encryption key v1'))
}

/** HMAC keys that sign the session id cookie in the server-side stores, newest first. */
export function deriveSigningKeys (secrets: readonly string[], salt: string): string[] {
  return secrets.map((secret) => derive(secret, salt, 'session id signing key v1').toString('base64url'))
}
