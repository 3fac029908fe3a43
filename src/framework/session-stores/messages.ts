/**
 * What the session framework says to a visitor, in English unless the app gives its own words
 * (the `messages` option of `openSessionStore`; any it leaves out keep these).
 */
export interface SessionMessages {
  /** A form posted from another site's page (403). */
  crossOrigin: string
  /** A form whose CSRF token is not the session's (403, or the page again when the form is only stale). */
  csrfRefused: string
  /** Cookie store: a change that would make the cookie larger than browsers keep (a flash; nothing saved). */
  cookieTooLarge: string
  /** Server-side stores: a change past the session's budget in the store (a flash; nothing saved). */
  storeTooLarge: (limitBytes: number) => string
}

export const DEFAULT_SESSION_MESSAGES: SessionMessages = {
  crossOrigin: 'This form was sent from another site, so nothing was changed. Use the form on this site\'s own page.',
  csrfRefused: 'This form was out of date or did not come from this site, so nothing was changed. Reload the page and try again.',
  cookieTooLarge: 'That change was not saved: it would have made your session cookie larger than browsers keep (4096 bytes).',
  storeTooLarge: (limit) => `That change was not saved: it would have made your session larger than this site keeps for one (${limit} bytes).`
}
