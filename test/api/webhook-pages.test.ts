import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDue } from '../../src/jobs/delivery-worker.ts';
import { getDelivery } from '../../src/services/webhook-delivery.ts';
import { AGENCIES, seedAgencyTree } from '../helpers/factories.ts';
import { closedPort, makeFailedDelivery, receiverOn, SECRET } from '../helpers/failed-delivery.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { expectProblem } from '../helpers/problems.ts';
import { csrfOf, openPage, postForm, signIn } from '../helpers/session.ts';

/**
 * The admin's webhooks page (issue 13) over HTTP: who may open it, what it shows of an endpoint
 * (never a secret) and of a delivery that failed for good (its attempts, its last error), the
 * filter, and the "Gửi lại" form: CSRF-checked, audited, back to the page with a notice, and the
 * receiver, now up, gets the event.
 */
let h: Harness;
let admin: string;
let portal: string;
let campaign: string;
let port: number;
let receiver: Server | undefined;
let failed: Awaited<ReturnType<typeof makeFailedDelivery>>;
const PAGE = '/dashboard/webhooks';

beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  admin = await mintToken({ role: 'admin', expiresIn: '24h' });
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province], expiresIn: '24h' });
  campaign = await mintToken({ role: 'campaign', agencies: [AGENCIES.province], expiresIn: '24h' });
  port = await closedPort();
  failed = await makeFailedDelivery(h, { admin, portal }, port);
});
afterAll(async () => {
  receiver?.close();
  await h?.close();
});

