import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/seed/dossiers.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import {
  type ModelDossier,
  modelIndicators,
  modelNeeded,
  modelRatios,
  pricedAllZero,
  roundHalfUp,
  roundSigned,
  vietnamDate,
} from '../helpers/indicators.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';

/**
 * A campaign over a generated month and a half of dossiers: its baseline, its daily series
 * (cumulative and per day), targets, projection, leaderboard and action lists, and its export,
 * each compared with values this file computes from its own plan.
 */
const TODAY = new Date('2026-11-20T15:00:00+07:00');
const START = '2026-11-10'; // day 11 today
const UNIT = '000.01.32.H19';
const RECEIVERS = [AGENCIES.department, UNIT, AGENCIES.communeA, AGENCIES.communeB, AGENCIES.districtCommune, AGENCIES.province];
const CHILD_OF: Record<string, string> = {
  [AGENCIES.department]: AGENCIES.department,
  [UNIT]: AGENCIES.department,
  [AGENCIES.communeA]: AGENCIES.communeA,
  [AGENCIES.communeB]: AGENCIES.communeB,
  [AGENCIES.districtCommune]: AGENCIES.district,
  [AGENCIES.province]: '',
};

let h: Harness;
let admin: string;
let reader: string;
const procedures = { paid: '', freeOnline: '', neverPaid: '', exempt: '' };
const dossiers: Array<ModelDossier & { code: string }> = [];
let campaign: any;

beforeAll(async () => {
  h = await createHarness();
  h.clock.now = TODAY;
  await seedAgencyTree(h.ctx);
  // A name with a comma and one that looks like a spreadsheet formula: the CSV must keep both as text.
  await upsertAgency(h.ctx, {
    code: AGENCIES.communeB,
    name: 'UBND xã Long Thành, Đồng Nai',
    level: 'commune',
    parentCode: AGENCIES.province,
  });
  await upsertAgency(h.ctx, { code: UNIT, name: '=Phòng "Hộ tịch"', level: 'unit', parentCode: AGENCIES.department });
  admin = await mintToken({ role: 'admin' });
  reader = await mintToken({ role: 'campaign', agencies: [AGENCIES.province] });
  const portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  procedures.paid = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 100_000 } })]);
  procedures.freeOnline = await createProcedure(h.ctx, [
    rule({
      formula: { type: 'fixed', amount: 50_000 },
      adjustments: [{ label: 'Miễn khi nộp trực tuyến', channels: ['online'], effect: { type: 'exempt' } }],
    }),
  ]);
  procedures.neverPaid = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 20_000 } })]);
  procedures.exempt = await createProcedure(h.ctx, [rule({ formula: { type: 'exempt' } })]);

  const random = mulberry32(766_30);
  const first = Date.parse('2026-10-11T07:00:00+07:00'); // the 30-day baseline starts on 11 October
  const last = Date.parse('2026-11-20T14:00:00+07:00');
  for (let i = 0; i < 140; i++) {
    const receivedAt = new Date(first + Math.floor(random() * (last - first)));
    const date = vietnamDate(receivedAt);
    const kind = (['paid', 'paid', 'paid', 'freeOnline', 'neverPaid', 'exempt'] as const)[Math.floor(random() * 6)]!;
    const channel = random() < 0.6 ? 'online' : 'direct';
    const agency = RECEIVERS[Math.floor(random() * RECEIVERS.length)]!;
    const code = `${agency}-${date.slice(2).replaceAll('-', '')}-${String(i + 1).padStart(4, '0')}`;
    const response = await h.request('PUT', `/v1/dossiers/${code}`, {
      token: portal,
      body: { procedureCode: procedures[kind], agencyCode: agency, channel, receivedAt: receivedAt.toISOString() },
    });
    expect(response.status).toBe(201);
    const lines =
      kind === 'paid' ? [100_000] : kind === 'freeOnline' ? [channel === 'online' ? 0 : 50_000] : kind === 'neverPaid' ? [20_000] : [0];
    // The campaign works: payments get likelier after the start.
    const willPay = kind !== 'neverPaid' && lines[0]! > 0 && random() < (date >= START ? 0.75 : 0.45);
    let flag = 0;
    if (willPay) {
      const intent = await json(await createIntent(h, portal, code));
      expect((await json(await deliverSandboxCallback(h, sandboxEvent(intent)))).result).toBe('applied');
      flag = 2;
    }
    dossiers.push({ code, procedure: procedures[kind], agency, date, lines, flag });
  }
  const created = await h.request('POST', '/v1/campaigns', {
    token: admin,
    headers: { 'idempotency-key': 'campaign-setup' },
    body: {
      name: 'Chiến dịch 30 ngày',
      agencyCode: AGENCIES.province,
      startDate: START,
      targets: { procedureOnlinePayment: 0.9, dossierOnlinePayment: 0.6 },
    },
  });
  campaign = await expectJson(created, 201);
}, 180_000);
afterAll(() => h?.close());

