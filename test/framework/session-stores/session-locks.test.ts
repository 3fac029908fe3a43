// The turn-taking contract both store modes keep (session-locks.ts): one holder per session, a
// replaced id forwarding only to the requests that may follow it, and no write from a lost lock.
import t, { type Test } from 'tap'
import type { Session } from 'fastify'
import { promisify } from 'node:util'
import pino from 'pino'
import { createClient } from 'redis'
import { BoundedMemoryStore } from '../../../src/framework/session-stores/memory-store.js'
import { FreshIds } from '../../../src/framework/session-stores/fresh-ids.js'
import { FORWARD_GRACE_MS, LOCK, LOCK_TTL_MS, type HeldLock, type LockingStore } from '../../../src/framework/session-stores/session-locks.js'
import { TestClock } from '../test-clock.js'
import { hasRedisServer, REDIS_MISSING, startRedis } from '../../redis-server.js'

const ME = '192.0.2.1'
const SOMEONE_ELSE = '203.0.113.7'

const save = (store: LockingStore, id: string, data: object, held?: HeldLock) =>
  promisify(store.set.bind(store))(id, { ...data, ...(held ? { [LOCK]: held } : {}) } as unknown as Session)
const load = (store: LockingStore, id: string) => promisify(store.get.bind(store))(id)
const destroy = (store: LockingStore, id: string) => promisify(store.destroy.bind(store))(id)

async function heldOf (t: Test, attempt: Promise<HeldLock | { busyAt: number } | null>): Promise<HeldLock> {
  const held = await attempt
  if (held === null || 'busyAt' in held) throw new Error(`expected the lock, got ${JSON.stringify(held)}`)
  t.ok(held.token, 'a lock with a token')
  return held
}

/** The contract; `expireLock` makes the holder's lock run out (time moved, or the key gone). */
function contract (t: Test, store: LockingStore, fresh: FreshIds, expireLock: (held: HeldLock) => Promise<void>) {
  t.test('one holder at a time; an unknown id has no lock to take', async (t) => {
    t.equal(await store.tryLock('no-such-session-id', store.now(), ME), null)
    const id = fresh.generate()
    await save(store, id, { counter: 1 })
    const held = await heldOf(t, store.tryLock(id, store.now(), ME))
    t.same({ id: held.id, forwarded: held.forwarded }, { id, forwarded: false })
    t.match(await store.tryLock(id, store.now(), ME), { busyAt: Number }, 'a second request waits')
    await store.unlock(held)
    const next = await heldOf(t, store.tryLock(id, store.now(), ME))
    t.not(next.token, held.token)
    await store.unlock(next)
  })

  t.test('a replaced id forwards to requests that arrived before, or from the same address within the grace', async (t) => {
    const old = fresh.generate()
    await save(store, old, { cart: ['apple'] })
    const held = await heldOf(t, store.tryLock(old, store.now(), ME))
    const before = store.now() - 1
    // As ServerSessionAccess.rotateId does it, through @fastify/session's regenerate (destroy, then set).
    store.keepForRotation(old)
    await destroy(store, old)
    const renewed = fresh.generate()
    await save(store, renewed, { cart: ['apple'] })
    await store.replaced(held, renewed, ME)
    const at = store.now()
    t.equal(held.id, renewed, 'the lock moved to the new id')
    t.match(await store.tryLock(old, before, SOMEONE_ELSE), { busyAt: Number }, 'a request that arrived before waits for the new id')
    await store.unlock(held)
    t.equal(await load(store, old), null, 'the old id holds no data')

    const waited = await heldOf(t, store.tryLock(old, before, SOMEONE_ELSE))
    t.same({ id: waited.id, forwarded: waited.forwarded }, { id: renewed, forwarded: true }, 'it arrived before: it follows')
    await store.unlock(waited)
    const mine = await heldOf(t, store.tryLock(old, at + 1000, ME))
    t.same({ id: mine.id, forwarded: mine.forwarded }, { id: renewed, forwarded: true }, 'the same address, within the grace: it follows')
    await store.unlock(mine)
    t.equal(await store.tryLock(old, at + 1000, SOMEONE_ELSE), null, 'another address, after the replacement: nowhere')
    t.equal(await store.tryLock(old, at + FORWARD_GRACE_MS + 100, ME), null, 'the same address, after the grace: nowhere')
  })

  t.test('a write from a request whose lock ran out is refused, and the newer data stays', async (t) => {
    const id = fresh.generate()
    await save(store, id, { counter: 1 })
    const slow = await heldOf(t, store.tryLock(id, store.now(), ME))
    await expireLock(slow)
    const quick = await heldOf(t, store.tryLock(id, store.now(), ME))
    await save(store, id, { counter: 2 }, quick)
    await t.rejects(save(store, id, { counter: 99 }, slow), /LOCKLOST|took too long/)
    t.match(await load(store, id), { counter: 2 })
    await store.unlock(slow)
    t.match(await store.tryLock(id, store.now(), ME), { busyAt: Number }, 'the stale holder\'s release did not free the lock it lost')
    await store.unlock(quick)
  })
}

t.test('memory store', async (t) => {
  const clock = new TestClock()
  const fresh = new FreshIds()
  const store = new BoundedMemoryStore({ max: 100, ttlSeconds: 3600, clock: clock.now, fresh })
  contract(t, store, fresh, async () => clock.advance(LOCK_TTL_MS / 1000 + 1))
})

t.test('redis store', { skip: hasRedisServer() ? false : REDIS_MISSING }, async (t) => {
  const redis = await startRedis(t)
  const { connectRedisStore } = await import('../../../src/framework/session-stores/redis-store.js')
  const fresh = new FreshIds()
  const parts = await connectRedisStore({ url: redis.url, prefix: 'locks:', connectWait: 0, ttlSeconds: 3600, commandTimeout: 5000 }, fresh, pino({ level: 'silent' }))
  t.teardown(() => parts.close())
  const client = createClient({ url: redis.url })
  await client.connect()
  t.teardown(() => client.destroy())
  contract(t, parts.pluginStore, fresh, async (held) => { await client.del(`locks:lock:${held.id}`) })
})
