/**
 * Entry point: load settings, create the server, configure the app on it, listen, and close
 * gracefully on SIGINT/SIGTERM.
 * A startup problem (a setting, an unreachable Redis) prints one line and exits 1: no stack trace.
 */
import closeWithGrace from 'close-with-grace'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { ConfigError, loadSettings, parseSecrets, type SecretSource, type Settings } from './config.js'
import { SessionStoreUnreachable } from './framework/session-stores/index.js'

let settings: Settings
let secretSource: SecretSource
let app: FastifyInstance
try {
  ({ settings, secretSource } = loadSettings())
  // Loaded once the settings are known to be good, so a wrong one is reported without first
  // loading Fastify and every plugin (about 0.2 s).
  const [{ createServer }, { configure }] = await Promise.all([import('./server-options.js'), import('./app.js')])
  app = createServer(settings)
  logStartup(app.log, settings, secretSource)
  await configure(app, settings)
} catch (err) {
  if (!(err instanceof ConfigError || err instanceof SessionStoreUnreachable)) throw err
  console.error(`error: ${err.message}`)
  process.exit(1)
}

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error')
  else app.log.info({ signal }, 'closing')
  await app.close()
})

try {
  await app.listen({ host: settings.HOST, port: settings.PORT })
} catch (err) {
  const where = `${settings.HOST}:${settings.PORT}`
  const code = (err as NodeJS.ErrnoException).code
  const hint = code === 'EADDRINUSE'
    ? `port ${settings.PORT} is in use on ${settings.HOST}: stop what uses it, or set PORT to another port`
    : code === 'EACCES'
      ? `not allowed to listen on ${where} (ports below 1024 need privileges): set PORT to 1024 or above`
      : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
        ? `${settings.HOST} is not an address of this machine: set HOST (127.0.0.1, or 0.0.0.0 for every interface)`
        : undefined
  if (hint === undefined) throw err
  console.error(`error: cannot listen on ${where}: ${hint}`)
  await app.close()
  process.exit(1)
}

/** First in the log: the settings that shape this run, and a note the first time a secret is made. */
function logStartup (log: FastifyBaseLogger, settings: Settings, secretSource: SecretSource): void {
  const from = typeof secretSource === 'string' ? secretSource : 'development file'
  log.info({ nodeEnv: settings.NODE_ENV, store: settings.SESSION_STORE, secrets: parseSecrets(settings.SESSION_SECRET).length, from }, 'settings loaded')
  if (typeof secretSource === 'object') {
    log.info(`session secret created in ${secretSource.createdIn}: it is git-ignored and reused on every later start, so sessions survive restarts (set SESSION_SECRET to choose one)`)
  }
}
