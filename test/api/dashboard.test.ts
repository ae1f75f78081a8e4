import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENCIES, idempotencyKey, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { openPage, postForm, signIn } from '../helpers/session.ts';

/**
 * The campaign dashboard's pages over HTTP, under a session: what a browser gets for every
 * answer (HTML, errors included, with a nonce-based Content-Security-Policy and nothing cached),
 * what any other client gets (problem+json), that every view is a GET whose drill-downs are
 * links, and that the token never appears in a page or a URL. The session itself: session.test.ts.
 */
let h: Harness;
let reader: string;
let readerCookie: string;
let campaignId: string;

beforeAll(async () => {
  h = await createHarness();
  h.clock.now = new Date('2026-11-20T10:00:00+07:00');
  await seedAgencyTree(h.ctx);
  reader = await mintToken({ role: 'campaign', agencies: [AGENCIES.province] });
  readerCookie = await signIn(h, reader);
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
  expect(response.headers.get('referrer-policy')).toBe('same-origin');
  const csp = response.headers.get('content-security-policy')!;
  expect(csp).toMatch(/default-src 'none'/);
  expect(csp).toMatch(/frame-ancestors 'none'/);
  return csp.match(/'nonce-([^']+)'/)![1]!;
}

const page = (path: string, cookie = readerCookie) => openPage(h, path, cookie);

