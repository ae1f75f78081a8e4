import { eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxEvents, receiptRequests, receipts } from '../../src/db/schema/index.ts';
import { queryRows } from '../../src/db/types.ts';
import { applyOutcome } from '../../src/services/apply-outcome.ts';
import { issueWaitingReceipts, ReceiptIssuer, type ReceiptsInBackground } from '../../src/services/receipt-issuer.ts';
import { databaseLabel, onServer } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson } from '../helpers/problems.ts';
import { expectGaplessReceipts } from '../helpers/receipts.ts';
import { chooseOnCheckout } from '../helpers/sandbox.ts';

/**
 * The receipt issuer (issue 15): a payment asks for its receipt; the issuer numbers what waits in
 * a series, many at a time, in one short transaction. Payments never wait on the series' counter;
 * numbers stay gapless under concurrent payments and issuers, and a receipt that waits is issued
 * by a read or a refund that needs it.
 */

/** A background that only notes what was due: as if the hub's issuer had not run yet (or its process died). */
class Held implements ReceiptsInBackground {
  readonly agencies: string[] = [];
  due(agencyCode: string) {
    this.agencies.push(agencyCode);
  }
}

let h: Harness;
const held = new Held();
let portal: string;
let treasury: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness({ receiptsInBackground: held, refundApprovalThreshold: 100_000_000 });
  await h.listen(); // the sandbox's refunds go to its emulator over HTTP
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-issuer' });
  procedure = await createProcedure(h.ctx);
});
afterAll(async () => {
  await h?.close();
});

/** A pending sandbox intent of a new dossier of `agencyCode`. */
async function pendingIntent(agencyCode: string = AGENCIES.communeA) {
  const dossier = await registerDossier(h, portal, procedure, { agencyCode });
  return expectJson(await createIntent(h, portal, dossier.code), 201);
}

const pay = (intent: { id: string; amount: number; reference: string }, ctx = h.ctx) =>
  applyOutcome(ctx, {
    intentId: intent.id,
    outcome: { kind: 'succeeded', amount: intent.amount, transactionId: `TX-${intent.reference}` },
    source: 'callback',
  });

const waiting = async () => Number((await queryRows<{ n: number }>(h.db.db, sql`SELECT count(*)::int AS n FROM receipt_requests`))[0]!.n);

