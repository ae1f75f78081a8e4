import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackInbox, obligations, paymentEvents } from '../../src/db/schema/index.ts';
import { signatureHeader } from '../../src/emulators/protocol/sandbox.ts';
import { sandboxTransactions } from '../../src/emulators/schema.ts';
import { expireDueIntents } from '../../src/jobs/expire-intents.ts';
import { runJobs } from '../../src/jobs/index.ts';
import { reprocessInbox } from '../../src/services/callbacks.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken, SANDBOX_SECRETS } from '../helpers/harness.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';

/**
 * The safety nets for lost or late messages: expiry asks the gateway first, a lost callback is
 * healed by that query, "unknown" never becomes "failed", late money is never dropped, and an
 * inbox message left unprocessed by a crash is processed again.
 */
let h: Harness;
let portal: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness();
  await h.listen();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h.close());

const minutes = (n: number) => new Date(Date.now() + n * 60_000);

async function newIntent() {
  const dossier = await registerDossier(h, portal, procedure);
  const intent = await json(await createIntent(h, portal, dossier.code));
  return { dossier, intent };
}

async function intentStatus(id: string) {
  return (await json(await h.request('GET', `/v1/payment-intents/${id}`, { token: portal }))).status;
}

async function held(dossierCode: string) {
  const rows = await h.db.db.select().from(obligations).where(eq(obligations.dossierCode, dossierCode));
  return rows.filter((o) => o.liveIntentId !== null).length;
}

const successBody = (intent: { reference: string; amount: number }) => JSON.stringify(sandboxEvent(intent));
const deliver = (raw: string) => deliverSandboxCallback(h, raw);

describe(`expiry and recovery on ${databaseLabel}`, () => {
  it('expires an unpaid intent after asking the sandbox, and frees its obligations', async () => {
    const { dossier, intent } = await newIntent();
    expect(await held(dossier.code)).toBe(1);
    h.clock.now = minutes(10);
    expect((await expireDueIntents(h.ctx)).expired).toBe(0); // not due yet
    h.clock.now = minutes(31);
    const report = await expireDueIntents(h.ctx);
    h.clock.now = null;
    expect(report.expired).toBeGreaterThanOrEqual(1);
    expect(await intentStatus(intent.id)).toBe('expired');
    expect(await held(dossier.code)).toBe(0);
    expect((await createIntent(h, portal, dossier.code)).status).toBe(201);
  });

  it('heals a lost callback: the payer paid, the callback never came, expiry finds the payment', async () => {
    const { intent } = await newIntent();
    // The gateway's own ledger says paid; the hub never heard of it.
    await h.db.db.insert(sandboxTransactions).values({
      reference: intent.reference,
      transactionId: `SBX${intent.reference}`,
      amount: intent.amount,
      status: 'succeeded',
    });
    h.clock.now = minutes(31);
    const report = await expireDueIntents(h.ctx);
    h.clock.now = null;
    expect(report.settledByQuery).toBeGreaterThanOrEqual(1);
    expect(await intentStatus(intent.id)).toBe('succeeded');
    expect((await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: portal })).status).toBe(200);
  });

  it('an unreachable gateway leaves the intent pending (unknown is not failed) until the grace period', async () => {
    const down = await createHarness({ fetch: async () => Promise.reject(new TypeError('connect ECONNREFUSED')) });
    try {
      await seedAgencyTree(down.ctx);
      const proc = await createProcedure(down.ctx);
      const dossier = await registerDossier(down, portal, proc);
      const intent = await json(await createIntent(down, portal, dossier.code));
      down.clock.now = minutes(31);
      const first = await expireDueIntents(down.ctx);
      expect(first).toMatchObject({ expired: 0, leftPending: 1 });
      expect((await json(await down.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }))).status).toBe('pending');
      down.clock.now = minutes(31 + 61); // the harness grace period is 60 minutes
      expect((await expireDueIntents(down.ctx)).expired).toBe(1);
    } finally {
      await down.close();
    }
  });

  it('takes a late payment whose obligations are still free', async () => {
    const { intent } = await newIntent();
    h.clock.now = minutes(31);
    await runJobs(h.ctx);
    expect(await intentStatus(intent.id)).toBe('expired');
    const answer = await json(await deliver(successBody(intent)));
    h.clock.now = null;
    expect(answer.result).toBe('applied');
    expect(await intentStatus(intent.id)).toBe('succeeded');
    const events = await h.db.db.select().from(paymentEvents).where(eq(paymentEvents.intentId, intent.id));
    expect(events.map((e) => e.event)).toContain('late_payment_succeeded');
  });

  it('sends a late payment to review when another intent has paid the obligations since', async () => {
    const { dossier, intent: first } = await newIntent();
    await h.request('POST', `/v1/payment-intents/${first.id}/cancel`, { token: portal });
    const second = await json(await createIntent(h, portal, dossier.code));
    expect((await json(await deliver(successBody(second)))).result).toBe('applied');
    const late = await json(await deliver(successBody(first)));
    expect(late.result).toBe('needs_review');
    const reviewed = await json(await h.request('GET', `/v1/payment-intents/${first.id}`, { token: portal }));
    expect(reviewed.status).toBe('needs_review');
    expect(reviewed.reviewReason).toMatch(/obligations/);
    const after = await json(await h.request('GET', `/v1/dossiers/${dossier.code}`, { token: portal }));
    expect(after.obligations.every((o: { status: string }) => o.status === 'paid')).toBe(true);
  });

  it('re-processes an inbox message that a crash left unprocessed', async () => {
    const { intent } = await newIntent();
    const raw = successBody(intent);
    // As if the process died right after storing the message.
    const id = crypto.randomUUID();
    await h.db.db.insert(callbackInbox).values({
      id,
      gateway: 'sandbox',
      method: 'POST',
      url: '/v1/callbacks/sandbox',
      headers: { 'sandbox-signature': await signatureHeader(SANDBOX_SECRETS[1]!, Math.floor(Date.now() / 1000), raw) },
      rawBody: raw,
      receivedAt: new Date(Date.now() - 120_000),
    });
    const report = await reprocessInbox(h.ctx);
    expect(report.processed).toBeGreaterThanOrEqual(1);
    const [row] = await h.db.db.select().from(callbackInbox).where(eq(callbackInbox.id, id));
    expect(row).toMatchObject({ status: 'processed', result: 'applied', signatureValid: 'valid' });
    expect(await intentStatus(intent.id)).toBe('succeeded');
  });
});
