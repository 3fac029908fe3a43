/**
 * The door to a request's session (`sessionOf(request)`): the store's storage, with Pyramid's
 * session API on it. Every write also records when (and the first one, since when), so the idle
 * timeout and the absolute lifetime are enforced and shown the same way in every store.
 *
 * The flash queue is @fastify/flash's: its own functions queue and take the messages, run on this
 * door instead of on the plugin's `request.session`, so a flash is a write like any other (it
 * moves `touchedAt`, the size budgets count it, a HEAD request's dry run keeps it).
 * (A class: one object per request, its methods shared, rather than a fresh closure for each.)
 */
// The plugin's own queue functions (`request.flash` and `reply.flash` are made from them); they read
// and write `this.session` / `this.request.session`, which is why the door can stand in for those.
// A file inside the package, not its documented entry: package.json pins @fastify/flash to ~6.0.5,
// and test/framework/session-stores/flash.unit.test.ts fails if the format or the calls change.
import { flashFactory } from '@fastify/flash/lib/flash.js'
import { csrfTokenOf } from './csrf-token.js'
import { expiryOf, type ExpiryRule } from './expiry.js'
import { flashList, withinFlashLimit } from './flash-queue.js'
import type { Flash, FlashCategory, SessionAccess, SessionData, SessionKey, SessionStorage } from './types.js'

const fastifyFlash = flashFactory()

export class RequestSession implements SessionAccess {
  readonly #storage: SessionStorage
  readonly #now: () => number
  readonly #rule: ExpiryRule

  /** `now`: Unix seconds; `rule`: when a session ends. */
  constructor (storage: SessionStorage, now: () => number, rule: ExpiryRule) {
    this.#storage = storage
    this.#now = now
    this.#rule = rule
  }

  get<K extends SessionKey> (key: K): SessionData[K] | undefined {
    return this.#storage.get(key)
  }

  set<K extends SessionKey> (key: K, value: SessionData[K] | undefined): void {
    const at = this.#now()
    this.#storage.set(key, value)
    this.#storage.set('touchedAt', at)
    if (this.#storage.get('createdAt') === undefined) this.#storage.set('createdAt', at)
  }

  reset (): Promise<void> { return this.#storage.reset() }
  discardChanges (): void { this.#storage.discardChanges() }
  rotateId (): Promise<void> { return this.#storage.rotateId() }

  flash (message: string, category: FlashCategory = 'info'): void {
    fastifyFlash.request.call({ session: this } as never, category, message)
    // Bounded after the plugin queued it: the oldest go first.
    const queue = this.get('flash')!
    const bounded = withinFlashLimit(queue)
    if (bounded !== queue) this.set('flash', bounded)
  }

  peekFlash (category?: FlashCategory): Flash[] {
    return flashList(this.get('flash'), category)
  }

  popFlash (category?: FlashCategory): Flash[] {
    const waiting = this.peekFlash(category)
    // An empty queue is left as it is: showing no messages writes nothing.
    if (waiting.length === 0) return waiting
    fastifyFlash.reply.call({ request: { session: this } } as never, category)
    return waiting
  }

  csrfToken (): string {
    return csrfTokenOf(this)
  }

  expiresAt (): number | undefined {
    return expiryOf(this, this.#rule)?.at
  }

  /** The same session for a request that must change nothing (HEAD): its writes last until the response. */
  dryRun (): RequestSession {
    return new RequestSession(new DryRunStorage(this.#storage), this.#now, this.#rule)
  }
}

/**
 * Writes remembered for this request only: a HEAD request computes exactly what GET would show
 * (Content-Length included) without changing the browser's session.
 */
class DryRunStorage implements SessionStorage {
  readonly #storage: SessionStorage
  #writes: Partial<SessionData> = {}
  // After a reset every key reads as unset, whatever the real session holds: no list of keys needed.
  #wasReset = false

  constructor (storage: SessionStorage) {
    this.#storage = storage
  }

  get<K extends SessionKey> (key: K): SessionData[K] | undefined {
    if (Object.hasOwn(this.#writes, key)) return this.#writes[key]
    return this.#wasReset ? undefined : this.#storage.get(key)
  }

  set<K extends SessionKey> (key: K, value: SessionData[K] | undefined): void {
    this.#writes[key] = value
  }

  async reset (): Promise<void> {
    this.#writes = {}
    this.#wasReset = true
  }

  discardChanges (): void {
    this.#writes = {}
    this.#wasReset = false
  }

  async rotateId (): Promise<void> {}
}
