import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { DEFAULT_SCORING } from '../../src/domain/indicators.ts';
import { buildGateways } from '../../src/gateways/configure.ts';
import { mulberry32 } from '../../src/seed/dossiers.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { demoGateways } from '../helpers/channels.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import {
  type Curves,
  DOMAIN_CURVES,
  hasCharge,
  type ModelDossier,
  modelIndicators,
  modelNeeded,
  vietnamDate,
  pricedAllZero as zeroPriced,
} from '../helpers/indicators.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { chooseOnCheckout, deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';

/**
 * Decision 766's three indicators on a generated data set: a tree of several levels, fee-bearing
 * procedures and free ones, one whose fee has lapsed, dossiers priced all zero (filed online
 * where that is free, or by an exempt payer), dossiers with no fee line at all, online, counter
 * and postal filings, payments through the province's gateway (sandbox, flag 2) and the national
 * platform (its emulator, flag 1), and payments that arrive after their dossier's month. The
 * dossiers are registered and paid through the API; the expected values are computed here, from
 * the plan alone, with this file's own fee arithmetic, Vietnamese dates and integer ratios.
 */
const TODAY = new Date('2026-12-03T10:00:00+07:00');
const UNIT = '000.01.32.H19'; // a unit of the department: a third level
const RECEIVERS = [
  AGENCIES.province,
  AGENCIES.department,
  UNIT,
  AGENCIES.communeA,
  AGENCIES.communeB,
  AGENCIES.districtCommune,
  AGENCIES.otherProvince,
];
/** Every agency's ancestors, itself included: a scope covers its subtree. */
const LINEAGE: Record<string, string[]> = {
  [AGENCIES.province]: [AGENCIES.province],
  [AGENCIES.department]: [AGENCIES.department, AGENCIES.province],
  [UNIT]: [UNIT, AGENCIES.department, AGENCIES.province],
  [AGENCIES.communeA]: [AGENCIES.communeA, AGENCIES.province],
  [AGENCIES.communeB]: [AGENCIES.communeB, AGENCIES.province],
  [AGENCIES.district]: [AGENCIES.district, AGENCIES.province],
  [AGENCIES.districtCommune]: [AGENCIES.districtCommune, AGENCIES.district, AGENCIES.province],
  [AGENCIES.otherProvince]: [AGENCIES.otherProvince],
};

/** Each agency's level, as the tree below makes them. */
const LEVEL: Record<string, string> = {
  [AGENCIES.province]: 'province',
  [AGENCIES.department]: 'department',
  [UNIT]: 'unit',
  [AGENCIES.communeA]: 'commune',
  [AGENCIES.communeB]: 'commune',
  [AGENCIES.district]: 'district',
  [AGENCIES.districtCommune]: 'commune',
  [AGENCIES.otherProvince]: 'province',
};

type Key = 'F1' | 'F2' | 'F3' | 'F4' | 'F5' | 'E1' | 'X1';
/**
 * The catalogue, as this test knows it. `feeBearing`: a rule in force on 3 December 2026 can
 * charge. `levels` / `units`: who receives it (none said: every unit), so that indicator b asks
 * each unit only about what it can receive.
 */
const CATALOGUE: Record<Key, { integrated: boolean; feeBearing: boolean; levels: string[]; units: string[] }> = {
  F1: { integrated: true, feeBearing: true, levels: [], units: [] }, // 135.000 đ
  F2: { integrated: true, feeBearing: true, levels: [], units: [] }, // 50.000 đ, free when filed online
  F3: { integrated: false, feeBearing: true, levels: ['commune'], units: [] }, // 2.000 đ a page, free for a child: the communes'
  F4: { integrated: false, feeBearing: true, levels: [], units: [AGENCIES.department] }, // 20.000 đ, never paid online: the department's (and its unit's)
  F5: { integrated: true, feeBearing: true, levels: [], units: [UNIT] }, // 30.000 đ, never filed: the unit's only
  E1: { integrated: false, feeBearing: false, levels: ['commune'], units: [] }, // always free
  X1: { integrated: true, feeBearing: false, levels: [], units: [] }, // 20.000 đ until 15/10/2026, then no rule
};

/** Whether an agency receives a procedure, by this test's own reading of the catalogue. */
function receivesHere(agency: string, key: Key): boolean {
  const { levels, units } = CATALOGUE[key];
  if (levels.length === 0 && units.length === 0) return true;
  return levels.includes(LEVEL[agency]!) || units.some((u) => LINEAGE[agency]!.includes(u));
}

