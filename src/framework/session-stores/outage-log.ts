/**
 * What an operator reads during a store outage: one line when the store becomes unavailable, with
 * the reason; one more only if the reason changes (a dropped socket is often followed by the real
 * cause, such as WRONGPASS after a password change); and one when it answers again, with how long
 * it was down and how many requests were answered 503. Each failed request is logged at debug.
 * "Answers" is the caller's to judge: while Redis refuses writes, a read that works is not enough
 * (redis-store.ts), so a Redis that reads but cannot write gives two lines, not two per request.
 */
import type { FastifyBaseLogger } from 'fastify'

export class OutageLog {
  #down = false
  #since = 0
  #refused = 0
  #reason: string | undefined

  constructor (private readonly log: FastifyBaseLogger, private readonly where: string) {}

  /** The store failed; `refusedRequest`: a request was answered 503 for it. */
  unavailable (reason: string, refusedRequest = false): void {
    if (!this.#down) {
      this.#down = true
      this.#since = Date.now()
      this.#refused = 0
    }
    if (refusedRequest) this.#refused++
    if (reason === this.#reason) return
    const what = this.#reason === undefined ? 'unavailable' : 'still unavailable'
    this.log.error({ redis: this.where, reason }, `redis: ${what} (${reason}); session requests answer 503 until it is back`)
    this.#reason = reason
  }

  /** The store answered. */
  available (): void {
    if (!this.#down) return
    const downSeconds = Math.round((Date.now() - this.#since) / 100) / 10
    this.log.info({ redis: this.where, downSeconds, refused: this.#refused },
      `redis: available again after ${downSeconds} s; ${this.#refused} request(s) were answered 503`)
    this.#down = false
    this.#reason = undefined
  }
}
