// `node scripts/remove.mjs PATH…`: removes each path and everything in it, as `rm -rf` would, but
// under any shell npm runs scripts with (cmd.exe on Windows has no `rm`).
import { rmSync } from 'node:fs'

for (const path of process.argv.slice(2)) rmSync(path, { recursive: true, force: true })