/** The agencies of a scope's subtree (itself included). */
const subtree = (scope: string) => Object.keys(LINEAGE).filter((a) => LINEAGE[a]!.includes(scope));
const codes = {} as Record<Key, string>;

type Channel = 'online' | 'direct' | 'postal';
interface Planned {
  code: string;
  key: Key;
  agency: string;
  channel: Channel;
  receivedAt: Date;
  child: boolean;
  pages: number;
  /** How it is paid online, if it is; `late` payments are made after the first checkpoint. */
  pay: null | { via: 'sandbox' | 'dvcqg'; late: boolean };
  /** A payment attempt that fails (declined), before or instead of the payment. */
  declinedFirst: boolean;
  flag: 0 | 1 | 2;
}

/** This test's own fee arithmetic: the amounts of a dossier's lines. */
function lines(d: Pick<Planned, 'key' | 'channel' | 'receivedAt' | 'child' | 'pages'>): number[] {
  switch (d.key) {
    case 'F1':
      return [135_000];
    case 'F2':
      return [d.channel === 'online' ? 0 : 50_000];
    case 'F3':
      return [d.child ? 0 : 2_000 * d.pages];
    case 'F4':
      return [20_000];
    case 'F5':
      return [30_000];
    case 'E1':
      return [0];
    case 'X1':
      return vietnamDate(d.receivedAt) <= '2026-10-15' ? [20_000] : [];
  }
}
const pricedAllZero = (d: Planned) => zeroPriced({ lines: lines(d) });
const charged = (d: Planned) => hasCharge({ lines: lines(d) });

let h: Harness;
let admin: string;
let portal: string;
const plan: Planned[] = [];

function generate() {
  const random = mulberry32(20261203);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const weighted: Key[] = ['F1', 'F1', 'F1', 'F2', 'F2', 'F3', 'F3', 'F4', 'E1', 'X1'];
  const start = Date.parse('2026-10-01T00:00:00+07:00');
  const span = Date.parse('2026-12-01T00:00:00+07:00') - start;
  let n = 0;
  const add = (d: Omit<Planned, 'code' | 'flag'>) => {
    const date = vietnamDate(d.receivedAt).slice(2).replaceAll('-', '');
    n += 1;
    plan.push({ ...d, code: `${d.agency}-${date}-${String(n).padStart(4, '0')}`, flag: 0 });
  };
  for (let i = 0; i < 150; i++) {
    const key = pick(weighted);
    const agency = pick(RECEIVERS);
    add({
      key,
      agency,
      channel: pick<Channel>(['online', 'online', 'online', 'direct', 'direct', 'postal']),
      receivedAt: new Date(start + Math.floor(random() * span)),
      child: key === 'F3' && random() < 0.3,
      pages: 1 + Math.floor(random() * 6),
      // F4 is never paid online: a fee-bearing procedure that holds indicator a back.
      pay: key !== 'F4' && random() < 0.55 ? { via: random() < 0.3 ? 'dvcqg' : 'sandbox', late: random() < 0.25 } : null,
      declinedFirst: random() < 0.15,
    });
  }
  // Business dates are Vietnamese: 23:30 on 31 October is October, 00:10 on 1 November is not.
  add({
    key: 'F1',
    agency: AGENCIES.communeA,
    channel: 'online',
    receivedAt: new Date('2026-10-31T23:30:00+07:00'),
    child: false,
    pages: 1,
    pay: { via: 'sandbox', late: true },
    declinedFirst: false,
  });
  add({
    key: 'F1',
    agency: AGENCIES.communeA,
    channel: 'online',
    receivedAt: new Date('2026-11-01T00:10:00+07:00'),
    child: false,
    pages: 1,
    pay: null,
    declinedFirst: false,
  });
}

async function pay(d: Planned) {
  if (!charged(d)) return;
  if (d.declinedFirst) {
    const attempt = await json(await createIntent(h, portal, d.code));
    expect((await json(await deliverSandboxCallback(h, sandboxEvent(attempt, { type: 'payment.declined' })))).result).toBe('applied');
  }
  if (!d.pay) return;
  const created = await createIntent(h, portal, d.code, { gateway: d.pay.via, payer: { ip: '198.51.100.7' } });
  const intent = await expectJson(created, 201);
  if (d.pay.via === 'sandbox') {
    expect((await json(await deliverSandboxCallback(h, sandboxEvent(intent)))).result).toBe('applied');
  } else {
    // The payer pays on the platform's page; the platform confirms to the hub over HTTP.
    expect((await chooseOnCheckout(intent.nextAction.url, 'pay', { MaNganHang: 'VCB' })).status).toBe(303);
  }
  d.flag = d.pay.via === 'dvcqg' ? 1 : 2;
}

