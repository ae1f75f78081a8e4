import { sql } from 'drizzle-orm';
import journal from '../../drizzle/meta/_journal.json' with { type: 'json' };
import { isConnectionError } from '../db/errors.ts';
import { queryRows } from '../db/types.ts';
import type { ServiceContext } from './context.ts';
import { ServiceError } from './errors.ts';

/** The migrations this build was made with: a database behind them is not ready for it. */
const expectedMigrations = journal.entries.length;

/**
 * The database is reachable and every migration of this build is applied; otherwise
 * `service-unavailable`, so a load balancer sends no traffic to this instance yet.
 */
export async function readiness(ctx: ServiceContext): Promise<{ applied: number; expected: number }> {
  let applied: number;
  try {
    const [row] = await queryRows<{ applied: number }>(ctx.db, sql`SELECT count(*)::int AS applied FROM drizzle.__drizzle_migrations`);
    applied = Number(row?.applied ?? 0);
  } catch (error) {
    // A lost connection is answered (503 with Retry-After) and watched by the app's breaker.
    if (isConnectionError(error)) throw error;
    throw new ServiceError('service-unavailable', 'the database is not reachable or not migrated');
  }
  if (applied < expectedMigrations) {
    throw new ServiceError('service-unavailable', `migrations pending: ${applied} of ${expectedMigrations} applied`);
  }
  return { applied, expected: expectedMigrations };
}
