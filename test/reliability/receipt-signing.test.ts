import { eq } from 'drizzle-orm';
import { compactVerify, createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { receipts } from '../../src/db/schema/index.ts';
import { runJobs } from '../../src/jobs/index.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';

/**
 * Receipts are numbered inside the paying transaction and signed just after it commits. A
 * process that dies in between leaves a numbered, unsigned receipt: the next read or job run
 * signs it, over exactly what was stored.
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
afterAll(() => h.close());

async function paid() {
  const dossier = await registerDossier(h, portal, procedure);
  const intent = await json(await createIntent(h, portal, dossier.code));
  expect((await deliverSandboxCallback(h, sandboxEvent(intent))).status).toBe(200);
  return intent;
}

/**
 * A payment whose process dies between the commit and the signature: the signer fails, as a
 * crash there would leave it (the receipts table refuses to have a signature taken away, so
 * the crash is made where it happens).
 */
async function paidUnsigned() {
  const crash = vi.spyOn(h.signer.hub, 'sign').mockRejectedValue(new Error('the process died before signing'));
  try {
    const intent = await paid();
    expect(await stored(intent.id)).toMatchObject({ signature: null, xml: null, signingKid: null });
    return intent;
  } finally {
    crash.mockRestore();
  }
}

async function verifies(signature: string, expected: Record<string, unknown>) {
  const jwks = await json(await h.request('GET', '/.well-known/jwks.json'));
  const { payload } = await compactVerify(signature, createLocalJWKSet(jwks));
  expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject(expected);
}

const stored = async (intentId: string) => (await h.db.db.select().from(receipts).where(eq(receipts.intentId, intentId)))[0]!;

describe(`receipt signing after the commit, on ${databaseLabel}`, () => {
  it('signs the receipt as soon as the payment commits', async () => {
    const intent = await paid();
    const row = await stored(intent.id);
    expect(row.signature).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    await verifies(row.signature!, { number: row.number, total: row.total, reference: intent.reference });
  });

  it('a receipt left unsigned by a crash is signed by the first read, once', async () => {
    const intent = await paidUnsigned();
    const [first, second] = await Promise.all([
      json(await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: portal })),
      json(await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: portal })),
    ]);
    const row = await stored(intent.id);
    // Two readers may each sign; one signature is kept and both readers verify against the key.
    expect([first.signature, second.signature]).toContain(row.signature);
    await verifies(first.signature, { number: row.number, dossierCode: intent.dossierCode });
    await verifies(second.signature, { number: row.number, dossierCode: intent.dossierCode });
  });

  it('the jobs sign what nobody read', async () => {
    const intent = await paidUnsigned();
    const results = await runJobs(h.ctx);
    expect(results['sign-receipts']).toBeGreaterThanOrEqual(1);
    const row = await stored(intent.id);
    await verifies(row.signature!, { number: row.number, intentId: intent.id });
    expect(row.xml).toContain('<ds:SignatureValue>');
    expect(row.signingKid).toBe(h.signer.hub.kid);
  });

  it('a signed receipt is never edited: its signature, its XML and its amounts stay as issued', async () => {
    const intent = await paid();
    const row = await stored(intent.id);
    for (const change of [{ signature: null }, { xml: '<BLai/>' }, { total: row.total + 1 }, { payerName: 'Someone else' }]) {
      await expect(h.db.db.update(receipts).set(change).where(eq(receipts.id, row.id))).rejects.toThrow();
    }
    expect(await stored(intent.id)).toEqual(row);
  });
});
