import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { dossiers, paymentEvents, paymentReviews, receipts } from '../../src/db/schema/index.ts';
import type { Gateway } from '../../src/gateways/types.ts';
import { expireDueIntents } from '../../src/jobs/expire-intents.ts';
import { applyOutcome } from '../../src/services/apply-outcome.ts';
import { databaseLabel } from '../helpers/database.ts';
import {
  AGENCIES,
  createIntent,
  createProcedure,
  dossierBody,
  idempotencyKey,
  registerDossier,
  rule,
  seedAgencyTree,
} from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';

/**
 * Money the hub cannot decide alone is kept for review, never dropped; races between payments,
 * fee changes and new intents end in a clear answer, never a 500 or a dossier left unmarked.
 */
let h: Harness;
let portal: string;
let single: string;
let twoLines: string;

beforeAll(async () => {
  h = await createHarness();
  await h.listen();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  single = await createProcedure(h.ctx);
  twoLines = await createProcedure(h.ctx, [
    rule({ feeCode: 'LP01', formula: { type: 'fixed', amount: 50_000 } }),
    rule({ kind: 'phi', feeCode: 'P02', lineNo: 2, formula: { type: 'fixed', amount: 100_000 } }),
  ]);
});
afterAll(() => h.close());

const reviewsOf = (intentId: string) => h.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, intentId));

async function paidIntent() {
  const dossier = await registerDossier(h, portal, single);
  const intent = await json(await createIntent(h, portal, dossier.code));
  expect((await json(await deliverSandboxCallback(h, sandboxEvent(intent)))).result).toBe('applied');
  return intent;
}

describe(`reviews on ${databaseLabel}`, () => {
  it('a second, different payment of a paid intent opens one refund review, however often it is reported', async () => {
    const intent = await paidIntent();
    const second = sandboxEvent(intent, { transactionId: `SECOND${intent.reference}` });
    expect((await json(await deliverSandboxCallback(h, second))).result).toBe('already_final');
    expect((await json(await deliverSandboxCallback(h, second))).result).toBe('duplicate');
    const reviews = await reviewsOf(intent.id);
    expect(reviews).toHaveLength(1);
    expect(reviews[0]).toMatchObject({
      kind: 'second_payment',
      proposedAction: 'refund',
      status: 'open',
      amount: intent.amount,
      gatewayTransactionId: `SECOND${intent.reference}`,
    });
    const after = await json(await h.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }));
    expect(after.status).toBe('succeeded');
    expect(await h.db.db.select().from(receipts).where(eq(receipts.intentId, intent.id))).toHaveLength(1);
  });

  it('a wrong amount beside a paid intent is money kept for review, not ignored', async () => {
    const intent = await paidIntent();
    const extra = sandboxEvent(intent, { transactionId: `EXTRA${intent.reference}`, amount: 1_000 });
    expect((await json(await deliverSandboxCallback(h, extra))).result).toBe('amount_mismatch');
    expect(await reviewsOf(intent.id)).toMatchObject([{ kind: 'amount_mismatch', amount: 1_000, proposedAction: 'refund' }]);
  });

  it('a payment reported while the intent is held for fraud review is kept beside it', async () => {
    const dossier = await registerDossier(h, portal, single);
    const intent = await json(await createIntent(h, portal, dossier.code));
    await applyOutcome(h.ctx, {
      intentId: intent.id,
      outcome: { kind: 'needs_review', reason: 'VNPay 07: suspected fraud' },
      source: 'callback',
    });
    expect((await json(await deliverSandboxCallback(h, sandboxEvent(intent)))).result).toBe('already_final');
    const kinds = (await reviewsOf(intent.id)).map((r) => r.kind).sort();
    expect(kinds).toEqual(['second_payment', 'suspected_fraud']);
    const events = await h.db.db
      .select()
      .from(paymentEvents)
      .where(and(eq(paymentEvents.intentId, intent.id), eq(paymentEvents.accepted, false)));
    expect(events).toHaveLength(1);
  });
});

describe(`receipt numbers on ${databaseLabel}`, () => {
  it('run 1, 2, 3… per agency and series, without gaps, whatever order payments come in', async () => {
    const procedure = await createProcedure(h.ctx);
    const pay = async (agencyCode: string) => {
      const dossier = await registerDossier(h, portal, procedure, { agencyCode });
      const intent = await json(await createIntent(h, portal, dossier.code));
      return intent;
    };
    const inA = await Promise.all([1, 2, 3].map(() => pay(AGENCIES.communeB)));
    const inB = await Promise.all([1, 2].map(() => pay(AGENCIES.department)));
    // Paid concurrently, and one declined in between: a decline takes no number.
    const declined = await pay(AGENCIES.communeB);
    await Promise.all([
      ...[...inA, ...inB].map((i) => deliverSandboxCallback(h, sandboxEvent(i))),
      deliverSandboxCallback(h, sandboxEvent(declined, { type: 'payment.declined' })),
    ]);
    const numbers = async (agencyCode: string) =>
      (await h.db.db.select({ number: receipts.number }).from(receipts).where(eq(receipts.agencyCode, agencyCode)))
        .map((r) => r.number)
        .sort((a, b) => a - b);
    expect(await numbers(AGENCIES.communeB)).toEqual([1, 2, 3]);
    expect(await numbers(AGENCIES.department)).toEqual([1, 2]);
  });
});

