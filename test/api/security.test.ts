import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discrepancies, paymentReviews, receipts, refunds, webhookDeliveries } from '../../src/db/schema/index.ts';
import { addDays } from '../../src/domain/dates.ts';
import type { Role } from '../../src/services/principal.ts';
import {
  AGENCIES,
  createIntent,
  createProcedure,
  dossierBody,
  idempotencyKey,
  registerDossier,
  rule,
  seedAgencyTree,
  uniqueDossierCode,
} from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken, TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';
import { insertStatement, type LineInput, multipart } from '../helpers/statements.ts';
import { COMMUNE_A_ACCOUNT, giveCommuneAnAccount } from '../helpers/vietqr.ts';

/**
 * The one security suite (STYLE.md): every /v1 route except the gateway callbacks is listed
 * below as data, and every check runs against every route. The last test compares the list with
 * /openapi.json, so a new route cannot be added without being listed here.
 */

interface Req {
  path: string;
  body?: unknown;
  /** A body sent as it is (a multipart upload), instead of `body` as JSON. */
  rawBody?: Uint8Array;
  headers?: Record<string, string>;
  /** The id of the resource the request names (to compare "outside scope" with "missing"). */
  id?: string;
}

interface RouteCase {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** The path as /openapi.json spells it. */
  template: string;
  roles: readonly Role[];
  /** The resource belongs to an agency: outside the caller's subtree it does not exist (404). */
  scoped: boolean;
  /** A valid request naming existing resources. */
  request(): Req;
  /** A request that succeeds for an allowed principal, when a repeat of `request()` would not. */
  fresh?(): Promise<Req>;
  /** The same request naming a resource that does not exist. */
  missing?(): Req;
  /** The request as an outsider of `agency` would send it, when the body names an agency. */
  asOutsider?(agency: string): Req;
  /**
   * What an outsider is answered, when it is not 404: naming a dossier code of another unit's
   * series is refused for the code itself (422), whether or not such a dossier exists.
   */
  outsiderAnswer?: { status: number; code: string };
}

const ALL_ROLES: readonly Role[] = ['portal', 'treasury', 'campaign', 'admin'];
const RETURN_URL = 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua';
const MISSING_UUID = '00000000-0000-4000-8000-000000000000';

let h: Harness;
const f = {
  procedure: '',
  catalogue: '',
  catalogueRuleId: '',
  dossier: '',
  intent: '',
  cancellable: '',
  paidIntent: '',
  paidReceipt: '',
  refund: '',
  awaitingRefund: '',
  bigProcedure: '',
  campaign: '',
  review: '',
  day: '',
  discrepancy: '',
  statement: '',
  endpoint: '',
  delivery: '',
};

/** A paid intent of its own (the sandbox callback, delivered by the test). */
async function freshPaidIntent(procedure = f.procedure): Promise<{ id: string; amount: number }> {
  const admin = await mintToken({ role: 'admin' });
  const dossier = await registerDossier(h, admin, procedure);
  const intent = await expectJson(await createIntent(h, admin, dossier.code), 201);
  await expectJson(await deliverSandboxCallback(h, sandboxEvent(intent)), 200);
  return intent;
}

const replacementBody = { payer: { name: 'Nguyễn Văn Ân' }, reason: 'Sai tên người nộp' };
const receiptOf = async (intentId: string) =>
  (await h.db.db.select({ id: receipts.id }).from(receipts).where(eq(receipts.intentId, intentId)))[0]!.id;

/** A refund above the approval threshold, asked for by a treasury user no test token is. */
async function freshAwaitingRefund(): Promise<string> {
  const intent = await freshPaidIntent(f.bigProcedure);
  const requester = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-yeu-cau' });
  const refund = await expectJson(
    await h.request('POST', `/v1/payment-intents/${intent.id}/refunds`, {
      token: requester,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { amount: intent.amount, expectedRefundable: intent.amount, reason: 'Hồ sơ bị trả lại' },
    }),
    201,
  );
  expect(refund.status).toBe('awaiting_approval');
  return refund.id;
}

const period = 'from=2026-11-01&to=2026-11-30';
const campaignBody = () => ({
  name: 'Chiến dịch phường',
  agencyCode: AGENCIES.communeA,
  startDate: '2026-11-10',
  targets: { dossierOnlinePayment: 0.7 },
});

const counterBody = { lines: [1], method: 'cash', collector: 'Nguyễn Thị Lan', paperReceiptNumber: '0000042' };
const refundBody = (amount: number) => ({ amount: 1, expectedRefundable: amount, reason: 'Hoàn một đồng' });
/** A dossier system's endpoint on a loopback port nothing answers (no worker runs in this suite). */
const endpointBody = () => ({
  url: 'http://127.0.0.1:9/hub-events',
  agencyCode: AGENCIES.province,
  events: ['dossier.paid'],
  secrets: ['whsec-security-suite-secret-0123456789'],
});
async function freshEndpoint(): Promise<string> {
  const response = await h.request('POST', '/v1/webhook-endpoints', {
    token: await mintToken({ role: 'admin' }),
    headers: { 'idempotency-key': idempotencyKey() },
    body: endpointBody(),
  });
  return (await expectJson(response, 201)).id;
}
const withKey = (req: Req): Req => ({ ...req, headers: { 'idempotency-key': idempotencyKey(), ...req.headers } });

/** Commune A's bank statement, as a multipart upload (the statement's scope is the account's agency). */
const statementUpload = (): Req => {
  const file = new TextEncoder().encode('Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Nội dung\n03/12/2026 08:00:00,FT1,,135.000,HP7K2M9Q\n');
  const { body, contentType } = multipart(
    { source: `bank:${COMMUNE_A_ACCOUNT.accountNumber}`, date: '2026-12-02' },
    { name: 'saoke.csv', bytes: file },
  );
  return withKey({ path: '/v1/statements', rawBody: body, headers: { 'content-type': contentType } });
};

/** A catalogue file naming the test procedure, as a dry run (it changes nothing, however often sent). */
const catalogueUpload = (): Req => {
  const file = new TextEncoder().encode(`procedureCode,note\n${f.catalogue},Ghi chú\n`);
  const { body, contentType } = multipart({}, { name: 'danh-muc.csv', bytes: file });
  return { path: '/v1/catalogue/imports?dryRun=true', rawBody: body, headers: { 'content-type': contentType } };
};

