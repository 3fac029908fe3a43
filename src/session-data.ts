/**
 * This app's sessions: the cookie's name, the salt its keys are derived with, and what the app
 * keeps in a session beside what the session framework keeps itself (flash, CSRF secret,
 * timestamps). Declared once, here; every session type in the app follows from it.
 */
export const SESSION_COOKIE = 'session'
/** Changing it would make every existing session unreadable (cookies and signed ids alike). */
export const KEY_SALT = 'fastify-sessions-tutorial'

declare module './framework/session-stores/index.js' {
  interface SessionData {
    /** Page requests this browser has made; see TutorialViews.counter. */
    counter: number
    /** Item names, in the order they were added. */
    cart: string[]
  }
}
