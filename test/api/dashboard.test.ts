import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENCIES, idempotencyKey, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';

/**
 * The dashboard's pages over HTTP: what a browser gets for every answer (HTML, errors included,
 * with a nonce-based Content-Security-Policy and nothing cached), what any other client gets
 * (problem+json), and that the token never travels in a URL.
 */
let h: Harness;
let reader: string;
let campaignId: string;

const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' };
const post = (path: string, fields: Record<string, string>, headers: Record<string, string> = FORM) =>
  h.request('POST', path, { rawBody: new URLSearchParams(fields).toString(), headers });

beforeAll(async () => {
  h = await createHarness();
  h.clock.now = new Date('2026-11-20T10:00:00+07:00');
  await seedAgencyTree(h.ctx);
  reader = await mintToken({ role: 'campaign', agencies: [AGENCIES.province] });
  const created = await h.request('POST', '/v1/campaigns', {
    token: await mintToken({ role: 'admin' }),
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      name: '<script>alert("x")</script> Chiến dịch',
      agencyCode: AGENCIES.province,
      startDate: '2026-11-10',
      targets: { dossierOnlinePayment: 0.7 },
    },
  });
  campaignId = (await expectJson(created, 201)).id;
});
afterAll(() => h?.close());

function expectPageHeaders(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  const csp = response.headers.get('content-security-policy')!;
  expect(csp).toMatch(/default-src 'none'/);
  expect(csp).toMatch(/frame-ancestors 'none'/);
  return csp.match(/'nonce-([^']+)'/)![1]!;
}

describe('the dashboard pages', () => {
  it('sign in: a form that posts the token, a script allowed by its nonce only, nothing from elsewhere', async () => {
    const response = await h.request('GET', '/dashboard', { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const nonce = expectPageHeaders(response);
    const page = await response.text();
    expect(page).toContain('<form id="login" method="post" action="/dashboard"');
    expect(page).toContain(`<script nonce="${nonce}">`);
    expect(page).not.toMatch(/(src|href)="https?:/);
  });

  it('shows the campaign for a good token, escaping what it did not write, and keeps the token out of every URL', async () => {
    const response = await post('/dashboard', { token: reader });
    expect(response.status).toBe(200);
    expectPageHeaders(response);
    const page = await response.text();
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Chiến dịch');
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('<svg class="burn-up" role="img"');
    for (const m of page.matchAll(/(?:href|action)="([^"]*)"/g)) expect(m[1]).not.toContain('token');
    for (const m of page.matchAll(/<form [^>]*method="([a-z]+)"/g)) expect(['post', 'get']).toContain(m[1]);
    expect(page.match(/<form [^>]*method="get"[^>]*>/g)).toEqual(['<form method="get" action="/dashboard">']); // signing out
  });

  it('offers every campaign in scope and shows the one chosen', async () => {
    const second = await expectJson(
      await h.request('POST', '/v1/campaigns', {
        token: await mintToken({ role: 'admin' }),
        headers: { 'idempotency-key': idempotencyKey() },
        body: {
          name: 'Chiến dịch phường Trấn Biên',
          agencyCode: AGENCIES.communeA,
          startDate: '2026-10-01',
          targets: { dossierOnlinePayment: 0.6 },
        },
      }),
      201,
    );
    const page = await (await post('/dashboard', { token: reader })).text();
    expect(page).toContain('<select id="campaign" name="campaign">');
    expect(page).toContain(`<option value="${second.id}" >`);
    const chosen = await (await post('/dashboard', { token: reader, campaign: second.id })).text();
    expect(chosen).toContain('<h1>Chiến dịch phường Trấn Biên</h1>');
    expect(chosen).toContain('đã kết thúc');
  });

  it('answers a bad token with the sign-in page again (401), another role with 403, in HTML', async () => {
    const bad = await post('/dashboard', { token: 'not-a-token' });
    expect(bad.status).toBe(401);
    expectPageHeaders(bad);
    expect(await bad.text()).toContain('Mã truy cập không hợp lệ');
    const portal = await post('/dashboard', { token: await mintToken({ role: 'portal', agencies: [AGENCIES.province] }) });
    expect(portal.status).toBe(403);
    expect(await portal.text()).toContain('Không có quyền xem');
  });

  it('answers a bad form with a page naming the field, and a client that does not take HTML with problem+json', async () => {
    const invalid = await post('/dashboard', { token: reader, campaign: 'not-a-uuid' });
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toContain('form.campaign');
    const unknown = await post('/dashboard', { token: reader, campaign: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(404);
    const json415 = await h.request('POST', '/dashboard', { body: { token: reader }, headers: { accept: 'application/json' } });
    await expectProblem(json415, 415, 'unsupported-media-type');
    await expectProblem(
      await post('/dashboard', { token: reader, campaign: 'x' }, { ...FORM, accept: 'application/json' }),
      400,
      'validation-failed',
    );
    await expectProblem(await post('/dashboard', { token: '' }, { ...FORM, accept: 'application/json' }), 400, 'validation-failed');
    const huge = await post('/dashboard', { token: 'x'.repeat(70_000) }, { ...FORM, accept: 'application/json' });
    await expectProblem(huge, 413, 'payload-too-large');
  });

  it("without a campaign in scope, shows this month's indicators of the caller's unit", async () => {
    const other = await mintToken({ role: 'campaign', agencies: [AGENCIES.otherProvince] });
    const response = await post('/dashboard', { token: other });
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain('Chưa có chiến dịch nào');
    expect(page).toContain('UBND tỉnh Lâm Đồng');
    expect(page).toContain('từ 01/11/2026 đến 20/11/2026');
  });

  it('with several units in the token and no campaign, shows the first and offers the others', async () => {
    const two = await mintToken({ role: 'campaign', agencies: [AGENCIES.otherProvince, AGENCIES.communeB] });
    // communeB's province has a campaign, but communeB's subtree does not: no campaign in scope.
    const page = await (await post('/dashboard', { token: two })).text();
    expect(page).toContain('<h1>UBND tỉnh Lâm Đồng</h1>');
    expect(page).toContain(`name="agency" value="${AGENCIES.communeB}"`);
    const chosen = await (await post('/dashboard', { token: two, agency: AGENCIES.communeB })).text();
    expect(chosen).toContain('<h1>UBND xã Long Thành</h1>');
  });

  it('exports the report from the form, as the API does', async () => {
    const xlsx = await post('/dashboard/export', { token: reader, campaign: campaignId, format: 'xlsx' });
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect([...new Uint8Array(await xlsx.arrayBuffer()).slice(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]); // a ZIP
    const csv = await post('/dashboard/export', { token: reader, campaign: campaignId, format: 'csv' });
    const api = await h.request('GET', `/v1/campaigns/${campaignId}/export?format=csv&sheet=units`, { token: reader });
    expect(await csv.text()).toBe(await api.text());
    const refused = await post('/dashboard/export', { token: 'bad', campaign: campaignId, format: 'csv' });
    expect(refused.status).toBe(401);
    expect((await json(await h.request('GET', '/v1/campaigns', { token: reader }))).items).toHaveLength(2);
  });
});