const routes: RouteCase[] = [
  {
    method: 'GET',
    template: '/v1/agencies',
    roles: ALL_ROLES,
    scoped: false, // a list: scoped by filtering, checked in its own test below
    request: () => ({ path: '/v1/agencies' }),
  },
  {
    method: 'PATCH',
    template: '/v1/agencies/{code}',
    roles: ['admin'],
    scoped: false, // the catalogue's: only an admin changes it
    request: () => ({ path: `/v1/agencies/${AGENCIES.communeB}`, body: { issuesCounterReceipts: false } }),
  },
  {
    method: 'GET',
    template: '/v1/procedures',
    roles: ALL_ROLES,
    scoped: false,
    request: () => ({ path: `/v1/procedures?field=${encodeURIComponent('Thử nghiệm')}` }),
  },
  {
    method: 'GET',
    template: '/v1/procedures/{code}',
    roles: ALL_ROLES,
    scoped: false,
    request: () => ({ path: `/v1/procedures/${f.procedure}` }),
  },
  {
    method: 'PUT',
    template: '/v1/procedures/{code}',
    roles: ['admin'],
    scoped: false,
    request: () => ({
      path: `/v1/procedures/${f.catalogue}`,
      body: { name: 'Thủ tục danh mục', field: 'Danh mục', level: 'tỉnh', integratedOnlinePayment: true },
    }),
  },
  {
    method: 'POST',
    template: '/v1/procedures/{code}/fee-rules',
    roles: ['admin'],
    scoped: false,
    request: () => ({ path: `/v1/procedures/${f.catalogue}/fee-rules`, body: rule({ feeCode: 'LP09', lineNo: 9 }) }),
  },
  {
    method: 'PUT',
    template: '/v1/procedures/{code}/fee-rules/{id}',
    roles: ['admin'],
    scoped: false,
    request: () => ({ path: `/v1/procedures/${f.catalogue}/fee-rules/${f.catalogueRuleId}`, body: rule({ name: 'Lệ phí đã sửa' }) }),
  },
  {
    method: 'POST',
    template: '/v1/catalogue/imports',
    roles: ['admin'],
    scoped: false, // the catalogue's: only an admin changes it
    request: catalogueUpload,
  },
  {
    method: 'PUT',
    template: '/v1/dossiers/{code}',
    roles: ['portal', 'admin'],
    scoped: true,
    // The same body as at registration: answered 200, nothing changes.
    request: () => ({ path: `/v1/dossiers/${f.dossier}`, body: dossierBody(f.procedure), id: f.dossier }),
    // An outsider can only name its own agency (any other is "unknown" to it, see below).
    asOutsider: (agency) => ({ path: `/v1/dossiers/${f.dossier}`, body: dossierBody(f.procedure, { agencyCode: agency }), id: f.dossier }),
    // The code is of commune A's series: refused as such, the same for a code no dossier has.
    outsiderAnswer: { status: 422, code: 'dossier-code-out-of-scope' },
    missing: () => {
      const code = uniqueDossierCode();
      return { path: `/v1/dossiers/${code}`, body: dossierBody(f.procedure), id: code };
    },
  },
  {
    method: 'GET',
    template: '/v1/dossiers/{code}',
    roles: ['portal', 'treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/dossiers/${f.dossier}`, id: f.dossier }),
    missing: () => {
      const code = uniqueDossierCode();
      return { path: `/v1/dossiers/${code}`, id: code };
    },
  },
  {
    method: 'POST',
    template: '/v1/payment-intents',
    roles: ['portal', 'admin'],
    scoped: true,
    request: () =>
      withKey({ path: '/v1/payment-intents', body: { dossierCode: f.dossier, gateway: 'sandbox', returnUrl: RETURN_URL }, id: f.dossier }),
    // Each success holds the dossier's obligations, so each gets a dossier of its own.
    fresh: async () => {
      const dossier = await registerDossier(h, await mintToken({ role: 'admin' }), f.procedure);
      return withKey({ path: '/v1/payment-intents', body: { dossierCode: dossier.code, gateway: 'sandbox', returnUrl: RETURN_URL } });
    },
    missing: () => {
      const code = uniqueDossierCode();
      return withKey({ path: '/v1/payment-intents', body: { dossierCode: code, gateway: 'sandbox', returnUrl: RETURN_URL }, id: code });
    },
  },
  {
    method: 'POST',
    template: '/v1/dossiers/{code}/offline-payments',
    roles: ['portal', 'treasury', 'admin'],
    scoped: true,
    request: () => withKey({ path: `/v1/dossiers/${f.dossier}/offline-payments`, body: counterBody, id: f.dossier }),
    // Each success pays its dossier's lines, so each gets a dossier of its own.
    fresh: async () => {
      const dossier = await registerDossier(h, await mintToken({ role: 'admin' }), f.procedure);
      return withKey({ path: `/v1/dossiers/${dossier.code}/offline-payments`, body: counterBody });
    },
    missing: () => {
      const code = uniqueDossierCode();
      return withKey({ path: `/v1/dossiers/${code}/offline-payments`, body: counterBody, id: code });
    },
  },
  {
    method: 'GET',
    template: '/v1/payment-intents/{id}',
    roles: ['portal', 'treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/payment-intents/${f.intent}`, id: f.intent }),
    missing: () => ({ path: `/v1/payment-intents/${MISSING_UUID}`, id: MISSING_UUID }),
  },
  {
    method: 'POST',
    template: '/v1/payment-intents/{id}/cancel',
    roles: ['portal', 'admin'],
    scoped: true,
    // Cancelling a cancelled intent answers 200 again, so the same intent serves every check.
    request: () => ({ path: `/v1/payment-intents/${f.cancellable}/cancel`, id: f.cancellable }),
    missing: () => ({ path: `/v1/payment-intents/${MISSING_UUID}/cancel`, id: MISSING_UUID }),
  },
  {
    method: 'GET',
    template: '/v1/payment-intents/{id}/receipt',
    roles: ['portal', 'treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/payment-intents/${f.paidIntent}/receipt`, id: f.paidIntent }),
    missing: () => ({ path: `/v1/payment-intents/${MISSING_UUID}/receipt`, id: MISSING_UUID }),
  },
  {
    method: 'GET',
    template: '/v1/receipts/{id}',
    roles: ['portal', 'treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/receipts/${f.paidReceipt}`, id: f.paidReceipt }),
    missing: () => ({ path: `/v1/receipts/${MISSING_UUID}`, id: MISSING_UUID }),
  },
  {
    method: 'POST',
    template: '/v1/receipts/{id}/replacements',
    roles: ['treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/receipts/${f.paidReceipt}/replacements`, body: replacementBody, id: f.paidReceipt }),
    // A receipt is replaced once: each allowed caller replaces a receipt of its own.
    fresh: async () => ({ path: `/v1/receipts/${await receiptOf((await freshPaidIntent()).id)}/replacements`, body: replacementBody }),
    missing: () => ({ path: `/v1/receipts/${MISSING_UUID}/replacements`, body: replacementBody, id: MISSING_UUID }),
  },
  {
    method: 'POST',
    template: '/v1/payment-intents/{id}/refunds',
    roles: ['treasury', 'admin'],
    scoped: true,
    request: () => withKey({ path: `/v1/payment-intents/${f.paidIntent}/refunds`, body: refundBody(135_000), id: f.paidIntent }),
    fresh: async () => {
      const intent = await freshPaidIntent();
      return withKey({ path: `/v1/payment-intents/${intent.id}/refunds`, body: refundBody(intent.amount) });
    },
    missing: () => withKey({ path: `/v1/payment-intents/${MISSING_UUID}/refunds`, body: refundBody(135_000), id: MISSING_UUID }),
  },
  {
    method: 'GET',
    template: '/v1/payment-intents/{id}/refunds',
    roles: ['treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/payment-intents/${f.paidIntent}/refunds`, id: f.paidIntent }),
    missing: () => ({ path: `/v1/payment-intents/${MISSING_UUID}/refunds`, id: MISSING_UUID }),
  },
  {
    method: 'GET',
    template: '/v1/refunds/{id}',
    roles: ['treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/refunds/${f.refund}`, id: f.refund }),
    missing: () => ({ path: `/v1/refunds/${MISSING_UUID}`, id: MISSING_UUID }),
  },
  ...(['approve', 'reject'] as const).map(
    (decision): RouteCase => ({
      method: 'POST',
      template: `/v1/refunds/{id}/${decision}`,
      roles: ['treasury', 'admin'],
      scoped: true,
      request: () => ({ path: `/v1/refunds/${f.awaitingRefund}/${decision}`, id: f.awaitingRefund }),
      fresh: async () => ({ path: `/v1/refunds/${await freshAwaitingRefund()}/${decision}` }),
      missing: () => ({ path: `/v1/refunds/${MISSING_UUID}/${decision}`, id: MISSING_UUID }),
    }),
  ),
  {
    method: 'POST',
    template: '/v1/refunds/{id}/resolve',
    roles: ['treasury', 'admin'],
    scoped: true,
    // f.refund stays submitted: this harness does not listen, so the sandbox's refund API never answers.
    request: () => ({
      path: `/v1/refunds/${f.refund}/resolve`,
      body: { outcome: 'failed', note: 'Sao kê không có khoản hoàn' },
      id: f.refund,
    }),
    fresh: async () => {
      const intent = await freshPaidIntent();
      const requester = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-yeu-cau' });
      const refund = await expectJson(
        await h.request('POST', `/v1/payment-intents/${intent.id}/refunds`, {
          token: requester,
          headers: { 'idempotency-key': idempotencyKey() },
          body: refundBody(intent.amount),
        }),
        201,
      );
      expect(refund.status).toBe('submitted');
      // Its attempt went unanswered long enough ago to be resolved by a person.
      await h.db.db
        .update(refunds)
        .set({ updatedAt: new Date(Date.now() - 10 * 60_000) })
        .where(eq(refunds.id, refund.id));
      return { path: `/v1/refunds/${refund.id}/resolve`, body: { outcome: 'failed', note: 'Sao kê không có khoản hoàn' } };
    },
    missing: () => ({
      path: `/v1/refunds/${MISSING_UUID}/resolve`,
      body: { outcome: 'failed', note: 'Sao kê không có khoản hoàn' },
      id: MISSING_UUID,
    }),
  },
  {
    method: 'GET',
    template: '/v1/dossiers/{code}/dvcqg-sync',
    roles: ['portal', 'campaign', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/dossiers/${f.dossier}/dvcqg-sync`, id: f.dossier }),
    missing: () => {
      const code = uniqueDossierCode();
      return { path: `/v1/dossiers/${code}/dvcqg-sync`, id: code };
    },
  },
  ...(['', '/breakdown', '/actions'] as const).map(
    (sub): RouteCase => ({
      method: 'GET',
      template: `/v1/indicators/online-payment${sub}`,
      roles: ['campaign', 'admin'],
      scoped: true,
      // The agency counted is the resource: an outsider asking for it learns nothing.
      request: () => ({
        path: `/v1/indicators/online-payment${sub}?agency=${AGENCIES.communeA}&${period}${sub === '/breakdown' ? '&by=agency' : ''}`,
        id: AGENCIES.communeA,
      }),
      missing: () => ({
        path: `/v1/indicators/online-payment${sub}?agency=000.99.99.H19&${period}${sub === '/breakdown' ? '&by=agency' : ''}`,
        id: '000.99.99.H19',
      }),
    }),
  ),
  {
    method: 'POST',
    template: '/v1/campaigns',
    roles: ['admin'],
    scoped: false,
    request: () => withKey({ path: '/v1/campaigns', body: campaignBody() }),
  },
  {
    method: 'PUT',
    template: '/v1/campaigns/{id}',
    roles: ['admin'],
    scoped: false, // admin only: no agency to be outside of
    request: () => ({ path: `/v1/campaigns/${f.campaign}`, body: campaignBody() }),
  },
  {
    method: 'GET',
    template: '/v1/campaigns',
    roles: ['campaign', 'admin'],
    scoped: false, // a list: scoped by filtering, checked in its own test below
    request: () => ({ path: '/v1/campaigns' }),
  },
  ...(['', '/progress', '/export?format=csv', '/export?format=xlsx'] as const).map(
    (sub): RouteCase => ({
      method: 'GET',
      template: `/v1/campaigns/{id}${sub.split('?')[0]}`,
      roles: ['campaign', 'admin'],
      scoped: true,
      request: () => ({ path: `/v1/campaigns/${f.campaign}${sub}`, id: f.campaign }),
      missing: () => ({ path: `/v1/campaigns/${MISSING_UUID}${sub}`, id: MISSING_UUID }),
    }),
  ),
  ...(['/v1/payment-intents', '/v1/refunds'] as const).map(
    (template): RouteCase => ({
      method: 'GET',
      template,
      roles: ['portal', 'treasury', 'admin'],
      scoped: false, // a list: scoped by filtering, checked in test/api/treasury-lists.test.ts
      request: () => ({ path: `${template}?limit=5` }),
    }),
  ),
  ...(['/v1/payment-reviews', '/v1/payment-reviews/summary', '/v1/audit'] as const).map(
    (template): RouteCase => ({
      method: 'GET',
      template,
      roles: ['treasury', 'admin'],
      scoped: false, // scoped by filtering, checked in test/api/treasury-lists.test.ts and test/api/audit.test.ts
      request: () => ({ path: template }),
    }),
  ),
  {
    method: 'GET',
    template: '/v1/payment-reviews/{id}',
    roles: ['treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/payment-reviews/${f.review}`, id: f.review }),
    missing: () => ({ path: `/v1/payment-reviews/${MISSING_UUID}`, id: MISSING_UUID }),
  },
  {
    method: 'POST',
    template: '/v1/payment-reviews/{id}/decision',
    roles: ['treasury', 'admin'],
    scoped: true,
    request: () =>
      withKey({ path: `/v1/payment-reviews/${f.review}/decision`, body: { action: 'reject', note: 'Không nhận được tiền' }, id: f.review }),
    fresh: async () => {
      const id = await freshReview();
      return withKey({ path: `/v1/payment-reviews/${id}/decision`, body: { action: 'reject', note: 'Không nhận được tiền' }, id });
    },
    missing: () =>
      withKey({
        path: `/v1/payment-reviews/${MISSING_UUID}/decision`,
        body: { action: 'reject', note: 'Không nhận được tiền' },
        id: MISSING_UUID,
      }),
  },
  ...(['approve', 'decline'] as const).map(
    (step): RouteCase => ({
      method: 'POST',
      template: `/v1/payment-reviews/{id}/${step}`,
      roles: ['treasury', 'admin'],
      scoped: true,
      request: () => ({ path: `/v1/payment-reviews/${f.review}/${step}`, body: { note: 'Đã kiểm tra' }, id: f.review }),
      fresh: async () => {
        const id = await freshAwaitingReview();
        return { path: `/v1/payment-reviews/${id}/${step}`, body: { note: 'Đã kiểm tra' }, id };
      },
      missing: () => ({ path: `/v1/payment-reviews/${MISSING_UUID}/${step}`, body: { note: 'Đã kiểm tra' }, id: MISSING_UUID }),
    }),
  ),
  {
    method: 'POST',
    template: '/v1/reconciliations',
    roles: ['treasury', 'admin'],
    scoped: true, // the source's owning agency (commune A's collecting account)
    // An account outside the scope is answered as one no agency holds: which accounts exist is not told.
    outsiderAnswer: { status: 422, code: 'unknown-source' },
    request: () => ({ path: '/v1/reconciliations', body: { source: BANK_SOURCE, date: DAY } }),
  },
  {
    method: 'GET',
    template: '/v1/reconciliations',
    roles: ['treasury', 'admin'],
    scoped: false, // a list: scoped by filtering, checked in test/api/reconciliations.test.ts
    request: () => ({ path: `/v1/reconciliations?source=${BANK_SOURCE}` }),
  },
  {
    method: 'GET',
    template: '/v1/reports/three-way',
    roles: ['treasury', 'admin'],
    scoped: false, // one row per source in scope
    request: () => ({ path: `/v1/reports/three-way?date=${DAY}` }),
  },
  {
    method: 'GET',
    template: '/v1/reconciliations/{id}',
    roles: ['treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/reconciliations/${f.day}`, id: f.day }),
    missing: () => ({ path: `/v1/reconciliations/${MISSING_UUID}`, id: MISSING_UUID }),
  },
  {
    method: 'POST',
    template: '/v1/reconciliations/{id}/close',
    roles: ['treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/reconciliations/${f.day}/close`, id: f.day }),
    fresh: async () => {
      const { day } = await freshDay([]);
      return { path: `/v1/reconciliations/${day}/close`, id: day };
    },
    missing: () => ({ path: `/v1/reconciliations/${MISSING_UUID}/close`, id: MISSING_UUID }),
  },
  {
    method: 'GET',
    template: '/v1/discrepancies',
    roles: ['treasury', 'admin'],
    scoped: false, // a list: scoped by filtering
    request: () => ({ path: '/v1/discrepancies?limit=5' }),
  },
  {
    method: 'GET',
    template: '/v1/discrepancies/{id}',
    roles: ['treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/discrepancies/${f.discrepancy}`, id: f.discrepancy }),
    missing: () => ({ path: `/v1/discrepancies/${MISSING_UUID}`, id: MISSING_UUID }),
  },
  {
    method: 'POST',
    template: '/v1/discrepancies/{id}/comments',
    roles: ['treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/discrepancies/${f.discrepancy}/comments`, body: { body: 'Đã gọi ngân hàng' }, id: f.discrepancy }),
    missing: () => ({ path: `/v1/discrepancies/${MISSING_UUID}/comments`, body: { body: 'Đã gọi ngân hàng' }, id: MISSING_UUID }),
  },
  {
    method: 'PATCH',
    template: '/v1/discrepancies/{id}',
    roles: ['treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/discrepancies/${f.discrepancy}`, body: { assignee: 'treasury:ke-toan-binh' }, id: f.discrepancy }),
    missing: () => ({ path: `/v1/discrepancies/${MISSING_UUID}`, body: { assignee: 'treasury:ke-toan-binh' }, id: MISSING_UUID }),
  },
  {
    method: 'POST',
    template: '/v1/discrepancies/{id}/resolution',
    roles: ['treasury', 'admin'],
    scoped: true,
    request: () =>
      withKey({
        path: `/v1/discrepancies/${f.discrepancy}/resolution`,
        body: { resolution: 'bank_error', note: 'Ngân hàng ghi nhầm' },
        id: f.discrepancy,
      }),
    fresh: async () => {
      const id = (await freshDay([{ transactionId: `SEC-${randomUUID()}`, amount: 10_000, occurredAt: new Date() }])).discrepancies[0]!;
      return withKey({ path: `/v1/discrepancies/${id}/resolution`, body: { resolution: 'bank_error', note: 'Ngân hàng ghi nhầm' }, id });
    },
    missing: () =>
      withKey({
        path: `/v1/discrepancies/${MISSING_UUID}/resolution`,
        body: { resolution: 'bank_error', note: 'Ngân hàng ghi nhầm' },
        id: MISSING_UUID,
      }),
  },
  ...(['approve', 'decline'] as const).map(
    (step): RouteCase => ({
      method: 'POST',
      template: `/v1/discrepancies/{id}/${step}`,
      roles: ['treasury', 'admin'],
      scoped: true,
      request: () => ({ path: `/v1/discrepancies/${f.discrepancy}/${step}`, body: { note: 'Đã kiểm tra' }, id: f.discrepancy }),
      fresh: async () => {
        const id = await freshAwaitingDiscrepancy();
        return { path: `/v1/discrepancies/${id}/${step}`, body: { note: 'Đã kiểm tra' }, id };
      },
      missing: () => ({ path: `/v1/discrepancies/${MISSING_UUID}/${step}`, body: { note: 'Đã kiểm tra' }, id: MISSING_UUID }),
    }),
  ),
  {
    method: 'GET',
    template: '/v1/reports/collections',
    roles: ['treasury', 'admin'],
    scoped: true,
    // The agency reported on is the resource: an outsider asking for it learns nothing.
    request: () => ({ path: `/v1/reports/collections?date=2026-11-20&agency=${AGENCIES.communeA}&format=csv`, id: AGENCIES.communeA }),
    missing: () => ({ path: '/v1/reports/collections?date=2026-11-20&agency=000.99.99.H19&format=csv', id: '000.99.99.H19' }),
  },
  {
    method: 'GET',
    template: '/v1/reports/receipts',
    roles: ['treasury', 'admin'],
    scoped: true,
    request: () => ({ path: `/v1/reports/receipts?date=2026-12-04&agency=${AGENCIES.communeA}&format=csv`, id: AGENCIES.communeA }),
    missing: () => ({ path: '/v1/reports/receipts?date=2026-12-04&agency=000.99.99.H19&format=csv', id: '000.99.99.H19' }),
  },
  {
    method: 'GET',
    template: '/v1/audit/verification',
    roles: ['admin'],
    scoped: false,
    request: () => ({ path: '/v1/audit/verification' }),
  },
  {
    method: 'POST',
    template: '/v1/dvcqg/payment-lookup',
    roles: ['portal', 'admin'],
    // The portal's protocol answers 200 with error_code -1 outside scope, as for an unknown
    // dossier (checked in test/api/dvcqg.test.ts), never a 404.
    scoped: false,
    request: () => ({ path: '/v1/dvcqg/payment-lookup', body: { MaHoSo: f.dossier } }),
  },
  {
    method: 'POST',
    template: '/v1/statements',
    roles: ['treasury', 'admin'],
    scoped: true, // the source's agency (commune A, whose account it is)
    outsiderAnswer: { status: 422, code: 'unknown-source' },
    request: statementUpload,
  },
  {
    method: 'GET',
    template: '/v1/statements',
    roles: ['treasury', 'admin'],
    scoped: false, // a list: scoped by filtering, checked in test/api/statements.test.ts
    request: () => ({ path: '/v1/statements?date=2026-12-03' }),
  },
  ...(['', '/lines'] as const).map(
    (tail): RouteCase => ({
      method: 'GET',
      template: `/v1/statements/{id}${tail}`,
      roles: ['treasury', 'admin'],
      scoped: true,
      request: () => ({ path: `/v1/statements/${f.statement}${tail}`, id: f.statement }),
      missing: () => ({ path: `/v1/statements/${MISSING_UUID}${tail}`, id: MISSING_UUID }),
    }),
  ),
  {
    method: 'POST',
    template: '/v1/webhook-endpoints',
    roles: ['admin'],
    scoped: false,
    request: () => withKey({ path: '/v1/webhook-endpoints', body: endpointBody() }),
  },
  {
    method: 'GET',
    template: '/v1/webhook-endpoints',
    roles: ['admin'],
    scoped: false,
    request: () => ({ path: '/v1/webhook-endpoints' }),
  },
  {
    method: 'GET',
    template: '/v1/webhook-endpoints/{id}',
    roles: ['admin'],
    scoped: false,
    request: () => ({ path: `/v1/webhook-endpoints/${f.endpoint}`, id: f.endpoint }),
  },
  {
    method: 'PATCH',
    template: '/v1/webhook-endpoints/{id}',
    roles: ['admin'],
    scoped: false,
    request: () => ({ path: `/v1/webhook-endpoints/${f.endpoint}`, body: { description: 'Một cửa điện tử' }, id: f.endpoint }),
  },
  {
    method: 'DELETE',
    template: '/v1/webhook-endpoints/{id}',
    roles: ['admin'],
    scoped: false,
    request: () => ({ path: `/v1/webhook-endpoints/${f.endpoint}`, id: f.endpoint }),
    fresh: async () => ({ path: `/v1/webhook-endpoints/${await freshEndpoint()}` }),
  },
  {
    method: 'GET',
    template: '/v1/webhook-endpoints/{id}/deliveries',
    roles: ['admin'],
    scoped: false,
    request: () => ({ path: `/v1/webhook-endpoints/${f.endpoint}/deliveries`, id: f.endpoint }),
  },
  {
    method: 'POST',
    template: '/v1/webhook-deliveries/{id}/resend',
    roles: ['admin'],
    scoped: false,
    // Pending (nothing sends in this suite): re-sending it now answers 200 every time.
    request: () => ({ path: `/v1/webhook-deliveries/${f.delivery}/resend`, id: f.delivery }),
  },
  {
    method: 'GET',
    template: '/v1/events',
    roles: ['portal', 'treasury', 'admin'],
    scoped: false, // a feed: scoped by filtering, checked in test/api/webhooks.test.ts
    request: () => ({ path: `/v1/events?dossier=${f.dossier}&limit=10` }),
  },
];

/** A payment of the wrong amount: an open review of commune A's dossier. */
async function freshReview(): Promise<string> {
  const portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  const mismatched = await expectJson(await createIntent(h, portal, (await registerDossier(h, portal, f.procedure)).code), 201);
  await expectJson(await deliverSandboxCallback(h, sandboxEvent(mismatched, { amount: mismatched.amount - 1_000 })), 200);
  return (await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, mismatched.id)))[0]!.id;
}

/** A review whose rejection another treasury user decided and that waits for approval (arranged in SQL: the security suite tests who may approve, not the rule). */
async function freshAwaitingReview(): Promise<string> {
  const id = await freshReview();
  const decidedAt = new Date();
  await h.db.db
    .update(paymentReviews)
    .set({
      status: 'awaiting_approval',
      decision: { action: 'reject', note: 'Không nhận được tiền', decidedBy: 'treasury:someone-else', decidedAt: decidedAt.toISOString() },
      decidedBy: 'treasury:someone-else',
      decidedAt,
    })
    .where(eq(paymentReviews.id, id));
  return id;
}

const BANK_SOURCE = `bank:${COMMUNE_A_ACCOUNT.accountNumber}`;
const DAY = '2026-12-03';
let dayCounter = 0;

/** A statement of commune A's collecting account for a day of its own, matched: its reconciliation and discrepancies. */
async function freshDay(lines: LineInput[], date = addDays('2027-01-01', dayCounter++)) {
  await insertStatement(h, { source: BANK_SOURCE, date, lines });
  const admin = await mintToken({ role: 'admin' });
  const run = await expectJson(await h.request('POST', '/v1/reconciliations', { token: admin, body: { source: BANK_SOURCE, date } }), 200);
  const found = await h.db.db.select({ id: discrepancies.id }).from(discrepancies).where(eq(discrepancies.reconciliationId, run.id));
  return { day: run.id as string, discrepancies: found.map((d) => d.id) };
}

/** A write-off another treasury user decided, waiting for approval (arranged in SQL, as for reviews). */
async function freshAwaitingDiscrepancy(): Promise<string> {
  const id = (await freshDay([{ transactionId: `SEC-${randomUUID()}`, amount: 10_000, occurredAt: new Date() }])).discrepancies[0]!;
  await h.db.db
    .update(discrepancies)
    .set({
      status: 'awaiting_approval',
      decidedBy: 'treasury:someone-else',
      resolution: { resolution: 'write_off', note: 'Phí', decidedBy: 'treasury:someone-else', decidedAt: new Date().toISOString() },
    })
    .where(eq(discrepancies.id, id));
  return id;
}

const label = (r: RouteCase) => `${r.method} ${r.template}`;

function send(route: RouteCase, req: Req, authorization?: string, extra: Record<string, string> = {}) {
  const headers = { ...req.headers, ...extra };
  if (authorization !== undefined) headers.authorization = authorization;
  return h.request(route.method, req.path, { body: req.body, rawBody: req.rawBody, headers });
}

// ---------------------------------------------------------------------------------------------
// Tokens that must be refused

const encoder = new TextEncoder();
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: 'security-suite',
    role: 'admin',
    agencies: [],
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    iat: nowSeconds(),
    exp: nowSeconds() + 600,
    ...overrides,
  };
}

/** Signs arbitrary claims (the harness's mintToken only signs well-formed ones). */
function signClaims(payload: Record<string, unknown>, alg = 'HS256', key: Uint8Array | CryptoKey = encoder.encode(TEST_JWT_SECRET)) {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
}

const withoutClaim = (name: string) => {
  const c = claims();
  delete c[name];
  return c;
};

interface BadCredential {
  name: string;
  /** The Authorization header to send (undefined: none). */
  header(): Promise<string | undefined>;
}

let rsaPublicPem = '';
const asymmetric: Record<string, CryptoKey> = {};

const badCredentials: BadCredential[] = [
  { name: 'no Authorization header', header: async () => undefined },
  { name: 'Basic credentials', header: async () => `Basic ${Buffer.from('admin:admin').toString('base64')}` },
  { name: 'Bearer without a token', header: async () => 'Bearer' },
  { name: 'token without the Bearer scheme', header: async () => mintToken({ role: 'admin' }) },
  { name: 'two tokens', header: async () => `Bearer ${await mintToken({ role: 'admin' })} ${await mintToken({ role: 'admin' })}` },
  { name: 'a token that is not a JWT', header: async () => 'Bearer not.a-jwt' },
  { name: 'garbage in the header', header: async () => 'Bearer {"role":"admin"}' },
  {
    name: 'signed with another secret',
    header: async () => `Bearer ${await mintToken({ role: 'admin', secret: 'another-secret-that-is-also-long-enough-0123456789' })}`,
  },
  { name: 'expired', header: async () => `Bearer ${await mintToken({ role: 'admin', expiresIn: nowSeconds() - 60 })}` },
  { name: 'not yet valid (nbf)', header: async () => `Bearer ${await signClaims(claims({ nbf: nowSeconds() + 3600 }))}` },
  { name: 'without exp', header: async () => `Bearer ${await signClaims(withoutClaim('exp'))}` },
  { name: 'wrong audience', header: async () => `Bearer ${await mintToken({ role: 'admin', audience: 'another-service' })}` },
  { name: 'wrong issuer', header: async () => `Bearer ${await mintToken({ role: 'admin', issuer: 'https://evil.example' })}` },
  { name: 'without iss', header: async () => `Bearer ${await signClaims(withoutClaim('iss'))}` },
  { name: 'without sub', header: async () => `Bearer ${await signClaims(withoutClaim('sub'))}` },
  { name: 'alg none, unsigned', header: async () => `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims())}.` },
  {
    name: 'alg none, with a signature',
    header: async () => {
      const signed = await signClaims(claims());
      return `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${signed.split('.')[1]}.${signed.split('.')[2]}`;
    },
  },
  { name: 'alg "None"', header: async () => `Bearer ${b64url({ alg: 'None', typ: 'JWT' })}.${b64url(claims())}.` },
  { name: 'HS512 with the right secret (only HS256 configured)', header: async () => `Bearer ${await signClaims(claims(), 'HS512')}` },
  { name: 'RS256 (no JWKS configured)', header: async () => `Bearer ${await signClaims(claims(), 'RS256', asymmetric.RS256)}` },
  { name: 'ES256 (no JWKS configured)', header: async () => `Bearer ${await signClaims(claims(), 'ES256', asymmetric.ES256)}` },
  {
    name: 'algorithm confusion: HS256 keyed with the RSA public key',
    header: async () => `Bearer ${await signClaims(claims(), 'HS256', encoder.encode(rsaPublicPem))}`,
  },
  {
    name: 'header alg HS256 over an RS256 signature',
    header: async () => {
      const rs = await signClaims(claims(), 'RS256', asymmetric.RS256);
      const [, payload, signature] = rs.split('.');
      return `Bearer ${b64url({ alg: 'HS256', typ: 'JWT' })}.${payload}.${signature}`;
    },
  },
  {
    name: 'payload edited after signing',
    header: async () => {
      const signed = await signClaims(claims({ role: 'portal', agencies: [AGENCIES.communeB] }));
      const [header, , signature] = signed.split('.');
      return `Bearer ${header}.${b64url(claims())}.${signature}`;
    },
  },
  { name: 'missing role', header: async () => `Bearer ${await signClaims(withoutClaim('role'))}` },
  { name: 'unknown role', header: async () => `Bearer ${await signClaims(claims({ role: 'superadmin' }))}` },
  { name: 'role of the wrong type', header: async () => `Bearer ${await signClaims(claims({ role: ['admin'] }))}` },
  {
    name: 'agencies not a list',
    header: async () => `Bearer ${await signClaims(claims({ role: 'portal', agencies: AGENCIES.province }))}`,
  },
  {
    name: 'agencies with an invalid code',
    header: async () => `Bearer ${await signClaims(claims({ role: 'portal', agencies: ["000.00.00.H19/' OR 1=1 --"] }))}`,
  },
];

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  for (const alg of ['RS256', 'ES256'] as const) {
    const pair = await generateKeyPair(alg, { extractable: true });
    asymmetric[alg] = pair.privateKey;
    if (alg === 'RS256') rsaPublicPem = await exportSPKI(pair.publicKey);
  }

  const portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  f.endpoint = await freshEndpoint();
  f.procedure = await createProcedure(h.ctx);
  f.catalogue = await createProcedure(h.ctx);
  const catalogue = await json(await h.request('GET', `/v1/procedures/${f.catalogue}`, { token: portal }));
  f.catalogueRuleId = catalogue.feeRules[0].id;

  f.dossier = (await registerDossier(h, portal, f.procedure)).code;
  f.intent = (await expectJson(await createIntent(h, portal, f.dossier), 201)).id;

  const second = await registerDossier(h, portal, f.procedure);
  f.cancellable = (await expectJson(await createIntent(h, portal, second.code), 201)).id;

  const third = await registerDossier(h, portal, f.procedure);
  const paid = await expectJson(await createIntent(h, portal, third.code), 201);
  const callback = await deliverSandboxCallback(h, sandboxEvent(paid));
  expect(await expectJson(callback, 200)).toEqual({ received: true, result: 'applied' });
  f.paidIntent = paid.id;
  f.paidReceipt = await receiptOf(paid.id);
  f.delivery = (
    await h.db.db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, f.endpoint))
  )[0]!.id;

  f.bigProcedure = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 3_000_000 } })]);
  const treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-lap' });
  const refunded = await freshPaidIntent();
  f.refund = (
    await expectJson(
      await h.request('POST', `/v1/payment-intents/${refunded.id}/refunds`, {
        token: treasury,
        headers: { 'idempotency-key': idempotencyKey() },
        body: refundBody(refunded.amount),
      }),
      201,
    )
  ).id;
  // Sent long enough ago that a person may resolve it (the route refuses while a send may be in flight).
  await h.db.db
    .update(refunds)
    .set({ updatedAt: new Date(Date.now() - 10 * 60_000) })
    .where(eq(refunds.id, f.refund));
  f.awaitingRefund = await freshAwaitingRefund();
  f.review = await freshReview();
  await giveCommuneAnAccount(h);
  const day = await freshDay([{ transactionId: 'SEC-STRAY', amount: 20_000, occurredAt: new Date() }], DAY);
  f.day = day.day;
  f.discrepancy = day.discrepancies[0]!;
  const campaign = await h.request('POST', '/v1/campaigns', {
    token: await mintToken({ role: 'admin' }),
    headers: { 'idempotency-key': idempotencyKey() },
    body: campaignBody(),
  });
  f.campaign = (await expectJson(campaign, 201)).id;
  const upload = statementUpload();
  f.statement = (
    await expectJson(await h.request('POST', upload.path, { rawBody: upload.rawBody, headers: upload.headers, token: treasury }), 201)
  ).id;
});
afterAll(() => h?.close());