describe('the campaign dashboard pages', () => {
  it('sign in: a form that posts the token to start a session, no script, nothing from elsewhere', async () => {
    const response = await h.request('GET', '/dashboard', { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expectPageHeaders(response);
    const text = await response.text();
    expect(text).toContain('<form id="login" method="post" action="/dashboard/session"');
    expect(text).not.toContain('<script');
    expect(text).not.toContain('sessionStorage');
    expect(text).not.toContain('oidc'); // no identity provider configured
    expect(text).not.toMatch(/(src|href)="https?:/);
  });

  it('shows the campaign under the session, escaping what it did not write; drill-downs are links, and no URL carries the token', async () => {
    const response = await page('/dashboard/campaigns');
    expect(response.status).toBe(200);
    expectPageHeaders(response);
    const text = await response.text();
    expect(text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Chiến dịch');
    expect(text).not.toContain('<script>alert');
    expect(text).toContain('<svg class="burn-up" role="img"');
    expect(text).not.toContain(reader);
    for (const m of text.matchAll(/(?:href|action)="([^"]*)"/g)) expect(m[1]).not.toContain('token');
    // Units are links to the same page with the unit in the query; the report is a link too.
    expect(text).toContain(`<a href="/dashboard/campaigns?campaign=${campaignId}&amp;agency=${AGENCIES.department}">`);
    expect(text).toContain(`href="/dashboard/campaigns/export?campaign=${campaignId}&amp;agency=${AGENCIES.province}&amp;format=xlsx"`);
    // The only forms: signing out (POST, with its CSRF token); no drill-down is a POST any more.
    expect(text.match(/<form [^>]*>/g)).toEqual(['<form method="post" action="/dashboard/signout">']);
    expect(text).toContain('data-testid="signed-in"');
    expect(text).not.toContain('Tạo chiến dịch'); // the campaign role sees, an admin edits
  });

  it('drills into a unit by its link, as the API counts it', async () => {
    const text = await (await page(`/dashboard/campaigns?campaign=${campaignId}&agency=${AGENCIES.department}`)).text();
    expect(text).toContain('<p data-testid="campaign-line"><strong>Sở Tư pháp</strong>');
    expect(text).toContain(`<nav class="crumbs"><a href="/dashboard/campaigns?campaign=${campaignId}&amp;agency=${AGENCIES.province}">`);
  });

  it('offers every campaign in scope (a GET form) and shows the one chosen', async () => {
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
    const text = await (await page('/dashboard/campaigns')).text();
    expect(text).toContain('<form method="get" action="/dashboard/campaigns"');
    expect(text).toContain('<select id="campaign" name="campaign">');
    expect(text).toContain(`<option value="${second.id}" >`);
    const chosen = await (await page(`/dashboard/campaigns?campaign=${second.id}`)).text();
    expect(chosen).toContain('<h1>Chiến dịch phường Trấn Biên</h1>');
    expect(chosen).toContain('đã kết thúc');
  });

  it('answers a bad token with the sign-in page again (401), a role without pages with 403, in HTML', async () => {
    const bad = await postForm(h, '/dashboard/session', { token: 'not-a-token' });
    expect(bad.status).toBe(401);
    expectPageHeaders(bad);
    expect(await bad.text()).toContain('Mã truy cập không hợp lệ');
    const portal = await postForm(h, '/dashboard/session', { token: await mintToken({ role: 'portal', agencies: [AGENCIES.province] }) });
    expect(portal.status).toBe(403);
    expect(portal.headers.getSetCookie()).toEqual([]);
    expect(await portal.text()).toContain('Không có quyền');
  });

  it('answers a bad address with a page naming the field, and a client that does not take HTML with problem+json', async () => {
    const invalid = await page('/dashboard/campaigns?campaign=not-a-uuid');
    expect(invalid.status).toBe(400);
    expectPageHeaders(invalid);
    expect(await invalid.text()).toContain('query.campaign');
    expect((await page('/dashboard/campaigns?procedure=x')).status).toBe(400);
    const unknown = await page('/dashboard/campaigns?campaign=00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    const asJson = { accept: 'application/json', cookie: readerCookie };
    await expectProblem(await h.request('GET', '/dashboard/campaigns?agency=%2F', { headers: asJson }), 400, 'validation-failed');
    await expectProblem(await h.request('GET', '/dashboard/campaigns/export?format=pdf', { headers: asJson }), 400, 'validation-failed');
    // The sign-in form: a form, with a token, of a sensible size.
    const json415 = await h.request('POST', '/dashboard/session', { body: { token: reader }, headers: { accept: 'application/json' } });
    await expectProblem(json415, 415, 'unsupported-media-type');
    await expectProblem(
      await postForm(h, '/dashboard/session', { token: '' }, undefined, { accept: 'application/json' }),
      400,
      'validation-failed',
    );
    const huge = await postForm(h, '/dashboard/session', { token: 'x'.repeat(70_000) }, undefined, { accept: 'application/json' });
    await expectProblem(huge, 413, 'payload-too-large');
  });

  it("without a campaign in scope, shows this month's indicators of the caller's unit", async () => {
    const other = await signIn(h, await mintToken({ role: 'campaign', agencies: [AGENCIES.otherProvince] }));
    const response = await page('/dashboard/campaigns', other);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('Chưa có chiến dịch nào');
    expect(text).toContain('UBND tỉnh Lâm Đồng');
    expect(text).toContain('từ 01/11/2026 đến 20/11/2026');
  });

  it('with several units in the token and no campaign, shows the first and links the others', async () => {
    const two = await signIn(h, await mintToken({ role: 'campaign', agencies: [AGENCIES.otherProvince, AGENCIES.communeB] }));
    // communeB's province has a campaign, but communeB's subtree does not: no campaign in scope.
    const text = await (await page('/dashboard/campaigns', two)).text();
    expect(text).toContain('<h1>UBND tỉnh Lâm Đồng</h1>');
    expect(text).toContain(`<a href="/dashboard/campaigns?agency=${AGENCIES.communeB}">`);
    const chosen = await (await page(`/dashboard/campaigns?agency=${AGENCIES.communeB}`, two)).text();
    expect(chosen).toContain('<h1>UBND xã Long Thành</h1>');
  });

  it('exports the report by its link, as the API does', async () => {
    const xlsx = await page(`/dashboard/campaigns/export?campaign=${campaignId}&format=xlsx`);
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect([...new Uint8Array(await xlsx.arrayBuffer()).slice(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]); // a ZIP
    const csv = await page(`/dashboard/campaigns/export?campaign=${campaignId}&format=csv`);
    const api = await h.request('GET', `/v1/campaigns/${campaignId}/export?format=csv&sheet=units`, { token: reader });
    expect(await csv.text()).toBe(await api.text());
    const signedOut = await openPage(h, `/dashboard/campaigns/export?campaign=${campaignId}&format=csv`);
    expect(signedOut.status).toBe(303);
    expect((await json(await h.request('GET', '/v1/campaigns', { token: reader }))).items).toHaveLength(2);
  });
});
