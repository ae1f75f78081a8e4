import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';
import { feeRules, paymentIntents } from '../../src/db/schema/index.ts';
import { DEFAULT_DOSSIER_LIMITS } from '../../src/domain/plausibility.ts';
import { buildGateways } from '../../src/gateways/configure.ts';
import { AGENCIES, createIntent, createProcedure, dossierBody, rule, seedAgencyTree, uniqueDossierCode } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';

/**
 * Plausibility limits (issue 14): what a careless integrator sends — a declared value of
 * 2^53 − 1 đ, a receipt dated 1900 or 2099, a bill larger than the gateway takes — is refused
 * with the field and the limit named, before anything is written or sent to a gateway.
 */
const NOW = new Date('2026-12-05T10:00:00+07:00'); // today is 2026-12-05 in Vietnam
let h: Harness;
let portal: string;
let tenPercent: string; // 10 % of the declared value (a passenger car's first registration)
let twoLines: string; // 6 tỷ + 5 tỷ đồng: each below VNPay's and the sandbox's limit, not both
let fixed: string;

beforeAll(async () => {
  h = await createHarness();
  h.clock.now = NOW;
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.communeA] });
  tenPercent = await createProcedure(h.ctx, [rule({ formula: { type: 'percentage', rate: '10' } })]);
  twoLines = await createProcedure(h.ctx, [
    rule({ formula: { type: 'fixed', amount: 6_000_000_000 } }),
    rule({ kind: 'phi', feeCode: 'P02', lineNo: 2, formula: { type: 'fixed', amount: 5_000_000_000 } }),
  ]);
  fixed = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 135_000 } })]);
});
afterAll(() => h?.close());

const put = (code: string, body: unknown, harness = h) => harness.request('PUT', `/v1/dossiers/${code}`, { token: portal, body });
const at = (date: string) => `${date}T09:30:00+07:00`;

describe('a dossier’s fee inputs', () => {
  it('refuses a declared value of 2^53 − 1 đ on its field, naming the limit, and writes nothing', async () => {
    const code = uniqueDossierCode();
    const problem = await expectProblem(
      await put(code, dossierBody(tenPercent, { declaredValue: Number.MAX_SAFE_INTEGER })),
      400,
      'validation-failed',
    );
    expect(problem.errors).toEqual([
      { path: 'declaredValue', message: `at most ${DEFAULT_DOSSIER_LIMITS.maxDeclaredValue} VND (the hub's plausibility limit)` },
    ]);
    await expectProblem(await h.request('GET', `/v1/dossiers/${code}`, { token: portal }), 404, 'not-found');
    // At the limit, it is a dossier (its 10 % fee is then for the gateway's limit to judge).
    const atLimit = await expectJson(
      await put(code, dossierBody(tenPercent, { declaredValue: DEFAULT_DOSSIER_LIMITS.maxDeclaredValue })),
      201,
    );
    expect(atLimit.totalDue).toBe(DEFAULT_DOSSIER_LIMITS.maxDeclaredValue / 10);
  });

  it('refuses a receipt dated after tomorrow (2099 or the day after tomorrow), and takes tomorrow’s', async () => {
    for (const date of ['2099-01-01', '2026-12-07']) {
      const code = uniqueDossierCode();
      const problem = await expectProblem(await put(code, dossierBody(fixed, { receivedAt: at(date) })), 400, 'validation-failed');
      expect(problem.errors).toEqual([
        { path: 'receivedAt', message: 'received by 2026-12-06 at the latest (today is 2026-12-05 in Vietnam)' },
      ]);
      await expectProblem(await h.request('GET', `/v1/dossiers/${code}`, { token: portal }), 404, 'not-found');
    }
    // Late in the evening in Vietnam, still today: 2026-12-06T23:59+07:00 is tomorrow.
    expect(
      (await expectJson(await put(uniqueDossierCode(), dossierBody(fixed, { receivedAt: '2026-12-06T23:59:00+07:00' })), 201)).receivedDate,
    ).toBe('2026-12-06');
    await expectProblem(
      await put(uniqueDossierCode(), dossierBody(fixed, { receivedAt: '2026-12-06T17:00:00Z' })),
      400,
      'validation-failed',
    );
  });

  it('refuses a receipt dated before the catalogue’s first fee rule takes effect (it would have no fee lines)', async () => {
    const [{ first }] = (await h.db.db.select({ first: sql<string>`min(${feeRules.validFrom})::text` }).from(feeRules)) as [
      { first: string },
    ];
    const dayBefore = new Date(Date.parse(`${first}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    for (const date of ['1900-06-01', dayBefore]) {
      const problem = await expectProblem(
        await put(uniqueDossierCode(), dossierBody(fixed, { receivedAt: at(date) })),
        400,
        'validation-failed',
      );
      expect(problem.errors).toEqual([
        { path: 'receivedAt', message: `received on ${first} or later: the catalogue's fee rules start then` },
      ]);
    }
    await expectJson(await put(uniqueDossierCode(), dossierBody(fixed, { receivedAt: at(first) })), 201);
  });

  it('names every implausible field at once', async () => {
    const problem = await expectProblem(
      await put(uniqueDossierCode(), dossierBody(tenPercent, { declaredValue: 2 ** 52, receivedAt: at('2099-12-31') })),
      400,
      'validation-failed',
    );
    expect(problem.errors.map((e: { path: string }) => e.path)).toEqual(['declaredValue', 'receivedAt']);
  });
});