describe('the webhooks page', () => {
  it('asks a browser to sign in, and answers problem+json to a client that does not take HTML', async () => {
    const browser = await openPage(h, PAGE);
    expect(browser.status).toBe(303);
    expect(browser.headers.get('location')).toBe(`/dashboard?next=${encodeURIComponent(PAGE)}`);
    await expectProblem(await h.request('GET', PAGE, { headers: { accept: 'application/json' } }), 401, 'unauthenticated');
    // A bearer token is not a session.
    await expectProblem(await h.request('GET', PAGE, { token: admin, headers: { accept: 'application/json' } }), 401, 'unauthenticated');
  });

  it('is for admins only', async () => {
    const cookie = await signIn(h, campaign);
    const page = await openPage(h, PAGE, cookie);
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('Không có quyền');
    await expectProblem(await openPage(h, PAGE, cookie, { accept: 'application/json' }), 403, 'forbidden');
    // Nor is the link in a campaign manager's navigation.
    const home = await (await openPage(h, '/dashboard/campaigns', cookie)).text();
    expect(home).not.toContain(`href="${PAGE}"`);
  });

  it('lists the endpoint (secrets by fingerprint only) and the failed delivery with its attempts', async () => {
    const cookie = await signIn(h, admin);
    const response = await openPage(h, PAGE, cookie);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await response.text();
    expect(page).toContain(`<a href="${PAGE}" aria-current="page">Webhook</a>`);
    expect(page).toContain(`http://127.0.0.1:${port}/hook`);
    expect(page).toContain(failed.endpoint.secretFingerprints[0]);
    expect(page).not.toContain(SECRET);
    expect(page).toContain('Đang hoạt động');
    const row = deliveryBlock(page, failed.delivery.id);
    expect(row).toContain('data-state="failed"');
    expect(row).toContain('Thất bại');
    expect(row).toContain(failed.dossier.code);
    expect(row).toContain('dossier.paid');
    expect(row).toContain('Nhật ký gửi (4 lần thử)');
    expect(row.match(/<li class="ko">/g)).toHaveLength(4);
    expect(row).toMatch(/ECONNREFUSED|connect|fetch failed/i);
    expect(row).toContain(`action="${PAGE}/deliveries/${failed.delivery.id}/resend"`);
    expect(row).toContain('>Gửi lại</button>');
    expect(page).toContain('data-testid="failed-total">1<');
  });

  it('filters by state; an unknown state is a 400', async () => {
    const cookie = await signIn(h, admin);
    const onlyFailed = await (await openPage(h, `${PAGE}?state=failed`, cookie)).text();
    expect(onlyFailed).toContain(`id="d-${failed.delivery.id}"`);
    expect(onlyFailed).toMatch(/<a href="\/dashboard\/webhooks\?state=failed" data-filter="failed" aria-current="page">/);
    const succeeded = await (await openPage(h, `${PAGE}?state=succeeded`, cookie)).text();
    expect(succeeded).not.toContain(`id="d-${failed.delivery.id}"`);
    expect(succeeded).toContain('Không có lần gửi nào ở trạng thái này');
    expect((await openPage(h, `${PAGE}?state=lost`, cookie)).status).toBe(400);
    await expectProblem(await openPage(h, `${PAGE}?state=lost`, cookie, { accept: 'application/json' }), 400, 'validation-failed');
  });

  it('refuses a re-send without the CSRF token, from another site, or by another role', async () => {
    const cookie = await signIn(h, admin);
    const csrf = csrfOf(await (await openPage(h, PAGE, cookie)).text());
    const action = `${PAGE}/deliveries/${failed.delivery.id}/resend`;
    expect((await postForm(h, action, {}, cookie)).status).toBe(403);
    expect((await postForm(h, action, { csrf: `${csrf}x` }, cookie)).status).toBe(403);
    expect((await postForm(h, action, { csrf }, cookie, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await postForm(h, action, { csrf }, cookie, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    await expectProblem(
      await postForm(h, action, { csrf }, cookie, { accept: 'application/json', 'sec-fetch-site': 'cross-site' }),
      403,
      'forbidden',
    );
    const reader = await signIn(h, campaign);
    const readerCsrf = csrfOf(await (await openPage(h, '/dashboard/campaigns', reader)).text());
    expect((await postForm(h, action, { csrf: readerCsrf }, reader)).status).toBe(403);
    // No session: the sign-in page (401), or problem+json.
    expect((await postForm(h, action, { csrf })).status).toBe(401);
    await expectProblem(await postForm(h, action, { csrf }, undefined, { accept: 'application/json' }), 401, 'unauthenticated');
    // Nothing was re-sent.
    expect((await getDelivery(h.ctx, failed.delivery.id)).state).toBe('failed');
    const audit = await json(
      await h.request('GET', `/v1/audit?resourceType=webhook_delivery&resourceId=${failed.delivery.id}`, { token: admin }),
    );
    expect(audit.items).toEqual([]);
  });

  it('re-sends a failed delivery: audited, back to the page with a notice, and the receiver gets it', async () => {
    const cookie = await signIn(h, admin);
    const csrf = csrfOf(await (await openPage(h, `${PAGE}?state=failed`, cookie)).text());
    const action = `${PAGE}/deliveries/${failed.delivery.id}/resend`;
    const response = await postForm(h, action, { csrf }, cookie, { origin: 'http://hub.test', 'sec-fetch-site': 'same-origin' });
    expect(response.status, await response.clone().text()).toBe(303);
    expect(response.headers.get('location')).toBe(`${PAGE}?notice=resent#d-${failed.delivery.id}`);
    expect((await getDelivery(h.ctx, failed.delivery.id)).state).toBe('pending');

    const audit = await json(
      await h.request('GET', `/v1/audit?resourceType=webhook_delivery&resourceId=${failed.delivery.id}`, { token: admin }),
    );
    expect(audit.items).toHaveLength(1);
    expect(audit.items[0]).toMatchObject({
      action: 'webhook_delivery.resend',
      actor: expect.stringContaining('admin-user'),
      before: { state: 'failed' },
      after: { state: 'pending' },
    });

    const pending = await (await openPage(h, `${PAGE}?notice=resent`, cookie)).text();
    expect(pending).toContain('data-testid="notice"');
    expect(pending).toContain('xếp lại để gửi ngay');
    expect(deliveryBlock(pending, failed.delivery.id)).toContain('data-state="pending"');

    const up = await receiverOn(port);
    receiver = up.server;
    const report = await deliverDue(h.ctx);
    expect(report).toMatchObject({ sent: 1, succeeded: 1 });
    expect(JSON.parse(up.bodies[0]!)).toMatchObject({ type: 'dossier.paid' });
    const done = await (await openPage(h, PAGE, cookie)).text();
    const row = deliveryBlock(done, failed.delivery.id);
    expect(row).toContain('data-state="succeeded"');
    expect(row).toContain('Nhật ký gửi (5 lần thử)');
    expect(row).toContain('HTTP 200');
    expect(row).not.toContain('>Gửi lại</button>');
    expect(done).toContain('data-testid="failed-total">0<');
  });

  it('says why a delivery that succeeded is not re-sent (409), and 404 for one that does not exist', async () => {
    const cookie = await signIn(h, admin);
    const csrf = csrfOf(await (await openPage(h, PAGE, cookie)).text());
    const again = await postForm(h, `${PAGE}/deliveries/${failed.delivery.id}/resend`, { csrf }, cookie);
    expect(again.status).toBe(409);
    const text = await again.text();
    expect(text).toContain('Không gửi lại được');
    expect(text).toContain('this delivery succeeded');
    await expectProblem(
      await postForm(h, `${PAGE}/deliveries/${failed.delivery.id}/resend`, { csrf }, cookie, { accept: 'application/json' }),
      409,
      'conflict',
    );
    const missing = await postForm(h, `${PAGE}/deliveries/00000000-0000-4000-8000-000000000000/resend`, { csrf }, cookie);
    expect(missing.status).toBe(404);
    expect((await postForm(h, `${PAGE}/deliveries/not-a-uuid/resend`, { csrf }, cookie)).status).toBe(404);
  });
});

/** One delivery's rows (its <tbody>) in the page. */
function deliveryBlock(page: string, id: string): string {
  const start = page.indexOf(`id="d-${id}"`);
  expect(start, `delivery ${id} is on the page`).toBeGreaterThan(-1);
  return page.slice(start, page.indexOf('</tbody>', start));
}