describe(`the receipt issuer on ${databaseLabel}`, () => {
  it('a payment asks for its receipt and leaves the numbering to the issuer, which tells dossier systems the number', async () => {
    const intent = await pendingIntent();
    const applied = await pay(intent);
    expect(applied).toMatchObject({ result: 'applied', receiptDue: { agencyCode: AGENCIES.communeA } });
    expect(held.agencies.at(-1)).toBe(AGENCIES.communeA);
    expect(await h.db.db.select().from(receipts).where(eq(receipts.intentId, intent.id))).toEqual([]);
    expect(await h.db.db.select().from(receiptRequests).where(eq(receiptRequests.intentId, intent.id))).toHaveLength(1);

    expect(await issueWaitingReceipts(h.ctx, AGENCIES.communeA)).toBeGreaterThanOrEqual(1);
    const [receipt] = await h.db.db.select().from(receipts).where(eq(receipts.intentId, intent.id));
    expect(receipt).toMatchObject({ id: applied.result === 'applied' ? applied.receiptDue!.id : '', kind: 'original' });
    expect(receipt!.signature).toMatch(/^ey/);
    const events = await h.db.db.select().from(outboxEvents).where(eq(outboxEvents.dossierCode, intent.dossierCode));
    const issued = events.find((e) => e.type === 'receipt.issued');
    expect(issued?.payload).toMatchObject({
      data: { intentId: intent.id, receipt: { id: receipt!.id, number: receipt!.number, seriesSymbol: receipt!.seriesSymbol } },
    });
    // After the payment's own events: a dossier system hears of the payment, then of its receipt.
    const seqOf = (type: string) => events.find((e) => e.type === type)!.seq;
    expect(seqOf('dossier.paid')).toBeLessThan(seqOf('receipt.issued'));
    await expectGaplessReceipts(h.db.db);
  });

  it('a read of a receipt still waiting issues it, and a refund right after the payment adjusts it', async () => {
    const intent = await pendingIntent(AGENCIES.communeB);
    await pay(intent);
    const receipt = await expectJson(await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: portal }), 200);
    expect(receipt).toMatchObject({ intentId: intent.id, kind: 'original', number: expect.any(Number) });

    // Paid at the sandbox's checkout (its ledger then knows the money to give back); the receipt left waiting.
    const other = await pendingIntent(AGENCIES.communeB);
    expect((await chooseOnCheckout(other.nextAction.url, 'pay')).status).toBe(303);
    expect(await h.db.db.select().from(receiptRequests).where(eq(receiptRequests.intentId, other.id))).toHaveLength(1);
    const refund = await expectJson(
      await h.request('POST', `/v1/payment-intents/${other.id}/refunds`, {
        token: treasury,
        body: { amount: other.amount, expectedRefundable: other.amount, reason: 'Nộp nhầm' },
        headers: { 'idempotency-key': idempotencyKey() },
      }),
      201,
    );
    expect(refund).toMatchObject({ status: 'succeeded' });
    const rows = await h.db.db.select().from(receipts).where(eq(receipts.intentId, other.id));
    expect(rows.map((r) => [r.kind, r.total]).sort()).toEqual([
      ['adjusting', -other.amount],
      ['original', other.amount],
    ]);
    await issueWaitingReceipts(h.ctx);
    await expectGaplessReceipts(h.db.db);
  });

  it('numbers every receipt once and without a gap, whatever the interleaving of payments and issuers', async () => {
    const issuer = new ReceiptIssuer(h.ctx);
    const background = { ...h.ctx, receiptsInBackground: issuer };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ agency: fc.constantFrom(AGENCIES.communeA, AGENCIES.communeB), sweep: fc.boolean() }), {
          minLength: 4,
          maxLength: 14,
        }),
        async (plan) => {
          const intents = await Promise.all(plan.map((p) => pendingIntent(p.agency)));
          // All at once: payments (each starting the hub's issuer), and sweeps as the jobs run them.
          await Promise.all(
            plan.map(async (p, k) => {
              await pay(intents[k]!, background);
              if (p.sweep) await issueWaitingReceipts(h.ctx);
            }),
          );
          await issuer.idle();
          expect(await waiting()).toBe(0);
          const got = await queryRows<{ intent_id: string }>(
            h.db.db,
            sql`SELECT intent_id FROM receipts WHERE kind = 'original' AND intent_id IN (SELECT (jsonb_array_elements_text(${JSON.stringify(intents.map((i) => i.id))}::jsonb))::uuid)`,
          );
          expect(got).toHaveLength(intents.length);
          await expectGaplessReceipts(h.db.db);
        },
      ),
      { numRuns: onServer ? 8 : 5 },
    );
  });

  it.skipIf(!onServer)('a payment commits while an issuer holds its series: it never waits for a receipt number', async () => {
    const intent = await pendingIntent();
    await pay(await pendingIntent());
    // Another connection of the pool takes the series' counter and keeps it, as a long issuer would.
    await h.db.db.transaction(async (tx) => {
      const locked = await queryRows(tx, sql`SELECT * FROM receipt_series WHERE agency_code = ${AGENCIES.communeA} FOR UPDATE`);
      expect(locked.length).toBeGreaterThan(0);
      const started = Date.now();
      const applied = await pay(intent);
      expect(applied.result).toBe('applied');
      expect(Date.now() - started).toBeLessThan(2_000);
      // Committed, visible to the other connection, its receipt asked for and waiting.
      const [row] = await queryRows<{ status: string; waiting: number }>(
        tx,
        sql`SELECT status, (SELECT count(*)::int FROM receipt_requests WHERE intent_id = ${intent.id}::uuid) AS waiting
            FROM payment_intents WHERE id = ${intent.id}::uuid`,
      );
      expect(row).toEqual({ status: 'succeeded', waiting: 1 });
    });
    await issueWaitingReceipts(h.ctx);
    await expectGaplessReceipts(h.db.db);
  });
});