describe.each(routes)('$method $template', (route) => {
  describe('authentication', () => {
    it.each(badCredentials)('refuses $name with 401', async ({ header }) => {
      const response = await send(route, route.request(), await header());
      const problem = await expectProblem(response, 401, 'unauthenticated');
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      // The refusal says nothing about the resource, and leaks no token or key material.
      expect(JSON.stringify(problem)).not.toMatch(/secret|eyJ/i);
    });
  });

  const disallowed = ALL_ROLES.filter((role) => !route.roles.includes(role));
  if (disallowed.length > 0) {
    describe('roles', () => {
      it.each(disallowed)('refuses the %s role with 403', async (role) => {
        const token = await mintToken({ role, agencies: [AGENCIES.province] });
        await expectProblem(await send(route, route.request(), `Bearer ${token}`), 403, 'forbidden');
      });
    });
  }

  it.each([...route.roles])('lets the %s role in (province scope)', async (role) => {
    const token = await mintToken({ role, agencies: role === 'admin' ? [] : [AGENCIES.province] });
    const req = route.fresh ? await route.fresh() : route.request();
    const response = await send(route, req, `Bearer ${token}`);
    expect(response.status, await response.clone().text()).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(300);
  });

  if (route.scoped) {
    describe('agency scope', () => {
      const outsiders = route.roles
        .filter((role) => role !== 'admin')
        .flatMap((role) => [
          { role, agency: AGENCIES.otherProvince, where: 'another province' },
          { role, agency: AGENCIES.communeB, where: 'a sibling commune' },
        ]);

      const answer = route.outsiderAnswer ?? { status: 404, code: 'not-found' };
      it.each(outsiders)(
        `answers ${answer.status} to a $role of $where, as for a resource that does not exist`,
        async ({ role, agency }) => {
          const token = `Bearer ${await mintToken({ role, agencies: [agency] })}`;
          const req = route.asOutsider ? route.asOutsider(agency) : route.request();
          const outside = await expectProblem(await send(route, req, token), answer.status, answer.code);
          expect(Object.keys(outside).sort()).toEqual(
            ['code', 'detail', 'requestId', 'status', 'title', 'type', ...(route.outsiderAnswer ? ['errors'] : [])].sort(),
          );
          if (route.missing) {
            const missingReq = route.missing();
            const missing = await expectProblem(await send(route, missingReq, token), answer.status, answer.code);
            const normalise = (p: Record<string, any>, id: string | undefined) => ({
              ...p,
              requestId: '<id>',
              detail: id ? String(p.detail).replaceAll(id, '<resource>') : p.detail,
            });
            expect(normalise(outside, req.id)).toEqual(normalise(missing, missingReq.id));
          }
        },
      );

      it.each(route.roles.filter((role) => role !== 'admin'))(
        'lets a %s of the province (an ancestor) and of the owning commune in',
        async (role) => {
          for (const agency of [AGENCIES.province, AGENCIES.communeA]) {
            const token = `Bearer ${await mintToken({ role, agencies: [agency] })}`;
            const req = route.fresh ? await route.fresh() : route.request();
            const response = await send(route, req, token);
            expect(response.status, await response.clone().text()).toBeGreaterThanOrEqual(200);
            expect(response.status).toBeLessThan(300);
          }
        },
      );
    });
  }
});

