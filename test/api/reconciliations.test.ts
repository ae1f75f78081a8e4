import { and, asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bookAdjustments,
  discrepancies,
  paymentIntents,
  receipts,
  reconciliationItems,
  reconciliationResults,
  reconciliations,
} from '../../src/db/schema/index.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';
import { insertStatement } from '../helpers/statements.ts';

/**
 * Matching a day (issue 11): a day made deliberately with every class reconciles to exactly those
 * classes; a statement line heals a lost callback; re-runs change nothing; the day closes only
 * when clean, and late money for a closed day is booked on the next open one.
 */
const FEE = 135_000;
let h: Harness;
let portal: string;
let treasury: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'ke-toan-an' });
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h.close());

interface Intent {
  id: string;
  reference: string;
  amount: number;
}

/** VN 10:00 on `date` plus `minutes`. */
const at = (date: string, minutes = 0) => new Date(new Date(`${date}T03:00:00Z`).getTime() + minutes * 60_000);

async function intentOn(date: string, minutes = 0): Promise<Intent> {
  h.clock.now = at(date, minutes);
  const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeA });
  return expectJson(await createIntent(h, portal, dossier.code), 201);
}

/** An intent paid by a (signed) sandbox callback at VN 10:00 + minutes of `date`. */
async function paidOn(date: string, minutes = 0, overrides: Record<string, unknown> = {}): Promise<Intent & { txn: string }> {
  const intent = await intentOn(date, minutes);
  const txn = (overrides.transactionId as string) ?? `SBX${intent.reference}`;
  const response = await deliverSandboxCallback(
    h,
    sandboxEvent(intent, { occurredAt: at(date, minutes).toISOString(), transactionId: txn, ...overrides }),
  );
  expect(response.status).toBe(200);
  return { ...intent, txn };
}

const run = (source: string, date: string) => h.request('POST', '/v1/reconciliations', { token: treasury, body: { source, date } });
const itemsOf = (reconciliationId: string) =>
  h.db.db
    .select()
    .from(reconciliationResults)
    .where(eq(reconciliationResults.reconciliationId, reconciliationId))
    // The statement's lines in file order, then the payments no line names.
    .orderBy(sql`${reconciliationResults.lineNo} NULLS LAST`, asc(reconciliationResults.intentId));
const intentRow = async (id: string) => (await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id)))[0]!;
const discrepanciesOf = (source: string, date: string) =>
  h.db.db
    .select()
    .from(discrepancies)
    .where(and(eq(discrepancies.source, source), eq(discrepancies.businessDate, date)))
    .orderBy(asc(discrepancies.class), asc(discrepancies.subject));