describe(`races on ${databaseLabel}`, () => {
  it('two intents of one dossier paid at the same moment leave the dossier marked paid', async () => {
    for (let round = 0; round < 10; round++) {
      const dossier = await registerDossier(h, portal, twoLines);
      const [first, second] = dossier.obligations.map((o: { id: string }) => o.id);
      const a = await json(await createIntent(h, portal, dossier.code, { obligationIds: [first] }));
      const b = await json(await createIntent(h, portal, dossier.code, { obligationIds: [second] }));
      const answers = await Promise.all([deliverSandboxCallback(h, sandboxEvent(a)), deliverSandboxCallback(h, sandboxEvent(b))]);
      expect(answers.map((r) => r.status)).toEqual([200, 200]);
      const [row] = await h.db.db.select().from(dossiers).where(eq(dossiers.code, dossier.code));
      expect(row!.onlinePaymentFlag, `round ${round}`).toBe(2);
      expect(row!.paidAt).not.toBeNull();
    }
  });

  it('a fee change racing a new intent ends in 2xx or 409, never 500, and never on stale obligations', async () => {
    for (let round = 0; round < 40; round++) {
      const dossier = await registerDossier(h, portal, single);
      const [change, create] = await Promise.all([
        h.request('PUT', `/v1/dossiers/${dossier.code}`, { token: portal, body: dossierBody(single, { channel: 'direct' }) }),
        createIntent(h, portal, dossier.code),
      ]);
      expect([200, 409]).toContain(change.status);
      expect([201, 409]).toContain(create.status);
      // Whichever order they ran in, an intent never holds obligations the change superseded.
      const now = await json(await h.request('GET', `/v1/dossiers/${dossier.code}`, { token: portal }));
      if (create.status === 201) expect((await json(create)).obligationIds).toEqual(now.obligations.map((o: { id: string }) => o.id));
      else expect(now.obligations.every((o: { status: string }) => o.status === 'unpaid')).toBe(true);
    }
  });
});

describe('idempotent replays', () => {
  it('a reused key with another body creates nothing, even when that body could succeed', async () => {
    const dossier = await registerDossier(h, portal, twoLines);
    const [first, second] = dossier.obligations.map((o: { id: string }) => o.id);
    const key = idempotencyKey();
    expect((await createIntent(h, portal, dossier.code, { obligationIds: [first] }, key)).status).toBe(201);
    const reused = await createIntent(h, portal, dossier.code, { obligationIds: [second] }, key);
    expect(reused.status).toBe(409);
    expect((await json(reused)).code).toBe('idempotency-key-reused');
    const after = await json(await h.request('GET', `/v1/dossiers/${dossier.code}`, { token: portal }));
    // The second obligation is still free: a new key can pay it.
    expect((await createIntent(h, portal, after.code, { obligationIds: [second] })).status).toBe(201);
  });

  it('are shown only to a caller who may see the intent', async () => {
    const dossier = await registerDossier(h, portal, single);
    const key = idempotencyKey();
    const first = await createIntent(h, portal, dossier.code, {}, key);
    expect(first.status).toBe(201);
    // The same subject, with a token for another province.
    const elsewhere = await mintToken({ role: 'portal', agencies: [AGENCIES.otherProvince], subject: 'portal-user' });
    const replay = await createIntent(h, elsewhere, dossier.code, {}, key);
    expect(replay.status).toBe(404);
  });
});

describe('expiry', () => {
  it('one intent that cannot be settled does not hold back the others', async () => {
    const stuck = await json(await createIntent(h, portal, (await registerDossier(h, portal, single)).code));
    const free = await json(await createIntent(h, portal, (await registerDossier(h, portal, single)).code));
    const sandbox = h.ctx.gateways.sandbox!;
    const flaky: Gateway = {
      ...sandbox,
      queryStatus: async (intent) => {
        if (intent.reference === stuck.reference) throw new Error('gateway client bug');
        return { kind: 'not_found' };
      },
    };
    h.clock.now = new Date(Date.now() + 31 * 60_000);
    try {
      const report = await expireDueIntents({ ...h.ctx, gateways: { ...h.ctx.gateways, sandbox: flaky } });
      expect(report.failed).toBe(1);
      expect(report.expired).toBeGreaterThanOrEqual(1);
    } finally {
      h.clock.now = null;
    }
    expect((await json(await h.request('GET', `/v1/payment-intents/${free.id}`, { token: portal }))).status).toBe('expired');
    expect((await json(await h.request('GET', `/v1/payment-intents/${stuck.id}`, { token: portal }))).status).toBe('pending');
  });

  it('a status answer that claims payment without amount or transaction is unknown, not paid', async () => {
    const odd = await createHarness({
      fetch: async () =>
        new Response(JSON.stringify({ reference: 'x', status: 'succeeded' }), { headers: { 'content-type': 'application/json' } }),
    });
    try {
      const answer = await odd.ctx.gateways.sandbox!.queryStatus!({
        id: crypto.randomUUID(),
        reference: 'HP0000000000',
        amount: 1,
        createdAt: new Date(),
        gatewayReference: null,
        gatewayTransactionId: null,
        succeededAt: null,
      });
      expect(answer.kind).toBe('unknown');
    } finally {
      await odd.close();
    }
  });
});

describe('configuration', () => {
  it('refuses the sandbox gateway in production', () => {
    expect(() => parseConfig({ NODE_ENV: 'production', SANDBOX_SECRETS: 's1' })).toThrow(/SANDBOX_SECRETS/);
    expect(parseConfig({ NODE_ENV: 'production' }).sandbox).toBeUndefined();
  });
});
