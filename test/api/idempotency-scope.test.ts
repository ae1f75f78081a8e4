import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKeys, paymentIntents } from '../../src/db/schema/index.ts';
import { idempotencyScope } from '../../src/services/idempotency.ts';
import { createPaymentIntent } from '../../src/services/payment-intents.ts';
import type { Principal } from '../../src/services/principal.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';

/**
 * Idempotency keys belong to the principal's issuer, subject and agency scope (issue 14): scoped
 * by the subject alone, two portals sharing a subject name (one token per agency is common)
 * collided: the second got the first one's intent replayed, for another dossier.
 */
let h: Harness;
let procedure: string;
beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h?.close());

describe('Idempotency-Key scope', () => {
  it('two principals with the same subject and different agencies do not share keys; the same principal replays', async () => {
    const communeA = await mintToken({ role: 'portal', agencies: [AGENCIES.communeA], subject: 'dvc-portal' });
    const communeB = await mintToken({ role: 'portal', agencies: [AGENCIES.communeB], subject: 'dvc-portal' });
    const dossierA = await registerDossier(h, communeA, procedure, { agencyCode: AGENCIES.communeA });
    const dossierB = await registerDossier(h, communeB, procedure, { agencyCode: AGENCIES.communeB });
    const key = 'portal-order-000123';
    const first = await createIntent(h, communeA, dossierA.code, {}, key);
    expect(first.status).toBe(201);
    const second = await createIntent(h, communeB, dossierB.code, {}, key);
    expect(second.status, await second.clone().text()).toBe(201);
    const [a, b] = [await json(first), await json(second)];
    expect(b.id).not.toBe(a.id);
    expect(b.dossierCode).toBe(dossierB.code);
    // The same principal, the same key and body: the first answer again.
    const again = await createIntent(h, communeA, dossierA.code, {}, key);
    expect(again.status).toBe(201);
    expect((await json(again)).id).toBe(a.id);
  });

  it('two principals with the same subject and agencies but different issuers do not share keys', async () => {
    const token = await mintToken({ role: 'portal', agencies: [AGENCIES.province], subject: 'dvc' });
    const [one, two] = [
      await registerDossier(h, token, procedure, { agencyCode: AGENCIES.communeA }),
      await registerDossier(h, token, procedure, { agencyCode: AGENCIES.communeB }),
    ];
    const of = (issuer: string): Principal => ({ subject: 'dvc', role: 'portal', agencies: [AGENCIES.province], issuer });
    const input = (dossierCode: string) => ({ dossierCode, gateway: 'sandbox' as const, returnUrl: 'https://dvc.example.vn/ket-qua' });
    const key = 'shared-order-7';
    const first = await createPaymentIntent(h.ctx, of('https://sso.dongnai.gov.vn'), input(one.code), key);
    const second = await createPaymentIntent(h.ctx, of('https://sso.other.gov.vn'), input(two.code), key);
    expect(second.status).toBe(201);
    expect((second.body as { id: string }).id).not.toBe((first.body as { id: string }).id);
    // The first issuer's principal replays its own.
    const again = await createPaymentIntent(h.ctx, of('https://sso.dongnai.gov.vn'), input(one.code), key);
    expect((again.body as { id: string }).id).toBe((first.body as { id: string }).id);
  });

  it('keeps a key stored before the scope (role:subject) answering its retries while it lives', async () => {
    const token = await mintToken({ role: 'portal', agencies: [AGENCIES.communeA], subject: 'before-upgrade' });
    const dossier = await registerDossier(h, token, procedure, { agencyCode: AGENCIES.communeA });
    const key = 'sent-before-the-upgrade';
    const first = await createIntent(h, token, dossier.code, {}, key);
    expect(first.status).toBe(201);
    const { id } = await json(first);
    // As the hub stored keys before: under `role:subject` only.
    await h.db.db.update(idempotencyKeys).set({ principal: 'portal:before-upgrade' }).where(eq(idempotencyKeys.key, key));
    const retried = await createIntent(h, token, dossier.code, {}, key);
    expect(retried.status).toBe(201);
    expect((await json(retried)).id).toBe(id);
    const intents = await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.dossierCode, dossier.code));
    expect(intents).toHaveLength(1);
    // Once expired it no longer answers (it is purged with the others).
    await h.db.db.execute(sql`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = ${key}`);
    await h.request('POST', `/v1/payment-intents/${id}/cancel`, { token });
    const later = await createIntent(h, token, dossier.code, {}, key);
    expect(later.status).toBe(201);
    expect((await json(later)).id).not.toBe(id);
  });

  it('stays a bounded key for a token of 500 agencies, and works', async () => {
    const many = [AGENCIES.communeA, ...Array.from({ length: 499 }, (_, i) => `000.${String(i).padStart(3, '0')}.99.H19`)];
    const scope = idempotencyScope({ subject: 'wide-portal', role: 'portal', agencies: many, issuer: 'https://sso.dongnai.gov.vn' });
    expect(scope.length).toBeLessThan(300);
    const token = await mintToken({ role: 'portal', agencies: many, subject: 'wide-portal' });
    const dossier = await registerDossier(h, token, procedure, { agencyCode: AGENCIES.communeA });
    const created = await createIntent(h, token, dossier.code, {}, 'wide-portal-key');
    expect(created.status, await created.clone().text()).toBe(201);
    const again = await createIntent(h, token, dossier.code, {}, 'wide-portal-key');
    expect((await json(again)).id).toBe((await json(created)).id);
  });

  it('differs by issuer, subject, role and agency scope, not by the order of the agencies', () => {
    const base = { subject: 'portal', role: 'portal' as const, agencies: ['A', 'B'], issuer: 'https://idp.dongnai.gov.vn' };
    const scope = idempotencyScope(base);
    expect(idempotencyScope({ ...base, agencies: ['B', 'A'] })).toBe(scope);
    for (const other of [
      { ...base, issuer: 'https://idp.other' },
      { ...base, subject: 'portal2' },
      { ...base, role: 'admin' as const },
      { ...base, agencies: ['A'] },
    ]) {
      expect(idempotencyScope(other)).not.toBe(scope);
    }
  });
});