describe(`matching a day, every class (${databaseLabel})`, () => {
  const date = '2026-12-03';
  it('reconciles a deliberately made day to exactly the expected classes, heals a lost callback, and is idempotent', async () => {
    const byTxn = await paidOn(date, 0);
    const byRef = await paidOn(date, 5);
    const byText = await paidOn(date, 10);
    const twice = await paidOn(date, 15); // named by its transaction id, then again by its reference
    const byTime = await paidOn(date, 20);
    const unlisted = await paidOn(date, 25);
    const wrongAmount = await paidOn(date, 30);
    const lost = await intentOn(date, 35); // pending: its callback never came
    const declined = await intentOn(date, 40);
    expect((await deliverSandboxCallback(h, sandboxEvent(declined, { type: 'payment.declined' }))).status).toBe(200);
    expect((await intentRow(declined.id)).status).toBe('failed');

    await insertStatement(h, {
      source: 'sandbox',
      date,
      lines: [
        { transactionId: byTxn.txn, amount: FEE, occurredAt: at(date, 0), status: 'paid' }, // 2 matched (transaction_id)
        { reference: byRef.reference, amount: FEE, occurredAt: at(date, 5), status: 'paid' }, // 3 matched (reference)
        {
          text: `MBVCB.1234.IBFT ${byText.reference.slice(0, 5)}-${byText.reference.slice(5)} thanh toan le phi`,
          amount: FEE,
          occurredAt: at(date, 10),
        }, // 4 text
        { amount: FEE, occurredAt: at(date, 22) }, // 5 amount_time with byTime (2 minutes apart)
        { transactionId: 'SBX-NOT-IN-HUB', amount: 50_000, occurredAt: at(date, 50), status: 'paid' }, // 6 missing_in_hub
        { transactionId: wrongAmount.txn, amount: 130_000, occurredAt: at(date, 30), status: 'paid' }, // 7 amount_mismatch
        { transactionId: 'SBX-LOST', reference: lost.reference, amount: FEE, occurredAt: at(date, 36), status: 'paid' }, // 8 heals lost → matched
        { transactionId: 'SBX-DECLINED', reference: declined.reference, amount: FEE, occurredAt: at(date, 41), status: 'paid' }, // 9 status_mismatch
        { transactionId: byTxn.txn, amount: FEE, occurredAt: at(date, 0), status: 'paid' }, // 10 duplicate
        { transactionId: 'SBX-FAILED', amount: FEE, occurredAt: at(date, 45), status: 'failed' }, // ignored: not money
        { amount: null, error: 'amount: not a number' }, // rejected line: never matched
        { transactionId: twice.txn, amount: FEE, occurredAt: at(date, 15), status: 'paid' }, // 13 matched in bulk (its id is given once)
        { reference: twice.reference, amount: FEE, occurredAt: at(date, 16), status: 'paid' }, // 14 duplicate (a later rule, the same intent)
      ],
    });

    h.clock.now = at(date, 600);
    const first = await expectJson(await run('sandbox', date), 200);
    expect(first.healed).toHaveLength(2);
    expect(first.healed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ intentId: lost.id, lineNo: 8, result: 'applied', statusBefore: 'pending', statusAfter: 'succeeded' }),
        // A success after a decline is never taken silently: applyOutcome sends it to a person.
        expect.objectContaining({ intentId: declined.id, lineNo: 9, statusBefore: 'failed', statusAfter: 'needs_review' }),
      ]),
    );
    const lostNow = await intentRow(lost.id);
    expect(lostNow).toMatchObject({ status: 'succeeded', gatewayTransactionId: 'SBX-LOST' });
    expect(lostNow.succeededAt?.toISOString()).toBe(at(date, 36).toISOString());
    expect(await h.db.db.select().from(receipts).where(eq(receipts.intentId, lost.id))).toHaveLength(1);

    const items = await itemsOf(first.id);
    const classOf = (where: (i: (typeof items)[number]) => boolean) => items.filter(where).map((i) => `${i.class}:${i.rule ?? '-'}`);
    const line = (n: number) => classOf((i) => i.lineNo === n);
    expect(line(2)).toEqual(['matched:transaction_id']);
    expect(line(3)).toEqual(['matched:reference']);
    expect(line(4)).toEqual(['matched:text_reference']);
    expect(line(5)).toEqual(['matched:amount_time']);
    expect(items.find((i) => i.lineNo === 5)?.intentId).toBe(byTime.id);
    expect(line(6)).toEqual(['missing_in_hub:-']);
    expect(line(7)).toEqual(['amount_mismatch:transaction_id']);
    expect(line(8)).toEqual(['matched:reference']);
    expect(line(9)).toEqual(['status_mismatch:reference']);
    expect(line(10)).toEqual(['duplicate:transaction_id']);
    expect(line(11)).toEqual([]);
    expect(line(12)).toEqual([]);
    expect(line(13)).toEqual(['matched:transaction_id']);
    expect(line(14)).toEqual(['duplicate:reference']);
    expect(classOf((i) => i.lineNo === null)).toEqual(['missing_in_statement:-']);
    expect(items.find((i) => i.lineNo === null)?.intentId).toBe(unlisted.id);
    // Every payment of the day in exactly one item.
    for (const paid of [byTxn, byRef, byText, twice, byTime, unlisted, wrongAmount, lost]) {
      expect(items.filter((i) => i.intentId === paid.id && i.class !== 'duplicate')).toHaveLength(1);
    }
    expect(first.summary).toMatchObject({
      matched: { count: 6 },
      missing_in_hub: { count: 1, amount: 50_000 },
      amount_mismatch: { count: 1, amount: 130_000 },
      status_mismatch: { count: 1 },
      duplicate: { count: 2 },
      missing_in_statement: { count: 1, amount: FEE },
      ignored: { count: 1 },
      healed: { count: 2 },
    });

    const found = await discrepanciesOf('sandbox', date);
    expect(found.map((d) => `${d.class}:${d.subject}`)).toEqual([
      `amount_mismatch:intent:${wrongAmount.id}`,
      'duplicate:line:10',
      'duplicate:line:14',
      'missing_in_hub:txn:SBX-NOT-IN-HUB',
      `missing_in_statement:intent:${unlisted.id}`,
      `status_mismatch:intent:${declined.id}`,
    ]);
    // The declined intent's success went to a person (success_after_decline): linked.
    expect(found.find((d) => d.class === 'status_mismatch')?.reviewId).not.toBeNull();

    // Re-running changes nothing: same classes, same discrepancy rows, nothing healed again (the
    // healed line now matches on its transaction id, which the payment took from it).
    const second = await expectJson(await run('sandbox', date), 200);
    expect(second.healed).toEqual([]);
    expect(second.runs).toBe(2);
    const again = await itemsOf(first.id);
    expect(again.map((i) => [i.lineNo, i.intentId, i.class])).toEqual(items.map((i) => [i.lineNo, i.intentId, i.class]));
    expect((await discrepanciesOf('sandbox', date)).map((d) => d.id)).toEqual(found.map((d) => d.id));
    expect(await h.db.db.select().from(receipts).where(eq(receipts.intentId, lost.id))).toHaveLength(1);

    // Matched line by line — what the import keeps for the bulk unknown, as for a statement
    // imported before it kept it — the verdict is the same.
    await h.db.db.execute(sql`UPDATE statements SET lines_counted = NULL, ignored_total = NULL, repeated_transactions = NULL
                              WHERE source = 'sandbox' AND business_date = ${date}::date AND status = 'current'`);
    const byLine = await expectJson(await run('sandbox', date), 200);
    expect(byLine.summary).toEqual(second.summary);
    expect((await itemsOf(first.id)).map((i) => [i.lineNo, i.intentId, i.class, i.rule])).toEqual(
      again.map((i) => [i.lineNo, i.intentId, i.class, i.rule]),
    );
    // The same discrepancies, with the same facts of their lines (fetched the same way on both paths).
    expect((await discrepanciesOf('sandbox', date)).map((d) => [d.id, d.lineNo, d.detail])).toEqual(
      found.map((d) => [d.id, d.lineNo, d.detail]),
    );

    // A corrected statement without the duplicate line: that discrepancy is resolved by the re-run, never deleted.
    await insertStatement(h, {
      source: 'sandbox',
      date,
      lines: [
        { transactionId: byTxn.txn, amount: FEE, occurredAt: at(date, 0), status: 'paid' },
        { reference: byRef.reference, amount: FEE, occurredAt: at(date, 5), status: 'paid' },
        { text: `CT DEN ${byText.reference}`, amount: FEE, occurredAt: at(date, 10) },
        { amount: FEE, occurredAt: at(date, 22) },
        { transactionId: 'SBX-NOT-IN-HUB', amount: 50_000, occurredAt: at(date, 50), status: 'paid' },
        { transactionId: wrongAmount.txn, amount: 130_000, occurredAt: at(date, 30), status: 'paid' },
        { transactionId: 'SBX-LOST', amount: FEE, occurredAt: at(date, 36), status: 'paid' },
        { transactionId: 'SBX-DECLINED', amount: FEE, occurredAt: at(date, 41), status: 'paid' },
        { transactionId: unlisted.txn, amount: FEE, occurredAt: at(date, 25), status: 'paid' },
        { transactionId: twice.txn, amount: FEE, occurredAt: at(date, 15), status: 'paid' },
      ],
    });
    const third = await expectJson(await run('sandbox', date), 200);
    expect(third.resolved.rematch).toBe(3);
    const after = await discrepanciesOf('sandbox', date);
    expect(after.filter((d) => d.status === 'resolved').map((d) => [d.class, d.resolution?.by])).toEqual([
      ['duplicate', 'rematch'],
      ['duplicate', 'rematch'],
      ['missing_in_statement', 'rematch'],
    ]);
    expect(third.summary.matched.count).toBe(7);
  });

  it('keeps the day’s plain matches compactly and the rest as items; a transaction id two intents share goes to the first', async () => {
    const day = '2026-11-20';
    const plain = await paidOn(day, 0);
    const shared = [await paidOn(day, 5, { transactionId: 'SBX-SHARED' }), await paidOn(day, 6, { transactionId: 'SBX-SHARED' })];
    expect(shared.map((i) => i.txn)).toEqual(['SBX-SHARED', 'SBX-SHARED']);
    // Paid on the day before (VN 23:50): a line of this day's statement matching it crosses days.
    const eve = await paidOn('2026-11-19', 830);
    await insertStatement(h, {
      source: 'sandbox',
      date: day,
      lines: [
        { transactionId: plain.txn, amount: FEE, occurredAt: at(day, 0), status: 'paid' }, // 2
        { transactionId: 'SBX-SHARED', amount: FEE, occurredAt: at(day, 5), status: 'paid' }, // 3
        { transactionId: eve.txn, amount: FEE, occurredAt: at('2026-11-19', 830), status: 'paid' }, // 4
      ],
    });
    h.clock.now = at(day, 600);
    const result = await expectJson(await run('sandbox', day), 200);
    const [first, second] = [...shared].sort((a, b) => a.id.localeCompare(b.id));
    const all = await itemsOf(result.id);
    expect(all.map((i) => [i.lineNo, i.intentId, i.class, i.rule])).toEqual([
      [2, plain.id, 'matched', 'transaction_id'],
      [3, first!.id, 'matched', 'transaction_id'],
      [4, eve.id, 'matched', 'transaction_id'],
      [null, second!.id, 'missing_in_statement', null],
    ]);
    // Where each is kept: the day's own matches as arrays, the rest (the match across days
    // included: the other day's run looks it up by intent) as items.
    const kept = await h.db.db.execute(
      sql`SELECT line_nos, rules FROM reconciliation_matches WHERE reconciliation_id = ${result.id}::uuid`,
    );
    const rows = (Array.isArray(kept) ? kept : (kept as unknown as { rows: unknown[] }).rows) as Array<{
      line_nos: number[];
      rules: number[];
    }>;
    const pairs = rows.flatMap((r) => r.line_nos.map((line, k) => [Number(line), Number(r.rules[k])]));
    expect(pairs.sort((a, b) => a[0]! - b[0]!)).toEqual([
      [2, 1],
      [3, 1],
    ]);
    const items = await h.db.db.select().from(reconciliationItems).where(eq(reconciliationItems.reconciliationId, result.id));
    expect(items.map((i) => [i.lineNo, i.class]).sort((a, b) => Number(a[0] ?? 1e9) - Number(b[0] ?? 1e9))).toEqual([
      [4, 'matched'],
      [null, 'missing_in_statement'],
    ]);
  });

  it('refuses without a current statement (409 no-statement) and outside the source owner scope (404)', async () => {
    await expectProblem(await run('sandbox', '2026-12-20'), 409, 'no-statement');
    await expectProblem(await run('nope', '2026-12-20'), 422, 'unknown-source');
    const outsider = await mintToken({ role: 'treasury', agencies: [AGENCIES.otherProvince], subject: 'ke-toan-khac' });
    await expectProblem(
      await h.request('POST', '/v1/reconciliations', { token: outsider, body: { source: 'sandbox', date: '2026-12-03' } }),
      404,
      'not-found',
    );
  });
});

