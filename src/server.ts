/**
 * Entry point: load settings, build the app, listen, and close gracefully on SIGINT/SIGTERM.
 * A startup problem (a setting, an unreachable Redis) prints one line and exits 1: no stack trace.
 */
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { loadSettings, StartupError, type Settings } from './config.js'
import { buildApp } from './app.js'

let settings: Settings
let app: FastifyInstance
try {
  settings = loadSettings()
  app = await buildApp(settings)
} catch (err) {
  if (!(err instanceof StartupError)) throw err
  console.error(`error: ${err.message}`)
  process.exit(1)
}

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error')
  else app.log.info({ signal }, 'closing')
  await app.close()
})

app.log.info({ nodeEnv: settings.nodeEnv, secrets: settings.sessionSecrets.length, from: settings.sessionSecretSource }, 'settings loaded')
await app.listen({ host: settings.host, port: settings.port })
