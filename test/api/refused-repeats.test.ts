import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentEvents, paymentReviews } from '../../src/db/schema/index.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';
import { openPage, signIn } from '../helpers/session.ts';

/**
 * A refused request said again and again (issue 14): every refused cancel of a paid intent
 * appended a history row, so a portal retrying in a loop grew the table without limit. The same
 * principal's identical refusal is now counted on its first row (how many times, and when last);
 * the first row stays as it was, as the evidence, and other principals' refusals are their own.
 */
let h: Harness;
let portal: string;
let otherPortal: string;
let treasury: string;
let procedure: string;
beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  procedure = await createProcedure(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province], subject: 'dvc-dong-nai' });
  otherPortal = await mintToken({ role: 'portal', agencies: [AGENCIES.province], subject: 'mot-cua-tinh' });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'ke-toan-01' });
});
afterAll(() => h?.close());

interface Intent {
  id: string;
  reference: string;
  amount: number;
}

async function paidIntent(): Promise<Intent> {
  const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeA });
  const intent = await expectJson<Intent>(await createIntent(h, portal, dossier.code), 201);
  expect((await deliverSandboxCallback(h, sandboxEvent(intent))).status).toBe(200);
  return intent;
}

const cancel = (id: string, token = portal) => h.request('POST', `/v1/payment-intents/${id}/cancel`, { token });
const eventsOf = (intentId: string) =>
  h.db.db.select().from(paymentEvents).where(eq(paymentEvents.intentId, intentId)).orderBy(asc(paymentEvents.id));
const refusals = async (intentId: string) => (await eventsOf(intentId)).filter((e) => !e.accepted);

describe('a refused cancel said again', () => {
  it('is one history row with a count and the last time; the first time and what was said stay', async () => {
    const intent = await paidIntent();
    const before = (await eventsOf(intent.id)).length;
    const first = new Date('2026-12-03T02:00:00Z');
    for (let i = 0; i < 25; i++) {
      h.clock.now = new Date(first.getTime() + i * 1000);
      const problem = await expectProblem(await cancel(intent.id), 409, 'invalid-transition');
      expect(problem.intentStatus).toBe('succeeded');
    }
    h.clock.now = null;
    const events = await eventsOf(intent.id);
    expect(events).toHaveLength(before + 1);
    const [refusal] = await refusals(intent.id);
    expect(refusal).toMatchObject({
      event: 'cancelled',
      fromStatus: 'succeeded',
      toStatus: null,
      accepted: false,
      source: 'portal',
      actor: 'portal:dvc-dong-nai',
      repeats: 25,
      detail: { outcome: { kind: 'cancelled', reason: 'cancelled by the portal' }, reason: 'cancelled by the portal' },
    });
    expect(refusal!.createdAt.toISOString()).toBe(first.toISOString());
    expect(refusal!.lastRepeatedAt?.toISOString()).toBe('2026-12-03T02:00:24.000Z');
    // The accepted history is as it was: one row each, none counted.
    expect(events.filter((e) => e.accepted).every((e) => e.repeats === 1 && e.lastRepeatedAt === null)).toBe(true);
  });

  it("counts each principal's refusals apart, and is not fooled by another principal's in between", async () => {
    const intent = await paidIntent();
    for (const token of [portal, otherPortal, portal, otherPortal, portal]) {
      await expectProblem(await cancel(intent.id, token), 409, 'invalid-transition');
    }
    const rows = await refusals(intent.id);
    expect(rows.map((e) => [e.actor, e.repeats])).toEqual([
      ['portal:dvc-dong-nai', 3],
      ['portal:mot-cua-tinh', 2],
    ]);
  });

  it('is shown counted where people read the history (the review case)', async () => {
    const intent = await paidIntent();
    await cancel(intent.id);
    await cancel(intent.id);
    await cancel(intent.id);
    // A second payment opens a review of this intent: its case lists the intent's history.
    await deliverSandboxCallback(h, sandboxEvent(intent, { transactionId: `SECOND${intent.reference}` }));
    const [review] = await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, intent.id));
    const detail = await expectJson(await h.request('GET', `/v1/payment-reviews/${review!.id}`, { token: treasury }), 200);
    const shown = detail.events.filter((e: { accepted: boolean; event: string }) => !e.accepted && e.event === 'cancelled');
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ repeats: 3, actor: 'portal:dvc-dong-nai', lastRepeatedAt: expect.any(String) });
    const page = await openPage(h, `/dashboard/treasury/reviews/${review!.id}`, await signIn(h, treasury));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('lặp lại 3 lần');
  });

  it("leaves a gateway's refused messages one row each (each names its message)", async () => {
    const intent = await paidIntent();
    const declined = sandboxEvent(intent, { type: 'payment.declined', transactionId: `DECL${intent.reference}` });
    await deliverSandboxCallback(h, declined);
    await deliverSandboxCallback(h, { ...declined, occurredAt: new Date(Date.now() + 1000).toISOString() });
    const rows = (await refusals(intent.id)).filter((e) => e.source === 'callback');
    expect(rows.map((e) => [e.event, e.repeats])).toEqual([
      ['payment_declined', 1],
      ['payment_declined', 1],
    ]);
  });
});
