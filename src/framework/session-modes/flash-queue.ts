/**
 * Reading and writing the flash queue without @fastify/flash's request/reply helpers: for the
 * places those cannot reach (counting without consuming, writing into a session that is not the
 * request's). The format is the plugin's, so both can share one queue.
 */
import { FLASH_CATEGORIES, type FlashCategory, type FlashQueue } from './types.js'

export interface Flash {
  category: FlashCategory
  message: string
}

export function pendingFlashCount (queue: FlashQueue | undefined): number {
  let count = 0
  for (const messages of Object.values(queue ?? {})) count += messages.length
  return count
}

/** The queue as a list, in display order: errors first, then successes, then information. */
export function flashList (queue: FlashQueue | undefined): Flash[] {
  const list: Flash[] = []
  for (const category of FLASH_CATEGORIES) {
    for (const message of queue?.[category] ?? []) list.push({ category, message })
  }
  return list
}

export function withFlash (queue: FlashQueue | undefined, { category, message }: Flash): FlashQueue {
  return { ...queue, [category]: [...(queue?.[category] ?? []), message] }
}
