import { asc, count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackInbox, obligations, paymentIntents, receipts } from '../../src/db/schema/index.ts';
import { signatureHeader } from '../../src/emulators/protocol/sandbox.ts';
import { reprocessInbox } from '../../src/services/callbacks.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken, SANDBOX_SECRETS } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';

/**
 * POST /v1/callbacks/sandbox, sent directly with the sandbox's signing helpers: authenticated by
 * the signature alone, stored raw before anything else, applied through the one applyOutcome.
 */
let h: Harness;
let portal: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h?.close());

const nowSeconds = () => Math.floor(Date.now() / 1000);

interface Intent {
  id: string;
  reference: string;
  amount: number;
  dossierCode: string;
  obligationIds: string[];
}

async function pendingIntent(): Promise<Intent> {
  const dossier = await registerDossier(h, portal, procedure);
  return expectJson(await createIntent(h, portal, dossier.code), 201);
}

function event(intent: Pick<Intent, 'reference' | 'amount'>, overrides: Record<string, unknown> = {}) {
  return {
    type: 'payment.succeeded',
    reference: intent.reference,
    transactionId: `SBX-${intent.reference}`,
    amount: intent.amount,
    currency: 'VND',
    occurredAt: new Date().toISOString(),
    ...overrides,
  };
}

interface DeliverOptions {
  secret?: string;
  timestamp?: number;
  gateway?: string;
  /** Sent as the Sandbox-Signature header instead of a computed one (null: no header). */
  signature?: string | null;
  headers?: Record<string, string>;
}

/** Sends a callback the way the sandbox does: the raw bytes, signed over `${t}.${raw}`. */
async function deliver(payload: unknown, options: DeliverOptions = {}) {
  const raw = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  const signature =
    options.signature !== undefined
      ? options.signature
      : await signatureHeader(options.secret ?? SANDBOX_SECRETS[0]!, options.timestamp ?? nowSeconds(), raw);
  if (signature !== null) headers['sandbox-signature'] = signature;
  const response = await h.request('POST', `/v1/callbacks/${options.gateway ?? 'sandbox'}`, { rawBody: raw, headers });
  return { response, raw };
}

const inboxRowsFor = (raw: string) =>
  h.db.db.select().from(callbackInbox).where(eq(callbackInbox.rawBody, raw)).orderBy(asc(callbackInbox.receivedAt));
const inboxCount = async () => (await h.db.db.select({ n: count() }).from(callbackInbox))[0]!.n;
const receiptCount = async (intentId: string) =>
  (await h.db.db.select({ n: count() }).from(receipts).where(eq(receipts.intentId, intentId)))[0]!.n;
const intentRow = async (id: string) => (await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id)))[0]!;
const obligationRows = (intent: Intent) => h.db.db.select().from(obligations).where(eq(obligations.dossierCode, intent.dossierCode));
const readIntent = async (id: string) => expectJson(await h.request('GET', `/v1/payment-intents/${id}`, { token: portal }), 200);
const readReceipt = (id: string) => h.request('GET', `/v1/payment-intents/${id}/receipt`, { token: portal });

/** Asserts that the intent, its obligations and its receipts are exactly as before. */
async function snapshot(intent: Intent) {
  return { intent: await intentRow(intent.id), obligations: await obligationRows(intent), receipts: await receiptCount(intent.id) };
}

