import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detailsVi, titlesVi } from '../../src/http/problem-language.ts';
import { errorCodes } from '../../src/services/errors.ts';
import { AGENCIES, createIntent, createProcedure, dossierBody, rule, seedAgencyTree, uniqueDossierCode } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';

/**
 * Problems in Vietnamese to a caller that asks (`Accept-Language: vi`, q-values ranked), English
 * otherwise: titles, details and field messages change, codes, paths and members do not.
 */
let h: Harness;
let admin: string;
let portal: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness();
  h.clock.now = new Date('2026-12-05T10:00:00+07:00');
  await seedAgencyTree(h.ctx);
  admin = await mintToken({ role: 'admin' });
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.communeA] });
  procedure = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 10_000_000_000 } })]);
});
afterAll(() => h?.close());

const VI = { 'accept-language': 'vi' };
const putDossier = (body: unknown, headers: Record<string, string> = {}) =>
  h.request('PUT', `/v1/dossiers/${uniqueDossierCode()}`, { token: portal, body, headers });
let keys = 0;
const postCampaign = (body: unknown, headers: Record<string, string> = {}) =>
  h.request('POST', '/v1/campaigns', { token: admin, body, headers: { 'idempotency-key': `language-${++keys}`, ...headers } });
const campaign = (overrides: Record<string, unknown>) => ({
  name: 'Chiến dịch 30 ngày',
  agencyCode: AGENCIES.province,
  startDate: '2026-12-01',
  targets: { dossierOnlinePayment: 0.7 },
  ...overrides,
});