const catalogue = () => ({
  feeBearing: new Set([procedures.paid, procedures.freeOnline, procedures.neverPaid]),
  // createProcedure marks every procedure integrated.
  integrated: new Set(Object.values(procedures)),
});
const between = (from: string, to: string, where: (d: ModelDossier) => boolean = () => true) =>
  dossiers.filter((d) => d.date >= from && d.date <= to && where(d));
const withRate = (r: { numerator: number; denominator: number }) => ({
  ...r,
  rate: r.denominator === 0 ? null : roundHalfUp(BigInt(r.numerator), BigInt(r.denominator), 4),
});
const pickSet = (s: any) => ({
  procedureOnlinePayment: s.procedureOnlinePayment,
  procedureIntegration: s.procedureIntegration,
  dossierOnlinePayment: s.dossierOnlinePayment,
  points: s.points,
  maxPoints: s.maxPoints,
});
const dates = (from: string, to: string) => {
  const out: string[] = [];
  for (let d = Date.parse(`${from}T00:00:00Z`); d <= Date.parse(`${to}T00:00:00Z`); d += 86_400_000)
    out.push(new Date(d).toISOString().slice(0, 10));
  return out;
};

describe(`a campaign's progress (${databaseLabel})`, () => {
  let progress: any;
  beforeAll(async () => {
    progress = await expectJson(await h.request('GET', `/v1/campaigns/${campaign.id}/progress`, { token: reader }), 200);
  });

  it('is created with its days, the 30 days before as baseline, and its targets', () => {
    expect(campaign).toMatchObject({
      name: 'Chiến dịch 30 ngày',
      agency: { code: AGENCIES.province },
      startDate: START,
      endDate: '2026-12-09',
      days: 30,
      baseline: { from: '2026-10-11', to: '2026-11-09' },
      targets: { procedureOnlinePayment: 0.9, procedureIntegration: null, dossierOnlinePayment: 0.6 },
      createdBy: 'admin:admin-user',
    });
    expect(progress).toMatchObject({ status: 'running', day: 11, asOf: '2026-11-20', agency: { code: AGENCIES.province } });
  });

  it('gives the baseline and the values since the start as the indicators endpoint would', async () => {
    expect(pickSet(progress.baseline)).toEqual(modelIndicators(between('2026-10-11', '2026-11-09'), catalogue()));
    expect(pickSet(progress.current)).toEqual(modelIndicators(between(START, '2026-11-20'), catalogue()));
    const same = await expectJson(
      await h.request('GET', `/v1/indicators/online-payment?agency=${AGENCIES.province}&from=${START}&to=2026-11-20`, { token: reader }),
      200,
    );
    expect(pickSet(progress.current)).toEqual(pickSet(same));
  });

  it('has a point per day since the start, cumulative and of the day alone', () => {
    expect(progress.series.map((s: any) => s.date)).toEqual(dates(START, '2026-11-20'));
    for (const [i, point] of progress.series.entries()) {
      expect(point.day).toBe(i + 1);
      const cumulative = modelRatios(between(START, point.date), catalogue());
      const daily = modelRatios(between(point.date, point.date), catalogue());
      expect(point.cumulative).toEqual({
        procedureOnlinePayment: withRate(cumulative.a),
        procedureIntegration: withRate(cumulative.b),
        dossierOnlinePayment: withRate(cumulative.c),
      });
      expect(point.daily).toEqual({
        procedureOnlinePayment: withRate(daily.a),
        procedureIntegration: withRate(daily.b),
        dossierOnlinePayment: withRate(daily.c),
      });
    }
  });

  it('says how far the target is and what it takes', () => {
    const c = modelRatios(between(START, '2026-11-20'), catalogue()).c;
    const rate = roundHalfUp(BigInt(c.numerator), BigInt(c.denominator), 4);
    expect(progress.targets.dossierOnlinePayment).toEqual({
      target: 0.6,
      rate,
      gap: roundSigned(6n * BigInt(c.denominator) - 10n * BigInt(c.numerator), 10n * BigInt(c.denominator), 4),
      reached: modelNeeded(c.numerator, c.denominator, 0.6) === 0,
      needed: modelNeeded(c.numerator, c.denominator, 0.6),
    });
    expect(progress.targets.procedureIntegration).toEqual({
      target: null,
      rate: progress.current.procedureIntegration.rate,
      gap: null,
      reached: null,
      needed: null,
    });
  });

  it("projects to the end date from the last seven days' pace", () => {
    const cumulative = (date: string) => modelRatios(between(START, date), catalogue()).c;
    const now = cumulative('2026-11-20');
    const weekAgo = cumulative('2026-11-13');
    const remaining = 19; // 21 November to 9 December
    // (n + Δn/7 × 19) / (d + Δd/7 × 19) = (7n + 19Δn) / (7d + 19Δd)
    const n = 7 * now.numerator + remaining * (now.numerator - weekAgo.numerator);
    const d = 7 * now.denominator + remaining * (now.denominator - weekAgo.denominator);
    expect(progress.projection).toMatchObject({ endDate: '2026-12-09', remainingDays: remaining });
    expect(progress.projection.dossierOnlinePayment).toMatchObject({
      windowDays: 7,
      recentRate: roundHalfUp(BigInt(now.numerator - weekAgo.numerator), BigInt(now.denominator - weekAgo.denominator), 4),
      projectedRate: roundHalfUp(BigInt(n), BigInt(d), 4),
      target: 0.6,
      onTrack: BigInt(n) * 10n >= 6n * BigInt(d),
    });
  });

  it('ranks the child units by dossier rate, with their change since the baseline and what each needs', () => {
    const rows = [AGENCIES.department, AGENCIES.communeA, AGENCIES.communeB, AGENCIES.district, ''].map((child) => {
      const mine = (d: ModelDossier) => CHILD_OF[d.agency] === child;
      const before = modelIndicators(between('2026-10-11', '2026-11-09', mine), catalogue());
      const now = modelIndicators(between(START, '2026-11-20', mine), catalogue());
      const c = now.dossierOnlinePayment;
      return {
        code: child || AGENCIES.province,
        direct: child === '',
        baseline: before,
        current: now,
        // after − before = (n₂·d₁ − n₁·d₂) / (d₁·d₂); target − rate = (6d − 10n) / 10d
        change:
          c.denominator === 0 || before.dossierOnlinePayment.denominator === 0
            ? null
            : roundSigned(
                BigInt(c.numerator) * BigInt(before.dossierOnlinePayment.denominator) -
                  BigInt(before.dossierOnlinePayment.numerator) * BigInt(c.denominator),
                BigInt(c.denominator) * BigInt(before.dossierOnlinePayment.denominator),
                4,
              ),
        gap:
          c.denominator === 0 ? null : roundSigned(6n * BigInt(c.denominator) - 10n * BigInt(c.numerator), 10n * BigInt(c.denominator), 4),
        needed: c.denominator === 0 ? null : modelNeeded(c.numerator, c.denominator, 0.6),
      };
    });
    rows.sort(
      (x, y) => (y.current.dossierOnlinePayment.rate ?? -1) - (x.current.dossierOnlinePayment.rate ?? -1) || x.code.localeCompare(y.code),
    );
    expect(
      progress.leaderboard.map((r: any) => ({
        code: r.agency.code,
        direct: r.agency.direct,
        baseline: pickSet(r.baseline),
        current: pickSet(r.current),
        change: r.change,
        gap: r.gap,
        needed: r.needed,
      })),
    ).toEqual(rows);
  });

  it('lists where to push since the start', () => {
    const since = between(START, '2026-11-20');
    expect(progress.actions.proceduresWithoutOnlinePayment.map((p: any) => p.code)).toEqual([procedures.neverPaid]);
    expect(progress.actions.proceduresNotIntegrated).toEqual([]);
    const units = new Map<string, { n: number; d: number }>();
    for (const d of since) {
      if (!catalogue().feeBearing.has(d.procedure) || pricedAllZero(d)) continue;
      const u = units.get(d.agency) ?? { n: 0, d: 0 };
      u.d += 1;
      if (d.flag > 0) u.n += 1;
      units.set(d.agency, u);
    }
    expect(progress.actions.unitsByDossierRate.map((u: any) => [u.agency.code, u.numerator, u.denominator, u.needed]).sort()).toEqual(
      [...units.entries()].map(([code, u]) => [code, u.n, u.d, modelNeeded(u.n, u.d, 0.6)]).sort(),
    );
  });

  it('drills into a unit of the campaign over the same days and targets, and nowhere else', async () => {
    const unit = await expectJson(
      await h.request('GET', `/v1/campaigns/${campaign.id}/progress?agency=${AGENCIES.department}`, { token: reader }),
      200,
    );
    expect(unit.agency).toMatchObject({ code: AGENCIES.department, parentCode: AGENCIES.province });
    const mine = (d: ModelDossier) => CHILD_OF[d.agency] === AGENCIES.department;
    expect(pickSet(unit.current)).toEqual(modelIndicators(between(START, '2026-11-20', mine), catalogue()));
    expect(unit.leaderboard.map((r: any) => r.agency.code).sort()).toEqual([AGENCIES.department, UNIT].sort());
    await expectProblem(
      await h.request('GET', `/v1/campaigns/${campaign.id}/progress?agency=${AGENCIES.otherProvince}`, { token: admin }),
      404,
      'not-found',
    );
    const commune = await expectJson(
      await h.request('POST', '/v1/campaigns', {
        token: admin,
        headers: { 'idempotency-key': idempotencyKey() },
        body: { name: 'Chiến dịch phường', agencyCode: AGENCIES.communeA, startDate: START, targets: { dossierOnlinePayment: 0.6 } },
      }),
      201,
    );
    await expectProblem(
      await h.request('GET', `/v1/campaigns/${commune.id}/progress?agency=${AGENCIES.communeB}`, { token: admin }),
      404,
      'not-found',
    );
  });
});

