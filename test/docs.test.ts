// The README and the guides name real things: every repository path exists, every symbol is
// exported by the file named with it, every `npm run` script exists, every relative link leads
// somewhere; the Pyramid guide says the same in English and in Indonesian; and the README's curl
// tour prints what the README shows (run for real by scripts/tour.sh).
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { hasCommand, ROOT } from '../scripts/lib.js'
import { within } from './limits.js'
import { Browser, build } from './helper.js'

const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
const REPO_PATH = /^(?:src|test|templates|public|scripts|docs|bench)\/[\w./-]*[\w]$|^(?:package\.json|tsconfig\.json|\.env\.example|README\.md|BENCHMARKS\.md)$/
const SYMBOL = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)?$/
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')

interface Reference { path: string, symbol?: string }

/** Paths, `path` `symbol` pairs (also `symbol` in `path`), npm scripts and links, outside code blocks (scripts inside too). */
function referencesIn (markdown: string) {
  const references: Reference[] = []
  const scripts: string[] = []
  const links: string[] = []
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) { fenced = !fenced; continue }
    for (const [, script] of line.matchAll(/npm run ([\w:-]+)/g)) scripts.push(script!)
    if (fenced) continue
    for (const [, link] of line.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)) if (!/^[a-z]+:/.test(link!)) links.push(link!)
    // Table cells (or the whole line): `path` `symbol`, `symbol` (or `symbol` in/di `path`): a symbol right after a path (or
    // after a symbol of that path, with a comma or "and" between) is one that path exports.
    for (const cell of line.split('|')) {
      for (const [, symbol, path] of cell.matchAll(/`([^`]+)` (?:in|di) `([^`]+)`/g)) {
        if (SYMBOL.test(symbol!) && REPO_PATH.test(path!)) references.push({ path: path!, symbol })
      }
      let current: string | undefined
      let end = 0
      for (const match of cell.matchAll(/`([^`]+)`/g)) {
        const token = match[1]!
        if (!/^[\s,]*(?:and\s+)?$/.test(cell.slice(end, match.index))) current = undefined
        end = match.index + match[0].length
        if (REPO_PATH.test(token)) references.push({ path: current = token })
        else if (current !== undefined && /^src\/.*\.ts$/.test(current) && SYMBOL.test(token)) references.push({ path: current, symbol: token })
        else current = undefined
      }
    }
  }
  return { references, scripts, links }
}

/** Does the TypeScript file export `name` (or, for `Class.member`, the class, with that member)? */
function exports (path: string, symbol: string): boolean {
  const source = read(path)
  const [name, member] = symbol.split('.')
  const exported = new RegExp(`export\\s+(?:default\\s+)?(?:async\\s+)?(?:function|class|interface|type|const|let|abstract\\s+class)\\s+${name}\\b`).test(source) ||
    new RegExp(`export\\s+default\\s+(?:\\w+\\()?${name}\\b`).test(source) ||
    new RegExp(`export\\s*\\{[^}]*\\b${name}\\b[^}]*\\}`).test(source)
  return exported && (member === undefined || new RegExp(`\\b${member}\\b`).test(source))
}

t.test('every path, symbol, script and link in the README and docs/ exists', async (t) => {
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
  for (const doc of DOCS) {
    const { references, scripts: used, links } = referencesIn(read(doc))
    for (const { path, symbol } of references) {
      if (symbol === undefined) t.ok(existsSync(join(ROOT, path)), `${doc}: ${path} exists`)
      else t.ok(existsSync(join(ROOT, path)) && exports(path, symbol), `${doc}: ${path} exports ${symbol}`)
    }
    for (const script of used) t.ok(script in scripts, `${doc}: npm run ${script} is in package.json`)
    for (const link of links) t.ok(existsSync(join(ROOT, dirname(doc), link)), `${doc}: the link to ${link} leads somewhere`)
  }
})

t.test('the Pyramid guide says the same in English and in Indonesian', async (t) => {
  const english = read('docs/from-pyramid.md')
  const indonesian = read('docs/from-pyramid.id.md')
  const key = ({ path, symbol }: Reference) => `${path} ${symbol ?? ''}`
  const symbols = referencesIn(english).references.filter((reference) => reference.symbol !== undefined)
  t.ok(symbols.length >= 20, `the English guide maps to ${symbols.length} symbols, each checked above`)
  t.same([...new Set(referencesIn(indonesian).references.map(key))].sort(), [...new Set(referencesIn(english).references.map(key))].sort(), 'the same files and symbols')
  t.same(referencesIn(indonesian).scripts, referencesIn(english).scripts, 'the same commands')
  const codeOf = (text: string) => [...text.matchAll(/```\w*\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\s*(#|\/\/).*$/gm, ''))
  t.same(codeOf(indonesian), codeOf(english), 'the same code, comments aside')

  // The reading order: at most six files, each one that exists, the same in both.
  const readingOrder = (text: string, heading: string) => {
    const section = text.slice(text.indexOf(heading)).split('\n## ')[0]!
    return [...section.matchAll(/^\d+\. `([^`]+)`/gm)].map((m) => m[1]!)
  }
  const files = readingOrder(english, '## Reading order')
  t.ok(files.length > 0 && files.length <= 6, `${files.length} files to read`)
  for (const file of files) t.ok(existsSync(join(ROOT, file)), `${file} exists`)
  t.same(readingOrder(indonesian, '## Urutan membaca'), files, 'the same reading order')
})

// The guide's callout: Pyramid's cookie is signed, so one command reads it; this app's is encrypted.
t.test('"Signed is not encrypted": the command in each guide reads the step\'s cookie, and nothing of this app\'s', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  for (let i = 0; i < 3; i++) await browser.get('/')
  const ours = browser.jar.cookies.get('session')!
  t.match(ours, /\S{40,}/, 'this app set a session cookie')
  for (const guide of ['docs/from-pyramid.md', 'docs/from-pyramid.id.md']) {
    const [, script, value, printed] = /^node -e "([^"]+)" (\S+)\n# (.*)$/m.exec(read(guide)) ?? []
    if (script === undefined || value === undefined || printed === undefined) { t.fail(`${guide}: no decode command with its output`); continue }
    // The value is what Pyramid sets: base64url(HMAC-SHA512 under 'pyramid.session.' + the step's secret, then the JSON).
    const bytes = Buffer.from(value, 'base64url')
    const signature = createHmac('sha512', 'pyramid.session.itsaseekreet').update(bytes.subarray(64)).digest()
    t.ok(signature.equals(bytes.subarray(0, 64)), `${guide}: the cookie is signed with the step's secret, as Pyramid signs it`)
    t.ok(read(guide).includes(`session=${value}`), `${guide}: the command decodes the cookie shown`)
    const decode = (cookie: string) => new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', script, cookie], (err, stdout) => { if (err) reject(err); else resolve(stdout) })
    })
    const pyramid = await decode(value)
    t.equal(pyramid.trim(), printed, `${guide}: the command prints what the guide shows`)
    t.same(JSON.parse(pyramid)[2], { counter: 3 }, `${guide}: which is the session, readable by anyone`)
    const mine = await decode(ours)
    t.notMatch(mine, /counter/, `${guide}: the same command shows nothing of this app's session`)
    t.throws(() => JSON.parse(mine), `${guide}: and no JSON`)
  }
})

