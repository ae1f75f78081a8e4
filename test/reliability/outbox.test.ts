import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTypes } from '../../src/db/schema/outbox.ts';
import type { NewEvent } from '../../src/db/statements/record-events.ts';
import { queryRows } from '../../src/db/types.ts';
import { startDeliveryWorker } from '../../src/jobs/delivery-worker.ts';
import { withTransaction } from '../../src/services/context.ts';
import { emitEvents } from '../../src/services/outbox.ts';
import { databaseLabel, onServer } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

/**
 * The outbox under concurrency (issue 13): one dossier's events reach a receiver in the order
 * they were made, with two workers racing and a receiver that is slow and sometimes fails; the
 * catch-up feed serves every committed event exactly once across pages while writers write,
 * including one whose transaction took its number first and committed last.
 */
let h: Harness;
let portal: string;
let admin: string;
let procedure: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  // Retries at once (the test does not move the clock); enough of them that a 20 % failing receiver never runs out.
  h = await createHarness({ webhooks: { retrySchedule: Array(25).fill(0), endpointConcurrency: 8, pollMs: 20 } });
  await h.listen();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  admin = await mintToken({ role: 'admin' });
  procedure = await createProcedure(h.ctx, [
    rule(),
    rule({ feeCode: 'LP02', lineNo: 2, name: 'Lệ phí sao y', formula: { type: 'fixed', amount: 20_000 } }),
    rule({ kind: 'phi', feeCode: 'PH01', lineNo: 3, name: 'Phí thẩm định', formula: { type: 'fixed', amount: 50_000 } }),
  ]);
});
afterAll(() => h?.close());

class Rollback extends Error {}

/**
 * One writer: a transaction that writes an event per code given (as a service would, through
 * emitEvents), optionally waiting inside before and after it (server only: PGlite has one
 * connection), or failing after the write.
 */
async function writeEvents(codes: string[], options: { holdMs?: number; rollback?: boolean } = {}): Promise<string[]> {
  const events: NewEvent[] = codes.map((dossierCode) => ({
    id: randomUUID(),
    type: 'payment.needs_review',
    dossierCode,
    occurredAt: new Date(),
    gateway: 'sandbox',
    amount: 1000,
    data: { writer: 'outbox.test' },
  }));
  const hold = options.holdMs ?? 0;
  try {
    await withTransaction(h.ctx, async (ctx) => {
      if (hold) await sleep(Math.random() * hold);
      await emitEvents(ctx, events);
      if (hold) await sleep(Math.random() * hold);
      if (options.rollback) throw new Rollback();
    });
  } catch (error) {
    if (error instanceof Rollback) return [];
    throw error;
  }
  return events.map((e) => e.id);
}

async function until(what: string, check: () => Promise<boolean>, ms: number) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
}

const outbox = () =>
  queryRows<{ id: string; seq: string | number; dossier_code: string }>(h.db.db, sql`SELECT id, seq, dossier_code FROM outbox_events`);

