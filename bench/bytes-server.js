// The benchmark's ceiling: the app's home page, as the app sent it once (the file BENCH_PAGE), sent
// again as it is for every request: no template, no session, no logger. What the page's own bytes
// cost to serve on this machine; `npm run bench` divides every row's req/s by this server's.
// Started by scripts/bench.ts on PORT.
import Fastify from 'fastify'
import { readFileSync } from 'node:fs'

const page = readFileSync(process.env.BENCH_PAGE)
const app = Fastify({ logger: false })
app.get('/', (_request, reply) => { reply.type('text/html; charset=utf-8').send(page) })
app.get('/healthz', async () => ({ status: 'ok' }))

process.on('SIGTERM', () => { app.close().then(() => process.exit(0)) })
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
