import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receives } from '../../src/domain/indicators.ts';
import { AGENCY, CURRENT_COMMUNES } from '../../src/seed/agencies.ts';
import { receivingShares } from '../../src/seed/dossiers.ts';
import { seedDemo } from '../../src/seed/index.ts';
import { DEMO_PROCEDURES } from '../../src/seed/procedures.ts';
import { databaseLabel } from '../helpers/database.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';

/**
 * The demo catalogue as it is in December 2026 (domain/procedures.md, "Changes in force in
 * December 2026"), priced through the API: Circular 117/2026's exemptions and reductions for a
 * level-2 VNeID account (15/08/2026 – 28/02/2027), lệ phí trước bạ of vehicles by first or later
 * registration and urban area (Decree 10/2022 Art. 8), certified copies' tiers and cap per copy,
 * the rules the law replaced closed (never overwritten) with their successors, and payer
 * categories combined by the most favourable. Every expected amount is worked out here by hand.
 */
const NOW = new Date('2026-12-04T10:00:00+07:00');
const VNEID = 'vneid_level2';

let h: Harness;
let admin: string;
let n = 0;

beforeAll(async () => {
  h = await createHarness();
  h.clock.now = NOW;
  await seedDemo(h.ctx, { now: NOW, dossiers: 0 });
  admin = await mintToken({ role: 'admin' });
});
afterAll(() => h.close());

/** PUT /v1/dossiers/{code} with a fresh code, as the dossier system would. */
function put(procedureCode: string, agencyCode: string, body: Record<string, unknown>) {
  const date = String(body.receivedAt ?? '2026-12-04').slice(0, 10);
  const code = `${agencyCode}-${date.slice(2).replaceAll('-', '')}-${String(++n).padStart(4, '0')}`;
  // A receipt is dated at most tomorrow: a dossier of a later day is registered on its day.
  h.clock.now = date > '2026-12-04' ? new Date(`${date}T10:00:00+07:00`) : NOW;
  return h.request('PUT', `/v1/dossiers/${code}`, {
    token: admin,
    body: { procedureCode, agencyCode, channel: 'direct', ...body, receivedAt: `${date}T09:30:00+07:00` },
  });
}

async function register(procedureCode: string, agencyCode: string, body: Record<string, unknown> = {}) {
  return expectJson(await put(procedureCode, agencyCode, body), 201);
}

const amounts = (d: { obligations: Array<{ amount: number }> }) => d.obligations.map((o) => o.amount);
const COMMUNE = AGENCY.tranBien;