describe(`campaigns before and after their days (${databaseLabel})`, () => {
  const create = async (startDate: string, days: number) =>
    expectJson(
      await h.request('POST', '/v1/campaigns', {
        token: admin,
        headers: { 'idempotency-key': idempotencyKey() },
        body: { name: `Chiến dịch ${startDate}`, agencyCode: AGENCIES.province, startDate, days, targets: { dossierOnlinePayment: 0.5 } },
      }),
      201,
    );

  it('a scheduled campaign has no series yet; an ended one has all its days and nothing left to project', async () => {
    const scheduled = await expectJson(
      await h.request('GET', `/v1/campaigns/${(await create('2026-12-01', 30)).id}/progress`, { token: reader }),
      200,
    );
    expect(scheduled).toMatchObject({ status: 'scheduled', day: 0, series: [] });
    expect(scheduled.current.dossierOnlinePayment).toMatchObject({ numerator: 0, denominator: 0, rate: null });
    expect(scheduled.baseline.from).toBe('2026-11-01');

    const ended = await expectJson(
      await h.request('GET', `/v1/campaigns/${(await create('2026-10-12', 14)).id}/progress`, { token: reader }),
      200,
    );
    expect(ended).toMatchObject({ status: 'ended', day: 14 });
    expect(ended.series).toHaveLength(14);
    expect(ended.projection.remainingDays).toBe(0);
    expect(ended.projection.dossierOnlinePayment.projectedRate).toBe(ended.current.dossierOnlinePayment.rate);
    expect(pickSet(ended.current)).toEqual(modelIndicators(between('2026-10-12', '2026-10-25'), catalogue()));
  });
});

