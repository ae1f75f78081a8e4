import { compactVerify, createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENCIES, createIntent, createProcedure, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { portalRedirect, verifyHubResult } from '../helpers/hub-result.ts';
import { openCheckout as openSandboxCheckout } from '../helpers/sandbox.ts';

/**
 * The newcomer's path end to end, over real HTTP: register a dossier, create an intent, pay on
 * the sandbox's hosted page (which calls the hub back over HTTP), read the signed receipt.
 */
let h: Harness;
let base: string;
let portal: string;

beforeAll(async () => {
  h = await createHarness();
  base = await h.listen();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
});
afterAll(() => h.close());

async function openCheckout(url: string) {
  const page = await openSandboxCheckout(url);
  expect(page.status).toBe(200);
  return page;
}

describe('paying a dossier through the sandbox', () => {
  it('pays, redirects to the return URL with a signed hubResult, and issues a verifiable receipt', async () => {
    const procedure = await createProcedure(h.ctx, [
      rule({ feeCode: 'LP01', name: 'Lệ phí đổi giấy phép lái xe', formula: { type: 'fixed', amount: 135_000 } }),
      rule({ kind: 'phi', feeCode: 'P02', name: 'Phí thẩm định', lineNo: 2, formula: { type: 'fixed', amount: 1_000_005 } }),
    ]);
    const dossier = await registerDossier(h, portal, procedure);
    expect(dossier.totalDue).toBe(1_135_005);

    const created = await createIntent(h, portal, dossier.code);
    expect(created.status).toBe(201);
    const intent = await json(created);
    expect(intent).toMatchObject({ status: 'pending', amount: 1_135_005, currency: 'VND', gateway: 'sandbox' });
    expect(intent.nextAction.type).toBe('redirect');
    expect(intent.nextAction.url.startsWith(`${base}/sandbox/checkout/${intent.reference}`)).toBe(true);

    const { html, form } = await openCheckout(intent.nextAction.url);
    expect(html).toContain('1.135.005 đ');
    form.set('choice', 'pay');
    const submitted = await fetch(intent.nextAction.url.split('?')[0], { method: 'POST', body: form, redirect: 'manual' });
    expect(submitted.status).toBe(303);
    // Back through the hub's return page, which sends the payer on with the hub's signed result.
    const back = new URL(submitted.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(`${base}/v1/returns/sandbox`);
    const location = portalRedirect(await (await fetch(back)).text());
    expect(location.origin + location.pathname).toBe('https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua');
    expect(location.searchParams.get('status')).toBe('succeeded');
    const hubResult = await verifyHubResult(base, location.searchParams.get('hubResult')!, 'https://dichvucong.dongnai.gov.vn');
    expect(hubResult.payload).toMatchObject({ intentId: intent.id, status: 'succeeded', amount: 1_135_005 });

    const paid = await json(await h.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }));
    expect(paid.status).toBe('succeeded');
    const after = await json(await h.request('GET', `/v1/dossiers/${dossier.code}`, { token: portal }));
    expect(after.totalDue).toBe(0);
    expect(after.onlinePaymentFlag).toBe(2);
    expect(after.obligations.every((o: { status: string }) => o.status === 'paid')).toBe(true);

    const receipt = await json(await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: portal }));
    expect(receipt).toMatchObject({
      total: 1_135_005,
      totalInWords: 'Một triệu một trăm ba mươi lăm nghìn không trăm linh năm đồng',
      number: 1,
    });
    const jwks = await json(await fetch(`${base}/.well-known/jwks.json`));
    const verified = await compactVerify(receipt.signature, createLocalJWKSet(jwks));
    const payload = JSON.parse(new TextDecoder().decode(verified.payload));
    expect(payload).toMatchObject({ total: 1_135_005, number: receipt.number, dossierCode: dossier.code, reference: intent.reference });

    const page = await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: portal, headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const text = await page.text();
    expect(text).toContain('BIÊN LAI THU PHÍ, LỆ PHÍ');
    expect(text).toContain('1.135.005');
    expect(text).toContain('Một triệu một trăm ba mươi lăm nghìn không trăm linh năm đồng');
  });

  it('declining marks the intent failed and frees the obligations', async () => {
    const procedure = await createProcedure(h.ctx);
    const dossier = await registerDossier(h, portal, procedure);
    const intent = await json(await createIntent(h, portal, dossier.code));
    const { form } = await openCheckout(intent.nextAction.url);
    form.set('choice', 'decline');
    const submitted = await fetch(intent.nextAction.url.split('?')[0], { method: 'POST', body: form, redirect: 'manual' });
    expect(new URL(submitted.headers.get('location')!).searchParams.get('status')).toBe('failed');
    const failed = await json(await h.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }));
    expect(failed.status).toBe('failed');
    const again = await createIntent(h, portal, dossier.code);
    expect(again.status).toBe(201);
  });
});