describe(`a level-2 VNeID account, Circular 117/2026/TT-BTC (${databaseLabel})`, () => {
  it('a driving-licence exchange on 2026-12-04 costs 0 đ; without the account, or outside the window, 135.000 đ', async () => {
    const exempt = await register('3.000347', AGENCY.trafficPolice, {
      receivedAt: '2026-12-04',
      channel: 'online',
      payerCategories: [VNEID],
    });
    expect(exempt.obligations).toMatchObject([
      { feeCode: 'LPGPLX', amount: 0, status: 'waived', adjustment: expect.stringMatching(/VNeID/) },
    ]);
    expect(exempt.totalDue).toBe(0);
    expect(exempt).toMatchObject({ payerCategories: [VNEID], payerCategory: VNEID });
    // The one-item alias says the same.
    expect(amounts(await register('3.000347', AGENCY.trafficPolice, { receivedAt: '2026-12-04', payerCategory: VNEID }))).toEqual([0]);
    expect(amounts(await register('3.000347', AGENCY.trafficPolice, { receivedAt: '2026-12-04' }))).toEqual([135_000]);
    expect(amounts(await register('3.000347', AGENCY.trafficPolice, { receivedAt: '2026-08-14', payerCategories: [VNEID] }))).toEqual([
      135_000,
    ]);
    expect(amounts(await register('3.000347', AGENCY.trafficPolice, { receivedAt: '2026-08-15', payerCategories: [VNEID] }))).toEqual([0]);
    expect(amounts(await register('3.000347', AGENCY.trafficPolice, { receivedAt: '2027-02-28', payerCategories: [VNEID] }))).toEqual([0]);
    expect(amounts(await register('3.000347', AGENCY.trafficPolice, { receivedAt: '2027-03-01', payerCategories: [VNEID] }))).toEqual([
      135_000,
    ]);
  });

  it('exempts residence, ID card, judicial record and passport fees; not a first vehicle registration', async () => {
    const vneid = { receivedAt: '2026-12-04', payerCategories: [VNEID] };
    expect(amounts(await register('1.004222', COMMUNE, vneid))).toEqual([0]);
    expect(amounts(await register('1.004194', COMMUNE, vneid))).toEqual([0]);
    expect(amounts(await register('2.001195', AGENCY.residencePolice, vneid))).toEqual([0]);
    expect(amounts(await register('3.000333', AGENCY.recordsPolice, vneid))).toEqual([0]);
    expect(amounts(await register('1.001456', AGENCY.immigration, vneid))).toEqual([0]);
    // Plates of a first registration are not among the exemptions.
    expect(amounts(await register('1.000377', AGENCY.trafficPolice, { ...vneid, declaredValue: 30_000_000 }))).toEqual([400_000]);
    // Without the account, the ordinary amounts of December 2026.
    const plain = { receivedAt: '2026-12-04' };
    expect(amounts(await register('2.001195', AGENCY.residencePolice, plain))).toEqual([25_000]); // halved to 31/12/2026
    expect(amounts(await register('3.000333', AGENCY.recordsPolice, plain))).toEqual([200_000]);
    expect(amounts(await register('1.001456', AGENCY.immigration, plain))).toEqual([200_000]);
  });

  it('reduces lệ phí trước bạ: land −10 %, a second-hand car −50 %, a second-hand motorbike −100 %, by at most 11.700.000 đ', async () => {
    const vneid = { receivedAt: '2026-12-04', payerCategories: [VNEID] };
    // Land: 0,5 % of 2.345.678.901 = 11.728.394,505 → 11.728.395; −10 % = 10.555.555,5 → 10.555.556.
    const land = await register('1.013831', AGENCY.landRegistry, { ...vneid, declaredValue: 2_345_678_901 });
    expect(amounts(land)).toEqual([50_000, 500_000, 10_555_556]);
    // Land worth 40 billion: 200.000.000, reduced by 11.700.000 (10 % would be 20.000.000).
    expect(amounts(await register('1.013831', AGENCY.landRegistry, { ...vneid, declaredValue: 40_000_000_000 }))[2]).toBe(188_300_000);
    // A second-hand car: 2 % of 800.000.000 = 16.000.000, −50 % = 8.000.000.
    expect(amounts(await register('9.000002', AGENCY.tax, { ...vneid, declaredValue: 800_000_000, vehicleRegistration: 'later' }))).toEqual(
      [8_000_000],
    );
    // A new car is not reduced: 10 %.
    expect(amounts(await register('9.000002', AGENCY.tax, { ...vneid, declaredValue: 800_000_000, vehicleRegistration: 'first' }))).toEqual(
      [80_000_000],
    );
    // A second-hand motorbike: 1 % of 45.000.000 = 450.000, −100 %.
    const bike = await register('9.000001', AGENCY.tax, {
      ...vneid,
      declaredValue: 45_000_000,
      vehicleRegistration: 'later',
      urbanArea: true,
    });
    expect(bike.obligations).toMatchObject([{ amount: 0, status: 'waived' }]);
    // A dear second-hand motorbike: 1 % of 1.500.000.000 = 15.000.000, reduced by 11.700.000 at most.
    expect(
      amounts(
        await register('9.000001', AGENCY.tax, { ...vneid, declaredValue: 1_500_000_000, vehicleRegistration: 'later', urbanArea: false }),
      ),
    ).toEqual([3_300_000]);
  });
});

