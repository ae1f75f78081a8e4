import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ServiceError } from '../../services/errors.ts';

/**
 * hono's bodyLimit, at no cost where there is nothing to count. bodyLimit reads `c.req.raw.body`
 * first, and on Node that builds a whole WHATWG Request (undici's, with its AbortSignal) for every
 * request, bodiless ones included: about 9 % of the main thread in the bench's profile of a
 * repeated VNPay IPN (a GET). Here a GET or HEAD without `content-length` or `transfer-encoding`
 * has no body (RFC 9112 §6.3) and passes, and a `content-length` without `transfer-encoding` is
 * judged by itself, as bodyLimit judges it; anything else (a streamed body, a Workers request
 * without a length) is counted by bodyLimit as it is read.
 */
export function limitBodies(maxSize: number, tooLarge: () => never): MiddlewareHandler {
  const counted = bodyLimit({ maxSize, onError: tooLarge });
  return (c, next) => {
    const streamed = c.req.header('transfer-encoding') !== undefined;
    const length = c.req.header('content-length');
    if (!streamed && length !== undefined) return Number.parseInt(length, 10) > maxSize ? tooLarge() : next();
    if (!streamed && (c.req.method === 'GET' || c.req.method === 'HEAD')) return next();
    return counted(c, next);
  };
}

/** An HTML form as browsers post it (no file: a multipart body is not one of the forms read here). */
export const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';
export const JSON_MEDIA_TYPE = 'application/json';

export interface BodyRules {
  /** The media types the route reads (lower case, no parameters); a body of any other, or of none, is refused 415. */
  accept: readonly string[];
  /** Larger bodies are refused 413, without being read past the limit. */
  maxBytes: number;
  /** What the body is, for the 413's detail: "a sandbox checkout form". */
  what: string;
}

/** `application/json` of `Application/JSON; charset=utf-8`; '' when there is no header. */
const mediaTypeOf = (header: string | undefined | null) => header?.split(';')[0]?.trim().toLowerCase() ?? '';

const kib = (bytes: number) => (bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`);

/** Whether a request says it carries a body: a GET, or a POST with `content-length: 0`, does not. */
function carriesBody(request: Request): boolean {
  if (request.method === 'GET' || request.method === 'HEAD' || request.body === null) return false;
  return request.headers.has('transfer-encoding') || request.headers.get('content-length') !== '0';
}

/**
 * What a route that reads a body accepts, checked before anything reads it: its media type (415
 * naming the accepted ones: a multipart body, a JSON body to a form, a body with no type) and its
 * size (413, from `content-length` at once, or while a streamed body is counted: never more than
 * `maxBytes` of it is read). A request without a body passes (the route says what it misses).
 */
export function readsBodies(rules: BodyRules): MiddlewareHandler {
  const accepted = rules.accept.join(' or ');
  const limit = limitBodies(rules.maxBytes, () => {
    throw new ServiceError('payload-too-large', `${rules.what} is at most ${kib(rules.maxBytes)}`);
  });
  return async (c, next) => {
    if (!carriesBody(c.req.raw)) return next();
    const type = mediaTypeOf(c.req.header('content-type'));
    if (!rules.accept.includes(type)) {
      throw new ServiceError(
        'unsupported-media-type',
        `this route reads ${accepted}, not ${type === '' ? 'a body without a content-type' : type}`,
        [{ path: 'content-type', message: `expected ${accepted}` }],
      );
    }
    return limit(c, next);
  };
}
