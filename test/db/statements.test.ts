import { and, asc, eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callbackInbox,
  dossiers,
  idempotencyKeys,
  intentObligations,
  obligations,
  paymentEvents,
  paymentIntents,
  paymentReviews,
  receiptRequests,
  receipts,
} from '../../src/db/schema/index.ts';
import { answerRepeatedSuccess } from '../../src/db/statements/answer-repeated-success.ts';
import { claimObligations } from '../../src/db/statements/claim-obligations.ts';
import { insertIntent, type NewIntent } from '../../src/db/statements/create-intent.ts';
import { numberReceiptRequests } from '../../src/db/statements/issue-receipts.ts';
import { lockIntent } from '../../src/db/statements/lock-intent.ts';
import { type MarkPaidInput, markPaidAndRequestReceipt } from '../../src/db/statements/mark-paid.ts';
import { recordInboxAnswer } from '../../src/db/statements/record-inbox-answer.ts';
import { type DecisionWrite, writeDecision } from '../../src/db/statements/write-decision.ts';
import { queryRows } from '../../src/db/types.ts';
import { databaseLabel, onServer } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';

/**
 * The hot path's named statements (src/db/statements/), each on its own: what it writes, what it
 * refuses, and that a refusal writes nothing.
 */
let h: Harness;
let portal: string;
let procedure: string;
let twoLines: string;

beforeAll(async () => {
  h = await createHarness({ sandbox: true });
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  procedure = await createProcedure(h.ctx);
  twoLines = await createProcedure(h.ctx, [
    rule(),
    rule({ kind: 'phi', feeCode: 'P01', name: 'Phí thẩm định', lineNo: 2, formula: { type: 'fixed', amount: 50_000 } }),
  ]);
});
afterAll(() => h.close());

const db = () => h.db.db;
const at = new Date('2026-12-04T02:00:00Z');

async function dossierWithLines(proc = procedure) {
  const dossier = await registerDossier(h, portal, proc);
  const lines = await db().select().from(obligations).where(eq(obligations.dossierCode, dossier.code)).orderBy(asc(obligations.lineNo));
  return { code: dossier.code as string, lines };
}

/** An intent made the ordinary way (through the API), then read back. */
async function liveIntent(proc = procedure) {
  const dossier = await registerDossier(h, portal, proc);
  const created = await json(await createIntent(h, portal, dossier.code));
  const [row] = await db().select().from(paymentIntents).where(eq(paymentIntents.id, created.id));
  return row!;
}

function newIntent(dossierCode: string, obligationIds: string[], amount: number, overrides: Partial<NewIntent> = {}): NewIntent {
  const id = crypto.randomUUID();
  const response = { status: 201, body: { id } };
  return {
    id,
    reference: `R${id.replace(/-/g, '').slice(0, 11).toUpperCase()}`,
    dossierCode,
    gateway: 'sandbox',
    amount,
    returnUrl: 'https://portal.test/back',
    expiresAt: new Date(at.getTime() + 30 * 60_000),
    nextAction: { type: 'redirect', url: 'https://sandbox.test/pay' },
    gatewayReference: null,
    onlinePaymentFlag: 2,
    nextPollAt: null,
    principal: 'portal:statement-test',
    createdAt: at,
    obligationIds,
    events: [
      { event: 'created', from: null, to: 'created', detail: { amount } },
      { event: 'handed_over', from: 'created', to: 'pending', detail: {} },
    ],
    idempotency: {
      scope: '|portal:statement-test|',
      key: `stmt-${id}`,
      fingerprint: 'f',
      expiresAt: new Date(at.getTime() + 86_400_000),
      response,
    },
    ...overrides,
  };
}

const count = async (table: typeof paymentIntents | typeof paymentEvents | typeof paymentReviews, where: ReturnType<typeof eq>) =>
  (
    await db()
      .select()
      .from(table as typeof paymentEvents)
      .where(where)
  ).length;

