/**
 * What this app keeps in a session, beside what the session framework keeps itself (flash, CSRF
 * secret, timestamps). Declared once, here; every session type in the app follows from it.
 */
declare module './framework/session-modes/index.js' {
  interface SessionData {
    /** Page requests this browser has made; see TutorialViews.counter. */
    counter: number
    /** Item names, in the order they were added. */
    cart: string[]
  }
}

export {}
