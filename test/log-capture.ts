/** A pino destination that keeps what is logged: `lines()` parses each line, `text()` is it raw. */
import { Writable } from 'node:stream'

export function logCapture () {
  const raw: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { raw.push(chunk.toString()); done() } })
  return {
    stream,
    text: () => raw.join(''),
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>)
  }
}