describe(`insertIntent, on ${databaseLabel}`, () => {
  it('writes the intent, its links, its history and the stored answer, and reserves every line', async () => {
    const { code, lines } = await dossierWithLines(twoLines);
    const n = newIntent(
      code,
      lines.map((l) => l.id),
      185_000,
    );
    expect(await insertIntent(db(), n)).toBe('created');
    const [intent] = await db().select().from(paymentIntents).where(eq(paymentIntents.id, n.id));
    expect(intent).toMatchObject({ status: 'pending', amount: 185_000, reference: n.reference, principal: 'portal:statement-test' });
    expect(
      (await db().select().from(intentObligations).where(eq(intentObligations.intentId, n.id))).map((l) => l.amount).sort((a, b) => a - b),
    ).toEqual([50_000, 135_000]);
    const events = await db().select().from(paymentEvents).where(eq(paymentEvents.intentId, n.id)).orderBy(asc(paymentEvents.id));
    expect(events.map((e) => [e.event, e.fromStatus, e.toStatus, e.source])).toEqual([
      ['created', null, 'created', 'portal'],
      ['handed_over', 'created', 'pending', 'portal'],
    ]);
    const held = await db().select().from(obligations).where(eq(obligations.dossierCode, code));
    expect(held.every((l) => l.liveIntentId === n.id)).toBe(true);
    const [key] = await db().select().from(idempotencyKeys).where(eq(idempotencyKeys.key, n.idempotency.key));
    expect(key).toMatchObject({ responseStatus: 201, responseBody: { id: n.id } });
  });

  it('a taken key writes nothing and says so', async () => {
    const { code, lines } = await dossierWithLines();
    const first = newIntent(code, [lines[0]!.id], 135_000);
    expect(await insertIntent(db(), first)).toBe('created');
    const again = newIntent(code, [lines[0]!.id], 135_000, { idempotency: first.idempotency });
    expect(await insertIntent(db(), again)).toBe('key_taken');
    expect(await count(paymentIntents, eq(paymentIntents.id, again.id))).toBe(0);
  });

  it('a line taken since the read undoes the whole statement, the key included', async () => {
    const { code, lines } = await dossierWithLines(twoLines);
    expect(await insertIntent(db(), newIntent(code, [lines[1]!.id], 50_000))).toBe('created');
    const late = newIntent(
      code,
      lines.map((l) => l.id),
      185_000,
    );
    expect(await insertIntent(db(), late)).toBe('obligation_taken');
    expect(await count(paymentIntents, eq(paymentIntents.id, late.id))).toBe(0);
    expect((await db().select().from(idempotencyKeys).where(eq(idempotencyKeys.key, late.idempotency.key))).length).toBe(0);
    const [first] = await db().select().from(obligations).where(eq(obligations.id, lines[0]!.id));
    expect(first!.liveIntentId).toBeNull();
  });

  it('a reference collision writes nothing', async () => {
    const { code, lines } = await dossierWithLines(twoLines);
    const first = newIntent(code, [lines[0]!.id], 135_000);
    expect(await insertIntent(db(), first)).toBe('created');
    const clash = newIntent(code, [lines[1]!.id], 50_000, { reference: first.reference });
    expect(await insertIntent(db(), clash)).toBe('reference_taken');
    const [second] = await db().select().from(obligations).where(eq(obligations.id, lines[1]!.id));
    expect(second!.liveIntentId).toBeNull();
  });
});

describe(`lockIntent, on ${databaseLabel}`, () => {
  it('reads the row as drizzle types it, by id or as the gateway names it', async () => {
    const intent = await liveIntent();
    const byId = await db().transaction((tx) => lockIntent(tx, { intentId: intent.id }, { lockDossier: false }));
    expect(byId).toEqual(intent);
    const byReference = await db().transaction((tx) =>
      lockIntent(tx, { gateway: 'sandbox', reference: intent.reference }, { lockDossier: true }),
    );
    expect(byReference).toEqual(intent);
    expect(
      await db().transaction((tx) => lockIntent(tx, { gateway: 'vnpay', reference: intent.reference }, { lockDossier: false })),
    ).toBeUndefined();
    expect(await db().transaction((tx) => lockIntent(tx, { intentId: crypto.randomUUID() }, { lockDossier: false }))).toBeUndefined();
  });

  it.runIf(onServer)('holds the intent, and the dossier only when asked, until the transaction ends', async () => {
    const intent = await liveIntent();
    const other = postgres(await databaseUrl(), { max: 1, onnotice: () => {} });
    try {
      const tryLock = async (query: string, value: string) => {
        try {
          await other.begin(async (sql) => sql.unsafe(query, [value]));
          return 'free';
        } catch (error) {
          return (error as { code?: string }).code === '55P03' ? 'locked' : String(error);
        }
      };
      const intentLock = 'SELECT 1 FROM payment_intents WHERE id = $1 FOR UPDATE NOWAIT';
      const dossierLock = 'SELECT 1 FROM dossiers WHERE code = $1 FOR NO KEY UPDATE NOWAIT';
      for (const lockDossier of [false, true]) {
        const seen = await db().transaction(async (tx) => {
          await lockIntent(tx, { intentId: intent.id }, { lockDossier });
          return [await tryLock(intentLock, intent.id), await tryLock(dossierLock, intent.dossierCode)];
        });
        expect(seen).toEqual(['locked', lockDossier ? 'locked' : 'free']);
      }
      expect(await tryLock(intentLock, intent.id)).toBe('free');
    } finally {
      await other.end();
    }
  });
});

