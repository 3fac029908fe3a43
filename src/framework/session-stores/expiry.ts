/**
 * When a session ends: the one rule, used by the session plugin to enforce it and by anything that
 * shows it. Whichever comes first: `idleTimeout` seconds after its last write, or, when `maxAge` is
 * set, `maxAge` seconds after its first write however active it is.
 */
import type { SessionStorage } from './types.js'

export interface ExpiryRule {
  /** Seconds after the last write. */
  idleTimeout: number
  /** Seconds after the first write; 0: no absolute limit. */
  maxAge: number
}

export interface Expiry {
  /** Unix seconds. */
  at: number
  reason: 'idle timeout reached' | 'absolute lifetime reached'
}

/** When this session ends, and why then; undefined before anything was written to it. */
export function expiryOf (session: Pick<SessionStorage, 'get'>, { idleTimeout, maxAge }: ExpiryRule): Expiry | undefined {
  // Only numbers count: a store holds whatever was written to it, and a date made of anything else
  // would be invalid (and throw wherever it is formatted).
  const touchedAt = session.get('touchedAt')
  if (!Number.isFinite(touchedAt)) return undefined
  const idle: Expiry = { at: touchedAt! + idleTimeout, reason: 'idle timeout reached' }
  if (maxAge <= 0) return idle
  const createdAt = session.get('createdAt')
  const absolute = (Number.isFinite(createdAt) ? createdAt! : touchedAt!) + maxAge
  return absolute <= idle.at ? { at: absolute, reason: 'absolute lifetime reached' } : idle
}