describe('scope details', () => {
  it('a dossier registered elsewhere: an outsider naming its agency gets the answer of a fresh code', async () => {
    // PUT checks the code's receiving unit first, so the answer cannot tell whether the code exists.
    const token = await mintToken({ role: 'portal', agencies: [AGENCIES.communeB] });
    const existing = await expectProblem(
      await h.request('PUT', `/v1/dossiers/${f.dossier}`, { token, body: dossierBody(f.procedure) }),
      422,
      'dossier-code-out-of-scope',
    );
    const fresh = await expectProblem(
      await h.request('PUT', `/v1/dossiers/${uniqueDossierCode()}`, { token, body: dossierBody(f.procedure) }),
      422,
      'dossier-code-out-of-scope',
    );
    expect({ ...existing, requestId: '' }).toEqual({ ...fresh, requestId: '' });
  });

  it("lists only the agencies of the caller's subtrees; an admin sees every one", async () => {
    const codes = async (role: Role, agencies: string[]) => {
      const body = await expectJson(await h.request('GET', '/v1/agencies', { token: await mintToken({ role, agencies }) }), 200);
      return body.items.map((a: { code: string }) => a.code).sort();
    };
    const h19 = Object.values(AGENCIES)
      .filter((c) => c.endsWith('H19'))
      .sort();
    expect(await codes('campaign', [AGENCIES.province])).toEqual(h19);
    expect(await codes('portal', [AGENCIES.otherProvince])).toEqual([AGENCIES.otherProvince]);
    expect(await codes('treasury', [AGENCIES.communeB])).toEqual([AGENCIES.communeB]);
    expect(await codes('portal', [AGENCIES.district])).toEqual([AGENCIES.district, AGENCIES.districtCommune].sort());
    expect(await codes('portal', [])).toEqual([]);
    expect(await codes('admin', [])).toEqual(Object.values(AGENCIES).sort());
  });

  it("lists only the campaigns of agencies in the caller's subtrees", async () => {
    const ids = async (agencies: string[]) => {
      const body = await expectJson(
        await h.request('GET', '/v1/campaigns', { token: await mintToken({ role: 'campaign', agencies }) }),
        200,
      );
      return body.items.map((c: { id: string }) => c.id);
    };
    expect(await ids([AGENCIES.province])).toContain(f.campaign);
    expect(await ids([AGENCIES.communeA])).toContain(f.campaign);
    expect(await ids([AGENCIES.communeB])).toEqual([]);
    expect(await ids([AGENCIES.otherProvince])).toEqual([]);
  });

  it('a token without agencies sees no dossier', async () => {
    const token = await mintToken({ role: 'treasury', agencies: [] });
    await expectProblem(await h.request('GET', `/v1/dossiers/${f.dossier}`, { token }), 404, 'not-found');
  });
});