async function registerEndpoint(url: string): Promise<string> {
  const res = await h.request('POST', '/v1/webhook-endpoints', {
    token: admin,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { url, agencyCode: AGENCIES.province, events: [...eventTypes], secrets: ['a-secret-that-is-long-enough-0123456789'] },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await json(res)).id;
}

describe(`outbox delivery order on ${databaseLabel}`, () => {
  it('each dossier’s events arrive in sequence order, every one, with racing writers and workers and a flaky receiver', async () => {
    const started = Date.now();
    const receiver = await startReceiver(async () => {
      await sleep(Math.random() * 30);
      return Math.random() < 0.2 ? 500 : 200;
    });
    const endpointId = await registerEndpoint(receiver.url);
    // Fewer on PGlite (one connection: every claim, record and write takes its turn) to stay well inside the time limit under a full run's load.
    const dossiers = await Promise.all(Array.from({ length: onServer ? 10 : 6 }, () => registerDossier(h, portal, procedure)));
    // Two workers on the same database on the server (real races for the same rows); one on PGlite.
    const workers = Array.from({ length: onServer ? 2 : 1 }, () => startDeliveryWorker(h.ctx));
    try {
      await Promise.all(
        dossiers.map(async (dossier, i) => {
          // One intent per fee line, all paid at once: each payment writes its events in its own transaction.
          const intents = await Promise.all(
            dossier.obligations.map((o: { id: string }) => createIntent(h, portal, dossier.code, { obligationIds: [o.id] }).then(json)),
          );
          expect(intents.every((intent) => typeof intent.reference === 'string')).toBe(true);
          const next = dossiers[(i + 1) % dossiers.length].code;
          await Promise.all([
            ...intents.map(async (intent) => expect((await deliverSandboxCallback(h, sandboxEvent(intent))).status).toBe(200)),
            // Writers of the same dossier, one of them also writing for the next dossier (two locks, taken in order).
            ...Array.from({ length: 4 }, (_, k) =>
              writeEvents(k === 0 ? [dossier.code, next] : [dossier.code, dossier.code], { holdMs: onServer ? 15 : 0 }),
            ),
          ]);
        }),
      );
      await until(
        'every delivery settled',
        async () => {
          const [row] = await queryRows<{ n: number }>(
            h.db.db,
            sql`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = ${endpointId}::uuid AND state = 'pending'`,
          );
          return Number(row!.n) === 0;
        },
        20_000,
      );
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await receiver.close();
    }

    const events = (await outbox()).filter((e) => dossiers.some((d) => d.code === e.dossier_code));
    const seqOf = new Map(events.map((e) => [e.id, Number(e.seq)]));
    // 3 fee lines, the dossier, a receipt per payment (if issued at once), 8 + 1 writer events per dossier.
    expect(events.length).toBeGreaterThanOrEqual(dossiers.length * (3 + 1 + 9));
    const deliveries = await queryRows<{ event_id: string; state: string }>(
      h.db.db,
      sql`SELECT event_id, state FROM webhook_deliveries WHERE endpoint_id = ${endpointId}::uuid`,
    );
    expect(deliveries).toHaveLength(events.length);
    expect(deliveries.every((d) => d.state === 'succeeded')).toBe(true);

    // Every event answered 200 once (nobody died, so no lease ran out: exactly once), none lost, nothing foreign.
    const received = receiver.received;
    expect(received.every((r) => seqOf.has(r.eventId))).toBe(true);
    const succeeded = received.filter((r) => r.status === 200).map((r) => r.eventId);
    expect(new Set(succeeded).size).toBe(succeeded.length);
    expect(new Set(succeeded)).toEqual(new Set(events.map((e) => e.id)));
    expect(received.some((r) => r.status === 500)).toBe(true);

    // Per dossier, in arrival order: the sequence never goes back (a retry repeats the same event; the next comes after its success).
    for (const dossier of dossiers) {
      const arrivals = received.filter((r) => r.dossierCode === dossier.code);
      const seqs = arrivals.map((r) => seqOf.get(r.eventId)!);
      expect(seqs, dossier.code).toEqual([...seqs].sort((a, b) => a - b));
      const firstSuccess = new Map<string, number>();
      arrivals.forEach((r, n) => {
        if (r.status === 200 && !firstSuccess.has(r.eventId)) firstSuccess.set(r.eventId, n);
      });
      // Nothing of the dossier arrives after an event before that event succeeded.
      arrivals.forEach((r, n) => {
        for (const [earlier, at] of firstSuccess) if (seqOf.get(earlier)! < seqOf.get(r.eventId)!) expect(at).toBeLessThan(n);
      });
    }
    console.log(
      `[outbox order ${databaseLabel}] ${events.length} events, ${received.length} requests (${received.length - succeeded.length} answered 500), ${Date.now() - started} ms`,
    );
  }, 30_000);
});

describe(`the catch-up feed on ${databaseLabel}`, () => {
  const page = async (since: string | undefined, limit = 7) => {
    const query = new URLSearchParams({ limit: String(limit), ...(since ? { since } : {}) });
    const res = await h.request('GET', `/v1/events?${query}`, { token: portal });
    expect(res.status).toBe(200);
    return json<{ data: Array<{ id: string; seq: number; dossierCode: string }>; next: string }>(res);
  };
  /** Follows `next` until a page comes back empty. */
  const drain = async (since: string | undefined) => {
    const ids: string[] = [];
    let cursor = since;
    for (;;) {
      const p = await page(cursor);
      ids.push(...p.data.map((e) => e.id));
      cursor = p.next;
      if (p.data.length === 0) return { ids, cursor };
    }
  };

  it('serves every committed event exactly once across pages while writers keep writing', async () => {
    const started = Date.now();
    const dossiers = await Promise.all(Array.from({ length: 6 }, () => registerDossier(h, portal, procedure)));
    const committed: string[] = [];
    let writing = true;
    let rolledBack = 0;
    const writers = (async () => {
      for (let round = 0; round < 12; round++) {
        const ids = await Promise.all(
          Array.from({ length: 6 }, (_, k) => {
            const codes = [dossiers[(round + k) % 6].code, dossiers[(round * 7 + k * 3) % 6].code];
            const rollback = (round + k) % 5 === 0;
            if (rollback) rolledBack++;
            return writeEvents(codes, { holdMs: onServer ? 25 : 0, rollback });
          }),
        );
        for (const list of ids) committed.push(...list);
      }
    })().finally(() => (writing = false));

    const seen: Array<{ id: string; seq: number; dossierCode: string }> = [];
    let cursor: string | undefined;
    let pages = 0;
    const deadline = Date.now() + 20_000;
    for (;;) {
      expect(Date.now()).toBeLessThan(deadline);
      const finished = !writing;
      const p = await page(cursor);
      pages++;
      seen.push(...p.data);
      cursor = p.next;
      if (p.data.length === 0) {
        if (finished) break;
        await sleep(3);
      }
    }
    await writers;

    const ids = seen.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const all = await outbox();
    expect(new Set(ids)).toEqual(new Set(all.map((e) => e.id)));
    for (const id of committed) expect(ids).toContain(id);
    expect(committed.length).toBe((72 - rolledBack) * 2);
    // Within a dossier the feed keeps the order the changes were made in.
    for (const dossier of dossiers) {
      const seqs = seen.filter((e) => e.dossierCode === dossier.code).map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    console.log(`[outbox feed ${databaseLabel}] ${ids.length} events in ${pages} pages, ${Date.now() - started} ms`);
  }, 30_000);

  // Holding a transaction open while reading needs a second connection: PGlite has one.
  it.skipIf(!onServer)(
    'a transaction that took its sequence number first and commits last is still served, once',
    async () => {
      const [a, b] = await Promise.all([registerDossier(h, portal, procedure), registerDossier(h, portal, procedure)]);
      let { cursor } = await drain(undefined);
      const event = (dossierCode: string): NewEvent => ({
        id: randomUUID(),
        type: 'payment.needs_review',
        dossierCode,
        occurredAt: new Date(),
        gateway: 'sandbox',
        amount: 1,
        data: {},
      });
      const seqs = async (...ids: string[]) => {
        const rows = await outbox();
        return ids.map((id) => Number(rows.find((r) => r.id === id)!.seq));
      };

      // 1. T1 writes its event (sequence s1) and stays open; T2 writes one (s2 > s1) and commits; a page is read; T1 commits.
      {
        const first = event(a.code);
        const second = event(b.code);
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let written!: () => void;
        const wrote = new Promise<void>((resolve) => (written = resolve));
        const t1 = withTransaction(h.ctx, async (ctx) => {
          await emitEvents(ctx, [first]);
          written();
          await gate;
        });
        await wrote;
        await withTransaction(h.ctx, (ctx) => emitEvents(ctx, [second]));
        const [s2] = await seqs(second.id);
        expect((await outbox()).some((r) => r.id === first.id)).toBe(false); // T1 has not committed
        const during = await page(cursor);
        expect(during.data.map((e) => e.id)).not.toContain(first.id);
        // Serving T2's event now would move the cursor past T1's: it waits for T1.
        expect(during.data.map((e) => e.id)).not.toContain(second.id);
        cursor = during.next;
        release();
        await t1;
        const [seqFirst, seqSecond] = await seqs(first.id, second.id);
        expect(seqFirst).toBeLessThan(seqSecond!);
        expect(seqSecond).toBe(s2);
        const after = await drain(cursor);
        expect(after.ids.filter((id) => id === first.id)).toHaveLength(1);
        expect(after.ids.filter((id) => id === second.id)).toHaveLength(1);
        cursor = after.cursor;
      }

      // 2. T2 has a transaction id first but writes its event last (s2 > s1); T1 writes and commits between.
      {
        const early = event(a.code);
        const late = event(b.code);
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let begun!: () => void;
        const hasId = new Promise<void>((resolve) => (begun = resolve));
        const t2 = withTransaction(h.ctx, async (ctx) => {
          await ctx.tx!.execute(sql`SELECT pg_current_xact_id()`);
          begun();
          await gate;
          await emitEvents(ctx, [late]);
        });
        await hasId;
        await withTransaction(h.ctx, (ctx) => emitEvents(ctx, [early]));
        const during = await page(cursor);
        expect(during.data.map((e) => e.id)).not.toContain(early.id);
        cursor = during.next;
        release();
        await t2;
        const [seqEarly, seqLate] = await seqs(early.id, late.id);
        expect(seqEarly).toBeLessThan(seqLate!);
        const after = await drain(cursor);
        expect(after.ids.filter((id) => id === early.id)).toHaveLength(1);
        expect(after.ids.filter((id) => id === late.id)).toHaveLength(1);
        // The feed's order is the transactions' (T2 first), not the sequence's.
        expect(after.ids.indexOf(late.id)).toBeLessThan(after.ids.indexOf(early.id));
      }
    },
    30_000,
  );
});
