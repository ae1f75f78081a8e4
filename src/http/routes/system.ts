import type { OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import journal from '../../../drizzle/meta/_journal.json' with { type: 'json' };
import { queryRows } from '../../db/types.ts';
import type { AppEnv } from '../env.ts';
import { problemResponse } from '../problem.ts';

const expectedMigrations = journal.entries.length;

const problem = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } as const;

/** Liveness, readiness and the public keys receipts are signed with. */
export function registerSystemRoutes(app: OpenAPIHono<AppEnv>) {
  // Plain routes (nothing to validate), documented in the OpenAPI document all the same.
  const registry = app.openAPIRegistry;
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    tags: ['Operations'],
    summary: 'The process is alive',
    responses: { 200: { description: 'Alive', content: { 'application/json': { schema: { type: 'object', properties: { status: { type: 'string', example: 'ok' } } } } } } },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    tags: ['Operations'],
    summary: 'The database is reachable and every migration is applied',
    responses: {
      200: { description: 'Ready', content: { 'application/json': { schema: { type: 'object' } } } },
      503: { description: 'Not ready', content: problem },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/.well-known/jwks.json',
    operationId: 'receiptKeys',
    tags: ['Operations'],
    summary: 'Public keys that verify receipt signatures (JWS ES256)',
    responses: { 200: { description: 'JSON Web Key Set', content: { 'application/json': { schema: { type: 'object' } } } } },
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    try {
      const [row] = await queryRows<{ applied: number }>(
        c.get('ctx').db,
        sql`SELECT count(*)::int AS applied FROM drizzle.__drizzle_migrations`,
      );
      const applied = Number(row?.applied ?? 0);
      if (applied < expectedMigrations) {
        return problemResponse(c, 'service-unavailable', `migrations pending: ${applied} of ${expectedMigrations} applied`);
      }
      return c.json({ status: 'ready', database: 'reachable', migrations: { applied, expected: expectedMigrations } });
    } catch {
      return problemResponse(c, 'service-unavailable', 'the database is not reachable or not migrated');
    }
  });

  app.get('/.well-known/jwks.json', (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json(c.get('ctx').signer.jwks());
  });
}
