import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, paymentIntents, paymentReviews } from '../../src/db/schema/index.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson } from '../helpers/problems.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';
import { csrfOf, openPage, postForm, signIn } from '../helpers/session.ts';

/**
 * The desk's pages over HTTP, on both databases (the browser test drives the same pages in
 * Chromium): who may open them, the filters in the URL, a decision posted as a form — refused
 * without the session's CSRF token, shown again with its error and what was typed, carried out
 * once however often the same form is sent.
 */
let h: Harness;
let portal: string;
let treasuryCookie: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness({ reviewApprovalThreshold: 120_000 });
  await h.listen();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  treasuryCookie = await signIn(h, await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'ke-toan-an' }));
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h.close());

async function underpaidReview() {
  const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeA });
  const intent = await expectJson(await createIntent(h, portal, dossier.code), 201);
  await deliverSandboxCallback(h, sandboxEvent(intent, { amount: 100_000 }));
  const [review] = await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, intent.id));
  return { intent, reviewId: review!.id };
}

const decisionUrl = (id: string) => `/dashboard/treasury/reviews/${id}/decision`;

describe(`the treasury desk's pages, on ${databaseLabel}`, () => {
  it('are for treasury and admin, under the session', async () => {
    expect((await openPage(h, '/dashboard/treasury')).status).toBe(303);
    const campaign = await signIn(h, await mintToken({ role: 'campaign', agencies: [AGENCIES.province] }));
    expect((await openPage(h, '/dashboard/treasury', campaign)).status).toBe(403);
    for (const path of ['/dashboard/treasury/reviews', '/dashboard/treasury/intents', '/dashboard/treasury/refunds']) {
      const page = await openPage(h, path, treasuryCookie);
      expect(page.status, path).toBe(200);
      expect(await page.text()).toContain('Hàng chờ xử lý');
    }
  });

  it('keeps the filters in the address, and refuses a bad one clearly', async () => {
    const { intent, reviewId } = await underpaidReview();
    const filtered = await (
      await openPage(h, '/dashboard/treasury/reviews?kind=amount_mismatch&status=open&gateway=&agency=', treasuryCookie)
    ).text();
    expect(filtered).toContain(`/dashboard/treasury/reviews/${reviewId}`);
    expect(filtered).toContain(intent.reference);
    const other = await (await openPage(h, '/dashboard/treasury/reviews?kind=unmatched_credit', treasuryCookie)).text();
    expect(other).not.toContain(`/dashboard/treasury/reviews/${reviewId}`);
    const bad = await openPage(h, '/dashboard/treasury/reviews?kind=everything', treasuryCookie);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('query.kind');
    expect((await openPage(h, '/dashboard/treasury/reviews/not-a-uuid', treasuryCookie)).status).toBe(404);
  });

  it('takes a decision as a form: CSRF-checked, errors shown with what was typed, the same form twice is one decision', async () => {
    const { intent, reviewId } = await underpaidReview();
    const page = await (await openPage(h, `/dashboard/treasury/reviews/${reviewId}`, treasuryCookie)).text();
    const csrf = csrfOf(page);
    const key = page.match(/name="key" value="([^"]+)"/)![1]!;
    const note = 'Sao kê ngày 03/12 có khoản 100.000 đ';

    expect((await postForm(h, decisionUrl(reviewId), { action: 'accept', note, amount: '100000', key }, treasuryCookie)).status).toBe(403);
    expect((await intentRow(intent.id)).status).toBe('needs_review');

    const refused = await postForm(h, decisionUrl(reviewId), { csrf, action: 'accept', note, key }, treasuryCookie);
    expect(refused.status).toBe(422);
    const shown = await refused.text();
    expect(shown).toContain('role="alert"');
    expect(shown).toContain(note);

    const done = await postForm(h, decisionUrl(reviewId), { csrf, action: 'accept', note, amount: '100.000', key }, treasuryCookie);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`/dashboard/treasury/reviews/${reviewId}?notice=decided`);
    const again = await postForm(h, decisionUrl(reviewId), { csrf, action: 'accept', note, amount: '100.000', key }, treasuryCookie);
    expect(again.status).toBe(303);
    expect(await intentRow(intent.id)).toMatchObject({ status: 'succeeded', receivedAmount: 100_000 });
    const audit = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceType, 'payment_review'), eq(auditLog.resourceId, reviewId)));
    expect(audit).toHaveLength(1);
    const after = await (await openPage(h, `/dashboard/treasury/reviews/${reviewId}?notice=decided`, treasuryCookie)).text();
    expect(after).toContain('role="status"');
    expect(after).not.toContain('Ghi quyết định');
  });
});

describe(`four eyes on the desk, on ${databaseLabel}`, () => {
  it('a decision above the threshold waits; its maker gets no approve button; another clerk declines, then approves', async () => {
    const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeA });
    const intent = await expectJson(await createIntent(h, portal, dossier.code), 201);
    await deliverSandboxCallback(h, sandboxEvent(intent, { amount: 150_000 }));
    const [review] = await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, intent.id));
    const id = review!.id;
    const casePath = `/dashboard/treasury/reviews/${id}`;
    const other = await signIn(h, await mintToken({ role: 'treasury', agencies: [AGENCIES.communeA], subject: 'ke-toan-binh' }));

    const page = await (await openPage(h, casePath, treasuryCookie)).text();
    const key = page.match(/name="key" value="([^"]+)"/)![1]!;
    const decided = await postForm(
      h,
      decisionUrl(id),
      { csrf: csrfOf(page), action: 'accept', note: 'Nộp thừa, chấp nhận', key },
      treasuryCookie,
    );
    expect(decided.headers.get('location')).toBe(`${casePath}?notice=awaiting`);
    const mine = await (await openPage(h, casePath, treasuryCookie)).text();
    expect(mine).not.toContain(`action="${casePath}/approve"`);
    expect((await intentRow(intent.id)).status).toBe('needs_review');

    const theirs = await (await openPage(h, casePath, other)).text();
    expect(theirs).toContain(`action="${casePath}/approve"`);
    const csrf = csrfOf(theirs);
    expect((await postForm(h, `${casePath}/decline`, { csrf, note: '' }, other)).status).toBe(400);
    const declined = await postForm(h, `${casePath}/decline`, { csrf, note: 'Cần sao kê đối chiếu' }, other);
    expect(declined.headers.get('location')).toBe(`${casePath}?notice=declined`);
    expect((await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.id, id)))[0]!.status).toBe('open');

    const again = await (await openPage(h, casePath, treasuryCookie)).text();
    const key2 = again.match(/name="key" value="([^"]+)"/)![1]!;
    await postForm(h, decisionUrl(id), { csrf: csrfOf(again), action: 'accept', note: 'Đã có sao kê', key: key2 }, treasuryCookie);
    const approved = await postForm(h, `${casePath}/approve`, { csrf, note: '' }, other);
    expect(approved.headers.get('location')).toBe(`${casePath}?notice=approved`);
    expect(await intentRow(intent.id)).toMatchObject({ status: 'succeeded', receivedAmount: 150_000 });
    const steps = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceType, 'payment_review'), eq(auditLog.resourceId, id)))
      .orderBy(asc(auditLog.id));
    expect(steps.map((r) => r.action)).toEqual(['review.decide', 'review.decline', 'review.decide', 'review.approve']);
  });
});

const intentRow = async (id: string) => (await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id)))[0]!;