beforeAll(async () => {
  h = await createHarness({
    gateways: (env) => ({
      dvcqg: buildGateways(demoGateways(env.baseUrl), {
        publicBaseUrl: env.baseUrl,
        fetch: env.fetch,
        now: env.now,
        callbackToleranceSeconds: 300,
      }).dvcqg,
    }),
    emulators: (env) => ({ dvcqg: demoGateways(env.baseUrl).dvcqg }),
  });
  h.clock.now = TODAY;
  await h.listen();
  await seedAgencyTree(h.ctx);
  await upsertAgency(h.ctx, { code: UNIT, name: 'Phòng Hộ tịch - Sở Tư pháp', level: 'unit', parentCode: AGENCIES.department });
  // The national platform pays into the collecting agency's account (the nearest up the tree).
  for (const [code, name] of [
    [AGENCIES.province, 'UBND tỉnh Đồng Nai'],
    [AGENCIES.otherProvince, 'UBND tỉnh Lâm Đồng'],
  ] as const) {
    await upsertAgency(h.ctx, {
      code,
      name,
      level: 'province',
      parentCode: null,
      bankBin: '970415',
      accountNumber: '1014682259',
      accountName: 'KHO BAC NHA NUOC',
    });
  }
  admin = await mintToken({ role: 'admin' });
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province, AGENCIES.otherProvince] });
  const make = async (key: Key, rules: Parameters<typeof createProcedure>[1]) => {
    codes[key] = await createProcedure(h.ctx, rules);
    // createProcedure marks procedures integrated; set the flag this catalogue wants.
    const current = await json(await h.request('GET', `/v1/procedures/${codes[key]}`, { token: admin }));
    const { name, field, level, dataConfidence, note } = current;
    const { integrated, levels, units } = CATALOGUE[key];
    const updated = await expectJson(
      await h.request('PUT', `/v1/procedures/${codes[key]}`, {
        token: admin,
        body: {
          name,
          field,
          level,
          dataConfidence,
          note,
          integratedOnlinePayment: integrated,
          receivingLevels: levels,
          receivingUnits: units,
        },
      }),
      200,
    );
    expect([updated.receivingLevels, updated.receivingUnits]).toEqual([levels, units]);
  };
  await make('F1', [rule({ formula: { type: 'fixed', amount: 135_000 } })]);
  await make('F2', [
    rule({
      formula: { type: 'fixed', amount: 50_000 },
      adjustments: [{ label: 'Miễn khi nộp trực tuyến', channels: ['online'], effect: { type: 'exempt' } }],
    }),
  ]);
  await make('F3', [
    rule({
      kind: 'phi',
      formula: { type: 'per_unit', unit: 'trang', tiers: [{ fromUnit: 1, unitAmount: 2_000 }] },
      adjustments: [{ label: 'Miễn cho trẻ em', payerCategories: ['child'], effect: { type: 'exempt' } }],
    }),
  ]);
  await make('F4', [rule({ formula: { type: 'fixed', amount: 20_000 } })]);
  await make('F5', [rule({ formula: { type: 'fixed', amount: 30_000 } })]);
  await make('E1', [rule({ formula: { type: 'exempt' } })]);
  await make('X1', [rule({ formula: { type: 'fixed', amount: 20_000 }, validTo: '2026-10-15' })]);

  generate();
  for (const d of plan) {
    const response = await h.request('PUT', `/v1/dossiers/${d.code}`, {
      token: portal,
      body: {
        procedureCode: codes[d.key],
        agencyCode: d.agency,
        channel: d.channel,
        receivedAt: d.receivedAt.toISOString(),
        quantity: d.pages,
        ...(d.child ? { payerCategory: 'child' } : {}),
      },
    });
    expect(response.status, await response.clone().text()).toBe(201);
  }
  // Some unpaid dossiers are corrected by the dossier system: refiled as direct, or moved to
  // another unit, which moves them in the roll-ups too.
  for (const d of plan.filter((x, i) => i % 17 === 3 && !x.pay && !x.declinedFirst)) {
    d.channel = 'direct';
    d.agency = d.agency === AGENCIES.otherProvince ? AGENCIES.otherProvince : AGENCIES.communeB;
    const response = await h.request('PUT', `/v1/dossiers/${d.code}`, {
      token: portal,
      body: {
        procedureCode: codes[d.key],
        agencyCode: d.agency,
        channel: d.channel,
        receivedAt: d.receivedAt.toISOString(),
        quantity: d.pages,
        ...(d.child ? { payerCategory: 'child' } : {}),
      },
    });
    expect(response.status, await response.clone().text()).toBe(200);
  }
  for (const d of plan) if (!d.pay?.late) await pay(d);
}, 240_000);
afterAll(() => h?.close());

