/**
 * Zero set-up outside production: a random session secret made on first start and kept in a
 * git-ignored file, so the counter survives restarts without anyone choosing a secret.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PROJECT_ROOT } from './project-root.js'

export const DEV_SECRET_FILE = join(PROJECT_ROOT, '.session-secret')

/** The secret kept in `file`, made (and written) first if there is none; `created` says which. */
export function readOrCreateDevSecret (file: string): { secret: string, created: boolean } {
  try {
    const existing = readFileSync(file, 'utf8').trim()
    if (existing.length >= 32) return { secret: existing, created: false }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const secret = randomBytes(48).toString('base64url')
  // 0600: the secret decrypts every session cookie, so only the owner may read it.
  writeFileSync(file, secret + '\n', { mode: 0o600 })
  return { secret, created: true }
}
