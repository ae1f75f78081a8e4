import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { AGENCIES, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken, TEST_JWT_SECRET } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { csrfOf, openPage, postForm, sessionCookieOf, signIn } from '../helpers/session.ts';

/**
 * Sign-in as a session (src/web/session.ts): the cookie's attributes and lifetime, what makes a
 * cookie no session, where signing in may lead, CSRF on every form, signing out, and the admin's
 * campaign forms (which the campaign role sees but cannot use, as with the API).
 */
let h: Harness;
let admin: string;
let reader: string;
const START = new Date('2026-11-20T10:00:00+07:00');

beforeAll(async () => {
  h = await createHarness();
  h.clock.now = START;
  await seedAgencyTree(h.ctx);
  admin = await mintToken({ role: 'admin', expiresIn: '8h' });
  reader = await mintToken({ role: 'campaign', agencies: [AGENCIES.province], expiresIn: '8h' });
});
afterAll(() => h?.close());

const at = (minutes: number) => {
  h.clock.now = new Date(START.getTime() + minutes * 60_000);
};

describe('the session cookie', () => {
  it('is HttpOnly, SameSite=Strict, scoped to /dashboard, 30 minutes long, and leads to the role’s home', async () => {
    at(0);
    const response = await postForm(h, '/dashboard/session', { token: reader });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/dashboard/campaigns');
    const { line } = sessionCookieOf(response);
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Strict/);
    expect(line).toMatch(/; Path=\/dashboard(;|$)/);
    expect(line).toMatch(/; Max-Age=1800(;|$)/);
    expect(line).not.toMatch(/; Secure/); // the test hub is plain http
    expect(line).not.toContain(reader);
    const treasury = await postForm(h, '/dashboard/session', {
      token: await mintToken({ role: 'treasury', agencies: [AGENCIES.province] }),
    });
    expect(treasury.headers.get('location')).toBe('/dashboard/treasury');
  });

  it('is Secure, with the __Secure- prefix, when the hub is reached over https', async () => {
    const app = createApp({ ...h.deps, settings: { ...h.deps.settings, publicBaseUrl: 'https://hub.example.gov.vn' } });
    const response = await app.request('https://hub.example.gov.vn/dashboard/session', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', origin: 'https://hub.example.gov.vn' },
      body: new URLSearchParams({ token: reader }).toString(),
    });
    expect(response.status).toBe(303);
    const { line, cookie } = sessionCookieOf(response);
    expect(line).toMatch(/^__Secure-hub-session=.*; Secure/);
    const page = await app.request('https://hub.example.gov.vn/dashboard/campaigns', { headers: { accept: 'text/html', cookie } });
    expect(page.status).toBe(200);
  });

  it('never outlives the token it was made from', async () => {
    // The token is checked against the real clock (the verifier's): the session's clock starts there too.
    const base = Date.now();
    h.clock.now = new Date(base);
    const short = await mintToken({ role: 'campaign', agencies: [AGENCIES.province], expiresIn: Math.floor(base / 1000) + 300 });
    const response = await postForm(h, '/dashboard/session', { token: short });
    const { line, cookie } = sessionCookieOf(response);
    expect(line).toMatch(/; Max-Age=(300|299)(;|$)/);
    h.clock.now = new Date(base + 4 * 60_000);
    expect((await openPage(h, '/dashboard/campaigns', cookie)).status).toBe(200);
    h.clock.now = new Date(base + 6 * 60_000);
    expect((await openPage(h, '/dashboard/campaigns', cookie)).status).toBe(303);
  });

  it('ends 30 minutes after the last request, renewed while in use', async () => {
    at(0);
    const cookie = await signIn(h, reader);
    at(10);
    const early = await openPage(h, '/dashboard/campaigns', cookie);
    expect(early.status).toBe(200);
    expect(early.headers.getSetCookie()).toEqual([]); // not renewed before half its life
    at(20);
    const renewed = await openPage(h, '/dashboard/campaigns', cookie);
    expect(renewed.status).toBe(200);
    const { cookie: later } = sessionCookieOf(renewed);
    at(45);
    expect((await openPage(h, '/dashboard/campaigns', cookie)).status).toBe(303); // the first cookie has ended
    expect((await openPage(h, '/dashboard/campaigns', later)).status).toBe(200);
    at(90);
    const ended = await openPage(h, '/dashboard/campaigns?campaign=00000000-0000-4000-8000-000000000000', later);
    expect(ended.status).toBe(303);
    expect(ended.headers.get('location')).toBe(
      `/dashboard?next=${encodeURIComponent('/dashboard/campaigns?campaign=00000000-0000-4000-8000-000000000000')}`,
    );
  });

  it('is no session when tampered with, signed with another key, or a bearer token', async () => {
    at(0);
    const cookie = await signIn(h, reader);
    const [name, value] = cookie.split('=') as [string, string];
    const [header, payload, signature] = value.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const otherKey = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(TEST_JWT_SECRET));
    for (const bad of [`${header}.${forged}.${signature}`, otherKey, admin, `${value}x`, 'garbage']) {
      const response = await openPage(h, '/dashboard/campaigns', `${name}=${bad}`);
      expect(response.status, bad).toBe(303);
    }
    expect((await openPage(h, '/dashboard/campaigns', cookie)).status).toBe(200);
  });

  it('is not a bearer token: the API ignores the cookie', async () => {
    const cookie = await signIn(h, admin);
    await expectProblem(await h.request('GET', '/v1/campaigns', { headers: { cookie } }), 401, 'unauthenticated');
  });
});