// ── Expected values, from the plan ──────────────────────────────────────────────────────

interface Expect {
  scope: string;
  from: string;
  to: string;
  source?: 'dossiers' | 'catalogue';
  procedure?: Key;
  /** The agencies whose receiving counts for b (default: the scope's subtree). */
  receivers?: string[];
}

const model = (d: Planned): ModelDossier => ({
  procedure: d.key,
  agency: d.agency,
  date: vietnamDate(d.receivedAt),
  lines: lines(d),
  flag: d.flag,
  atReceiver: receivesHere(d.agency, d.key),
});

/** The fee-bearing procedures some of `receivers` receives: b's denominator, counted here. */
const receivableBy = (receivers: string[]) =>
  new Set((Object.keys(CATALOGUE) as Key[]).filter((k) => CATALOGUE[k].feeBearing && receivers.some((a) => receivesHere(a, k))));

function expected({ scope, from, to, source = 'dossiers', procedure, receivers = subtree(scope) }: Expect, curves: Curves = DOMAIN_CURVES) {
  const keys = (Object.keys(CATALOGUE) as Key[]).filter((k) => CATALOGUE[k].feeBearing && (procedure === undefined || k === procedure));
  const inScope = plan.map(model).filter((d) => LINEAGE[d.agency]!.includes(scope) && d.date >= from && d.date <= to);
  return modelIndicators(
    inScope,
    { feeBearing: new Set(keys), integrated: new Set(keys.filter((k) => CATALOGUE[k].integrated)), receivable: receivableBy(receivers) },
    source,
    curves,
  );
}

const pick = (body: any) => ({
  procedureOnlinePayment: body.procedureOnlinePayment,
  procedureIntegration: body.procedureIntegration,
  dossierOnlinePayment: body.dossierOnlinePayment,
  points: body.points,
  maxPoints: body.maxPoints,
});

async function indicators(query: string, app: { request: (path: string, init: RequestInit) => Response | Promise<Response> } = h.app) {
  const response = await app.request(`/v1/indicators/online-payment?${query}`, { headers: { authorization: `Bearer ${admin}` } });
  return expectJson(response, 200);
}

const SCOPES = [
  AGENCIES.province,
  AGENCIES.department,
  UNIT,
  AGENCIES.district,
  AGENCIES.districtCommune,
  AGENCIES.communeA,
  AGENCIES.communeB,
  AGENCIES.otherProvince,
];
const PERIODS: Array<{ query: string; from: string; to: string }> = [
  { query: 'period=month&year=2026&index=10', from: '2026-10-01', to: '2026-10-31' },
  { query: 'period=month&year=2026&index=11', from: '2026-11-01', to: '2026-11-30' },
  { query: 'period=quarter&year=2026&index=4', from: '2026-10-01', to: '2026-12-31' },
  { query: 'from=2026-10-16&to=2026-11-14', from: '2026-10-16', to: '2026-11-14' },
  { query: 'period=nine-months&year=2026', from: '2026-01-01', to: '2026-09-30' },
];

