import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { vnpSignedQuery } from '../../src/emulators/protocol/vnpay.ts';
import { buildGateways } from '../../src/gateways/configure.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { HUB_RESULT_TYPE } from '../../src/services/hub-result.ts';
import { DEMO_CHANNELS, demoGateways } from '../helpers/channels.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { portalRedirect, verifyHubResult } from '../helpers/hub-result.ts';
import { chooseOnCheckout } from '../helpers/sandbox.ts';
import { vnpayFixture } from '../helpers/vnpay-fixtures.ts';

/**
 * The payer's way back to the portal carries `hubResult`: a JWT signed with the hub's own key
 * (the one /.well-known/jwks.json publishes), stating the hub's record of the intent at that
 * moment — never what the gateway's browser link says. Over real HTTP, through every channel that
 * sends the payer's browser back (the sandbox's hosted checkout, VNPay, the national platform,
 * each through its emulator), verified as the README tells a portal to.
 */
const PORTAL = 'https://dichvucong.dongnai.gov.vn';
const RETURN_URL = `${PORTAL}/thanh-toan/ket-qua?nguon=hub`;
const COMMUNE_ACCOUNT = { bankBin: '970415', accountNumber: '1014682259', accountName: 'UBND PHUONG TRAN BIEN' };

let h: Harness;
let base: string;
let portal: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness({
    gateways: (env) =>
      buildGateways(demoGateways(env.baseUrl), {
        publicBaseUrl: env.baseUrl,
        fetch: env.fetch,
        now: env.now,
        callbackToleranceSeconds: 300,
      }),
    emulators: (env) => demoGateways(env.baseUrl),
  });
  base = await h.listen();
  await seedAgencyTree(h.ctx);
  // The national platform and VietQR pay into the collecting agency's account.
  await upsertAgency(h.ctx, {
    code: AGENCIES.communeA,
    name: 'UBND phường Trấn Biên',
    level: 'commune',
    parentCode: AGENCIES.province,
    ...COMMUNE_ACCOUNT,
  });
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  procedure = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 185_000 } })]);
});
afterEach(() => {
  h.clock.now = null;
});
afterAll(() => h?.close());

interface Intent {
  id: string;
  reference: string;
  amount: number;
  status: string;
  nextAction: { type: string; url: string };
}

async function intentFor(gateway: 'sandbox' | 'vnpay' | 'dvcqg' | 'vietqr'): Promise<Intent> {
  const dossier = await registerDossier(h, portal, procedure);
  const response = await createIntent(h, portal, dossier.code, { gateway, returnUrl: RETURN_URL, payer: { ip: '198.51.100.23' } });
  expect(response.status, await response.clone().text()).toBe(201);
  return json(response);
}

/** The hub's return page at `url`: it must answer 200 and send the payer on to the portal. */
async function landOnReturn(url: string | URL) {
  const page = await fetch(url, { redirect: 'manual' });
  const html = await page.text();
  expect(page.status, html.slice(0, 300)).toBe(200);
  const portalUrl = portalRedirect(html);
  // The page's link goes to the same place as its refresh.
  expect(html).toContain(`<a href="${portalUrl.toString().replaceAll('&', '&amp;')}">`);
  expect(`${portalUrl.origin}${portalUrl.pathname}`).toBe(`${PORTAL}/thanh-toan/ket-qua`);
  // The portal's own parameters are kept.
  expect(portalUrl.searchParams.get('nguon')).toBe('hub');
  return { html, portalUrl, hubResult: portalUrl.searchParams.get('hubResult')! };
}

/** The return URL the hub gave the sandbox in its signed checkout link. */
const sandboxReturnLink = (intent: Intent) => new URL(new URL(intent.nextAction.url).searchParams.get('returnUrl')!);