describe(`lệ phí trước bạ of a motorbike, Decree 10/2022 Art. 8 (${databaseLabel})`, () => {
  const bike = (body: Record<string, unknown>) =>
    put('9.000001', AGENCY.tax, { receivedAt: '2026-12-04', declaredValue: 38_500_000, ...body });

  it('is 1 % from the second registration, 5 % for a first in a city, 2 % for a first elsewhere', async () => {
    const secondHand = await expectJson(await bike({ vehicleRegistration: 'later' }), 201);
    expect(amounts(secondHand)).toEqual([385_000]);
    expect(secondHand).toMatchObject({ vehicleRegistration: 'later', urbanArea: null });
    expect(amounts(await expectJson(await bike({ vehicleRegistration: 'later', urbanArea: true }), 201))).toEqual([385_000]);
    expect(amounts(await expectJson(await bike({ vehicleRegistration: 'first', urbanArea: true }), 201))).toEqual([1_925_000]);
    expect(amounts(await expectJson(await bike({ vehicleRegistration: 'first', urbanArea: false }), 201))).toEqual([770_000]);
    // Before 15/08/2026 the same rates (the version before the Circular).
    expect(amounts(await expectJson(await bike({ receivedAt: '2026-05-04', vehicleRegistration: 'later' }), 201))).toEqual([385_000]);
  });

  it('asks for what the rate depends on (422), and takes only first or later', async () => {
    const missing = await expectProblem(await bike({}), 422, 'fee-input-missing');
    expect(missing.errors).toEqual([{ path: 'vehicleRegistration', message: expect.any(String) }]);
    const noArea = await expectProblem(await bike({ vehicleRegistration: 'first' }), 422, 'fee-input-missing');
    expect(noArea.errors[0].path).toBe('urbanArea');
    const wrong = await expectProblem(await bike({ vehicleRegistration: 'second' }), 400, 'validation-failed');
    expect(wrong.errors[0].path).toBe('vehicleRegistration');
    await expectProblem(await bike({ vehicleRegistration: 'later', urbanArea: 'yes' }), 400, 'validation-failed');
  });
});

describe(`amounts and legal bases that changed: closed, never overwritten (${databaseLabel})`, () => {
  it('temporary residence is 15.000 đ (7.000 đ online) from 15/08/2026; a dossier before keeps the rule of its date', async () => {
    expect(amounts(await register('1.004194', COMMUNE, { receivedAt: '2026-12-04' }))).toEqual([15_000]);
    expect(amounts(await register('1.004194', COMMUNE, { receivedAt: '2026-12-04', channel: 'online' }))).toEqual([7_000]);
    const before = await register('1.004194', COMMUNE, { receivedAt: '2026-08-14' });
    expect(amounts(before)).toEqual([10_000]);
    // Recomputed when its inputs change, it is still priced by the rule of its receipt date.
    const refiled = await expectJson(
      await h.request('PUT', `/v1/dossiers/${before.code}`, {
        token: admin,
        body: { procedureCode: '1.004194', agencyCode: COMMUNE, channel: 'online', receivedAt: before.receivedAt },
      }),
      200,
    );
    expect(amounts(refiled)).toEqual([7_000]);

    const procedure = await json(await h.request('GET', '/v1/procedures/1.004194', { token: admin }));
    expect(procedure.feeRules.map((r: any) => [r.validFrom, r.validTo, r.formula.amount])).toEqual([
      ['2023-02-05', '2026-08-14', 10_000],
      ['2026-08-15', null, 15_000],
    ]);
  });

  it('enterprise registration: 25.000 đ until 31/12/2026, 50.000 đ from 2027, free online; 50.000 đ before the halving', async () => {
    expect(amounts(await register('2.001610', AGENCY.finance, { receivedAt: '2026-12-31' }))).toEqual([25_000, 100_000]);
    expect(amounts(await register('2.001610', AGENCY.finance, { receivedAt: '2027-01-01' }))).toEqual([50_000, 100_000]);
    expect(amounts(await register('2.001610', AGENCY.finance, { receivedAt: '2025-06-30' }))).toEqual([50_000, 100_000]);
    expect(amounts(await register('2.001610', AGENCY.finance, { receivedAt: '2025-07-01' }))).toEqual([25_000, 100_000]);
    expect(amounts(await register('2.001610', AGENCY.finance, { receivedAt: '2026-12-04', channel: 'online' }))).toEqual([0, 100_000]);
  });

  it('closes each superseded rule the day before its successor, and never has two versions of a fee in force on one day', async () => {
    const { items } = await json(await h.request('GET', '/v1/procedures', { token: admin }));
    const versions = (code: string, feeCode: string) =>
      items
        .find((p: any) => p.code === code)
        .feeRules.filter((r: any) => r.feeCode === feeCode)
        .map((r: any) => [r.validFrom, r.validTo]);
    expect(versions('3.000347', 'LPGPLX')).toEqual([
      ['2017-01-01', '2025-12-31'],
      ['2026-01-01', null],
    ]);
    expect(versions('1.001456', 'LPHC')).toEqual([
      ['2021-07-01', '2026-03-31'],
      ['2026-04-01', null],
    ]);
    expect(versions('2.001610', 'LPDKDN')).toEqual([
      ['2019-09-20', '2025-06-30'],
      ['2025-07-01', null],
    ]);
    expect(items.find((p: any) => p.code === '3.000347').feeRules.at(-1).legalBasis).toMatch(/154\/2025/);
    expect(items.find((p: any) => p.code === '1.001456').feeRules.at(-1).legalBasis).toMatch(/28\/2026/);
    for (const p of items) {
      const byFee = new Map<string, Array<{ validFrom: string; validTo: string | null }>>();
      for (const r of p.feeRules) byFee.set(r.feeCode, [...(byFee.get(r.feeCode) ?? []), r]);
      for (const rules of byFee.values()) {
        const sorted = [...rules].sort((a, b) => a.validFrom.localeCompare(b.validFrom));
        for (let i = 1; i < sorted.length; i++) {
          const end = sorted[i - 1]!.validTo;
          expect(end, `${p.code}`).not.toBeNull();
          // The day before the next one starts: no gap, no overlap.
          const next = new Date(`${end}T00:00:00Z`);
          next.setUTCDate(next.getUTCDate() + 1);
          expect(next.toISOString().slice(0, 10), p.code).toBe(sorted[i]!.validFrom);
        }
      }
    }
  });

  it('loading the demo again closes nothing more and adds nothing', async () => {
    const before = await json(await h.request('GET', '/v1/procedures', { token: admin }));
    await seedDemo(h.ctx, { now: NOW, dossiers: 0 });
    expect(await json(await h.request('GET', '/v1/procedures', { token: admin }))).toEqual(before);
  });
});

