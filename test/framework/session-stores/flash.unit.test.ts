// Pyramid's flash API on the session door: flash, peekFlash, popFlash; the queue in @fastify/flash's
// format, bounded, errors listed first; and a HEAD request's dry run that takes nothing for good.
import t from 'tap'
import { MAX_PENDING_FLASHES } from '../../../src/framework/session-stores/index.js'
import { flashList, pendingFlashCount, withFlash, withinFlashLimit } from '../../../src/framework/session-stores/flash-queue.js'
import { FakeSession } from '../fake-session.js'

t.test('flash queues (info unless told), peekFlash leaves them, popFlash takes them, errors first', async (t) => {
  const session = new FakeSession()
  session.flash('one')
  session.flash('two', 'error')
  session.flash('three')
  t.same(session.data.flash, { info: ['one', 'three'], error: ['two'] }, 'stored in @fastify/flash\'s format')
  const all = [{ category: 'error', message: 'two' }, { category: 'info', message: 'one' }, { category: 'info', message: 'three' }]
  t.same(session.peekFlash(), all, 'peek: errors first, then in order')
  t.same(session.peekFlash('info').map((f) => f.message), ['one', 'three'], 'peek one category')
  t.same(session.popFlash('error'), [{ category: 'error', message: 'two' }], 'pop one category')
  t.same(session.peekFlash(), all.slice(1), 'the others still wait')
  t.same(session.popFlash(), all.slice(1))
  t.same(session.peekFlash(), [], 'taken')
})

t.test('a flash is a write like any other: it moves touchedAt; popping nothing writes nothing', async (t) => {
  let now = 1_000_000
  const session = new FakeSession({}, { clock: () => now })
  t.same(session.popFlash(), [])
  t.equal(session.writes, 0, 'an empty queue is not written')
  session.flash('saved', 'success')
  t.equal(session.stored.touchedAt, 1_000_000)
  now += 60
  session.popFlash()
  t.equal(session.stored.touchedAt, 1_000_060, 'taking the message is a write too')
  t.equal(session.expiresAt(), 1_000_060 + 1200, 'and the session ends an idle timeout after it')
})

t.test('at most 10 messages wait, the oldest dropped first', async (t) => {
  t.equal(MAX_PENDING_FLASHES, 10)
  const session = new FakeSession()
  session.flash('e0', 'error')
  for (let i = 1; i <= 14; i++) session.flash(`s${i}`, 'success')
  t.equal(session.peekFlash().length, 10)
  t.same(session.data.flash, { success: ['s5', 's6', 's7', 's8', 's9', 's10', 's11', 's12', 's13', 's14'] }, 'the error went first (its category began first), then the oldest successes')
})

t.test('the queue helpers: count, list in display order, bound', async (t) => {
  t.equal(pendingFlashCount(undefined), 0)
  t.equal(pendingFlashCount({}), 0)
  let queue = withFlash(undefined, { category: 'info', message: 'one' })
  queue = withFlash(queue, { category: 'error', message: 'two' })
  t.equal(pendingFlashCount(queue), 2)
  t.same(flashList(queue), [{ category: 'error', message: 'two' }, { category: 'info', message: 'one' }])
  const within = { info: ['a'] }
  t.equal(withinFlashLimit(within), within, 'a queue within the limit is returned as it is')
})

t.test('a dry run (HEAD) shows and takes the messages for this request only', async (t) => {
  const session = new FakeSession({ flash: { success: ['done'] } })
  const dry = session.dryRun()
  t.same(dry.popFlash(), [{ category: 'success', message: 'done' }], 'shown as GET would show it')
  t.same(dry.peekFlash(), [], 'taken, within the dry run')
  t.same(session.peekFlash(), [{ category: 'success', message: 'done' }], 'still waiting in the real session')
  t.equal(session.writes, 0)
})

declare module '../../../src/framework/session-stores/index.js' {
  interface FlashCategories { warning: true }
}

t.test('an app\'s own category (declared by merging) is queued and listed after the framework\'s', async (t) => {
  const session = new FakeSession()
  session.flash('careful', 'warning')
  session.flash('saved', 'success')
  t.same(session.popFlash(), [{ category: 'success', message: 'saved' }, { category: 'warning', message: 'careful' }])
})