describe(`closing a day (${databaseLabel})`, () => {
  const date = '2026-12-05';
  it('closes only when clean, refuses a re-run once closed, and books late money on the next open day', async () => {
    const paid = await paidOn(date, 0);
    const late = await intentOn(date, 10);
    await insertStatement(h, {
      source: 'sandbox',
      date,
      lines: [
        { transactionId: paid.txn, amount: FEE, occurredAt: at(date, 0), status: 'paid' },
        { transactionId: 'SBX-STRAY', amount: 20_000, occurredAt: at(date, 5), status: 'paid' },
      ],
    });
    h.clock.now = at(date, 600);
    const day = await expectJson(await run('sandbox', date), 200);
    const refused = await expectProblem(
      await h.request('POST', `/v1/reconciliations/${day.id}/close`, { token: treasury }),
      409,
      'day-not-clean',
    );
    expect(refused.openDiscrepancies).toBe(1);

    // The stray line was the bank's mistake after all: the corrected statement leaves it out.
    await insertStatement(h, {
      source: 'sandbox',
      date,
      lines: [{ transactionId: paid.txn, amount: FEE, occurredAt: at(date, 0), status: 'paid' }],
    });
    await expectProblem(await h.request('POST', `/v1/reconciliations/${day.id}/close`, { token: treasury }), 409, 'day-not-clean');
    await expectJson(await run('sandbox', date), 200);
    const closed = await expectJson(await h.request('POST', `/v1/reconciliations/${day.id}/close`, { token: treasury }), 200);
    expect(closed).toMatchObject({ status: 'closed', closedBy: 'treasury:ke-toan-an' });
    expect(closed.totals).toMatchObject({
      statement: { count: 1, amount: FEE },
      hub: { count: 1, amount: FEE },
      matched: { count: 1, amount: FEE },
      adjustments: { count: 0, amount: 0 },
    });
    await expectProblem(await run('sandbox', date), 409, 'day-closed');
    await expectProblem(await h.request('POST', `/v1/reconciliations/${day.id}/close`, { token: treasury }), 409, 'day-closed');

    // A late callback for the closed day: the fee lines are paid at once, the money booked on the next open day.
    h.clock.now = at('2026-12-06', 60);
    const response = await deliverSandboxCallback(h, sandboxEvent(late, { occurredAt: at(date, 11).toISOString() }));
    expect(response.status).toBe(200);
    expect((await intentRow(late.id)).status).toBe('succeeded');
    const [adjustment] = await h.db.db.select().from(bookAdjustments).where(eq(bookAdjustments.intentId, late.id));
    expect(adjustment).toMatchObject({ businessDate: date, bookedDate: '2026-12-06', amount: FEE });
    const [row] = await h.db.db.select().from(reconciliations).where(eq(reconciliations.id, day.id));
    expect(row!.totals?.hub.count).toBe(1);

    // The next day's close counts the adjustment.
    await insertStatement(h, { source: 'sandbox', date: '2026-12-06', lines: [] });
    const next = await expectJson(await run('sandbox', '2026-12-06'), 200);
    const nextClosed = await expectJson(await h.request('POST', `/v1/reconciliations/${next.id}/close`, { token: treasury }), 200);
    expect(nextClosed.totals.adjustments).toEqual({ count: 1, amount: FEE });
  });

  it('refuses to close while a payment of the day came after the last matching, unless a manual match names it', async () => {
    const day = '2026-11-26';
    const paid = await paidOn(day, 0);
    const named = await intentOn(day, 20); // paid by the manual match below
    await insertStatement(h, {
      source: 'sandbox',
      date: day,
      lines: [
        { transactionId: paid.txn, amount: FEE, occurredAt: at(day, 0), status: 'paid' },
        { transactionId: 'SBX-NAMED-LATER', amount: FEE, occurredAt: at(day, 21), status: 'paid' },
      ],
    });
    h.clock.now = at(day, 600);
    const run1 = await expectJson(await run('sandbox', day), 200);
    const [stray] = (await discrepanciesOf('sandbox', day)).filter((d) => d.class === 'missing_in_hub');
    const resolved = await h.request('POST', `/v1/discrepancies/${stray!.id}/resolution`, {
      token: treasury,
      body: { resolution: 'matched_manually', intentId: named.id, note: 'Người nộp gửi biên lai chuyển khoản' },
      headers: { 'idempotency-key': crypto.randomUUID() },
    });
    expect((await expectJson(resolved, 200)).status).toBe('resolved');
    expect((await intentRow(named.id)).status).toBe('succeeded');
    // A callback of the day after the run: a payment no class and no discrepancy explains.
    const after = await paidOn(day, 30);
    h.clock.now = at(day, 700);
    const refused = await expectProblem(
      await h.request('POST', `/v1/reconciliations/${run1.id}/close`, { token: treasury }),
      409,
      'day-not-clean',
    );
    // The manually matched payment is explained by its resolution; only the late one is counted.
    expect(refused.unmatchedPayments).toBe(1);
    // Matched again, the late payment is missing from the statement: open, so the day still cannot close.
    await expectJson(await run('sandbox', day), 200);
    const open = (await discrepanciesOf('sandbox', day)).filter((d) => d.status === 'open');
    expect(open.map((d) => `${d.class}:${d.intentId}`)).toEqual([`missing_in_statement:${after.id}`]);
  });
});