/** The URL of this file's own database on the server, for a second connection. */
async function databaseUrl() {
  const [row] = await queryRows<{ name: string }>(db(), sql`SELECT current_database() AS name`);
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${row!.name}`;
  return url.toString();
}

function write(intent: typeof paymentIntents.$inferSelect, w: Partial<DecisionWrite>): DecisionWrite {
  return {
    intentId: intent.id,
    gateway: intent.gateway,
    fromStatus: intent.status,
    event: null,
    moveTo: null,
    review: null,
    obligations: 'leave',
    source: 'callback',
    actor: null,
    at,
    ...w,
  };
}
const review = (kind: 'amount_mismatch' | 'second_payment', tx: string) => ({
  id: crypto.randomUUID(),
  kind,
  reason: `test ${kind}`,
  proposedAction: 'decide' as const,
  gatewayTransactionId: tx,
  amount: 100_000,
  detail: { test: true },
});

describe(`writeDecision, on ${databaseLabel}`, () => {
  it('moves the intent, records the event, opens the review and frees the lines, in one go', async () => {
    const intent = await liveIntent();
    const result = await writeDecision(
      db(),
      write(intent, {
        event: { name: 'amount_mismatch', detail: { why: 'test' }, onlyWithNewReview: false },
        moveTo: { status: 'needs_review', reviewReason: 'paid 100000', gatewayTransactionId: 'TX-W1', refundedAmount: 0 },
        review: review('amount_mismatch', 'TX-W1'),
        obligations: 'release',
      }),
    );
    expect(result).toEqual({ reviewOpened: true });
    const [moved] = await db().select().from(paymentIntents).where(eq(paymentIntents.id, intent.id));
    expect(moved).toMatchObject({ status: 'needs_review', reviewReason: 'paid 100000', gatewayTransactionId: 'TX-W1', updatedAt: at });
    const [event] = await db()
      .select()
      .from(paymentEvents)
      .where(and(eq(paymentEvents.intentId, intent.id), eq(paymentEvents.event, 'amount_mismatch')));
    expect(event).toMatchObject({
      fromStatus: 'pending',
      toStatus: 'needs_review',
      accepted: true,
      source: 'callback',
      detail: { why: 'test' },
    });
    const [opened] = await db().select().from(paymentReviews).where(eq(paymentReviews.intentId, intent.id));
    expect(opened).toMatchObject({
      kind: 'amount_mismatch',
      gatewayTransactionId: 'TX-W1',
      amount: 100_000,
      status: 'open',
      detail: { test: true },
    });
    expect((await db().select().from(obligations).where(eq(obligations.dossierCode, intent.dossierCode)))[0]!.liveIntentId).toBeNull();
  });

  it('a refusal tied to a review is written once: the second time neither the review nor the event', async () => {
    const intent = await liveIntent();
    const refusal = () =>
      writeDecision(
        db(),
        write(intent, {
          event: { name: 'payment_succeeded', detail: {}, onlyWithNewReview: true },
          review: review('second_payment', 'TX-W2'),
        }),
      );
    expect(await refusal()).toEqual({ reviewOpened: true });
    expect(await refusal()).toEqual({ reviewOpened: false });
    const events = await db()
      .select()
      .from(paymentEvents)
      .where(and(eq(paymentEvents.intentId, intent.id), eq(paymentEvents.event, 'payment_succeeded')));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ accepted: false, toStatus: null });
    expect(await count(paymentReviews, eq(paymentReviews.intentId, intent.id))).toBe(1);
    const [unchanged] = await db().select().from(paymentIntents).where(eq(paymentIntents.id, intent.id));
    expect(unchanged).toEqual(intent);
    // Still held: nothing said to free them.
    expect((await db().select().from(obligations).where(eq(obligations.dossierCode, intent.dossierCode)))[0]!.liveIntentId).toBe(intent.id);
  });

  it('marks the paid lines refunded when everything is given back', async () => {
    const intent = await liveIntent();
    await db()
      .update(obligations)
      .set({ status: 'paid', paidIntentId: intent.id, liveIntentId: null })
      .where(eq(obligations.liveIntentId, intent.id));
    await db().update(paymentIntents).set({ status: 'succeeded' }).where(eq(paymentIntents.id, intent.id));
    await writeDecision(
      db(),
      write(
        { ...intent, status: 'succeeded' },
        {
          event: { name: 'refund_full', detail: { refundId: 'r' }, onlyWithNewReview: false },
          moveTo: {
            status: 'refunded',
            reviewReason: null,
            gatewayTransactionId: intent.gatewayTransactionId,
            refundedAmount: intent.amount,
          },
          obligations: 'mark_refunded',
        },
      ),
    );
    const lines = await db().select().from(obligations).where(eq(obligations.paidIntentId, intent.id));
    expect(lines.map((l) => l.status)).toEqual(['refunded']);
    expect((await db().select().from(paymentIntents).where(eq(paymentIntents.id, intent.id)))[0]).toMatchObject({
      status: 'refunded',
      refundedAmount: intent.amount,
    });
  });
});

describe(`claimObligations, on ${databaseLabel}`, () => {
  it('takes back every line of a given-up intent when all are free, and none when one is not', async () => {
    const intent = await liveIntent(twoLines);
    await db().update(obligations).set({ liveIntentId: null }).where(eq(obligations.liveIntentId, intent.id));
    expect(await claimObligations(db(), { intentId: intent.id, at })).toBe(true);
    const held = await db()
      .select()
      .from(obligations)
      .where(eq(obligations.dossierCode, intent.dossierCode))
      .orderBy(asc(obligations.lineNo));
    expect(held.map((l) => l.liveIntentId)).toEqual([intent.id, intent.id]);

    await db().update(obligations).set({ liveIntentId: null }).where(eq(obligations.liveIntentId, intent.id));
    const other = await json(await createIntent(h, portal, intent.dossierCode, { obligationIds: [held[1]!.id] }));
    expect(await claimObligations(db(), { intentId: intent.id, at })).toBe(false);
    const after = await db()
      .select()
      .from(obligations)
      .where(eq(obligations.dossierCode, intent.dossierCode))
      .orderBy(asc(obligations.lineNo));
    expect(after.map((l) => l.liveIntentId)).toEqual([null, other.id]);
  });

  it('counts lines the intent still holds as its own (a person accepting money in review)', async () => {
    const intent = await liveIntent(twoLines);
    expect(await claimObligations(db(), { intentId: intent.id, at })).toBe(true);
    const held = await db().select().from(obligations).where(eq(obligations.dossierCode, intent.dossierCode));
    expect(held.map((l) => l.liveIntentId)).toEqual([intent.id, intent.id]);
  });

  it('an intent with no lines claims nothing', async () => {
    expect(await claimObligations(db(), { intentId: crypto.randomUUID(), at })).toBe(false);
  });
});

function paying(intent: typeof paymentIntents.$inferSelect, overrides: Partial<MarkPaidInput> = {}): MarkPaidInput {
  return {
    intentId: intent.id,
    dossierCode: intent.dossierCode,
    gateway: intent.gateway,
    amount: intent.amount,
    onlinePaymentFlag: intent.onlinePaymentFlag,
    event: 'payment_succeeded',
    fromStatus: intent.status,
    toStatus: 'succeeded',
    gatewayTransactionId: `TX-${intent.reference}`,
    receivedAmount: null,
    paidAt: at,
    at,
    history: { source: 'callback', actor: null, detail: { test: true } },
    receipt: { id: crypto.randomUUID(), totalInWords: 'Một trăm ba mươi lăm nghìn đồng', lookupCode: `LOOKUP${intent.reference}` },
    ...overrides,
  };
}

/** How the issuer numbers on 4 December 2026, in a series of the test's own. */
const issuing = (series: string) => ({
  issuedAt: at,
  issuedDate: '2026-12-04',
  defaultFormSymbol: 'EBL01',
  defaultSeriesSymbol: series,
  operator: { name: 'Operator', address: 'Address', taxCode: null },
  ownKeyAgencies: [],
});

describe(`markPaidAndRequestReceipt and numberReceiptRequests, on ${databaseLabel}`, () => {
  it('pays the lines, the intent and the dossier, records the event and asks for the receipt; the issuer numbers it in its series', async () => {
    const intent = await liveIntent();
    const series = `HP-STMT-${intent.reference}`;
    const input = paying(intent);
    const paid = await markPaidAndRequestReceipt(db(), input);
    expect(paid).toMatchObject({ agencyCode: AGENCIES.communeA, receiptRequested: true, dossierPaid: true });
    expect(paid.lines).toEqual([expect.objectContaining({ kind: 'le_phi', feeCode: 'LP01', amount: 135_000 })]);
    expect((await db().select().from(paymentIntents).where(eq(paymentIntents.id, intent.id)))[0]).toMatchObject({
      status: 'succeeded',
      gatewayTransactionId: `TX-${intent.reference}`,
      succeededAt: at,
    });
    expect((await db().select().from(obligations).where(eq(obligations.paidIntentId, intent.id)))[0]).toMatchObject({
      status: 'paid',
      liveIntentId: null,
    });
    expect((await db().select().from(dossiers).where(eq(dossiers.code, intent.dossierCode)))[0]).toMatchObject({
      paidAt: at,
      onlinePaymentFlag: intent.onlinePaymentFlag,
    });
    // Asked for, not numbered: no receipt yet, the counter untouched.
    expect(await db().select().from(receipts).where(eq(receipts.intentId, intent.id))).toEqual([]);
    expect(await db().select().from(receiptRequests).where(eq(receiptRequests.intentId, intent.id))).toEqual([
      expect.objectContaining({
        id: input.receipt.id,
        agencyCode: AGENCIES.communeA,
        total: 135_000,
        lookupCode: `LOOKUP${intent.reference}`,
      }),
    ]);
    const [event] = await db()
      .select()
      .from(paymentEvents)
      .where(and(eq(paymentEvents.intentId, intent.id), eq(paymentEvents.event, 'payment_succeeded')));
    expect(event).toMatchObject({ accepted: true, fromStatus: 'pending', toStatus: 'succeeded', detail: { test: true } });

    const next = await liveIntent();
    await markPaidAndRequestReceipt(db(), paying(next));
    const numbered = await db().transaction((tx) =>
      numberReceiptRequests(tx, { agencyCode: AGENCIES.communeA, limit: 100, issue: issuing(series) }),
    );
    // In the order asked: the first payment's receipt is number 1, the next one's 2.
    expect(numbered.map((r) => [r.intentId, r.number])).toEqual([
      [intent.id, 1],
      [next.id, 2],
    ]);
    const [receipt] = await db().select().from(receipts).where(eq(receipts.intentId, intent.id));
    expect(receipt).toMatchObject({
      id: input.receipt.id,
      number: 1,
      total: 135_000,
      signature: null,
      formSymbol: 'EBL01',
      seriesSymbol: series,
      issuedAt: at,
      issuedDate: '2026-12-04',
      payerName: 'Nguyễn Văn An',
      lookupCode: `LOOKUP${intent.reference}`,
      // The agency signs with no key of its own: the hub issued it on its behalf.
      issuer: { name: 'Operator', address: 'Address', taxCode: null, delegation: null },
    });
    expect(await db().select().from(receiptRequests).where(eq(receiptRequests.agencyCode, AGENCIES.communeA))).toEqual([]);
    // Nothing waits: nothing is numbered, the counter stays.
    expect(
      await db().transaction((tx) => numberReceiptRequests(tx, { agencyCode: AGENCIES.communeA, limit: 100, issue: issuing(series) })),
    ).toEqual([]);
    const third = await liveIntent();
    await markPaidAndRequestReceipt(db(), paying(third));
    const [later] = await db().transaction((tx) =>
      numberReceiptRequests(tx, { agencyCode: AGENCIES.communeA, limit: 100, issue: issuing(series) }),
    );
    expect(later).toMatchObject({ intentId: third.id, number: 3 });
  });

  it('a rolled-back numbering leaves the requests waiting and the counter where it was', async () => {
    const series = `HP-ROLLBACK-${crypto.randomUUID().slice(0, 8)}`;
    const first = await liveIntent();
    await markPaidAndRequestReceipt(db(), paying(first));
    await expect(
      db().transaction(async (tx) => {
        await numberReceiptRequests(tx, { agencyCode: AGENCIES.communeA, limit: 100, issue: issuing(series) });
        throw new Error('the issuer dies before its commit');
      }),
    ).rejects.toThrow(/dies/);
    expect(await db().select().from(receipts).where(eq(receipts.intentId, first.id))).toEqual([]);
    const [again] = await db().transaction((tx) =>
      numberReceiptRequests(tx, { agencyCode: AGENCIES.communeA, limit: 100, issue: issuing(series) }),
    );
    expect(again).toMatchObject({ intentId: first.id, number: 1 });
  });

  it('leaves the dossier unpaid while another of its lines is', async () => {
    const { code, lines } = await dossierWithLines(twoLines);
    const part = await json(await createIntent(h, portal, code, { obligationIds: [lines[0]!.id] }));
    const [intent] = await db().select().from(paymentIntents).where(eq(paymentIntents.id, part.id));
    expect((await markPaidAndRequestReceipt(db(), paying(intent!))).dossierPaid).toBe(false);
    expect((await db().select().from(dossiers).where(eq(dossiers.code, code)))[0]!.paidAt).toBeNull();
  });

  it('refuses an intent that no longer holds all its lines, and its transaction then writes nothing', async () => {
    const intent = await liveIntent();
    await db().update(obligations).set({ liveIntentId: null }).where(eq(obligations.liveIntentId, intent.id));
    await expect(db().transaction((tx) => markPaidAndRequestReceipt(tx, paying(intent)))).rejects.toThrow(/holds 0 of its 1 obligations/);
    expect((await db().select().from(paymentIntents).where(eq(paymentIntents.id, intent.id)))[0]!.status).toBe('pending');
    expect((await db().select().from(receiptRequests).where(eq(receiptRequests.intentId, intent.id))).length).toBe(0);
  });
});

async function inboxRow() {
  const id = crypto.randomUUID();
  await db()
    .insert(callbackInbox)
    .values({ id, gateway: 'sandbox', method: 'POST', url: '/v1/callbacks/sandbox', headers: {}, rawBody: '{}', receivedAt: at });
  return id;
}
const answer = { status: 200, body: '{"ok":true}' };

describe(`answerRepeatedSuccess, on ${databaseLabel}`, () => {
  it('answers only the very payment the intent already holds, and records the answer on the message', async () => {
    const intent = await liveIntent();
    const tx = `TX-${intent.reference}`;
    const repeat = async (overrides: { amount?: number; transactionId?: string } = {}) => {
      const inboxId = await inboxRow();
      const answered = await answerRepeatedSuccess(db(), {
        inboxId,
        gateway: 'sandbox',
        reference: intent.reference,
        amount: intent.amount,
        transactionId: tx,
        response: answer,
        at,
        ...overrides,
      });
      return { answered, row: (await db().select().from(callbackInbox).where(eq(callbackInbox.id, inboxId)))[0]! };
    };
    const beforePaid = await repeat();
    expect(beforePaid.answered).toBe(false);
    expect(beforePaid.row).toMatchObject({ status: 'received', result: null, attempts: 0 });

    await markPaidAndRequestReceipt(db(), paying(intent));
    const paid = await repeat();
    expect(paid.answered).toBe(true);
    expect(paid.row).toMatchObject({
      status: 'processed',
      result: 'duplicate',
      intentId: intent.id,
      responseStatus: 200,
      responseBody: answer.body,
      attempts: 1,
    });
    expect((await repeat({ amount: intent.amount + 1 })).answered).toBe(false);
    expect((await repeat({ transactionId: 'TX-OTHER' })).answered).toBe(false);
  });
});

describe(`recordInboxAnswer, on ${databaseLabel}`, () => {
  it('records how the message was handled and the answer the gateway got', async () => {
    const intent = await liveIntent();
    const inboxId = await inboxRow();
    const record = () =>
      recordInboxAnswer(db(), {
        inboxId,
        status: 'processed',
        signatureValid: 'valid',
        reference: intent.reference,
        intentId: intent.id,
        result: 'applied',
        detail: { outcome: 'succeeded' },
        response: answer,
        at,
      });
    await record();
    await record();
    expect((await db().select().from(callbackInbox).where(eq(callbackInbox.id, inboxId)))[0]).toMatchObject({
      status: 'processed',
      signatureValid: 'valid',
      result: 'applied',
      intentId: intent.id,
      responseStatus: 200,
      attempts: 2,
      processedAt: at,
    });
  });
});
