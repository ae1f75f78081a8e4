import type { Context, MiddlewareHandler } from 'hono';
import { MemoryStore, rateLimiter } from 'hono-rate-limiter';
import type { RateLimitSettings } from '../../config.ts';
import { actorOf } from '../../services/principal.ts';
import type { AppEnv } from '../env.ts';
import { problemResponse } from '../problem.ts';

/**
 * Rate limits (issue 14), with hono-rate-limiter: a fixed one-minute window per key, held in this
 * process's memory (per isolate on Workers, where the Workers Rate Limiting binding is the shared
 * counterpart). Every refusal is a 429 problem+json with Retry-After.
 */
const WINDOW_MS = 60_000;

/**
 * The address a request came from. On Node, the socket's: @hono/node-server passes the incoming
 * message as `c.env.incoming` (what its getConnInfo reads; imported from here it would bring Node
 * into the Workers bundle). On Workers, `cf-connecting-ip`, which Cloudflare sets. With
 * TRUST_PROXY, the right-most X-Forwarded-For entry: the one the proxy in front added (those to
 * its left are the client's word).
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  // A Node request has a socket: a header is never taken in its place.
  if (incoming) return incoming.socket?.remoteAddress ?? 'unknown';
  return c.req.header('cf-connecting-ip') ?? 'unknown';
}

const secondsUntil = (resetTime: Date | undefined) =>
  resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : WINDOW_MS / 1000;

function limited(c: Context<AppEnv>, what: string, retryAfterSeconds: number): Response {
  return problemResponse(c, 'rate-limited', `too many ${what}; retry in ${retryAfterSeconds} s`, [], { retryAfterSeconds });
}

/** What hono-rate-limiter set on the context (`rateLimit`), outside the app's own variables. */
const rateLimitReset = (c: Context): Date | undefined =>
  (c as unknown as { get(key: 'rateLimit'): { resetTime?: Date } | undefined }).get('rateLimit')?.resetTime;

const pass: MiddlewareHandler<AppEnv> = (_c, next) => next();

/**
 * Failures (a refused token, a refused callback signature) counted per source address in the
 * library's memory store. Unlike its middleware, which counts a request when it arrives (so that
 * many good requests in flight at once would count too), only a failure is counted, once known.
 */
export class FailureCount {
  private readonly store = new MemoryStore<AppEnv>();
  constructor(readonly limit: number) {
    // The store's only option is its window (it clears keys not seen for one).
    if (limit) this.store.init({ windowMs: WINDOW_MS } as Parameters<MemoryStore<AppEnv>['init']>[0]);
  }

  /** Whether the source is at its limit in the current window, and when that window ends. */
  check(source: string): { over: boolean; retryAfterSeconds: number } {
    const info = this.limit ? this.store.get(source) : undefined;
    // The store drops a key a window after its last use: one whose window has ended counts nothing.
    if (!info?.resetTime || info.resetTime.getTime() <= Date.now()) return { over: false, retryAfterSeconds: 0 };
    return { over: info.totalHits >= this.limit, retryAfterSeconds: secondsUntil(info.resetTime) };
  }

  /** Counts one failure; true when it is the one that reaches the limit (worth a warning once). */
  failed(source: string): boolean {
    if (!this.limit) return false;
    return this.store.increment(source).totalHits === this.limit;
  }
}

/**
 * The limits in force, built once per process (per isolate on Workers: src/deps.ts builds them
 * with the other static dependencies), since their counts must outlive any one app or request.
 */
export class RateLimits {
  /** Writes (POST, PUT, PATCH, DELETE) per authenticated principal: issuer, role and subject. */
  readonly writes: MiddlewareHandler<AppEnv>;
  /** The public receipt look-up, per source address. */
  readonly receiptLookups: MiddlewareHandler<AppEnv>;
  /**
   * Failed authentications per source address: once at the limit, the address is refused before
   * its token is even looked at, until the window ends. Successful requests count nothing.
   */
  readonly failedAuth: MiddlewareHandler<AppEnv>;
  /**
   * Callback messages whose signature fails, per source address. Not a middleware: whether a
   * message is refused is known only once it is verified, and a verified one passes whatever its
   * source has sent before (limiting a gateway's real messages would lose payments).
   */
  readonly refusedCallbacks: FailureCount;

  constructor(readonly settings: RateLimitSettings) {
    this.writes = settings.writesPerMinute
      ? rateLimiter<AppEnv>({
          windowMs: WINDOW_MS,
          limit: settings.writesPerMinute,
          standardHeaders: false,
          skip: (c) => !c.get('principal') || c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS',
          keyGenerator: (c) => {
            const p = c.get('principal')!;
            return `${p.issuer ?? ''}|${actorOf(p)}`;
          },
          handler: (c) => limited(c, 'writes by this principal', secondsUntil(rateLimitReset(c))),
        })
      : pass;
    this.receiptLookups = settings.receiptLookupsPerMinute
      ? rateLimiter<AppEnv>({
          windowMs: WINDOW_MS,
          limit: settings.receiptLookupsPerMinute,
          standardHeaders: false,
          keyGenerator: (c) => clientAddress(c, settings.trustProxy),
          handler: (c) => limited(c, 'receipt look-ups from this address', secondsUntil(rateLimitReset(c))),
        })
      : pass;
    const failedAuth = new FailureCount(settings.failedAuthPerMinute);
    this.failedAuth = failedAuth.limit
      ? async (c, next) => {
          const source = clientAddress(c, settings.trustProxy);
          const { over, retryAfterSeconds } = failedAuth.check(source);
          if (over) return limited(c, 'failed authentications from this address', retryAfterSeconds);
          await next();
          if (c.res.status === 401 && failedAuth.failed(source)) {
            c.get('ctx').log.warn('rate limit: too many failed authentications from one address', {
              source,
              limitPerMinute: failedAuth.limit,
            });
          }
        }
      : pass;
    this.refusedCallbacks = new FailureCount(settings.badCallbacksPerMinute);
  }
}
