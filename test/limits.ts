/**
 * How long a test waits. Every wait is for an event (a log line, a port listening, a process
 * exiting), with one generous limit that fails saying what it waited for: nothing here depends on
 * the machine being fast. The limits are far above what the events take on a busy 2-core laptop;
 * `TEST_TIME_SCALE=3 npm test` multiplies every one of them for a machine slower still.
 */
const scale = Number(process.env.TEST_TIME_SCALE ?? '1')
export const TIME_SCALE = Number.isFinite(scale) && scale > 0 ? scale : 1

/** `ms`, scaled by TEST_TIME_SCALE. */
export function limit (ms: number): number {
  return ms * TIME_SCALE
}

/** The promise's value, or a failure naming `what` once `ms` (scaled) have passed without it. */
export async function within<T> (ms: number, what: string, promise: Promise<T>): Promise<T> {
  const allowed = limit(ms)
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${allowed / 1000} s (TEST_TIME_SCALE=${TIME_SCALE} multiplies this limit)`)), allowed)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * For a state that has no event of its own (a key expiring inside Redis, a client reconnecting):
 * checks every 50 ms until `check` holds, and fails naming `what` once `ms` (scaled) have passed.
 */
export async function eventually (ms: number, what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const allowed = limit(ms)
  const deadline = Date.now() + allowed
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`${what}: not within ${allowed / 1000} s (TEST_TIME_SCALE=${TIME_SCALE} multiplies this limit)`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