describe('creating a campaign', () => {
  const body = (overrides: Record<string, unknown> = {}) => ({
    name: 'Chiến dịch',
    agencyCode: AGENCIES.province,
    startDate: '2026-12-01',
    targets: { dossierOnlinePayment: 0.7 },
    ...overrides,
  });
  const post = (b: unknown, key: string | null = idempotencyKey()) =>
    h.request('POST', '/v1/campaigns', { token: admin, headers: key ? { 'idempotency-key': key } : {}, body: b });

  it.each([
    [{ targets: { dossierOnlinePayment: 1.5 } }, 'targets.dossierOnlinePayment'],
    [{ targets: { dossierOnlinePayment: 0.12345 } }, 'targets.dossierOnlinePayment'],
    [{ targets: {} }, 'targets.dossierOnlinePayment'],
    [{ targets: { dossierOnlinePayment: 0.7, other: 1 } }, 'targets'],
    [{ days: 0 }, 'days'],
    [{ days: 400 }, 'days'],
    [{ startDate: '9999-12-20', days: 30 }, 'days'],
    [{ startDate: '2026-02-30' }, 'startDate'],
    [{ name: '' }, 'name'],
    [{ baseline: { from: '2026-11-01', to: '2026-12-01' } }, 'baseline.to'],
    [{ baseline: { from: '2026-11-20', to: '2026-11-10' } }, 'baseline.to'],
  ])('refuses %j with 400 naming %s, and writes nothing', async (overrides, field) => {
    const before = (await json(await h.request('GET', '/v1/campaigns', { token: admin }))).items.length;
    const problem = await expectProblem(await post(body(overrides)), 400, 'validation-failed');
    expect(problem.errors.map((e: any) => e.path)).toContain(field);
    expect((await json(await h.request('GET', '/v1/campaigns', { token: admin }))).items.length).toBe(before);
  });

  it('refuses an unknown agency (422), and asks for an Idempotency-Key', async () => {
    await expectProblem(await post(body({ agencyCode: '000.99.99.H19' })), 422, 'unknown-agency');
    await expectProblem(await post(body(), null), 400, 'idempotency-key-required');
  });

  it('is corrected by replacing its definition, and the progress follows at once', async () => {
    const created = await expectJson(await post(body({ name: 'Chiến dịch sửa', startDate: START })), 201);
    const put = (id: string, b: unknown) => h.request('PUT', `/v1/campaigns/${id}`, { token: admin, body: b });
    const updated = await expectJson(
      await put(created.id, body({ name: 'Chiến dịch đã sửa', startDate: START, days: 20, targets: { dossierOnlinePayment: 0.8 } })),
      200,
    );
    // Whatever its length, a campaign is compared by default with the 30 days before it.
    expect(updated).toMatchObject({
      id: created.id,
      name: 'Chiến dịch đã sửa',
      days: 20,
      endDate: '2026-11-29',
      targets: { dossierOnlinePayment: 0.8 },
      baseline: { from: '2026-10-11', to: '2026-11-09' },
    });
    const progress = await expectJson(await h.request('GET', `/v1/campaigns/${created.id}/progress`, { token: reader }), 200);
    expect(progress.targets.dossierOnlinePayment.target).toBe(0.8);
    expect(progress.projection.endDate).toBe('2026-11-29');
    await expectProblem(await put(created.id, body({ baseline: { from: '2026-12-01', to: '2026-12-05' } })), 400, 'validation-failed');
    await expectProblem(await put('00000000-0000-4000-8000-000000000000', body()), 404, 'not-found');
    expect((await expectJson(await h.request('GET', `/v1/campaigns/${created.id}`, { token: reader }), 200)).name).toBe(
      'Chiến dịch đã sửa',
    );
  });

  it('replays the same key and body, and refuses the key with another body', async () => {
    const key = idempotencyKey();
    const first = await expectJson(await post(body(), key), 201);
    const again = await expectJson(await post(body(), key), 201);
    expect(again).toEqual(first);
    await expectProblem(await post(body({ name: 'Chiến dịch khác' }), key), 409, 'idempotency-key-reused');
    const concurrent = await Promise.all(Array.from({ length: 8 }, () => post(body({ name: 'Chiến dịch đồng thời' }), 'same-key-at-once')));
    const ids = new Set((await Promise.all(concurrent.map((r) => expectJson(r, 201)))).map((c: any) => c.id));
    expect(ids.size).toBe(1);
  });
});

