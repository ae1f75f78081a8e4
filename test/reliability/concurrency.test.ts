import { and, count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentEvents, paymentIntents, receipts } from '../../src/db/schema/index.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';

/** Races the hub must win on both databases: over real HTTP, many requests in flight at once. */
let h: Harness;
let portal: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness();
  await h.listen();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h.close());

describe(`concurrency on ${databaseLabel}`, () => {
  it('50 simultaneous identical callbacks make one transition and one receipt', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    const intent = await json(await createIntent(h, portal, dossier.code));
    const body = sandboxEvent(intent);
    const answers = await Promise.all(Array.from({ length: 50 }, () => deliverSandboxCallback(h, body).then(json)));
    expect(answers.every((a) => a.received === true)).toBe(true);
    expect(answers.filter((a) => a.result === 'applied')).toHaveLength(1);
    expect(answers.filter((a) => a.result === 'duplicate')).toHaveLength(49);

    const db = h.db.db;
    const [transitions] = await db
      .select({ n: count() })
      .from(paymentEvents)
      .where(and(eq(paymentEvents.intentId, intent.id), eq(paymentEvents.event, 'payment_succeeded'), eq(paymentEvents.accepted, true)));
    expect(transitions!.n).toBe(1);
    const [issued] = await db.select({ n: count() }).from(receipts).where(eq(receipts.intentId, intent.id));
    expect(issued!.n).toBe(1);
  });

  it('two intents racing for the same obligation: exactly one wins', async () => {
    for (let round = 0; round < 8; round++) {
      const dossier = await registerDossier(h, portal, procedure);
      const [a, b] = await Promise.all([createIntent(h, portal, dossier.code), createIntent(h, portal, dossier.code)]);
      const statuses = [a.status, b.status].sort();
      expect(statuses).toEqual([201, 409]);
      const loser = await json(a.status === 409 ? a : b);
      expect(loser.code).toBe('obligation-unavailable');
      const [live] = await h.db.db.select({ n: count() }).from(paymentIntents).where(eq(paymentIntents.dossierCode, dossier.code));
      expect(live!.n).toBe(1);
    }
  });

  it('the same Idempotency-Key sent 20 times at once creates one intent', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    const key = idempotencyKey();
    const responses = await Promise.all(Array.from({ length: 20 }, () => createIntent(h, portal, dossier.code, {}, key)));
    const bodies = await Promise.all(responses.map((r) => json(r)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    const [made] = await h.db.db.select({ n: count() }).from(paymentIntents).where(eq(paymentIntents.dossierCode, dossier.code));
    expect(made!.n).toBe(1);
  });
});
