/**
 * A form refused before it reached its view (another site's post, a missing or stale token): 403,
 * with a message a person can act on, and a code for logs and JSON clients. The error pages show
 * the message as it is.
 */
export class FormRefused extends Error {
  readonly statusCode = 403

  constructor (readonly code: string, message: string) {
    super(message)
    this.name = new.target.name
  }
}
