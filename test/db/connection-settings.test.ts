import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, queryRows } from '../../src/db/types.ts';
import { createTestDatabase, onServer } from '../helpers/database.ts';

/**
 * The sessions the hub opens on a server (src/db/server.ts): UTC, named, and without JIT, which
 * once cost every payment's outbox insert 235 ms of compilation (BENCHMARKS.md, issue 15).
 */
describe.skipIf(!onServer)('a server connection', () => {
  let db: DatabaseHandle;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.close());

  it('runs in UTC, as fee-payment-hub, with JIT off', async () => {
    const [row] = await queryRows<{ jit: string; zone: string; name: string }>(
      db.db,
      sql`SELECT current_setting('jit') AS jit, current_setting('TimeZone') AS zone, current_setting('application_name') AS name`,
    );
    expect(row).toEqual({ jit: 'off', zone: 'UTC', name: 'fee-payment-hub' });
  });
});
