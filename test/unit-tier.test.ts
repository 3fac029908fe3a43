/**
 * The unit tier in one process: every `*.unit.test.ts` under test/ (the tests that start no server,
 * open no socket and spawn nothing), whatever its folder. tap's config leaves those files out of
 * the suite's own list, so each runs once, here.
 *
 * Why one process: on Node 20, tap's coverage loader runs on a thread of its own in every test
 * process, which costs about 1 s of CPU before the first test (measured: `node FILE` 0.36 s,
 * with tap's `--import` hook 1.1 s, for a file with one `t.pass`), more than most unit files take.
 * Any one of them still runs alone: `npm run test:file -- dist/test/cart.unit.test.js`.
 */
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const unitFiles = readdirSync(here, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.unit.test.js'))
  .sort()

if (unitFiles.length === 0) throw new Error(`no *.unit.test.js under ${here}: compile first (npm run test:compile)`)
// Each file's top-level t.test calls queue on tap's root test, in this order.
for (const file of unitFiles) await import(join(here, file))