describe('a bill larger than the gateway takes in one payment', () => {
  it('is refused with 422 naming the gateway’s limit, before the gateway is asked or anything is written', async () => {
    const dossier = await expectJson(await put(uniqueDossierCode(), dossierBody(twoLines)), 201);
    expect(dossier.totalDue).toBe(11_000_000_000);
    const sandbox = h.deps.gateways.sandbox!;
    const asked = vi.spyOn(sandbox, 'createPayment');
    try {
      const problem = await expectProblem(await createIntent(h, portal, dossier.code, {}, 'too-much-1'), 422, 'amount-above-gateway-limit');
      expect(problem).toMatchObject({ gateway: 'sandbox', maxAmount: 9_999_999_999, amount: 11_000_000_000 });
      expect(problem.detail).toContain('at most 9999999999 VND');
      expect(problem.errors).toEqual([{ path: 'gateway', message: 'at most 9999999999 VND in one payment' }]);
      expect(asked).not.toHaveBeenCalled();
      expect(await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.dossierCode, dossier.code))).toEqual([]);
      // Nothing kept the key either: the same key with a smaller bill (one obligation) goes through.
      const first = dossier.obligations[0].id;
      const one = await expectJson(await createIntent(h, portal, dossier.code, { obligationIds: [first] }, 'too-much-1'), 201);
      expect(one.amount).toBe(6_000_000_000);
      expect(asked).toHaveBeenCalledTimes(1);
    } finally {
      asked.mockRestore();
    }
  });

  it('follows the gateway’s configured limit', async () => {
    const small = await createHarness({
      sandboxMaxAmount: 100_000,
      dossierLimits: { maxDeclaredValue: 5_000_000, maxQuantity: 10, maxDaysAhead: 0 },
    });
    try {
      small.clock.now = NOW;
      await seedAgencyTree(small.ctx);
      const procedure = await createProcedure(small.ctx, [rule({ formula: { type: 'fixed', amount: 135_000 } })]);
      const dossier = await expectJson(await put(uniqueDossierCode(), dossierBody(procedure), small), 201);
      const problem = await expectProblem(await createIntent(small, portal, dossier.code), 422, 'amount-above-gateway-limit');
      expect(problem).toMatchObject({ maxAmount: 100_000, amount: 135_000 });
      // The dossier limits are the harness's too: a value, a quantity and a receipt of tomorrow past them.
      const tooMuch = await expectProblem(
        await put(
          uniqueDossierCode(),
          dossierBody(procedure, { declaredValue: 5_000_001, quantity: 11, receivedAt: at('2026-12-06') }),
          small,
        ),
        400,
        'validation-failed',
      );
      expect(tooMuch.errors.map((e: { path: string }) => e.path)).toEqual(['declaredValue', 'quantity', 'receivedAt']);
      await expectJson(
        await put(
          uniqueDossierCode(),
          dossierBody(procedure, { declaredValue: 5_000_000, quantity: 10, receivedAt: at('2026-12-05') }),
          small,
        ),
        201,
      );
    } finally {
      await small.close();
    }
  });
});

describe('each gateway declares its limit', () => {
  const env = { publicBaseUrl: 'https://hub.example.gov.vn', fetch, now: () => NOW, callbackToleranceSeconds: 300 };
  const configured = {
    VNPAY_TMN_CODE: 'DEMOV210',
    VNPAY_HASH_SECRET: 'vnpay-secret',
    VIETQR_NOTIFY_SECRET: 'vietqr-secret',
    DVCQG_PARTNER_CODE: 'HCC_DONGNAI',
    DVCQG_HASH_KEY: 'dvcqg-key',
    DVCQG_INIT_URL: 'https://pp.example.vn/init',
  };
  const gatewaysOf = (extra: Record<string, string> = {}) => {
    const config = parseConfig({ ...configured, ...extra });
    return buildGateways(
      { ...config.gateways, sandbox: { secrets: ['sandbox-secret'], polling: config.sandboxPolling, maxAmount: config.sandboxMaxAmount } },
      env,
    );
  };

  it('VNPay from vnp_Amount’s 12 digits of VND × 100; VietQR, the national platform and the sandbox by their documented defaults', () => {
    const g = gatewaysOf();
    expect(g.vnpay!.maxAmount).toBe(9_999_999_999);
    expect(g.vietqr!.maxAmount).toBe(499_999_999);
    expect(g.dvcqg!.maxAmount).toBe(499_999_999);
    expect(g.sandbox!.maxAmount).toBe(9_999_999_999);
  });

  it('VietQR, the national platform and the sandbox as configured, within what their messages carry', () => {
    const g = gatewaysOf({ VIETQR_MAX_AMOUNT_VND: '200000000', DVCQG_MAX_AMOUNT_VND: '300000000', SANDBOX_MAX_AMOUNT_VND: '1000000' });
    expect([g.vietqr!.maxAmount, g.dvcqg!.maxAmount, g.sandbox!.maxAmount]).toEqual([200_000_000, 300_000_000, 1_000_000]);
    const config = parseConfig({
      DOSSIER_MAX_DECLARED_VALUE_VND: '1000000000000',
      DOSSIER_MAX_QUANTITY: '5000',
      DOSSIER_MAX_COPIES: '50',
      DOSSIER_MAX_DAYS_AHEAD: '0',
    });
    expect(config.dossierLimits).toEqual({ maxDeclaredValue: 1_000_000_000_000, maxQuantity: 5000, maxCopies: 50, maxDaysAhead: 0 });
    expect(parseConfig({}).dossierLimits).toEqual(DEFAULT_DOSSIER_LIMITS);
    for (const bad of [
      { VIETQR_MAX_AMOUNT_VND: '0' },
      { VIETQR_MAX_AMOUNT_VND: '10000000000000' }, // 14 digits: more than the QR's amount field holds
      { SANDBOX_MAX_AMOUNT_VND: '1.5' },
      { DOSSIER_MAX_QUANTITY: '100001' },
    ]) {
      expect(() => parseConfig(bad), JSON.stringify(bad)).toThrow(ConfigError);
    }
  });
});
