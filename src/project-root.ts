/**
 * The project's root folder (the one holding package.json), where templates/, public/ and the
 * development secret live. Found by walking up from this file, because the file runs from src/
 * (tsx) and from dist/src/ (built) alike.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

function findRoot (from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`)
  }
}

export const PROJECT_ROOT = findRoot(import.meta.dirname)
