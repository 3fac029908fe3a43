/**
 * What a session holds, and the small surface views use to reach it, whatever the store.
 * `SessionData` lists the keys this framework itself keeps; an app adds its own by declaration
 * merging (`declare module './framework/session-stores/index.js' { interface SessionData { … } }`),
 * and every key-aware type here, and the session plugins' own types, follow from that one list.
 */
/**
 * The flash categories, as keys: an app adds its own by declaration merging, as it does its
 * session keys (`interface FlashCategories { warning: true }`).
 */
export interface FlashCategories { error: true, success: true, info: true }
export type FlashCategory = keyof FlashCategories & string
/** Pages list these first, in this order; any other category follows, in the order it was first queued. */
export const FLASH_CATEGORIES: readonly FlashCategory[] = ['error', 'success', 'info']

/** Pending one-time messages by category, in @fastify/flash's format. */
export type FlashQueue = { [category: string]: string[] }

/**
 * A form field the next page gives back once, like a flash: focused, and if the form was refused,
 * refilled with what was typed and with the reason shown beside it.
 */
export interface FieldState {
  /** The field's `name` (and, in the templates here, its `id`). */
  name: string
  /** What was typed, to put back in the field. */
  value?: string
  /** Why the form was refused, shown at the field. */
  error?: string
}

export interface SessionData {
  flash: FlashQueue
  /** The field the next page with forms focuses and refills; taken by that page (mount.ts). */
  formField: FieldState
  /** The session's CSRF token, the one every form of this session carries (csrf-token.ts). */
  _csrf: string
  /** Unix seconds of the last write: the idle timeout counts from here, in every store. */
  touchedAt: number
  /** Unix seconds of the first write: the absolute lifetime counts from here. */
  createdAt: number
}

export type SessionKey = keyof SessionData

/** What each store gives: keys to read and write, and the session's life. */
export interface SessionStorage {
  get<K extends SessionKey>(key: K): SessionData[K] | undefined
  set<K extends SessionKey>(key: K, value: SessionData[K] | undefined): void
  /** Throw this session away (every key) and continue in a brand-new one. */
  reset(): Promise<void>
  /** Forget this request's changes: the browser keeps the session it came with (after a failure). */
  discardChanges(): void
  /**
   * Same data, new id; the old id is deleted for good (server-side stores). A planted id stops tracking
   * its victim at the victim's first form. The cookie store has no id: every write is a new ciphertext.
   */
  rotateId(): Promise<void>
}

/** A one-time message, shown once by the next page that shows messages. */
export interface Flash {
  category: FlashCategory
  message: string
}

/**
 * The one door to a request's session, whatever the store (`sessionOf(request)`, and `session` in
 * a view): the storage, and Pyramid's session API on top, camel-cased (`flash`, `peek_flash`,
 * `pop_flash`, `get_csrf_token`), with when the session ends.
 */
export interface SessionAccess extends SessionStorage {
  /** Queues a one-time message for the next page that shows messages (at most MAX_PENDING_FLASHES wait). */
  flash(message: string, category?: FlashCategory): void
  /** The waiting messages (of one category, or all, errors first), left waiting. */
  peekFlash(category?: FlashCategory): Flash[]
  /** The waiting messages (of one category, or all, errors first), taken: a page shows them once. */
  popFlash(category?: FlashCategory): Flash[]
  /** The session's CSRF token, made on first use: every form of this session carries it. */
  csrfToken(): string
  /** When the session ends if nothing writes to it again (Unix seconds); undefined before any write. */
  expiresAt(): number | undefined
}

type AllSessionData = SessionData

// secure-session types its own `request.session.get/set` from an interface of its own: the same keys.
declare module '@fastify/secure-session' {
  interface SessionData extends AllSessionData {}
}