describe(`certified copies: the page tiers and the 200.000 đ cap per copy (${databaseLabel})`, () => {
  it.each([
    [1, undefined, 2_000],
    [2, 1, 4_000],
    [5, 1, 7_000], // 2 × 2.000 + 3 × 1.000
    [5, 3, 21_000],
    [198, 1, 200_000], // 2 × 2.000 + 196 × 1.000: the cap exactly
    [300, 1, 200_000],
    [300, 2, 400_000],
    [150, 4, 4 * 152_000],
  ])('%d pages × %s copies → %d đ', async (quantity, copies, amount) => {
    const d = await register('2.000815', COMMUNE, { quantity, ...(copies === undefined ? {} : { copies }) });
    expect(amounts(d)).toEqual([amount]);
    expect(d.copies).toBe(copies ?? null);
  });

  it('refuses copies that are not a positive whole number', async () => {
    for (const copies of [0, -1, 1.5, '2']) {
      const problem = await expectProblem(await put('2.000815', COMMUNE, { quantity: 3, copies }), 400, 'validation-failed');
      expect(problem.errors[0].path).toBe('copies');
    }
  });
});

describe(`several payer categories: the most favourable, not stacked (${databaseLabel})`, () => {
  it('a student who is also a child: the exemption, not 100.000 đ; a student with merit: 100.000 đ once', async () => {
    const both = await register('3.000333', AGENCY.recordsPolice, { receivedAt: '2026-12-04', payerCategories: ['student', 'child'] });
    expect(both.obligations).toMatchObject([{ amount: 0, status: 'waived' }]);
    expect(both).toMatchObject({ payerCategories: ['child', 'student'], payerCategory: null });
    expect(amounts(await register('3.000333', AGENCY.recordsPolice, { payerCategories: ['student', 'merit'] }))).toEqual([100_000]);
  });

  it('a lost passport costs 400.000 đ for a student, and nothing with a level-2 VNeID account in the window', async () => {
    expect(amounts(await register('1.001456', AGENCY.immigration, { payerCategories: ['lost_or_damaged', 'student'] }))).toEqual([400_000]);
    expect(amounts(await register('1.001456', AGENCY.immigration, { payerCategories: ['lost_or_damaged', VNEID] }))).toEqual([0]);
    expect(
      amounts(await register('1.001456', AGENCY.immigration, { receivedAt: '2027-03-01', payerCategories: ['lost_or_damaged', VNEID] })),
    ).toEqual([400_000]);
  });

  it('the same categories in another order change nothing; the alias and the list must agree', async () => {
    const first = await register('3.000333', AGENCY.recordsPolice, { payerCategories: ['student', 'merit'] });
    const again = await expectJson(
      await h.request('PUT', `/v1/dossiers/${first.code}`, {
        token: admin,
        body: {
          procedureCode: '3.000333',
          agencyCode: AGENCY.recordsPolice,
          channel: 'direct',
          receivedAt: first.receivedAt,
          payerCategories: ['merit', 'student', 'merit'],
        },
      }),
      200,
    );
    expect(again.updatedAt).toBe(first.updatedAt);
    expect(again.obligations.map((o: { id: string }) => o.id)).toEqual(first.obligations.map((o: { id: string }) => o.id));
    expect(amounts(await register('3.000333', AGENCY.recordsPolice, { payerCategory: 'student', payerCategories: ['student'] }))).toEqual([
      100_000,
    ]);
    const conflict = await expectProblem(
      await put('3.000333', AGENCY.recordsPolice, { payerCategory: 'student', payerCategories: ['child'] }),
      400,
      'validation-failed',
    );
    expect(conflict.errors[0].path).toBe('payerCategory');
    await expectProblem(await put('3.000333', AGENCY.recordsPolice, { payerCategories: ['Hộ nghèo'] }), 400, 'validation-failed');
  });
});