describe('happy', () => {
  it('applies a valid success: 200 applied, the intent succeeds, a receipt is issued', async () => {
    const intent = await pendingIntent();
    const { response, raw } = await deliver(event(intent));
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await expectJson(response, 200)).toEqual({ received: true, result: 'applied' });

    const paid = await readIntent(intent.id);
    expect(paid).toMatchObject({ status: 'succeeded', nextAction: null });
    expect(paid.succeededAt).not.toBeNull();
    const receipt = await expectJson(await readReceipt(intent.id), 200);
    expect(receipt).toMatchObject({
      intentId: intent.id,
      reference: intent.reference,
      total: intent.amount,
      gatewayTransactionId: `SBX-${intent.reference}`,
    });
    const rows = await obligationRows(intent);
    expect(rows.map((o) => [o.status, o.paidIntentId, o.liveIntentId])).toEqual([['paid', intent.id, null]]);

    const [stored] = await inboxRowsFor(raw);
    expect(stored).toMatchObject({
      gateway: 'sandbox',
      method: 'POST',
      url: '/v1/callbacks/sandbox',
      status: 'processed',
      signatureValid: 'valid',
      reference: intent.reference,
      intentId: intent.id,
      result: 'applied',
      responseStatus: 200,
      attempts: 1,
    });
    expect(stored!.processedAt).not.toBeNull();
  });

  it('accepts a signature made with the second (rotated) secret', async () => {
    const intent = await pendingIntent();
    const { response } = await deliver(event(intent), { secret: SANDBOX_SECRETS[1] });
    expect(await expectJson(response, 200)).toEqual({ received: true, result: 'applied' });
    expect((await readIntent(intent.id)).status).toBe('succeeded');
  });

  it('accepts a header carrying an old and a new signature while keys rotate', async () => {
    const intent = await pendingIntent();
    const raw = JSON.stringify(event(intent));
    const t = nowSeconds();
    const unknownKey = (await signatureHeader('a-retired-secret-nobody-has-anymore', t, raw)).split(',')[1];
    const current = (await signatureHeader(SANDBOX_SECRETS[0]!, t, raw)).split(',')[1];
    const { response } = await deliver(raw, { signature: `t=${t},${unknownKey},${current}` });
    expect(await expectJson(response, 200)).toEqual({ received: true, result: 'applied' });
  });

  it('applies a decline: the intent fails and its obligations are free again', async () => {
    const intent = await pendingIntent();
    const { response } = await deliver(event(intent, { type: 'payment.declined' }));
    expect(await expectJson(response, 200)).toEqual({ received: true, result: 'applied' });
    expect((await readIntent(intent.id)).status).toBe('failed');
    expect((await obligationRows(intent)).map((o) => [o.status, o.liveIntentId])).toEqual([['unpaid', null]]);
    await expectJson(await createIntent(h, portal, intent.dossierCode), 201);
  });

  it('answers a repeat of the same success with duplicate, and still one receipt', async () => {
    const intent = await pendingIntent();
    const body = event(intent);
    expect(await expectJson((await deliver(body)).response, 200)).toEqual({ received: true, result: 'applied' });
    const after = await snapshot(intent);
    const receipt = await expectJson(await readReceipt(intent.id), 200);
    for (let i = 0; i < 3; i++) {
      expect(await expectJson((await deliver(body)).response, 200)).toEqual({ received: true, result: 'duplicate' });
    }
    expect(await receiptCount(intent.id)).toBe(1);
    expect(await snapshot(intent)).toEqual(after);
    expect(await expectJson(await readReceipt(intent.id), 200)).toEqual(receipt);
    expect(await inboxRowsFor(JSON.stringify(body))).toHaveLength(4);
  });

  it('a failure after the success changes nothing: the intent stays succeeded', async () => {
    const intent = await pendingIntent();
    await deliver(event(intent));
    const after = await snapshot(intent);
    const { response } = await deliver(event(intent, { type: 'payment.declined', occurredAt: new Date(Date.now() + 1000).toISOString() }));
    expect(await expectJson(response, 200)).toEqual({ received: true, result: 'already_final' });
    expect(await snapshot(intent)).toEqual(after);
    expect((await readIntent(intent.id)).status).toBe('succeeded');
  });

  it('answers an unknown reference with unknown_reference, and keeps the message', async () => {
    const body = event({ reference: 'HPZZZZZZZZZZ', amount: 135_000 });
    const { response, raw } = await deliver(body);
    expect(await expectJson(response, 200)).toEqual({ received: true, result: 'unknown_reference' });
    const rows = await inboxRowsFor(raw);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'processed',
      signatureValid: 'valid',
      reference: 'HPZZZZZZZZZZ',
      intentId: null,
      result: 'unknown_reference',
    });
  });

  it('stores every callback in the inbox with its raw body exactly as sent, credentials dropped', async () => {
    const intent = await pendingIntent();
    const before = await inboxCount();
    // Odd spacing, key order, an extra field with Vietnamese text and a trailing newline: the
    // signature is over these bytes, so they must be kept as they are.
    const raw =
      `{ "reference" : "${intent.reference}",\n  "type":"payment.succeeded", "amount": ${intent.amount}, "currency":"VND",` +
      ` "transactionId":"SBX-RAW-1", "occurredAt":"${new Date().toISOString()}", "ghiChu": "Thanh toán lệ phí – đồng ý" }\n`;
    const sent = [
      await deliver(raw, { headers: { authorization: 'Bearer should-not-be-kept', cookie: 'session=secret' } }),
      await deliver(raw, { signature: 't=1,v1=00' }),
      await deliver('{"not":"a callback"}'),
      await deliver('this is not json'),
    ];
    expect(sent.map((s) => s.response.status)).toEqual([200, 401, 400, 400]);
    expect(await inboxCount()).toBe(before + sent.length);
    for (const { raw: body } of sent) {
      const rows = await inboxRowsFor(body);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row.rawBody).toBe(body);
    }
    const [applied] = await inboxRowsFor(raw);
    expect(applied!.headers).not.toHaveProperty('authorization');
    expect(applied!.headers).not.toHaveProperty('cookie');
    expect(applied!.headers['sandbox-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect((await readIntent(intent.id)).status).toBe('succeeded');
  });

  it('keeps a callback whose processing failed, answers "try again", and the inbox job applies it later', async () => {
    const intent = await pendingIntent();
    const gateway = h.deps.gateways.sandbox!;
    const verify = gateway.verifyCallback;
    gateway.verifyCallback = async () => {
      throw new Error('database went away');
    };
    let delivered: Awaited<ReturnType<typeof deliver>>;
    try {
      delivered = await deliver(event(intent));
    } finally {
      gateway.verifyCallback = verify;
    }
    expect(delivered.response.status).toBe(503);
    const [stored] = await inboxRowsFor(delivered.raw);
    expect(stored).toMatchObject({ status: 'received', result: 'error', attempts: 1 });
    expect((await readIntent(intent.id)).status).toBe('pending');

    const run = await reprocessInbox(h.ctx, { olderThanMs: -60_000 });
    expect(run.processed).toBeGreaterThanOrEqual(1);
    expect((await readIntent(intent.id)).status).toBe('succeeded');
    const [after] = await inboxRowsFor(delivered.raw);
    expect(after).toMatchObject({ status: 'processed', result: 'applied', attempts: 2 });
  });
});

