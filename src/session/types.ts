/**
 * What the app keeps in a session, and the small get/set surface the views use.
 * Every session mode offers this surface, so views never know where the data lives.
 */
export interface SessionData {
  /** Page requests this browser has made; see TutorialViews.counter. */
  counter: number
}

export interface SessionAccess {
  get<K extends keyof SessionData>(key: K): SessionData[K] | undefined
  set<K extends keyof SessionData>(key: K, value: SessionData[K] | undefined): void
}

// Types the plugin's own `request.session.get/set` with the same data.
declare module '@fastify/secure-session' {
  interface SessionData {
    counter: number
  }
}