describe(`hubResult on the sandbox's return, on ${databaseLabel}`, () => {
  it("before the callback: the hub's pending record, whatever the sandbox's link says; claims, header and lifetime", async () => {
    h.clock.now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const intent = await intentFor('sandbox');
    const link = sandboxReturnLink(intent);
    expect(`${link.origin}${link.pathname}`).toBe(`${base}/v1/returns/sandbox`);
    // The sandbox adds its own unsigned word; here it claims a success the hub has not heard of.
    link.searchParams.set('reference', intent.reference);
    link.searchParams.set('status', 'succeeded');

    const { html, portalUrl, hubResult } = await landOnReturn(link);
    expect(html).toContain('Đang chờ xác nhận từ cổng thanh toán');
    expect(portalUrl.searchParams.get('reference')).toBe(intent.reference);
    expect(portalUrl.searchParams.get('status')).toBe('pending');

    const { payload, protectedHeader } = await verifyHubResult(base, hubResult, PORTAL, h.clock.now);
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: h.signer.hub.kid, typ: HUB_RESULT_TYPE });
    const iat = h.clock.now.getTime() / 1000;
    expect(payload).toEqual({
      iss: base,
      aud: PORTAL,
      iat,
      exp: iat + 600,
      intentId: intent.id,
      reference: intent.reference,
      status: 'pending',
      amount: 185_000,
    });
    expect(Number.isInteger(payload.amount)).toBe(true);

    // Ten minutes on, the same token is refused: it is for the moment of the return only.
    await expect(verifyHubResult(base, hubResult, PORTAL, new Date(h.clock.now.getTime() + 601_000))).rejects.toBeInstanceOf(
      errors.JWTExpired,
    );
    // Another portal (origin) is not its audience, another hub not its issuer.
    await expect(verifyHubResult(base, hubResult, 'https://dichvucong.hanoi.gov.vn', h.clock.now)).rejects.toBeInstanceOf(
      errors.JWTClaimValidationFailed,
    );
    const jwks = await json(await fetch(`${base}/.well-known/jwks.json`));
    await expect(
      jwtVerify(hubResult, createLocalJWKSet(jwks), { issuer: 'https://hub.elsewhere.gov.vn', audience: PORTAL, currentDate: h.clock.now }),
    ).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed);
  });

  it("after the callback: the payer pays on the sandbox's page, comes back through the hub, and the portal gets succeeded", async () => {
    const intent = await intentFor('sandbox');
    const paid = await chooseOnCheckout(intent.nextAction.url, 'pay');
    expect(paid.status).toBe(303);
    const back = new URL(paid.headers.get('location')!);
    // Back through the hub, never straight to the portal.
    expect(`${back.origin}${back.pathname}`).toBe(`${base}/v1/returns/sandbox`);

    const { portalUrl, hubResult } = await landOnReturn(back);
    expect(portalUrl.searchParams.get('status')).toBe('succeeded');
    const { payload } = await verifyHubResult(base, hubResult, PORTAL);
    expect(payload).toMatchObject({ intentId: intent.id, reference: intent.reference, status: 'succeeded', amount: 185_000 });
    expect((await json(await h.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }))).status).toBe('succeeded');

    // A receipt is signed with the same key, but is no hubResult.
    const receipt = await json(await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: portal }));
    await expect(verifyHubResult(base, receipt.signature, PORTAL)).rejects.toThrow();
  });

  it('a decline: the portal gets the failure the hub recorded', async () => {
    const intent = await intentFor('sandbox');
    const declined = await chooseOnCheckout(intent.nextAction.url, 'decline');
    const { portalUrl, hubResult } = await landOnReturn(declined.headers.get('location')!);
    expect(portalUrl.searchParams.get('status')).toBe('failed');
    expect((await verifyHubResult(base, hubResult, PORTAL)).payload.status).toBe('failed');
  });

  it('a tampered hubResult fails verification', async () => {
    const intent = await intentFor('sandbox');
    const { hubResult } = await landOnReturn(sandboxReturnLink(intent));
    const [header, payload, signature] = hubResult.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    expect(claims.status).toBe('pending');

    const forged = Buffer.from(JSON.stringify({ ...claims, status: 'succeeded' })).toString('base64url');
    await expect(verifyHubResult(base, `${header}.${forged}.${signature}`, PORTAL)).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
    // One bit of the signature changed.
    const bytes = Buffer.from(signature, 'base64url');
    bytes[10]! ^= 1;
    await expect(verifyHubResult(base, `${header}.${payload}.${bytes.toString('base64url')}`, PORTAL)).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
    // Nor does an unsigned token pass.
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: HUB_RESULT_TYPE })).toString('base64url');
    await expect(verifyHubResult(base, `${none}.${payload}.`, PORTAL)).rejects.toThrow();
    expect(decodeProtectedHeader(hubResult).kid).toBe(h.signer.hub.kid);
  });

  it('a return link the hub did not make is refused: no page to the portal, no hubResult', async () => {
    const intent = await intentFor('sandbox');
    const other = await intentFor('sandbox');
    const link = sandboxReturnLink(intent);
    const forged = new URL(link);
    forged.searchParams.set('ref', other.reference);
    const mangled = new URL(link);
    mangled.searchParams.set('mac', '0'.repeat(64));
    const bare = new URL(`${base}/v1/returns/sandbox?reference=${intent.reference}&status=succeeded`);
    for (const url of [forged, mangled, bare]) {
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).toBe(400);
      const html = await response.text();
      expect(html).toContain('Liên kết không hợp lệ');
      expect(html).not.toContain('http-equiv="refresh"');
      expect(html).not.toContain('hubResult');
    }
  });
});