describe(`the three indicators on a generated data set (${databaseLabel})`, () => {
  it('match the independently computed values for every scope and period', async () => {
    for (const scope of SCOPES) {
      for (const p of PERIODS) {
        const body = await indicators(`agency=${scope}&${p.query}`);
        expect(body.agency.code).toBe(scope);
        expect([body.from, body.to]).toEqual([p.from, p.to]);
        expect(pick(body), `${scope} ${p.query}`).toEqual(expected({ scope, from: p.from, to: p.to }));
      }
    }
  });

  it('move a past month when its payment arrives late, as the portal counts it', async () => {
    const october = { scope: AGENCIES.province, from: '2026-10-01', to: '2026-10-31' };
    const before = pick(await indicators(`agency=${october.scope}&period=month&year=2026&index=10`));
    expect(before).toEqual(expected(october));
    const late = plan.filter((d) => d.pay?.late && charged(d));
    expect(late.some((d) => vietnamDate(d.receivedAt) <= '2026-10-31')).toBe(true);
    for (const d of late) await pay(d);
    const after = pick(await indicators(`agency=${october.scope}&period=month&year=2026&index=10`));
    expect(after).toEqual(expected(october));
    expect(after.dossierOnlinePayment.numerator).toBeGreaterThan(before.dossierOnlinePayment.numerator);
    // Every scope and period, once more, with the late payments in.
    for (const scope of SCOPES) {
      for (const p of PERIODS)
        expect(pick(await indicators(`agency=${scope}&${p.query}`)), `${scope} ${p.query}`).toEqual(
          expected({ scope, from: p.from, to: p.to }),
        );
    }
  });

  it('counts 23:30 on 31 October in October and 00:10 on 1 November in November', async () => {
    const lastOfOctober = plan.at(-2)!;
    const firstOfNovember = plan.at(-1)!;
    expect(vietnamDate(lastOfOctober.receivedAt)).toBe('2026-10-31');
    expect(vietnamDate(firstOfNovember.receivedAt)).toBe('2026-11-01');
    const day = async (date: string) => (await indicators(`agency=${AGENCIES.communeA}&from=${date}&to=${date}`)).dossierOnlinePayment;
    expect(await day('2026-10-31')).toEqual(
      expected({ scope: AGENCIES.communeA, from: '2026-10-31', to: '2026-10-31' }).dossierOnlinePayment,
    );
    expect(await day('2026-11-01')).toEqual(
      expected({ scope: AGENCIES.communeA, from: '2026-11-01', to: '2026-11-01' }).dossierOnlinePayment,
    );
  });

  it('covers the edge cases the data set is made of', () => {
    const all = plan.filter((d) => CATALOGUE[d.key].feeBearing);
    expect(all.some(pricedAllZero)).toBe(true); // F2 online, F3 child
    expect(plan.some((d) => d.key === 'X1' && lines(d).length === 0)).toBe(true); // lapsed fee: no line
    expect(all.some((d) => d.flag === 1)).toBe(true);
    expect(all.some((d) => d.flag === 2)).toBe(true);
    expect(new Set(all.map((d) => d.channel))).toEqual(new Set(['online', 'direct', 'postal']));
    expect(plan.some((d) => d.pay?.late)).toBe(true);
    expect(plan.some((d) => d.key === 'F4' && !pricedAllZero(d))).toBe(true);
    expect(new Set(plan.map((d) => d.agency)).size).toBe(RECEIVERS.length);
  });

  it('gives a null rate, not an error, when there is nothing to count', async () => {
    const body = await indicators(`agency=${AGENCIES.communeA}&from=2026-01-01&to=2026-01-31`);
    expect(body.procedureOnlinePayment).toEqual({ numerator: 0, denominator: 0, rate: null, points: null, maxPoints: 2 });
    expect(body.dossierOnlinePayment).toEqual({ numerator: 0, denominator: 0, rate: null, points: null, maxPoints: 6 });
    // The commune receives F1, F2 (every unit) and F3 (the communes'), not the department's F4 nor the unit's F5.
    expect(body.procedureIntegration).toEqual({ numerator: 0, denominator: 3, rate: 0, points: 0, maxPoints: 2 });
    expect(body.points).toBe(0);
  });

  it("counts in b's denominator only the procedures each unit can receive (by level and receiving units)", async () => {
    const p = PERIODS[2]!;
    // Counted by hand from the catalogue above: who receives what, through each scope's subtree.
    const denominators: Record<string, number> = {
      [AGENCIES.province]: 5, // every fee-bearing one somewhere in the tree
      [AGENCIES.department]: 4, // F1, F2, F4 (its own), F5 (its unit's)
      [UNIT]: 4, // F1, F2, F4 (under the department), F5
      [AGENCIES.communeA]: 3, // F1, F2, F3
      [AGENCIES.district]: 3, // through its commune: F1, F2, F3
      [AGENCIES.otherProvince]: 2, // a province with no commune or department here: F1, F2
    };
    for (const [scope, denominator] of Object.entries(denominators)) {
      const body = await indicators(`agency=${scope}&${p.query}`);
      expect(body.procedureIntegration.denominator, scope).toBe(denominator);
      expect(body.procedureIntegration.denominator, scope).toBe(receivableBy(subtree(scope)).size);
      expect(body.procedureIntegration.numerator, scope).toBeLessThanOrEqual(denominator);
    }
    // A commune's dossier of the department's procedure is counted in a and c, never in b.
    const misfiled = plan.filter((d) => d.key === 'F4' && LEVEL[d.agency] === 'commune' && charged(d));
    expect(misfiled.length).toBeGreaterThan(0);
    const commune = misfiled[0]!.agency;
    const body = await indicators(`agency=${commune}&${p.query}`);
    expect(pick(body)).toEqual(expected({ scope: commune, from: p.from, to: p.to }));
    const actions = await expectJson(
      await h.request('GET', `/v1/indicators/online-payment/actions?agency=${commune}&${p.query}`, { token: admin }),
      200,
    );
    // Not asked to integrate the department's or the unit's procedure.
    const asked = actions.proceduresNotIntegrated.map((x: { code: string }) => x.code);
    expect(asked).not.toContain(codes.F4);
    expect(asked).not.toContain(codes.F5);
  });

  it('takes b from the catalogue flag, and scores c on another curve, when configured so', async () => {
    const configured = (indicatorsSettings: object) =>
      createApp({ ...h.deps, settings: { ...h.deps.settings, indicators: { ...h.deps.settings.indicators, ...indicatorsSettings } } });
    const catalogueApp = configured({ integrationSource: 'catalogue' });
    const vendorApp = configured({ scoring: { ...DEFAULT_SCORING, dossierOnlinePayment: { threshold: '0.3', maxPoints: '6' } } });
    for (const scope of [AGENCIES.province, AGENCIES.department]) {
      const p = PERIODS[1]!;
      const body = await indicators(`agency=${scope}&${p.query}`, catalogueApp);
      expect(body.integrationSource).toBe('catalogue');
      expect(pick(body)).toEqual(expected({ scope, from: p.from, to: p.to, source: 'catalogue' }));
      expect(pick(await indicators(`agency=${scope}&${p.query}`, vendorApp))).toEqual(
        expected({ scope, from: p.from, to: p.to }, { ...DOMAIN_CURVES, c: [0.3, 6] }),
      );
    }
  });
});

