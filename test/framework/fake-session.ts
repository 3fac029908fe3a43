/**
 * A session door over a plain object, for unit tests of views and of the door itself: the real
 * `RequestSession` (flash, CSRF token, expiry and all) on a storage that is a plain object.
 * `data` is what was stored (without the timestamps every write adds); `writes` counts the door's
 * writes and resets. Imports only the framework.
 */
import { RequestSession, type SessionData, type SessionKey, type SessionStorage } from '../../src/framework/session-stores/index.js'

class PlainStorage implements SessionStorage {
  data: Partial<SessionData>
  constructor (initial: Partial<SessionData>) { this.data = { ...initial } }
  get<K extends SessionKey> (key: K): SessionData[K] | undefined { return this.data[key] }
  set<K extends SessionKey> (key: K, value: SessionData[K] | undefined): void { this.data[key] = value }
  async reset (): Promise<void> { this.data = {} }
  discardChanges (): void {}
  async rotateId (): Promise<void> {}
}

export class FakeSession extends RequestSession {
  writes = 0
  readonly #storage: PlainStorage
  /** `clock`: Unix seconds, 1,000,000 unless given. */
  constructor (initial: Partial<SessionData> = {}, { clock = (): number => 1_000_000, idleTimeout = 1200, maxAge = 0 }: { clock?: () => number, idleTimeout?: number, maxAge?: number } = {}) {
    const storage = new PlainStorage(initial)
    super(storage, clock, { idleTimeout, maxAge })
    this.#storage = storage
  }

  /** What was stored, without `touchedAt` and `createdAt`. */
  get data (): Partial<SessionData> {
    const { touchedAt: _touchedAt, createdAt: _createdAt, ...stored } = this.#storage.data
    return stored
  }

  /** Everything the storage holds, timestamps included. */
  get stored (): Partial<SessionData> { return this.#storage.data }

  override set<K extends SessionKey> (key: K, value: SessionData[K] | undefined): void {
    this.writes++
    super.set(key, value)
  }

  override reset (): Promise<void> {
    this.writes++
    return super.reset()
  }
}

export function fakeSession (initial: Partial<SessionData> = {}): FakeSession {
  return new FakeSession(initial)
}
