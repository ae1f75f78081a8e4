import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackInbox, paymentIntents } from '../../src/db/schema/index.ts';
import { signatureHeader } from '../../src/gateways/sandbox/protocol.ts';
import { processInboxLeftovers } from '../../src/jobs/index.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken, SANDBOX_SECRETS } from '../helpers/harness.ts';

/**
 * What the Node entry runs at start-up (src/server.ts): the messages a crash left `received` in
 * the callback inbox are applied at once, not by the first job run a minute later; those received
 * since the start belong to requests being handled and are left to them.
 */
let h: Harness;
let portal: string;
let procedure: string;
beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h?.close());

/** A signed payment message stored but never processed, as a crash leaves it. */
async function leftInInbox(receivedAt: Date) {
  const dossier = await registerDossier(h, portal, procedure);
  const intent = await json(await createIntent(h, portal, dossier.code));
  const raw = JSON.stringify({
    type: 'payment.succeeded',
    reference: intent.reference,
    transactionId: `SBX-${intent.reference}`,
    amount: intent.amount,
    currency: 'VND',
    occurredAt: receivedAt.toISOString(),
  });
  const id = crypto.randomUUID();
  await h.db.db.insert(callbackInbox).values({
    id,
    gateway: 'sandbox',
    method: 'POST',
    url: '/v1/callbacks/sandbox',
    headers: { 'sandbox-signature': await signatureHeader(SANDBOX_SECRETS[0]!, Math.floor(receivedAt.getTime() / 1000), raw) },
    rawBody: raw,
    receivedAt,
  });
  return { inboxId: id, intentId: intent.id as string };
}

const inboxRow = async (id: string) => (await h.db.db.select().from(callbackInbox).where(eq(callbackInbox.id, id)))[0]!;
const intentStatus = async (id: string) =>
  (await h.db.db.select({ status: paymentIntents.status }).from(paymentIntents).where(eq(paymentIntents.id, id)))[0]!.status;

describe('the inbox at start-up', () => {
  it("applies what a crash left before the start, and leaves this start's own messages to their requests", async () => {
    const startedAt = new Date();
    const crashed = await leftInInbox(new Date(startedAt.getTime() - 5_000));
    const live = await leftInInbox(new Date(startedAt.getTime() + 1_000));

    expect(await processInboxLeftovers(h.ctx, startedAt)).toEqual({ processed: 1 });

    expect(await inboxRow(crashed.inboxId)).toMatchObject({ status: 'processed', result: 'applied', attempts: 1 });
    expect(await intentStatus(crashed.intentId)).toBe('succeeded');
    expect(await inboxRow(live.inboxId)).toMatchObject({ status: 'received', attempts: 0 });
    expect(await intentStatus(live.intentId)).toBe('pending');
    // Nothing left: a second pass finds nothing to do.
    expect(await processInboxLeftovers(h.ctx, startedAt)).toEqual({ processed: 0 });
  });
});