describe('request ids', () => {
  it('echoes a sane caller-supplied x-request-id in the header and in every problem', async () => {
    const response = await h.request('GET', `/v1/dossiers/${f.dossier}`, { headers: { 'x-request-id': 'portal-req-000123' } });
    expect(response.headers.get('x-request-id')).toBe('portal-req-000123');
    expect((await expectProblem(response, 401)).requestId).toBe('portal-req-000123');
  });

  it('replaces an unsafe x-request-id with a fresh one', async () => {
    const response = await h.request('GET', '/v1/agencies', { headers: { 'x-request-id': 'a b<script>' } });
    const problem = await expectProblem(response, 401);
    expect(problem.requestId).not.toContain('<');
  });

  it('gives every answer, success included, an x-request-id', async () => {
    const response = await h.request('GET', '/v1/agencies', { token: await mintToken({ role: 'admin' }) });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._-]{8,64}$/);
  });
});

describe('coverage', () => {
  it('lists every /v1 operation of /openapi.json (callbacks aside), and nothing else', async () => {
    const response = await h.request('GET', '/openapi.json');
    const doc = await expectJson(response, 200);
    const documented: string[] = [];
    for (const [path, operations] of Object.entries<Record<string, any>>(doc.paths)) {
      // Callbacks and browser returns are reached without a token: their signatures authenticate them.
      if (!path.startsWith('/v1/') || path.startsWith('/v1/callbacks/') || path.startsWith('/v1/returns/')) continue;
      for (const [method, operation] of Object.entries<any>(operations)) {
        documented.push(`${method.toUpperCase()} ${path}`);
        // Each secured operation says so, and documents the refusals the suite checks.
        expect(operation.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
        expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['401', '403', '404']));
      }
    }
    expect([...new Set(routes.map(label))].sort()).toEqual(documented.sort());
  });
});
