/**
 * The settings whose text has a shape of its own (addresses, URLs, lists), each parsed into what
 * the app uses, or refused with one line that names the setting and the fix. config.ts runs them
 * all when the settings are read, so a mistake stops the start, not the first request.
 */
import { isIP } from 'node:net'

export const MIN_SECRET_LENGTH = 32
export const MAX_TRUST_PROXY_HOPS = 100
/** Redis's `databases` setting is a C int: 16 by default (indexes 0–15), and it can be raised. */
export const MAX_REDIS_DATABASE = 2 ** 31 - 1

/** A setting is wrong: the message names the variable and the fix, printed as is. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** TRUST_PROXY as Fastify takes it: a boolean, a hop count (as Fastify's own hop test), or addresses. */
export function parseTrustProxy (value: boolean | number | string): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'boolean') return value
  // A count over the schema's maximum arrives as a string (the schema's last branch).
  if (typeof value === 'number' || /^\s*-?\d+\s*$/.test(value)) return hopTest(Number(value))
  const entries = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const bad = entries.map((entry) => ({ entry, problem: rangeProblem(entry) })).find(({ problem }) => problem !== undefined)
  if (entries.length === 0 || bad !== undefined) {
    throw new ConfigError(
      `TRUST_PROXY ${bad === undefined ? 'is empty' : `has "${bad.entry}", ${bad.problem}`}: ` +
      'use false, true, a hop count (recommended: the number of proxies in front, e.g. TRUST_PROXY=1) or addresses like 10.0.0.1,10.0.0.0/8'
    )
  }
  return entries
}

/** Trusts the `hops` proxies nearest to the server (Fastify counts hops from 0). */
function hopTest (hops: number): (address: string, hop: number) => boolean {
  if (hops < 0 || hops > MAX_TRUST_PROXY_HOPS) {
    throw new ConfigError(`TRUST_PROXY hop count ${hops} is out of range: it must be 0 to ${MAX_TRUST_PROXY_HOPS}, the number of proxies in front (usually 1), e.g. TRUST_PROXY=1`)
  }
  return (_address, hop) => hop < hops
}

/** What is wrong with one TRUST_PROXY entry (`address` or `address/bits`), if anything. */
function rangeProblem (entry: string): string | undefined {
  const [address = '', bits, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits))) return 'which is not an address or CIDR range'
  const most = family === 4 ? 32 : 128
  if (Number(bits) > most) return `whose prefix length is over ${most}, the most for IPv${family}`
}

/**
 * REDIS_URL as node-redis reads it, checked whole, so a typo stops the start here rather than in
 * the client (whose TypeError would end in a stack trace). Nothing of a password is ever printed.
 */
export function checkRedisUrl (value: string): void {
  const fix = 'set it like redis://user:password@host:6379/0'
  if (!/^rediss?:\/\//i.test(value)) throw new ConfigError(`REDIS_URL must start with redis:// (or rediss:// for TLS): ${fix}`)
  // A bad port makes the URL unparsable: find it in the text after the credentials to say so.
  const afterCredentials = value.slice(value.includes('@') ? value.lastIndexOf('@') + 1 : value.indexOf('//') + 2)
  // The host is an [IPv6] literal or runs to the first : / ? #; a port, if any, follows a colon.
  const port = /^(?:\[[^\]]*\]|[^[:/?#]*)(?::([^/?#]*))?/.exec(afterCredentials)?.[1]
  if (port && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    throw new ConfigError(`REDIS_URL has the port "${port}", which is not a number from 1 to 65535: ${fix} (6379 is Redis's own)`)
  }
  if (!URL.canParse(value)) {
    throw new ConfigError(`REDIS_URL is not a valid URL: ${fix} (spaces and other special characters in a password must be percent-encoded)`)
  }
  const url = new URL(value)
  // The Redis client decodes the user name and password; a bare % (50%off) would throw there.
  for (const part of [url.username, url.password]) {
    try {
      decodeURIComponent(part)
    } catch {
      throw new ConfigError(`REDIS_URL has a % in its user name or password that starts no %XX escape: write % as %25; ${fix}`)
    }
  }
  if (url.hostname === '') throw new ConfigError(`REDIS_URL has no host: ${fix}`)
  if (url.search !== '' || url.hash !== '') {
    throw new ConfigError(`REDIS_URL has a ? or # part, which the Redis client ignores: remove it (in a password, write ? as %3F and # as %23); ${fix}`)
  }
  const database = url.pathname.slice(1)
  if (database !== '' && !(/^\d{1,10}$/.test(database) && Number(database) <= MAX_REDIS_DATABASE)) {
    throw new ConfigError(
      `REDIS_URL has the database "${url.pathname}", which is not a database index: end the URL with /0 … /${MAX_REDIS_DATABASE} ` +
      `(a default Redis has 0 to 15), or with nothing for 0; ${fix}`
    )
  }
}

/** TRUSTED_ORIGINS as a list of origins (`scheme://host[:port]`, nothing after). */
export function parseTrustedOrigins (value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '').map((entry) => {
    const origin = URL.canParse(entry) ? new URL(entry).origin : 'null'
    if (origin === 'null' || origin !== entry.replace(/\/$/, '')) {
      throw new ConfigError(`TRUSTED_ORIGINS has "${entry}", which is not an origin: write scheme://host[:port], e.g. https://shop.example.com`)
    }
    return origin
  })
}

/** `new,old,older`: the first encrypts, all decrypt, so a secret can be rotated without logging anyone out. */
export function parseSecrets (value: string): string[] {
  const secrets = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const short = secrets.findIndex((s) => s.length < MIN_SECRET_LENGTH)
  if (secrets.length === 0 || short !== -1) {
    const which = secrets.length > 1 ? ` (entry ${short + 1} of the comma-separated list)` : ''
    throw new ConfigError(
      `SESSION_SECRET is too short${which}: each secret needs at least ${MIN_SECRET_LENGTH} characters, ` +
      'e.g. SESSION_SECRET=$(openssl rand -base64 48)'
    )
  }
  return secrets
}

/** One sentinel's address, as the `redis` client's `sentinelRootNodes` take it. */
export interface SentinelAddress { host: string, port: number }

/**
 * REDIS_SENTINELS: `host:port,host:port` (an IPv6 host in brackets, `[::1]:26379`); empty means no
 * Sentinel. Each entry is checked, so a typo stops the start instead of a failover finding it.
 */
export function parseSentinels (value: string): SentinelAddress[] {
  const entries = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  return entries.map((entry) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/@]+):(\d{1,5})$/.exec(entry)
    const port = Number(match?.[2])
    if (match === null || port < 1 || port > 65535) {
      throw new ConfigError(`REDIS_SENTINELS has "${entry}", which is not host:port: list each sentinel as host:port, comma-separated, e.g. REDIS_SENTINELS=10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379`)
    }
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port }
  })
}
