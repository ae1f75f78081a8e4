import type { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import journal from '../../../drizzle/meta/_journal.json' with { type: 'json' };
import { queryRows } from '../../db/types.ts';
import type { AppEnv } from '../env.ts';
import { problemResponse } from '../problem.ts';

const expectedMigrations = journal.entries.length;

/** Liveness, readiness and the public keys receipts are signed with. */
export function registerSystemRoutes(app: Hono<AppEnv>) {
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
