// The per-session CSRF token and FreshIds, as units: the guarantees the functional tests rely on.
import t from 'tap'
import type { FastifyRequest } from 'fastify'
import { checkCsrfToken, csrfTokenOf, CsrfTokenRefused } from '../../../src/framework/session-stores/csrf-token.js'
import { FreshIds } from '../../../src/framework/session-stores/fresh-ids.js'
import { fakeSession } from '../fake-session.js'

const REFUSAL = 'Refused: reload the page.'
const formPost = (body: unknown, headers: Record<string, string> = {}) => ({ body, headers }) as unknown as FastifyRequest

t.test('a session gets one token, made on first use and then only read', async (t) => {
  const session = fakeSession()
  const token = csrfTokenOf(session)
  t.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url')
  t.equal(csrfTokenOf(session), token)
  t.equal(session.writes, 1, 'written once')
  t.not(csrfTokenOf(fakeSession()), token, 'another session, another token')
})

t.test('the token is accepted from the form field or the X-CSRF-Token header, and nothing else', async (t) => {
  const session = fakeSession()
  const token = csrfTokenOf(session)
  t.doesNotThrow(() => checkCsrfToken(formPost({ _csrf: token }), session, REFUSAL))
  t.doesNotThrow(() => checkCsrfToken(formPost({}, { 'x-csrf-token': token }), session, REFUSAL))

  const sameLength = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')
  const refused: Array<[string, FastifyRequest]> = [
    ['no token', formPost({})],
    ['no body', formPost(undefined)],
    ['a wrong token of the same length', formPost({ _csrf: sameLength })],
    ['a prefix of the token', formPost({ _csrf: token.slice(0, 20) })],
    ['the token twice (an array)', formPost({ _csrf: [token, token] })],
    ['an empty token', formPost({ _csrf: '' })]
  ]
  for (const [label, request] of refused) {
    t.throws(() => checkCsrfToken(request, session, REFUSAL), CsrfTokenRefused, label)
  }
})

t.test('a session without a token refuses every form, even one carrying some token', async (t) => {
  const session = fakeSession()
  const other = csrfTokenOf(fakeSession())
  t.throws(() => checkCsrfToken(formPost({ _csrf: other }), session, REFUSAL), { statusCode: 403, code: 'CSRF_TOKEN_INVALID', message: REFUSAL }, 'with the message it was given')
})

t.test('FreshIds: an id is new once, until stored; unknown ids never are', async (t) => {
  const fresh = new FreshIds()
  const id = fresh.generate()
  t.match(id, /^[A-Za-z0-9_-]{32}$/)
  t.equal(fresh.take(id), true, 'handed out and not stored yet')
  t.equal(fresh.take(id), false, 'from then on an existing session')
  t.equal(fresh.take('made-up-by-a-client'), false)
})

t.test('FreshIds: bounded; the oldest waiting id falls out first', async (t) => {
  t.equal(new FreshIds().maxWaiting, 100_000, 'by default it remembers 100,000 ids')
  // The same rule with a small bound (100,000 ids cost this test 1.5 s).
  const fresh = new FreshIds(1000)
  const first = fresh.generate()
  const second = fresh.generate()
  for (let i = 0; i < 1000 - 1; i++) fresh.generate()
  t.equal(fresh.take(first), false, 'the oldest fell out')
  t.equal(fresh.take(second), true, 'the next one is still there')
})