describe(`the export (${databaseLabel})`, () => {
  let progress: any;
  beforeAll(async () => {
    progress = await expectJson(await h.request('GET', `/v1/campaigns/${campaign.id}/progress`, { token: reader }), 200);
  });

  /** Parsed back with csv-parse (an independent reader of RFC 4180). */
  const parseCsv = (text: string): string[][] => parse(text, { relax_column_count: true });

  it('as CSV: UTF-8 with a byte-order mark, one row per unit as the leaderboard has them, text kept as text', async () => {
    const response = await h.request('GET', `/v1/campaigns/${campaign.id}/export?format=csv&sheet=units`, { token: reader });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="chien-dich-2026-11-10-000\.00\.00\.H19-2026-11-20-units\.csv"$/,
    );
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parseCsv(new TextDecoder().decode(bytes.slice(3)));
    expect(rows[0]![0]).toBe('Mã đơn vị');
    expect(rows.slice(1).map((r) => r[0])).toEqual(progress.leaderboard.map((r: any) => r.agency.code));
    for (const [i, r] of progress.leaderboard.entries()) {
      const row = rows[i + 1]!;
      const c = r.current.dossierOnlinePayment;
      expect(row.slice(3, 6)).toEqual([String(c.numerator), String(c.denominator), c.rate === null ? '' : String(c.rate)]);
    }
    expect(rows.find((r) => r[0] === AGENCIES.communeB)![1]).toBe('UBND xã Long Thành, Đồng Nai');
    const daily = parseCsv(
      new TextDecoder().decode(
        (
          await (await h.request('GET', `/v1/campaigns/${campaign.id}/export?format=csv&sheet=daily`, { token: reader })).arrayBuffer()
        ).slice(3),
      ),
    );
    expect(daily.length - 1).toBe(progress.series.length);
    // ISO dates, rates as fractions with a point.
    expect(daily[0]![0]).toBe('Ngày');
    expect(daily.slice(1).map((r) => r[0])).toEqual(progress.series.map((s: { date: string }) => s.date));
  });

  it('keeps a unit name that looks like a formula from being run by a spreadsheet', async () => {
    const unit = await h.request('GET', `/v1/campaigns/${campaign.id}/export?format=csv&sheet=units&agency=${AGENCIES.department}`, {
      token: reader,
    });
    const text = await unit.text();
    expect(text).toContain(`"'=Phòng ""Hộ tịch"""`);
  });

  it('as XLSX: a workbook ExcelJS reads back, with every table, real dates, counts as numbers and rates as percentages', async () => {
    const response = await h.request('GET', `/v1/campaigns/${campaign.id}/export?format=xlsx`, { token: reader });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await response.arrayBuffer());
    expect(book.worksheets.map((w) => w.name)).toEqual([
      'Tổng hợp',
      'Theo ngày',
      'Đơn vị',
      'TTHC chưa có TTTT',
      'TTHC chưa tích hợp',
      'Đơn vị theo tỷ lệ',
    ]);
    const summary = book.getWorksheet('Tổng hợp')!;
    // The header row: bold, frozen.
    expect(summary.getCell('A1').value).toBe('Chỉ tiêu');
    expect(summary.getCell('A1').font?.bold).toBe(true);
    expect(summary.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    const c = progress.current.dossierOnlinePayment;
    // Row 4: indicator c. Columns F, G, H: current numerator, denominator, rate (a percentage cell).
    expect(summary.getCell('A4').value).toBe('Tỷ lệ hồ sơ thanh toán trực tuyến');
    expect([summary.getCell('F4').value, summary.getCell('G4').value, summary.getCell('H4').value]).toEqual([
      c.numerator,
      c.denominator,
      c.rate,
    ]);
    expect(summary.getCell('F4').type).toBe(ExcelJS.ValueType.Number);
    expect(summary.getCell('H4').numFmt).toBe('0.00%');
    expect(summary.getCell('I4').numFmt).toBe('#,##0.00');

    const daily = book.getWorksheet('Theo ngày')!;
    expect(daily.rowCount - 1).toBe(progress.series.length);
    const first = daily.getCell('A2');
    expect(first.type).toBe(ExcelJS.ValueType.Date);
    expect((first.value as Date).toISOString().slice(0, 10)).toBe(progress.series[0].date);
    expect(first.numFmt).toBe('dd/mm/yyyy');
    expect(daily.getCell('E2').numFmt).toBe('0.00%');

    const units = book.getWorksheet('Đơn vị')!;
    expect(units.rowCount - 1).toBe(progress.leaderboard.length);
    expect(units.getRow(1).values).toContain('Hồ sơ TTTT cần thêm');
    const never = book.getWorksheet('TTHC chưa có TTTT')!;
    expect(never.getColumn(1).values.slice(2)).toEqual([procedures.neverPaid]);
  });
});