describe('without a session, or with the wrong role', () => {
  it('a GET goes to the sign-in page and comes back; a POST gets the sign-in page; a program gets 401', async () => {
    at(0);
    const response = await openPage(h, '/dashboard/campaigns?agency=000.00.32.H19');
    expect(response.status).toBe(303);
    const location = response.headers.get('location')!;
    expect(location).toBe('/dashboard?next=%2Fdashboard%2Fcampaigns%3Fagency%3D000.00.32.H19');
    const signInPage = await (await openPage(h, location)).text();
    expect(signInPage).toContain('<input type="hidden" name="next" value="/dashboard/campaigns?agency=000.00.32.H19">');
    const back = await postForm(h, '/dashboard/session', { token: reader, next: '/dashboard/campaigns?agency=000.00.32.H19' });
    expect(back.headers.get('location')).toBe('/dashboard/campaigns?agency=000.00.32.H19');

    const post = await postForm(h, '/dashboard/campaigns/new', { name: 'x' });
    expect(post.status).toBe(401);
    expect(await post.text()).toContain('<form id="login"');
    await expectProblem(
      await h.request('GET', '/dashboard/campaigns', { headers: { accept: 'application/json' } }),
      401,
      'unauthenticated',
    );
  });

  it('a link from another site reloads the page from this origin, which sends a SameSite=Strict cookie', async () => {
    const response = await openPage(h, '/dashboard/campaigns?agency=000.00.32.H19', undefined, { 'sec-fetch-site': 'cross-site' });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<meta http-equiv="refresh" content="0; url=/dashboard/campaigns?agency=000.00.32.H19">');
  });

  it('an open session goes straight from the sign-in page to where it was going', async () => {
    const cookie = await signIn(h, reader);
    const response = await openPage(h, '/dashboard?next=%2Fdashboard%2Fcampaigns%3Fagency%3D000.00.32.H19', cookie);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/dashboard/campaigns?agency=000.00.32.H19');
  });

  it('signing in leads only to a page of the dashboard on this origin', async () => {
    for (const next of [
      'https://evil.example/dashboard',
      '//evil.example/dashboard',
      '/\\evil.example/dashboard',
      '/v1/campaigns',
      '/dashboard/../v1/campaigns',
      '/dashboardx',
      'javascript:alert(1)',
    ]) {
      const response = await postForm(h, '/dashboard/session', { token: reader, next });
      expect(response.headers.get('location'), next).toBe('/dashboard/campaigns');
    }
  });

  it('a role the page is not for gets 403, as a page or as a problem', async () => {
    const treasury = await signIn(h, await mintToken({ role: 'treasury', agencies: [AGENCIES.province] }));
    const response = await openPage(h, '/dashboard/campaigns', treasury);
    expect(response.status).toBe(403);
    const text = await response.text();
    expect(text).toContain('Không có quyền');
    expect(text).toContain('href="/dashboard/treasury"'); // the navigation shows what the role may open
    expect(text).not.toContain('href="/dashboard/campaigns"');
    await expectProblem(
      await h.request('GET', '/dashboard/campaigns', { headers: { accept: 'application/json', cookie: treasury } }),
      403,
      'forbidden',
    );
  });
});

