import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { onServer } from '../helpers/database.ts';
import { type HubProcess, startHubProcess, stopHubProcess } from '../helpers/hub-process.ts';
import { type OwnPostgres, ownPostgresUnavailable, startOwnPostgres } from '../helpers/own-postgres.ts';

/**
 * The flood of issue 14, against the real `src/server.ts` on a PostgreSQL of its own: unsigned
 * 60 KiB callbacks from one source, 50 in flight. Before the limits, one client wrote 134 MB in
 * 2.7 s, every message stored whole and answered 401. Now: past RATE_LIMIT_BAD_CALLBACKS_PER_MINUTE
 * (the default, 60) they are answered 429 with Retry-After and not stored; those stored are
 * bounded (2,048 characters of body each), so the inbox grows by at most the limit per minute
 * (plus the messages already in flight when it is reached) × a few KiB.
 * Counts: 3,000 with RELIABILITY=full, 600 in `npm test`.
 */
const MESSAGES = process.env.RELIABILITY === 'full' ? 3_000 : 600;
const LIMIT = 60;
const IN_FLIGHT = 50;

const unavailable = ownPostgresUnavailable();
const skip = onServer || (unavailable !== null && process.env.CI !== 'true');
if (unavailable && process.env.CI !== 'true' && !onServer) console.warn(`callback-flood.test.ts skipped: ${unavailable}`);

describe.skipIf(skip)('a flood of unsigned callbacks from one source', () => {
  let pg: OwnPostgres | undefined;
  let hub: HubProcess | undefined;
  afterAll(async () => {
    await stopHubProcess(hub);
    await pg?.destroy();
  });

  it(`answers 429 past the limit and keeps the inbox within its bound (${MESSAGES} messages of 60 KiB)`, async () => {
    pg = await startOwnPostgres();
    hub = await startHubProcess(pg.url, { SANDBOX_SECRETS: 'flood-sandbox-secret-0123456789abcdef', LOG_LEVEL: 'info' });
    const db = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const size = async () =>
        (
          await db`SELECT count(*)::int AS rows, coalesce(sum(octet_length(raw_body) + octet_length(url) + octet_length(headers::text)), 0)::int AS bytes FROM callback_inbox`
        )[0] as {
          rows: number;
          bytes: number;
        };
      const before = await size();
      const body = JSON.stringify({ type: 'payment.succeeded', reference: 'HPFLOOD', amount: 135000, padding: 'x'.repeat(60 * 1024 - 80) });
      const statuses: Record<string, number> = {};
      let retryAfterMissing = 0;
      let next = 0;
      const started = Date.now();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < MESSAGES) {
            next++;
            const res = await fetch(`${hub!.url}/v1/callbacks/sandbox`, {
              method: 'POST',
              body,
              headers: { 'content-type': 'application/json', 'sandbox-signature': 't=1,v1=00' },
            });
            await res.arrayBuffer();
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
            if (res.status === 429 && !(Number(res.headers.get('retry-after')) > 0)) retryAfterMissing++;
          }
        }),
      );
      const seconds = (Date.now() - started) / 1000;
      const after = await size();
      const grew = { rows: after.rows - before.rows, bytes: after.bytes - before.bytes };
      // The window is a minute: a run that crosses into the next minute may store another LIMIT.
      const windows = Math.ceil(seconds / 60) + 1;
      console.log(
        `[flood] ${MESSAGES} × 60 KiB in ${seconds.toFixed(1)} s (${(MESSAGES / seconds).toFixed(0)}/s): ${JSON.stringify(statuses)}; the inbox grew by ${grew.rows} rows, ${(grew.bytes / 1024).toFixed(0)} KiB (unbounded: ${((MESSAGES * body.length) / 1024 / 1024).toFixed(0)} MiB)`,
      );
      expect(Object.keys(statuses).sort()).toEqual(['401', '429']);
      expect(statuses[401]).toBeLessThanOrEqual(LIMIT * windows);
      expect(statuses[429]).toBeGreaterThanOrEqual(MESSAGES - LIMIT * windows);
      expect(retryAfterMissing).toBe(0);
      expect(grew.rows).toBe(statuses[401]);
      // Each stored message: 2,048 characters of body (ASCII here), a bounded URL and headers.
      expect(grew.bytes).toBeLessThanOrEqual(grew.rows * 4 * 1024);
      // The process held: the same worker throughout.
      expect(hub.workers()).toHaveLength(1);
    } finally {
      await db.end({ timeout: 1 });
    }
  }, 180_000);
});