describe(`breakdowns and action lists (${databaseLabel})`, () => {
  const november = { from: '2026-11-01', to: '2026-11-30', query: 'period=month&year=2026&index=11' };

  it("per child unit: each child with its subtree, the scope agency's own dossiers in a row of their own", async () => {
    const body = await expectJson(
      await h.request('GET', `/v1/indicators/online-payment/breakdown?by=agency&agency=${AGENCIES.province}&${november.query}`, {
        token: admin,
      }),
      200,
    );
    const children = [AGENCIES.department, AGENCIES.communeA, AGENCIES.communeB, AGENCIES.district].sort();
    const ownDossiers = plan.some(
      (d) => d.agency === AGENCIES.province && vietnamDate(d.receivedAt) >= november.from && vietnamDate(d.receivedAt) <= november.to,
    );
    expect(ownDossiers).toBe(true);
    expect(body.items.map((i: any) => [i.agency.code, i.agency.direct])).toEqual([
      [AGENCIES.province, true],
      ...children.map((c) => [c, false]),
    ]);
    for (const item of body.items) {
      const e = item.agency.direct
        ? directExpectation(november)
        : expected({ scope: item.agency.code, from: november.from, to: november.to });
      expect(pick(item), item.agency.code).toEqual(e);
    }
    // The province's own row asks about what the province's own office receives (F1, F2), a
    // commune about the communes' (F1, F2, F3), the department about its subtree's.
    const denominatorOf = (code: string, direct = false) =>
      body.items.find((i: any) => i.agency.code === code && i.agency.direct === direct).procedureIntegration.denominator;
    expect(denominatorOf(AGENCIES.province, true)).toBe(2);
    expect(denominatorOf(AGENCIES.communeA)).toBe(3);
    expect(denominatorOf(AGENCIES.department)).toBe(4);
  });

  /** The province's own dossiers only: its scope minus its children's subtrees; b over what it receives itself. */
  function directExpectation(p: { from: string; to: string }) {
    const saved = plan.splice(0, plan.length);
    plan.push(...saved.filter((d) => d.agency === AGENCIES.province));
    try {
      return expected({ scope: AGENCIES.province, ...p, receivers: [AGENCIES.province] });
    } finally {
      plan.splice(0, plan.length, ...saved);
    }
  }

  it('per procedure: every fee-bearing procedure of the catalogue, each as a catalogue of one', async () => {
    const body = await expectJson(
      await h.request('GET', `/v1/indicators/online-payment/breakdown?by=procedure&agency=${AGENCIES.province}&${november.query}`, {
        token: admin,
      }),
      200,
    );
    const feeBearing = (Object.keys(CATALOGUE) as Key[]).filter((k) => CATALOGUE[k].feeBearing);
    expect(body.items.map((i: any) => i.procedure.code)).toEqual(feeBearing.map((k) => codes[k]).sort());
    for (const item of body.items) {
      const key = feeBearing.find((k) => codes[k] === item.procedure.code)!;
      expect(item.procedure.integrated).toBe(CATALOGUE[key].integrated);
      expect(pick(item), key).toEqual(expected({ scope: AGENCIES.province, from: november.from, to: november.to, procedure: key }));
    }
    // One procedure per child unit.
    const narrowed = await expectJson(
      await h.request(
        'GET',
        `/v1/indicators/online-payment/breakdown?by=agency&agency=${AGENCIES.province}&${november.query}&procedure=${codes.F1}`,
        { token: admin },
      ),
      200,
    );
    expect(narrowed.procedure.code).toBe(codes.F1);
    const communeA = narrowed.items.find((i: any) => i.agency.code === AGENCIES.communeA);
    expect(pick(communeA)).toEqual(expected({ scope: AGENCIES.communeA, from: november.from, to: november.to, procedure: 'F1' }));
  });

  it('lists the procedures without online payment, those not integrated, and the units by dossier rate with what each needs', async () => {
    const target = 0.6;
    const body = await expectJson(
      await h.request('GET', `/v1/indicators/online-payment/actions?agency=${AGENCIES.province}&${november.query}&target=${target}`, {
        token: admin,
      }),
      200,
    );
    const inNovember = plan.filter(
      (d) =>
        LINEAGE[d.agency]!.includes(AGENCIES.province) &&
        vietnamDate(d.receivedAt) >= november.from &&
        vietnamDate(d.receivedAt) <= november.to,
    );
    const feeBearing = (Object.keys(CATALOGUE) as Key[]).filter((k) => CATALOGUE[k].feeBearing);
    const due = (k: Key) => inNovember.filter((d) => d.key === k && !pricedAllZero(d));
    const filed = (k: Key) => inNovember.filter((d) => d.key === k);
    const without = feeBearing
      .filter((k) => filed(k).length > 0 && filed(k).every((d) => d.flag === 0))
      .sort((x, y) => due(y).length - due(x).length || codes[x].localeCompare(codes[y]));
    expect(body.proceduresWithoutOnlinePayment.map((p: any) => [p.code, p.feeDossiers])).toEqual(
      without.map((k) => [codes[k], due(k).length]),
    );
    const notIntegrated = feeBearing.filter((k) => !inNovember.some((d) => d.key === k && charged(d) && receivesHere(d.agency, k)));
    expect(notIntegrated).toContain('F5');
    expect(body.proceduresNotIntegrated.map((p: any) => p.code).sort()).toEqual(notIntegrated.map((k) => codes[k]).sort());

    const units = new Map<string, { n: number; d: number }>();
    for (const d of inNovember) {
      if (!CATALOGUE[d.key].feeBearing || pricedAllZero(d)) continue;
      const u = units.get(d.agency) ?? { n: 0, d: 0 };
      u.d += 1;
      if (d.flag > 0) u.n += 1;
      units.set(d.agency, u);
    }
    const ranked = [...units.entries()]
      .map(([agency, u]) => ({ agency, ...u, needed: modelNeeded(u.n, u.d, target) }))
      .sort((x, y) => x.n * y.d - y.n * x.d || y.needed - x.needed || x.agency.localeCompare(y.agency));
    expect(body.unitsByDossierRate.map((u: any) => [u.agency.code, u.numerator, u.denominator, u.needed])).toEqual(
      ranked.map((u) => [u.agency, u.n, u.d, u.needed]),
    );
  });
});