describe('forms are protected from other sites', () => {
  it('refuses a form without the CSRF token, with a wrong one, or sent from another origin; signs out with the right one', async () => {
    at(0);
    const cookie = await signIn(h, reader);
    const csrf = csrfOf(await (await openPage(h, '/dashboard/campaigns', cookie)).text());
    expect((await postForm(h, '/dashboard/signout', {}, cookie)).status).toBe(403);
    // One character changed: the first (the last of a base64url token carries padding bits, and was 'A' one time in 16).
    const wrong = `${csrf[0] === 'A' ? 'B' : 'A'}${csrf.slice(1)}`;
    expect((await postForm(h, '/dashboard/signout', { csrf: wrong }, cookie)).status).toBe(403);
    expect((await postForm(h, '/dashboard/signout', { csrf }, cookie, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await postForm(h, '/dashboard/signout', { csrf }, cookie, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    // Another session's token is not this one's.
    const other = csrfOf(await (await openPage(h, '/dashboard/campaigns', await signIn(h, reader))).text());
    expect(other).not.toBe(csrf);
    expect((await postForm(h, '/dashboard/signout', { csrf: other }, cookie)).status).toBe(403);

    const out = await postForm(h, '/dashboard/signout', { csrf }, cookie, { origin: 'http://hub.test', 'sec-fetch-site': 'same-origin' });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/dashboard');
    expect(sessionCookieOf(out).line).toMatch(/^hub-session=; Max-Age=0; Path=\/dashboard/);
  });

  it('refuses a sign-in posted from another site (login CSRF)', async () => {
    expect((await postForm(h, '/dashboard/session', { token: reader }, undefined, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await postForm(h, '/dashboard/session', { token: reader }, undefined, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await postForm(h, '/dashboard/session', { token: reader }, undefined, { origin: 'null' })).status).toBe(403);
    const hidden = await postForm(h, '/dashboard/session', { token: reader }, undefined, {
      origin: 'null',
      'sec-fetch-site': 'same-origin',
    });
    expect(hidden.status).toBe(303);
    const own = await postForm(h, '/dashboard/session', { token: reader }, undefined, {
      origin: 'http://hub.test',
      'sec-fetch-site': 'same-origin',
    });
    expect(own.status).toBe(303);
  });
});

describe("the admin's campaign forms", () => {
  const fields = {
    name: 'Chiến dịch tháng 12',
    agencyCode: AGENCIES.department,
    startDate: '2026-12-01',
    days: '31',
    targetDossierOnlinePayment: '72,5',
    targetProcedureOnlinePayment: '',
    targetProcedureIntegration: '90',
    baselineFrom: '',
    baselineTo: '',
  };

  it('creates a campaign: errors in Vietnamese next to what was typed, then one campaign however often it is sent', async () => {
    at(0);
    const cookie = await signIn(h, admin);
    const form = await (await openPage(h, '/dashboard/campaigns/new', cookie)).text();
    const csrf = csrfOf(form);
    const key = form.match(/name="key" value="([^"]+)"/)![1]!;
    expect(form).toContain(`<option value="${AGENCIES.department}" >`);

    const wrong = await postForm(
      h,
      '/dashboard/campaigns/new',
      { ...fields, csrf, key, name: 'X', targetDossierOnlinePayment: '170', baselineFrom: '2026-10-01' },
      cookie,
    );
    expect(wrong.status).toBe(400);
    const text = await wrong.text();
    expect(text).toContain('Tên chiến dịch dài từ 3 đến 200 ký tự.');
    expect(text).toContain('tỷ lệ phần trăm từ 0 đến 100');
    expect(text).toContain('Nhập cả hai ngày của kỳ cơ sở');
    expect(text).toContain('id="name" name="name" type="text" value="X"');
    expect(text).toContain('value="170"');
    expect(text).toContain(`<option value="${AGENCIES.department}" selected>`);
    expect(text).toContain(`name="key" value="${key}"`);

    const late = await postForm(
      h,
      '/dashboard/campaigns/new',
      { ...fields, csrf, key, baselineFrom: '2026-11-01', baselineTo: '2026-12-05' },
      cookie,
    );
    expect(late.status).toBe(400);
    expect(await late.text()).toContain('Kỳ cơ sở phải kết thúc trước ngày bắt đầu chiến dịch.');

    const created = await postForm(h, '/dashboard/campaigns/new', { ...fields, csrf, key }, cookie);
    expect(created.status).toBe(303);
    const id = created.headers.get('location')!.match(/campaign=([0-9a-f-]{36})$/)![1]!;
    const again = await postForm(h, '/dashboard/campaigns/new', { ...fields, csrf, key }, cookie);
    expect(again.headers.get('location')).toBe(`/dashboard/campaigns?campaign=${id}`);

    const campaign = await expectJson(await h.request('GET', `/v1/campaigns/${id}`, { token: admin }), 200);
    expect(campaign).toMatchObject({
      name: 'Chiến dịch tháng 12',
      agency: { code: AGENCIES.department },
      days: 31,
      targets: { dossierOnlinePayment: 0.725, procedureOnlinePayment: null, procedureIntegration: 0.9 },
      baseline: { from: '2026-11-01', to: '2026-11-30' },
      createdBy: 'admin:admin-user',
    });
    const names = (await json(await h.request('GET', '/v1/campaigns', { token: admin }))).items.map((c: any) => c.name);
    expect(names.filter((n: string) => n === 'Chiến dịch tháng 12')).toHaveLength(1);

    const page = await (await openPage(h, `/dashboard/campaigns?campaign=${id}`, cookie)).text();
    expect(page).toContain(`<a class="button" href="/dashboard/campaigns/${id}/edit">Sửa chiến dịch</a>`);
    expect(page).toContain('<a class="button" href="/dashboard/campaigns/new">Tạo chiến dịch</a>');
  });

  it('edits a campaign through its form, which shows it as it is', async () => {
    const cookie = await signIn(h, admin);
    const [campaign] = (await json(await h.request('GET', '/v1/campaigns', { token: admin }))).items;
    const form = await (await openPage(h, `/dashboard/campaigns/${campaign.id}/edit`, cookie)).text();
    expect(form).toContain(`value="${campaign.name}"`);
    expect(form).toContain(`value="${campaign.baseline.from}"`);
    const csrf = csrfOf(form);
    const edited = {
      ...fields,
      name: 'Chiến dịch tháng 12 (sửa)',
      targetDossierOnlinePayment: '75',
      baselineFrom: campaign.baseline.from,
      baselineTo: campaign.baseline.to,
    };
    const bad = await postForm(h, `/dashboard/campaigns/${campaign.id}/edit`, { ...edited, csrf, startDate: '2026-13-01' }, cookie);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Nhập ngày bắt đầu');
    expect((await postForm(h, `/dashboard/campaigns/${campaign.id}/edit`, edited, cookie)).status).toBe(403); // no CSRF token
    const saved = await postForm(h, `/dashboard/campaigns/${campaign.id}/edit`, { ...edited, csrf }, cookie);
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe(`/dashboard/campaigns?campaign=${campaign.id}`);
    const now = await expectJson(await h.request('GET', `/v1/campaigns/${campaign.id}`, { token: admin }), 200);
    expect(now).toMatchObject({ name: 'Chiến dịch tháng 12 (sửa)', targets: { dossierOnlinePayment: 0.75 } });
    expect((await openPage(h, '/dashboard/campaigns/00000000-0000-4000-8000-000000000000/edit', cookie)).status).toBe(404);
    expect((await openPage(h, '/dashboard/campaigns/nope/edit', cookie)).status).toBe(404);
  });

  it('are not for the campaign role, which sees campaigns but does not edit them (as in the API)', async () => {
    const cookie = await signIn(h, reader);
    const [campaign] = (await json(await h.request('GET', '/v1/campaigns', { token: admin }))).items;
    const page = await (await openPage(h, `/dashboard/campaigns?campaign=${campaign.id}`, cookie)).text();
    expect(page).not.toContain('/edit');
    expect(page).not.toContain('/dashboard/campaigns/new');
    const csrf = csrfOf(page);
    expect((await openPage(h, '/dashboard/campaigns/new', cookie)).status).toBe(403);
    expect((await openPage(h, `/dashboard/campaigns/${campaign.id}/edit`, cookie)).status).toBe(403);
    expect((await postForm(h, '/dashboard/campaigns/new', { ...fields, csrf, key: 'k-1' }, cookie)).status).toBe(403);
    expect((await postForm(h, `/dashboard/campaigns/${campaign.id}/edit`, { ...fields, csrf }, cookie)).status).toBe(403);
    const unchanged = await expectJson(await h.request('GET', `/v1/campaigns/${campaign.id}`, { token: admin }), 200);
    expect(unchanged.name).toBe(campaign.name);
  });
});