describe(`hubResult on VNPay's return, on ${databaseLabel}`, () => {
  const returnLink = (intent: Intent) =>
    `${base}/v1/returns/vnpay?${vnpSignedQuery(
      {
        ...vnpayFixture('ipn-success'),
        vnp_TxnRef: intent.reference,
        vnp_Amount: String(intent.amount * 100),
        vnp_OrderInfo: `Thanh toan phi le phi ho so ${intent.reference}`,
      },
      DEMO_CHANNELS.vnpaySecret,
    )}`;

  it("says pending while VNPay's signed link says paid but the IPN has not come, and succeeded once it has", async () => {
    const intent = await intentFor('vnpay');
    const link = returnLink(intent);
    const before = await landOnReturn(link);
    // VNPay's word is on the page; the portal is told the hub's.
    expect(before.html).toContain('VNPay báo <strong>giao dịch thành công</strong>');
    expect(before.portalUrl.searchParams.get('status')).toBe('pending');
    expect((await verifyHubResult(base, before.hubResult, PORTAL)).payload).toMatchObject({ intentId: intent.id, status: 'pending' });

    // The IPN: the same signed fields, server to server.
    const ipn = await json(await fetch(`${base}/v1/callbacks/vnpay?${new URL(link).search.slice(1)}`));
    expect(ipn.RspCode).toBe('00');
    const after = await landOnReturn(link);
    expect(after.portalUrl.searchParams.get('status')).toBe('succeeded');
    expect((await verifyHubResult(base, after.hubResult, PORTAL)).payload).toMatchObject({
      intentId: intent.id,
      reference: intent.reference,
      status: 'succeeded',
      amount: intent.amount,
    });
  });

  it("through VNPay's emulated page: paid, back through the hub, hubResult succeeded", async () => {
    const intent = await intentFor('vnpay');
    const paid = await chooseOnCheckout(intent.nextAction.url, 'pay');
    expect(paid.status).toBe(303);
    const { hubResult } = await landOnReturn(paid.headers.get('location')!);
    expect((await verifyHubResult(base, hubResult, PORTAL)).payload).toMatchObject({ intentId: intent.id, status: 'succeeded' });
  });
});

describe(`hubResult on the national platform's return, on ${databaseLabel}`, () => {
  it('through the emulated payment page: confirmed, back through the hub, hubResult succeeded', async () => {
    const intent = await intentFor('dvcqg');
    const paid = await chooseOnCheckout(intent.nextAction.url, 'pay', { MaNganHang: 'VCB' });
    expect(paid.status).toBe(303);
    const back = new URL(paid.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(`${base}/v1/returns/dvcqg`);
    const { portalUrl, hubResult } = await landOnReturn(back);
    expect(portalUrl.searchParams.get('status')).toBe('succeeded');
    expect((await verifyHubResult(base, hubResult, PORTAL)).payload).toMatchObject({
      intentId: intent.id,
      reference: intent.reference,
      status: 'succeeded',
      amount: 185_000,
    });
  });
});

describe('every way back is covered', () => {
  it('VietQR sends no browser back (a QR code, paid from the banking app): there is no return to sign', async () => {
    const intent = await intentFor('vietqr');
    expect(intent.nextAction.type).toBe('qr');
    expect(h.deps.gateways.vietqr!.capabilities.redirect).toBe(false);
  });

  it('the OpenAPI document describes hubResult on every return route', async () => {
    const doc = await json(await h.request('GET', '/openapi.json'));
    for (const gateway of ['vnpay', 'dvcqg', 'sandbox']) {
      const operation = doc.paths[`/v1/returns/${gateway}`].get;
      expect(operation.description).toContain('`hubResult`');
      expect(operation.description).toContain('/.well-known/jwks.json');
      expect(operation.security).toEqual([]);
    }
  });
});