describe('error', () => {
  it('refuses a bad signature with 401, and nothing changes', async () => {
    const intent = await pendingIntent();
    const before = await snapshot(intent);
    const cases = [
      await deliver(event(intent), { secret: 'an-attacker-secret-0123456789abcdef' }),
      await deliver(event(intent), { signature: null }),
      await deliver(event(intent), { signature: 'v1=deadbeef' }),
      await deliver(event(intent), { signature: `t=${nowSeconds()},v1=${'0'.repeat(64)}` }),
    ];
    // Signed, then edited: the amount is not what was signed.
    const signedRaw = JSON.stringify(event(intent, { amount: 1 }));
    const signature = await signatureHeader(SANDBOX_SECRETS[0]!, nowSeconds(), signedRaw);
    cases.push(await deliver(event(intent), { signature }));
    for (const { response, raw } of cases) {
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ received: false, error: 'bad_signature' });
      const rows = await inboxRowsFor(raw);
      expect(rows.at(-1)).toMatchObject({ status: 'rejected', signatureValid: 'invalid', result: 'bad_signature', responseStatus: 401 });
    }
    expect(await snapshot(intent)).toEqual(before);
  });

  it('refuses a timestamp more than 5 minutes old (or ahead) with 401 stale', async () => {
    const intent = await pendingIntent();
    const before = await snapshot(intent);
    for (const timestamp of [nowSeconds() - 301, nowSeconds() - 3600, nowSeconds() + 310]) {
      const { response, raw } = await deliver(event(intent), { timestamp });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ received: false, error: 'stale' });
      expect((await inboxRowsFor(raw)).at(-1)).toMatchObject({ status: 'rejected', result: 'stale' });
    }
    expect(await snapshot(intent)).toEqual(before);
    // Within the window it is fine.
    const { response } = await deliver(event(intent), { timestamp: nowSeconds() - 240 });
    expect(await expectJson(response, 200)).toEqual({ received: true, result: 'applied' });
  });

  it('signs the timestamp: a valid signature moved to another t (inside the window) is refused', async () => {
    const intent = await pendingIntent();
    const before = await snapshot(intent);
    const raw = JSON.stringify(event(intent));
    const t = nowSeconds();
    const v1 = (await signatureHeader(SANDBOX_SECRETS[0]!, t, raw)).split(',')[1];
    const { response } = await deliver(raw, { signature: `t=${t - 10},${v1}` });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ received: false, error: 'bad_signature' });
    expect(await snapshot(intent)).toEqual(before);
  });

  it('a stale timestamp with a bad signature is reported as a bad signature', async () => {
    const intent = await pendingIntent();
    const { response } = await deliver(event(intent), { timestamp: nowSeconds() - 3600, secret: 'not-the-secret-0123456789abcdef' });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ received: false, error: 'bad_signature' });
  });

  it('a wrong amount: 200 amount_mismatch, the intent goes to review, obligations not paid', async () => {
    const intent = await pendingIntent();
    const { response } = await deliver(event(intent, { amount: intent.amount - 1_000 }));
    expect(await expectJson(response, 200)).toEqual({ received: true, result: 'amount_mismatch' });
    const review = await readIntent(intent.id);
    expect(review.status).toBe('needs_review');
    expect(review.reviewReason).toContain(String(intent.amount - 1_000));
    // Money may have moved: the obligations stay held by the intent, unpaid, for treasury.
    expect((await obligationRows(intent)).map((o) => [o.status, o.liveIntentId])).toEqual([['unpaid', intent.id]]);
    expect(await receiptCount(intent.id)).toBe(0);
    await expectProblem(await readReceipt(intent.id), 409, 'receipt-not-issued');
    // Nobody else may pay them meanwhile.
    await expectProblem(await createIntent(h, portal, intent.dossierCode), 409, 'obligation-unavailable');
    // The right amount arriving afterwards does not quietly settle the review.
    await deliver(event(intent, { transactionId: 'SBX-SECOND' }));
    expect((await readIntent(intent.id)).status).toBe('needs_review');
    expect(await receiptCount(intent.id)).toBe(0);
  });

  it('a second, different success for a paid intent is not a second receipt', async () => {
    const intent = await pendingIntent();
    await deliver(event(intent));
    const after = await snapshot(intent);
    const { response } = await deliver(event(intent, { transactionId: 'SBX-ANOTHER-PAYMENT' }));
    expect(response.status).toBe(200);
    expect(await snapshot(intent)).toEqual(after);
  });

  it.each([
    ['malformed JSON', '{"type":"payment.succeeded",'],
    ['an empty body', ''],
    ['JSON of the wrong shape', '{"type":"payment.refunded","reference":"HP0000000000"}'],
    ['a fractional amount', JSON.stringify(event({ reference: 'HP0000000001', amount: 1.5 }))],
    ['a NUL character in the body', '{"type":"payment.succeeded","reference":"HP\u0000"}'],
    ['a NUL character in the reference', JSON.stringify(event({ reference: 'HP\u00000', amount: 1 }))],
    ['an occurredAt in year 0000', JSON.stringify(event({ reference: 'HP0000000002', amount: 1 }, { occurredAt: '0000-01-01T00:00:00Z' }))],
  ])('refuses %s with a valid signature: 400 malformed, and keeps it', async (_name, raw) => {
    const before = await inboxCount();
    const { response } = await deliver(raw);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ received: false, error: 'malformed' });
    expect(await inboxCount()).toBe(before + 1);
    // Kept byte for byte, except NUL, which a PostgreSQL text column cannot hold (shown as U+FFFD).
    const rows = await inboxRowsFor(raw.replaceAll('\u0000', '\ufffd'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'rejected', result: 'malformed', responseStatus: 400 });
  });

  it.each(['vnpay', 'vietqr', 'dvcqg', 'paypal', '..%2F..%2Fadmin'])(
    'a gateway not configured here (%s): 404 problem, nothing stored',
    async (gateway) => {
      const intent = await pendingIntent();
      const before = await inboxCount();
      const { response } = await deliver(event(intent), { gateway });
      await expectProblem(response, 404, 'not-found');
      expect(await inboxCount()).toBe(before);
      expect((await readIntent(intent.id)).status).toBe('pending');
    },
  );

  it('refuses a body over 64 KiB (413)', async () => {
    const raw = JSON.stringify({ padding: 'x'.repeat(70 * 1024) });
    const { response } = await deliver(raw);
    await expectProblem(response, 413, 'payload-too-large');
  });
});

describe('security', () => {
  it('needs no bearer token, and a bearer token does not replace the signature', async () => {
    const intent = await pendingIntent();
    const admin = await mintToken({ role: 'admin' });
    const { response } = await deliver(event(intent), { signature: null, headers: { authorization: `Bearer ${admin}` } });
    expect(response.status).toBe(401);
    expect((await readIntent(intent.id)).status).toBe('pending');
  });

  it('a replayed success for a cancelled intent takes the money only if the obligations are still free', async () => {
    const intent = await pendingIntent();
    await expectJson(await h.request('POST', `/v1/payment-intents/${intent.id}/cancel`, { token: portal }), 200);
    const replacement = await expectJson(await createIntent(h, portal, intent.dossierCode), 201);
    const { response } = await deliver(event(intent));
    expect(response.status).toBe(200);
    // The late success of the cancelled intent cannot take obligations held by its replacement.
    expect((await readIntent(intent.id)).status).toBe('needs_review');
    expect((await readIntent(replacement.id)).status).toBe('pending');
    expect((await obligationRows(intent)).map((o) => o.status)).toEqual(['unpaid']);
  });
});
