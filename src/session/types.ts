/**
 * What the app keeps in a session, and the small surface views use to reach it.
 * Every session mode offers this surface, so views never know where the data lives.
 */
export const FLASH_CATEGORIES = ['error', 'success', 'info'] as const
export type FlashCategory = typeof FLASH_CATEGORIES[number]

/** Pending one-time messages by category, in @fastify/flash's format. */
export type FlashQueue = { [category: string]: string[] }

export interface SessionData {
  /** Page requests this browser has made; see TutorialViews.counter. */
  counter: number
  /** Item names, in the order they were added. */
  cart: string[]
  flash: FlashQueue
  /** The CSRF secret (@fastify/csrf-protection); tokens in forms are derived from it. */
  _csrf: string
  /** Unix seconds of the app's last write: the idle timeout counts from here, in every mode. */
  touchedAt: number
  /** Unix seconds of the first write: SESSION_MAX_AGE counts from here. */
  createdAt: number
}

export interface SessionAccess {
  get<K extends keyof SessionData>(key: K): SessionData[K] | undefined
  set<K extends keyof SessionData>(key: K, value: SessionData[K] | undefined): void
  /** Throw this session away (counter, cart, everything) and continue in a brand-new one. */
  reset(): Promise<void>
  /** Forget this request's changes: the browser keeps the session it came with (after a failure). */
  discardChanges(): void
}

// Types the plugins' own `request.session.get/set` with the same data.
declare module '@fastify/secure-session' {
  interface SessionData {
    counter: number
    cart: string[]
    _csrf: string
    touchedAt: number
    createdAt: number
  }
}
