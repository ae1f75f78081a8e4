import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
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
 * One structured line per request. Only the route pattern is logged, not the path or the query
 * (so no applicant data or gateway parameters), and the principal as role:subject.
 */
export const accessLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  await next();
  const principal = c.get('principal');
  c.get('ctx').log.info('request', {
    requestId: c.get('requestId'),
    method: c.req.method,
    route: routePath(c),
    status: c.res.status,
    latencyMs: Math.round((performance.now() - started) * 10) / 10,
    principal: principal ? `${principal.role}:${principal.subject}` : null,
  });
});