// The tour starts and restarts a real server: CI runs it in one of its three suite runs, not all.
const tourSkipped = process.env.TEST_SKIP_TOUR === '1'
  ? 'TEST_SKIP_TOUR=1: the tour ran in another run of the suite'
  : hasCommand('curl') ? false : 'no curl: `apt-get install curl`; CI installs it'

t.test('the README\'s tour prints what the README shows (scripts/tour.sh, run for real)', { skip: tourSkipped }, async (t) => {
  const readme = read('README.md')
  const block = /## The 30-second tour[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!
  const lines = block.split('\n').filter((line) => line.trim() !== '')
  const commands = lines.filter((line) => !line.startsWith('#'))
  const outputs = lines.filter((line) => line.startsWith('# ')).map((line) => line.slice(2))
  t.ok(commands.length >= 8 && outputs.length >= 8, `${commands.length} commands, ${outputs.length} output lines`)

  const child = spawn('bash', [join(ROOT, 'scripts/tour.sh')], { stdio: ['ignore', 'pipe', 'pipe'] })
  const tour = { stdout: '', stderr: '' }
  child.stdout.on('data', (chunk: Buffer) => { tour.stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { tour.stderr += chunk.toString() })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const [status] = await within(120_000, 'the tour (scripts/tour.sh) to finish', once(child, 'exit'))
  t.equal(status, 0, `the tour passes${status === 0 ? '' : `: ${tour.stderr}`}`)
  const url = /Starting the server on (http:\/\/127\.0\.0\.1:\d+)/.exec(tour.stdout)?.[1] ?? 'no url'
  const ran = tour.stdout.split('\n').map((line) => line.replaceAll(url, 'http://127.0.0.1:6543'))
  // What changes from run to run: the expiry time and the cookie's size.
  const steady = (line: string) => line.replace(/"expiresAt":"[^"]*"/, '"expiresAt":…').replace(/"cookieBytes":\d+/, '"cookieBytes":…')
  for (const command of commands) t.ok(ran.includes(`$ ${command}`), `run by the tour: ${command}`)
  for (const output of outputs) t.ok(ran.some((line) => steady(line) === steady(output)), `printed by the tour: ${output}`)
})
