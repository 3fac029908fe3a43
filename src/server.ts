/**
 * Entry point: load settings, build the app, listen, and close gracefully on SIGINT/SIGTERM.
 * A settings problem prints one line and exits 1: no stack trace for a configuration mistake.
 */
import closeWithGrace from 'close-with-grace'
import { ConfigError, loadSettings, type Settings } from './config.js'
import { buildApp } from './app.js'

let settings: Settings
try {
  settings = loadSettings()
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  console.error(`error: ${err.message}`)
  process.exit(1)
}

const app = await buildApp(settings)

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error')
  else app.log.info({ signal }, 'closing')
  await app.close()
})

app.log.info({ nodeEnv: settings.nodeEnv, secrets: settings.sessionSecrets.length, from: settings.sessionSecretSource }, 'session secrets loaded')
await app.listen({ host: settings.host, port: settings.port })
