/**
 * For the size budgets' tests: adds one item after another until the page after it shows an error
 * flash (the refusal), at most `max` times. `add(n)` sends the n-th item and checks what it must;
 * `load()` loads the page after it. Returns how many were accepted first, and the refusing page.
 */
export async function addUntilRefused<Page> (
  max: number,
  add: (n: number) => Promise<void>,
  load: () => Promise<Page>,
  flashesOf: (page: Page) => string[]
): Promise<{ accepted: number, refusal?: { page: Page, flashes: string[] } }> {
  for (let n = 1; n <= max; n++) {
    await add(n)
    const page = await load()
    const flashes = flashesOf(page)
    if (flashes.some((flash) => flash.startsWith('error:'))) return { accepted: n - 1, refusal: { page, flashes } }
  }
  return { accepted: max }
}
