/**
 * The flash queue, in @fastify/flash's format: listed, counted and bounded here, for the session
 * door (request-session.ts) and for the places that write a message into a session that is not
 * the request's door (the size budgets keep the browser's old session and add why).
 */
import { FLASH_CATEGORIES, type Flash, type FlashCategory, type FlashQueue } from './types.js'

/**
 * At most this many messages wait in a session. A client that posts without following the 303
 * adds one per post; unbounded, 840 of them made each page of that session parse 3 MB of JSON. The
 * oldest go first, as Django's cookie storage drops them.
 */
export const MAX_PENDING_FLASHES = 10

export function pendingFlashCount (queue: FlashQueue | undefined): number {
  let count = 0
  for (const messages of Object.values(queue ?? {})) count += messages.length
  return count
}

/**
 * The queue as a list, in display order (errors first, then successes, then information, then any
 * category an app added); or one category's.
 */
export function flashList (queue: FlashQueue | undefined, only?: FlashCategory): Flash[] {
  const list: Flash[] = []
  const others = Object.keys(queue ?? {}).filter((category) => !FLASH_CATEGORIES.includes(category as FlashCategory)) as FlashCategory[]
  for (const category of only === undefined ? [...FLASH_CATEGORIES, ...others] : [only]) {
    for (const message of queue?.[category] ?? []) list.push({ category, message })
  }
  return list
}

/** The queue with `flash` added last, keeping at most MAX_PENDING_FLASHES. */
export function withFlash (queue: FlashQueue | undefined, { category, message }: Flash): FlashQueue {
  return withinFlashLimit({ ...queue, [category]: [...(queue?.[category] ?? []), message] })
}

/**
 * The queue cut to MAX_PENDING_FLASHES, the oldest dropped first. The queue keeps messages by
 * category, in the order each category first got one, so "oldest" is the front of the first
 * category still holding messages (exact when one category floods, as a repeated post does).
 * Returns the queue itself when it is within the limit.
 */
export function withinFlashLimit (queue: FlashQueue): FlashQueue {
  let excess = pendingFlashCount(queue) - MAX_PENDING_FLASHES
  if (excess <= 0) return queue
  const kept: FlashQueue = {}
  for (const [category, messages] of Object.entries(queue)) {
    const dropped = Math.min(excess, messages.length)
    excess -= dropped
    if (dropped < messages.length) kept[category] = messages.slice(dropped)
  }
  return kept
}