describe(`who receives each procedure of the demo (${databaseLabel})`, () => {
  it("every procedure says who receives it, and the demo's dossiers are received only where the catalogue says", async () => {
    const { items: agencies } = await json(await h.request('GET', '/v1/agencies', { token: admin }));
    const { items } = await json(await h.request('GET', '/v1/procedures', { token: admin }));
    const pathOf = new Map<string, string>();
    for (const a of agencies) pathOf.set(a.code, `${pathOf.get(a.parentCode) ?? '/'}${a.code}/`);
    const levelOf = new Map<string, string>(agencies.map((a: any) => [a.code, a.level]));
    const byCode = new Map<string, any>(items.map((p: any) => [p.code, p]));
    for (const { code } of DEMO_PROCEDURES) {
      const p = byCode.get(code);
      expect(p.receivingLevels.length + p.receivingUnits.length, code).toBeGreaterThan(0);
    }
    for (const { agencyCode, procedureCode } of receivingShares()) {
      const agency = { level: levelOf.get(agencyCode)!, path: pathOf.get(agencyCode)! };
      expect(receives(agency, byCode.get(procedureCode)), `${procedureCode} at ${agencyCode}`).toBe(true);
    }
    // Commune-level procedures are the communes', not the departments'.
    const copies = byCode.get('2.000815');
    expect(receives({ level: 'commune', path: pathOf.get(CURRENT_COMMUNES[0]!)! }, copies)).toBe(true);
    expect(receives({ level: 'department', path: pathOf.get(AGENCY.justice)! }, copies)).toBe(false);
    expect(receives({ level: 'commune', path: pathOf.get(CURRENT_COMMUNES[0]!)! }, byCode.get('3.000347'))).toBe(false);
  });

  it("indicator b of a commune counts the communes' fee-bearing procedures only", async () => {
    const { items } = await json(await h.request('GET', '/v1/procedures', { token: admin }));
    const communal = items.filter((p: any) => p.feeBearing && p.receivingLevels.includes('commune')).length;
    const all = items.filter((p: any) => p.feeBearing).length;
    expect(communal).toBeLessThan(all);
    const token = await mintToken({ role: 'campaign', agencies: [COMMUNE] });
    const commune = await json(
      await h.request('GET', `/v1/indicators/online-payment?agency=${COMMUNE}&from=2026-11-01&to=2026-11-30`, { token }),
    );
    expect(commune.procedureIntegration.denominator).toBe(communal);
    const province = await json(
      await h.request('GET', `/v1/indicators/online-payment?agency=${AGENCY.province}&from=2026-11-01&to=2026-11-30`, { token: admin }),
    );
    expect(province.procedureIntegration.denominator).toBe(all);
  });
});