describe(`the fields synchronised to the national portal (${databaseLabel})`, () => {
  it('give every fee line (zero-priced ones included), the channel and the 766 flag of each dossier', async () => {
    const samples = [
      plan.find((d) => d.key === 'F2' && d.channel === 'online')!,
      plan.find((d) => d.flag === 1)!,
      plan.find((d) => d.flag === 2 && d.channel === 'postal')!,
      plan.find((d) => d.key === 'X1' && lines(d).length === 0)!,
      plan.find((d) => d.key === 'E1')!,
    ];
    for (const d of samples) {
      const body = await expectJson(await h.request('GET', `/v1/dossiers/${d.code}/dvcqg-sync`, { token: portal }), 200);
      expect(body.MaHoSo).toBe(d.code);
      expect(body.MaTTHC).toBe(codes[d.key]);
      expect(body.KenhThucHien).toBe({ direct: 1, online: 2, postal: 3 }[d.channel]);
      expect(body.DuocThanhToanTrucTuyen).toBe(d.flag);
      expect(body.DanhSachLePhi.map((l: any) => l.Gia)).toEqual(lines(d));
      for (const l of body.DanhSachLePhi) {
        expect(l.LoaiPhiLePhi).toBe(d.key === 'F3' ? '1' : '2');
        expect(l.HinhThucThu).toBe(d.flag > 0 ? 2 : { direct: 1, online: 2, postal: 3 }[d.channel]);
      }
    }
  });

  it("are not shown outside the caller's scope, nor to the treasury role", async () => {
    const d = plan.find((x) => x.agency === AGENCIES.communeA)!;
    const outsider = await mintToken({ role: 'campaign', agencies: [AGENCIES.communeB] });
    await expectProblem(await h.request('GET', `/v1/dossiers/${d.code}/dvcqg-sync`, { token: outsider }), 404, 'not-found');
    const treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province] });
    await expectProblem(await h.request('GET', `/v1/dossiers/${d.code}/dvcqg-sync`, { token: treasury }), 403, 'forbidden');
  });
});

