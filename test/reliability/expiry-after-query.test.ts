import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { obligations, paymentIntents } from '../../src/db/schema/index.ts';
import { QUERYDR_ANSWER_FIELDS, signedAnswer } from '../../src/emulators/protocol/vnpay.ts';
import { createVnpayGateway } from '../../src/gateways/vnpay/adapter.ts';
import { expireDueIntents } from '../../src/jobs/expire-intents.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { vnpayFixture } from '../helpers/vnpay-fixtures.ts';

/**
 * Expiry asks the gateway first. When what the gateway says changes nothing (a decline stated
 * for another amount), the intent must still expire: otherwise it stays due for ever and its
 * fee lines stay held, so the citizen can never pay them again.
 */
const TMN = 'DEMOV210';
const SECRET = 'vnpay-expiry-secret-0123456789';
let h: Harness;
let portal: string;
let procedure: string;
let answer: (txnRef: string) => Record<string, unknown>;

beforeAll(async () => {
  h = await createHarness({
    gateways: (env) => ({
      vnpay: createVnpayGateway({
        tmnCode: TMN,
        secrets: [SECRET],
        paymentUrl: 'https://sandbox.vnpayment.vn/paymentv2/vpcpay.html',
        apiUrl: 'https://vnpay.test/merchant_webapi/api/transaction',
        encoding: 'php',
        serverIp: '203.0.113.10',
        polling: { startDelaySeconds: 600, intervalSeconds: 900, maxAttempts: 8 },
        returnUrl: `${env.baseUrl}/v1/returns/vnpay`,
        // The querydr answer, signed the way VNPay signs it (an independent implementation).
        fetch: async (_input, init) => {
          const request = JSON.parse(String(init?.body));
          return new Response(JSON.stringify(signedAnswer(answer(request.vnp_TxnRef), QUERYDR_ANSWER_FIELDS, SECRET)), {
            headers: { 'content-type': 'application/json' },
          });
        },
        now: env.now,
        timeoutMs: 2000,
      }),
    }),
  });
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h.close());

describe(`expiry after a status query that changes nothing, on ${databaseLabel}`, () => {
  it('expires the intent and frees its fee lines', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    const intent = await json(await createIntent(h, portal, dossier.code, { gateway: 'vnpay' }));
    // VNPay says: declined (02), for 1.000 VND — not the 135.000 VND asked.
    answer = (txnRef) => ({
      ...vnpayFixture('querydr-success'),
      vnp_TmnCode: TMN,
      vnp_TxnRef: txnRef,
      vnp_Amount: '100000',
      vnp_TransactionStatus: '02',
      vnp_ResponseCode: '00',
    });
    h.clock.now = new Date(Date.now() + 31 * 60_000);
    const report = await expireDueIntents(h.ctx);
    h.clock.now = null;
    expect(report.expired).toBeGreaterThanOrEqual(1);
    const [row] = await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, intent.id));
    expect(row!.status).toBe('expired');
    const lines = await h.db.db.select().from(obligations).where(eq(obligations.dossierCode, dossier.code));
    expect(lines.every((l) => l.liveIntentId === null && l.status === 'unpaid')).toBe(true);
    // Not due any more: a second run leaves it alone.
    h.clock.now = new Date(Date.now() + 32 * 60_000);
    const again = await expireDueIntents(h.ctx);
    h.clock.now = null;
    expect(again.due).toBe(0);
  });
});
