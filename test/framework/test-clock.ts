/** A clock that stands still until a test moves it: session expiry without sleeping. */
export class TestClock {
  #now = Date.now()
  readonly now = (): number => this.#now
  advance (seconds: number): void {
    this.#now += seconds * 1000
  }
}
