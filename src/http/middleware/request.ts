import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import { type FieldIssue, ServiceError } from '../../services/errors.ts';
import { actorOf } from '../../services/principal.ts';
import type { AppEnv } from '../env.ts';

const INCOMING_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** A request id for every request: the caller's if it is sane, a new one otherwise. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header('x-request-id');
  const id = incoming && INCOMING_ID.test(incoming) ? incoming : crypto.randomUUID();
  c.set('requestId', id);
  await next();
  c.res.headers.set('x-request-id', id);
});

/**
 * An answer given before the request's body has all arrived (a body refused as too large, or of
 * the wrong type, unread) closes the connection, as RFC 9112 §9.6 asks. Otherwise the Node
 * adapter answers "keep-alive", then destroys the socket when it cannot drain the rest of the
 * body within 500 ms: under the client's next request on it, which fails with a "socket hang up"
 * although it may not be safe to send again (test/reliability/hostile-input.test.ts found it).
 * Node only (`c.env.incoming`, as @hono/node-server passes it); Workers has no such socket.
 */
export const closeUnreadBodies = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const incoming = (c.env as { incoming?: { complete?: boolean } } | undefined)?.incoming;
  if (incoming?.complete === false) c.res.headers.set('connection', 'close');
});

/**
 * One structured line per request. Only the route pattern is logged, not the path or the query
 * (so no applicant data or gateway parameters), and the principal as role:subject; the request
 * id comes with the request's logger. An error answer adds its problem `code`; a 5xx (a gateway
 * that failed, a database error) is a warning with the problem's detail, which names the
 * dependency at fault and nothing of the caller's.
 */
export const accessLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  await next();
  const principal = c.get('principal');
  const problem = c.get('problem');
  const status = c.res.status;
  const fields = {
    method: c.req.method,
    route: routePath(c),
    status,
    latencyMs: Math.round((performance.now() - started) * 10) / 10,
    principal: principal ? actorOf(principal) : null,
    ...(problem ? { code: problem.code } : {}),
  };
  if (status >= 500) c.get('ctx').log.warn('request', { ...fields, ...(problem ? { detail: problem.detail } : {}) });
  else c.get('ctx').log.info('request', fields);
});

/** A NUL character, or a UTF-16 surrogate without its pair. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what PostgreSQL text cannot hold.
const ILL_FORMED_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const MAX_TEXT_ISSUES = 20;

interface Visit {
  value: unknown;
  key: string | null;
  parent: Visit | null;
}

/** The dotted path of a visit, shortened for deep documents (the answer stays small). */
function visitPath(visit: Visit): string {
  const keys: string[] = [];
  for (let v: Visit | null = visit; v && v.key !== null; v = v.parent) keys.push(v.key);
  if (keys.length === 0) return '(body)';
  keys.reverse();
  return keys.length > 12 ? `${keys.slice(0, 12).join('.')}.…` : keys.join('.');
}

/**
 * Every ill-formed string (value or key) of a parsed JSON body. Walked with an explicit stack and
 * parent links, so a deeply nested body costs time linear in its size, never a stack overflow.
 */
function illFormedStrings(body: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const stack: Visit[] = [{ value: body, key: null, parent: null }];
  while (stack.length > 0 && issues.length < MAX_TEXT_ISSUES) {
    const visit = stack.pop()!;
    const { value } = visit;
    if (typeof value === 'string') {
      if (ILL_FORMED_TEXT.test(value))
        issues.push({ path: visitPath(visit), message: 'contains a NUL character or an unpaired surrogate' });
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) stack.push({ value: item, key: String(i), parent: visit });
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (ILL_FORMED_TEXT.test(key))
          issues.push({ path: visitPath(visit), message: 'a key contains a NUL character or an unpaired surrogate' });
        stack.push({ value: item, key: key.replace(ILL_FORMED_TEXT, '?'), parent: visit });
      }
    }
  }
  return issues;
}

/**
 * Refuses text PostgreSQL cannot store before any schema or service sees it: a `text` column
 * holds no NUL character, and `jsonb` refuses an unpaired surrogate (`"\ud800"` is valid JSON
 * but not Unicode). Such strings pass every length and shape check, so without this they fail
 * at the INSERT, as a 500 (invariant 6). Query strings are checked too; path parameters are
 * matched by patterns in each route. A body that is not JSON is left to the route's validator.
 */
export const wellFormedText = createMiddleware<AppEnv>(async (c, next) => {
  const issues: FieldIssue[] = [];
  for (const [name, value] of new URL(c.req.url).searchParams) {
    if (ILL_FORMED_TEXT.test(name) || ILL_FORMED_TEXT.test(value)) {
      issues.push({ path: `query.${name.replace(ILL_FORMED_TEXT, '?')}`, message: 'contains a NUL character or an unpaired surrogate' });
    }
  }
  const mediaType = c.req.header('content-type')?.split(';')[0]?.trim() ?? '';
  // By the method, not `c.req.raw.body`: on Node that would build a WHATWG Request and then read
  // the body through web streams, where `c.req.json()` alone reads it once from the socket (and
  // keeps it for the route's validator).
  const bodiless = c.req.method === 'GET' || c.req.method === 'HEAD';
  if (!bodiless && JSON_MEDIA_TYPE.test(mediaType)) {
    let body: unknown;
    let parsed = true;
    try {
      body = await c.req.json();
    } catch {
      parsed = false; // the validator answers malformed-json
    }
    if (parsed) issues.push(...illFormedStrings(body));
  }
  if (issues.length > 0) {
    throw new ServiceError(
      'validation-failed',
      'text must be well-formed Unicode without NUL characters',
      issues.slice(0, MAX_TEXT_ISSUES),
    );
  }
  await next();
});