describe('bad queries get a clear problem+json answer', () => {
  const cases: Array<[string, string]> = [
    ['', 'query.from'],
    ['from=2026-11-01', 'query.to'],
    ['from=2026-11-30&to=2026-11-01', 'query.to'],
    ['from=2026-11-01&to=2026-11-30&period=month&year=2026&index=11', 'query.period'],
    ['period=month&year=2026', 'query.index'],
    ['period=month&year=2026&index=13', 'query.index'],
    ['period=quarter&year=2026&index=5', 'query.index'],
    ['period=year', 'query.year'],
    ['period=fortnight&year=2026', 'query.period'],
    ['from=2026-02-30&to=2026-03-01', 'query.from'],
    ['from=2000-01-01&to=2026-12-31', 'query.to'],
    ['from=2026-11-01&to=2026-11-30&year=2026', 'query.year'],
  ];
  it.each(cases)('?%s → 400 naming %s', async (query, field) => {
    const problem = await expectProblem(
      await h.request('GET', `/v1/indicators/online-payment?agency=${AGENCIES.province}${query ? `&${query}` : ''}`, { token: admin }),
      400,
      'validation-failed',
    );
    expect(problem.errors.map((e: any) => e.path)).toContain(field);
  });

  it("an agency outside the scope, or unknown, is not found; without one, the caller's only root is taken", async () => {
    const commune = await mintToken({ role: 'campaign', agencies: [AGENCIES.communeA] });
    await expectProblem(
      await h.request('GET', `/v1/indicators/online-payment?agency=${AGENCIES.communeB}&${PERIODS[1]!.query}`, { token: commune }),
      404,
      'not-found',
    );
    await expectProblem(
      await h.request('GET', `/v1/indicators/online-payment?agency=000.99.99.H19&${PERIODS[1]!.query}`, { token: admin }),
      404,
      'not-found',
    );
    const implicit = await expectJson(
      await h.request('GET', `/v1/indicators/online-payment?${PERIODS[1]!.query}`, { token: commune }),
      200,
    );
    expect(implicit.agency.code).toBe(AGENCIES.communeA);
    // An admin over two provinces must say which.
    const problem = await expectProblem(
      await h.request('GET', `/v1/indicators/online-payment?${PERIODS[1]!.query}`, { token: admin }),
      400,
      'validation-failed',
    );
    expect(problem.errors).toEqual([{ path: 'query.agency', message: 'required' }]);
    await expectProblem(
      await h.request(
        'GET',
        `/v1/indicators/online-payment/breakdown?by=procedure&procedure=${codes.F1}&agency=${AGENCIES.province}&${PERIODS[1]!.query}`,
        { token: admin },
      ),
      400,
      'validation-failed',
    );
    await expectProblem(
      await h.request(
        'GET',
        `/v1/indicators/online-payment/breakdown?by=agency&procedure=${codes.E1}&agency=${AGENCIES.province}&${PERIODS[1]!.query}`,
        { token: admin },
      ),
      404,
      'not-found',
    );
  });
});