describe('the language of a problem', () => {
  it('is English without Accept-Language, and says so', async () => {
    const response = await putDossier(dossierBody(procedure, { channel: 'fax' }));
    const problem = await expectProblem(response, 400, 'validation-failed');
    expect(response.headers.get('content-language')).toBe('en');
    expect(response.headers.get('vary')).toContain('Accept-Language');
    expect(problem).toMatchObject({ title: 'The request is not valid', detail: 'the request does not match the schema' });
    expect(problem.errors).toEqual([{ path: 'channel', message: 'Invalid option: expected one of "online"|"direct"|"postal"' }]);
  });

  it('is Vietnamese to Accept-Language: vi — title, detail, and zod’s messages through its Vietnamese locale', async () => {
    const response = await putDossier(dossierBody(procedure, { channel: 'fax', declaredValue: '1000', extra: true }), VI);
    const problem = await expectProblem(response, 400, 'validation-failed');
    expect(response.headers.get('content-language')).toBe('vi');
    expect(problem).toMatchObject({ code: 'validation-failed', title: 'Yêu cầu không hợp lệ', detail: detailsVi['validation-failed'] });
    expect(problem.errors).toEqual([
      { path: 'channel', message: 'Tùy chọn không hợp lệ: mong đợi một trong các giá trị "online"|"direct"|"postal"' },
      { path: 'declaredValue', message: 'Đầu vào không hợp lệ: mong đợi số, nhận được string' },
      { path: '(body)', message: 'Khóa không được nhận dạng: "extra"' },
    ]);
  });

  it('ranks the languages by their q-values', async () => {
    const cases: Array<[string, string]> = [
      ['en;q=0.5, vi;q=0.9', 'vi'],
      ['vi;q=0.2, en;q=0.8', 'en'],
      ['vi-VN,vi;q=0.9,en;q=0.8', 'vi'],
      ['fr-FR, fr;q=0.9, vi;q=0.5', 'vi'],
      ['fr', 'en'],
      ['*', 'en'],
      ['vi;q=0', 'en'],
    ];
    for (const [header, language] of cases) {
      const response = await h.request('GET', '/v1/agencies', { headers: { 'accept-language': header } });
      const problem = await expectProblem(response, 401, 'unauthenticated');
      expect(response.headers.get('content-language'), header).toBe(language);
      expect(problem.title, header).toBe(language === 'vi' ? 'Cần xác thực' : 'Authentication required');
    }
  });

  it('gives the hub’s own hints in Vietnamese: the date form, a percentage for a fraction', async () => {
    const date = await expectProblem(await postCampaign(campaign({ startDate: '01/12/2026' }), VI), 400);
    expect(date.errors).toEqual([{ path: 'startDate', message: 'ngày theo dạng yyyy-mm-dd, ví dụ 2026-12-01' }]);
    const target = await expectProblem(await postCampaign(campaign({ targets: { dossierOnlinePayment: 80 } }), VI), 400);
    expect(target.errors).toEqual([
      { path: 'targets.dossierOnlinePayment', message: '80 không phải tỷ lệ từ 0 đến 1: mục tiêu 80 % ghi là 0.8' },
    ]);
  });

  it('answers a service’s dynamic English detail with the code’s Vietnamese sentence alone; members and paths unchanged', async () => {
    const agency = await expectProblem(
      await putDossier(dossierBody(procedure, { agencyCode: '000.99.99.H19' }), VI),
      422,
      'unknown-agency',
    );
    expect(agency).toMatchObject({ title: 'Đơn vị không xác định', detail: detailsVi['unknown-agency'] });
    expect(agency.detail).not.toContain('000.99.99.H19');
    expect(agency.errors).toEqual([{ path: 'agencyCode', message: 'đơn vị không có trong danh mục hoặc ngoài phạm vi của bạn' }]);

    const implausible = await expectProblem(await putDossier(dossierBody(procedure, { declaredValue: 2 ** 52 }), VI), 400);
    expect(implausible.errors).toEqual([
      { path: 'declaredValue', message: 'tối đa 100.000.000.000.000 VND (giới hạn hợp lý của hệ thống)' },
    ]);

    const dossier = await expectJson(await putDossier(dossierBody(procedure)), 201);
    const response = await createIntent(h, portal, dossier.code, {}, 'language-intent');
    expect(response.status).toBe(422);
    expect(response.headers.get('content-language')).toBe('en');
    const english = await json(response);
    const vietnamese = await expectProblem(
      await h.request('POST', '/v1/payment-intents', {
        token: portal,
        headers: { 'idempotency-key': 'language-intent', ...VI },
        body: { dossierCode: dossier.code, gateway: 'sandbox', returnUrl: 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua' },
      }),
      422,
      'amount-above-gateway-limit',
    );
    expect(vietnamese).toMatchObject({ gateway: 'sandbox', maxAmount: 9_999_999_999, amount: 10_000_000_000 });
    expect(vietnamese.title).toBe('Số tiền vượt hạn mức của cổng thanh toán');
    expect(vietnamese.errors).toEqual([{ path: 'gateway', message: 'tối đa 9.999.999.999 đ mỗi lần thanh toán' }]);
    expect(english.errors).toEqual([{ path: 'gateway', message: 'at most 9999999999 VND in one payment' }]);
    const { title: _t, detail: _d, errors: _e, requestId: _r, ...sameMembers } = english;
    expect(vietnamese).toMatchObject(sameMembers);
  });

  it('answers the edge’s own problems in Vietnamese too: 404, 405, 415', async () => {
    const missing = await h.request('GET', '/nowhere', { headers: VI });
    expect(await expectProblem(missing, 404, 'not-found')).toMatchObject({ title: 'Không tìm thấy', detail: detailsVi['not-found'] });
    const wrong = await h.request('DELETE', '/v1/campaigns', { token: admin, headers: VI });
    expect(await expectProblem(wrong, 405, 'method-not-allowed')).toMatchObject({
      title: 'Phương thức không được hỗ trợ',
      errors: [{ path: 'method', message: `một trong ${wrong.headers.get('allow')}` }],
    });
    const text = await h.request('POST', '/v1/campaigns', {
      token: admin,
      rawBody: 'x',
      headers: { 'content-type': 'text/plain', 'idempotency-key': 'language-415', ...VI },
    });
    expect(await expectProblem(text, 415, 'unsupported-media-type')).toMatchObject({
      title: 'Kiểu nội dung không được hỗ trợ',
      errors: [{ path: 'content-type', message: 'cần application/json' }],
    });
  });

  it('has a Vietnamese title and detail for every code', () => {
    for (const code of errorCodes) {
      expect(titlesVi[code]?.length, code).toBeGreaterThan(5);
      expect(detailsVi[code]?.length, code).toBeGreaterThan(20);
    }
    expect(new Set(Object.values(titlesVi)).size).toBe(errorCodes.length);
  });
});
