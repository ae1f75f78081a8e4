import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentEvents, paymentIntents } from '../../src/db/schema/index.ts';
import { pollPendingIntents } from '../../src/jobs/poll-intents.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken, SANDBOX_POLLING } from '../helpers/harness.ts';
import { chooseOnCheckout } from '../helpers/sandbox.ts';

/**
 * The poller heals lost callbacks on each gateway's schedule: the sandbox's callbacks are dropped
 * on the way (as a network would), and its status API is made to fail on demand.
 */
let h: Harness;
let portal: string;
let procedure: string;
const network = { dropCallbacks: true, statusApiDown: false, statusCalls: 0 };

beforeAll(async () => {
  h = await createHarness({
    fetch: async (input, init) => {
      const url = String(input);
      if (url.includes('/v1/callbacks/sandbox') && network.dropCallbacks) return new Response('lost', { status: 502 });
      if (url.includes('/sandbox/api/payments/') && (init?.method ?? 'GET') === 'GET') {
        network.statusCalls++;
        if (network.statusApiDown) return new Response('bad gateway', { status: 502 });
      }
      return fetch(input, init);
    },
  });
  await h.listen();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h.close());

const at = (intent: { createdAt: string }, seconds: number) => new Date(new Date(intent.createdAt).getTime() + seconds * 1000);

async function pendingIntent() {
  const dossier = await registerDossier(h, portal, procedure);
  return json(await createIntent(h, portal, dossier.code));
}

async function row(id: string) {
  const [intent] = await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id));
  return intent!;
}

describe(`the poller on ${databaseLabel}`, () => {
  it('schedules the first question after the start delay', async () => {
    const intent = await pendingIntent();
    expect((await row(intent.id)).nextPollAt?.getTime()).toBe(at(intent, SANDBOX_POLLING.startDelaySeconds).getTime());
  });

  it('heals a lost callback: the payer paid, no callback arrived, the poller finds the payment', async () => {
    const intent = await pendingIntent();
    expect((await chooseOnCheckout(intent.nextAction.url, 'pay')).status).toBe(303);
    expect((await row(intent.id)).status).toBe('pending'); // the callback was lost

    h.clock.now = at(intent, SANDBOX_POLLING.startDelaySeconds - 1);
    const early = await pollPendingIntents(h.ctx);
    expect((await row(intent.id)).status).toBe('pending');
    expect(early.settled).toBe(0);

    h.clock.now = at(intent, SANDBOX_POLLING.startDelaySeconds);
    const report = await pollPendingIntents(h.ctx);
    h.clock.now = null;
    expect(report.settled).toBeGreaterThanOrEqual(1);
    const healed = await row(intent.id);
    expect(healed).toMatchObject({ status: 'succeeded', nextPollAt: null, pollAttempts: 1 });
    const events = await h.db.db.select().from(paymentEvents).where(eq(paymentEvents.intentId, intent.id));
    expect(events.find((e) => e.event === 'payment_succeeded')).toMatchObject({ accepted: true, source: 'poller' });
    const receipt = await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: portal });
    expect(receipt.status).toBe(200);
  });

  it('applies a decline it learns, and frees the obligations', async () => {
    const intent = await pendingIntent();
    expect((await chooseOnCheckout(intent.nextAction.url, 'decline')).status).toBe(303);
    h.clock.now = at(intent, SANDBOX_POLLING.startDelaySeconds);
    await pollPendingIntents(h.ctx);
    h.clock.now = null;
    expect((await row(intent.id)).status).toBe('failed');
  });

  it('keeps an intent pending on an unknown answer, asks again each interval, and stops after the last attempt', async () => {
    const intent = await pendingIntent();
    network.statusApiDown = true;
    try {
      for (let attempt = 1; attempt <= SANDBOX_POLLING.maxAttempts; attempt++) {
        h.clock.now = at(intent, SANDBOX_POLLING.startDelaySeconds + (attempt - 1) * SANDBOX_POLLING.intervalSeconds);
        // Between two scheduled questions nothing is asked.
        const before = network.statusCalls;
        await pollPendingIntents(h.ctx);
        const after = await row(intent.id);
        expect(network.statusCalls).toBeGreaterThan(before);
        expect(after.status).toBe('pending');
        expect(after.pollAttempts).toBe(attempt);
        if (attempt < SANDBOX_POLLING.maxAttempts) {
          expect(after.nextPollAt?.getTime()).toBe(h.clock.now.getTime() + SANDBOX_POLLING.intervalSeconds * 1000);
          h.clock.now = new Date(h.clock.now.getTime() + SANDBOX_POLLING.intervalSeconds * 1000 - 1000);
          await pollPendingIntents(h.ctx);
          expect((await row(intent.id)).pollAttempts).toBe(attempt);
        } else {
          expect(after.nextPollAt).toBeNull();
        }
      }
    } finally {
      network.statusApiDown = false;
      h.clock.now = null;
    }
    // Left to expiry from here: the poller no longer picks it up, and nothing was marked failed.
    h.clock.now = at(intent, 10 * 24 * 3600);
    const calls = network.statusCalls;
    await pollPendingIntents(h.ctx);
    h.clock.now = null;
    expect(network.statusCalls).toBe(calls);
    expect((await row(intent.id)).status).toBe('pending');
  });

  it('never polls a settled intent', async () => {
    network.dropCallbacks = false;
    try {
      const intent = await pendingIntent();
      expect((await chooseOnCheckout(intent.nextAction.url, 'pay')).status).toBe(303);
      expect((await row(intent.id)).status).toBe('succeeded');
      h.clock.now = at(intent, SANDBOX_POLLING.startDelaySeconds);
      const calls = network.statusCalls;
      await pollPendingIntents(h.ctx);
      expect(network.statusCalls).toBe(calls);
    } finally {
      network.dropCallbacks = true;
      h.clock.now = null;
    }
  });
});
