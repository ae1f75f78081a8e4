import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dvcqgSyncRecord } from '../../src/domain/dvcqg-sync.ts';
import { canCharge, type FeeAdjustment, type FeeFormula, isFeeBearing } from '../../src/domain/fees.ts';
import {
  changeOf,
  DEFAULT_SCORING,
  datesOf,
  daysBetween,
  gapTo,
  indicatorRatios,
  neededForTarget,
  PeriodError,
  type ProcedureCounts,
  periodRange,
  project,
  rateOf,
  receives,
  score,
  scoreAll,
} from '../../src/domain/indicators.ts';
import { formatCount, formatDecimal, formatPercent, formatPointChange } from '../../src/web/format.ts';
import { roundHalfUp, roundSigned } from '../helpers/indicators.ts';

/**
 * The 766 arithmetic: the portal's scoring curves, rates with nothing to count, what a unit
 * needs to reach a target, the reporting periods, the projection of a ratio, and which
 * procedures are fee-bearing. Expected values are computed here with integer (BigInt) arithmetic,
 * not with the decimal library the hub uses.
 */

describe('score: the scoring curves of domain/indicators-766.md', () => {
  const a = DEFAULT_SCORING.procedureOnlinePayment;
  const c = DEFAULT_SCORING.dossierOnlinePayment;

  it('gives full points at or above the threshold, rate × max / threshold below it', () => {
    expect(score({ numerator: 8, denominator: 10 }, a)).toEqual({ numerator: 8, denominator: 10, rate: 0.8, points: 2, maxPoints: 2 });
    expect(score({ numerator: 9, denominator: 10 }, a).points).toBe(2);
    expect(score({ numerator: 7, denominator: 10 }, a).points).toBe(1.75); // 0.7 × 2 / 0.8, not 1.7499999
    expect(score({ numerator: 1, denominator: 3 }, a)).toMatchObject({ rate: 0.3333, points: 0.83 });
    expect(score({ numerator: 0, denominator: 5 }, a)).toMatchObject({ rate: 0, points: 0 });
    // c: linear to 100 % (unconfirmed; the default).
    expect(score({ numerator: 42, denominator: 80 }, c)).toMatchObject({ rate: 0.525, points: 3.15, maxPoints: 6 });
    expect(score({ numerator: 80, denominator: 80 }, c)).toMatchObject({ rate: 1, points: 6 });
    // The older vendor curve: full points at 30 %.
    expect(score({ numerator: 3, denominator: 10 }, { threshold: '0.3', maxPoints: '6' }).points).toBe(6);
    expect(score({ numerator: 1, denominator: 10 }, { threshold: '0.3', maxPoints: '6' }).points).toBe(2);
  });

  it('answers a denominator of zero with null rate and points, not a division error', () => {
    expect(score({ numerator: 0, denominator: 0 }, a)).toEqual({ numerator: 0, denominator: 0, rate: null, points: null, maxPoints: 2 });
    expect(rateOf(0, 0)).toBeNull();
  });

  it('matches integer arithmetic for every ratio and curve (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 10_000 }), // threshold in ten-thousandths
        fc.integer({ min: 1, max: 20 }),
        (denominator, raw, t, max) => {
          const numerator = raw % (denominator + 1);
          const value = score({ numerator, denominator }, { threshold: String(t / 10_000), maxPoints: String(max) });
          const n = BigInt(numerator);
          const d = BigInt(denominator);
          expect(value.rate).toBe(roundHalfUp(n, d, 4));
          // points = max if n/d ≥ t/10000, else (n/d) × max / (t/10000) = n × max × 10000 / (d × t)
          const full = n * 10_000n >= BigInt(t) * d;
          expect(value.points).toBe(full ? max : roundHalfUp(n * BigInt(max) * 10_000n, d * BigInt(t), 2));
          expect(value.points!).toBeLessThanOrEqual(max);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('adds the points shown into the group total, leaving out what cannot be scored', () => {
    const set = scoreAll(
      {
        procedureOnlinePayment: { numerator: 7, denominator: 10 },
        procedureIntegration: { numerator: 0, denominator: 0 },
        dossierOnlinePayment: { numerator: 1, denominator: 3 },
      },
      DEFAULT_SCORING,
    );
    expect(set.points).toBe(1.75 + 2); // 1/3 × 6 = 2.00
    expect(set.maxPoints).toBe(10);
  });
});

describe('neededForTarget', () => {
  it('is the least number of further online payments that reaches the target', () => {
    expect(neededForTarget({ numerator: 42, denominator: 80 }, 0.7)).toBe(14); // 56/80 = 0.7
    expect(neededForTarget({ numerator: 56, denominator: 80 }, 0.7)).toBe(0);
    expect(neededForTarget({ numerator: 0, denominator: 3 }, 0.5)).toBe(2);
    expect(neededForTarget({ numerator: 0, denominator: 0 }, 0.9)).toBe(0);
    expect(neededForTarget({ numerator: 1, denominator: 10 }, 1)).toBe(9);
  });

  it('holds for any counts (property): reaching with k, not with k − 1, never past the denominator', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (d, raw, t) => {
          const n = raw % (d + 1);
          const k = neededForTarget({ numerator: n, denominator: d }, t / 10_000);
          const reaches = (x: number) => BigInt(n + x) * 10_000n >= BigInt(t) * BigInt(d);
          expect(k).toBeGreaterThanOrEqual(0);
          expect(n + k).toBeLessThanOrEqual(d);
          expect(reaches(k)).toBe(true);
          if (k > 0) expect(reaches(k - 1)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('gaps, changes and whether a target is reached, from the exact counts', () => {
  it('does not call a rate that only rounds to the target reached', () => {
    const almost = { numerator: 13_999, denominator: 20_000 };
    expect(rateOf(almost.numerator, almost.denominator)).toBe(0.7);
    expect(neededForTarget(almost, 0.7)).toBe(1);
    expect(gapTo(almost, 0.7)).toBe(0.0001); // 0.7 − 0.69995, half away from zero
    expect(gapTo({ numerator: 14_000, denominator: 20_000 }, 0.7)).toBe(0);
    expect(gapTo({ numerator: 0, denominator: 0 }, 0.7)).toBeNull();
    expect(changeOf({ numerator: 1, denominator: 3 }, { numerator: 1, denominator: 2 })).toBe(0.1667);
    expect(changeOf({ numerator: 1, denominator: 2 }, { numerator: 1, denominator: 3 })).toBe(-0.1667);
    // A projection that lands just short of the target is not on track.
    const flat = Array.from({ length: 7 }, (_, i) => ({ numerator: 13_999 * (i + 1), denominator: 20_000 * (i + 1) }));
    expect(project(flat, 10, { target: 0.7 })).toMatchObject({ projectedRate: 0.7, onTrack: false });
    expect(project(flat, 10, { target: 0.6999 })).toMatchObject({ onTrack: true });
    expect(project(flat, 10).onTrack).toBeNull();
  });

  it('agree with integer arithmetic (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (d, raw, t) => {
          const n = raw % (d + 1);
          // gap = t/10000 − n/d = (t·d − 10000·n) / (10000·d)
          expect(gapTo({ numerator: n, denominator: d }, t / 10_000)).toBe(
            roundSigned(BigInt(t) * BigInt(d) - 10_000n * BigInt(n), 10_000n * BigInt(d), 4),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('reporting periods', () => {
  it('gives months, quarters, halves, nine months and the year, leap years included', () => {
    expect(periodRange('month', 2026, 2)).toEqual({ from: '2026-02-01', to: '2026-02-28' });
    expect(periodRange('month', 2028, 2)).toEqual({ from: '2028-02-01', to: '2028-02-29' });
    expect(periodRange('month', 2026, 12)).toEqual({ from: '2026-12-01', to: '2026-12-31' });
    expect(periodRange('quarter', 2026, 4)).toEqual({ from: '2026-10-01', to: '2026-12-31' });
    expect(periodRange('half', 2026, 1)).toEqual({ from: '2026-01-01', to: '2026-06-30' });
    expect(periodRange('half', 2026, 2)).toEqual({ from: '2026-07-01', to: '2026-12-31' });
    expect(periodRange('nine-months', 2026)).toEqual({ from: '2026-01-01', to: '2026-09-30' });
    expect(periodRange('year', 2026)).toEqual({ from: '2026-01-01', to: '2026-12-31' });
  });

  it('refuses an index the period does not have, naming the field', () => {
    for (const [kind, index] of [
      ['month', 13],
      ['month', 0],
      ['quarter', 5],
      ['half', 3],
      ['nine-months', 2],
      ['year', 2],
    ] as const) {
      expect(() => periodRange(kind, 2026, index)).toThrow(PeriodError);
    }
    expect(() => periodRange('quarter', 2026)).toThrow(/index/);
  });

  it('counts days inclusively and lists them in order', () => {
    expect(daysBetween('2026-11-01', '2026-11-30')).toBe(30);
    expect(daysBetween('2026-12-31', '2027-01-01')).toBe(2);
    expect(datesOf({ from: '2026-02-27', to: '2026-03-02' })).toEqual(['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
  });
});

describe('project: a cumulative ratio to the end date', () => {
  it('grows numerator and denominator by their pace over the last seven days', () => {
    // 10 days, each adding 3 paid of 5 due: 60 % all along; 20 days to go.
    const series = Array.from({ length: 10 }, (_, i) => ({ numerator: 3 * (i + 1), denominator: 5 * (i + 1) }));
    expect(project(series, 20)).toEqual({ windowDays: 7, recentRate: 0.6, trendPerDay: 0, projectedRate: 0.6, onTrack: null });
    // The last seven days add 6 paid of 7 due: the rate is heading up.
    const rising = [...series, ...Array.from({ length: 7 }, (_, i) => ({ numerator: 30 + 6 * (i + 1), denominator: 50 + 7 * (i + 1) }))];
    const p = project(rising, 13);
    expect(p.recentRate).toBe(roundHalfUp(42n, 49n, 4));
    // (72 + 6 × 13) / (99 + 7 × 13) = 150 / 190
    expect(p.projectedRate).toBe(roundHalfUp(150n, 190n, 4));
    expect(p.trendPerDay).toBeGreaterThan(0);
  });

  it('uses fewer days early on, caps what counts procedures, and has nothing to say without data', () => {
    expect(project([], 30)).toEqual({ windowDays: 0, recentRate: null, trendPerDay: null, projectedRate: null, onTrack: null });
    expect(project([{ numerator: 0, denominator: 0 }], 29).projectedRate).toBeNull();
    const two = project(
      [
        { numerator: 1, denominator: 2 },
        { numerator: 2, denominator: 4 },
      ],
      28,
    );
    expect(two.windowDays).toBe(2);
    expect(two.projectedRate).toBe(0.5);
    // Procedures (a): 5 of 8 with a payment, 1 more each day; only 10 fee-bearing procedures exist.
    const capped = project(
      Array.from({ length: 7 }, (_, i) => ({ numerator: 5 + i, denominator: 8 + i })),
      20,
      { cap: 10 },
    );
    expect(capped.projectedRate).toBe(1);
  });
});

describe('indicatorRatios', () => {
  const row = (procedureCode: string, counts: Partial<ProcedureCounts>): ProcedureCounts => ({
    procedureCode,
    dossiers: 0,
    feeDossiers: 0,
    paidOnline: 0,
    charged: 0,
    ...counts,
  });
  const feeBearing = new Set(['P1', 'P2', 'P3', 'P4']);
  const catalogue = { feeBearing, integrated: new Set(['P1', 'P4', 'FREE']), receivable: feeBearing };
  const rows = [
    row('P1', { dossiers: 10, feeDossiers: 8, paidOnline: 5, charged: 8 }),
    row('P2', { dossiers: 4, feeDossiers: 4, paidOnline: 0, charged: 4 }),
    // Every dossier priced zero this time: still a fee-bearing procedure with dossiers (a's denominator).
    row('P3', { dossiers: 3, feeDossiers: 0, paidOnline: 0, charged: 0 }),
    // Not fee-bearing: counts nowhere.
    row('FREE', { dossiers: 50, feeDossiers: 50, paidOnline: 50, charged: 50 }),
  ];

  it('counts a, b and c over fee-bearing procedures only', () => {
    expect(indicatorRatios(rows, catalogue, 'dossiers')).toEqual({
      procedureOnlinePayment: { numerator: 1, denominator: 3 },
      procedureIntegration: { numerator: 2, denominator: 4 },
      dossierOnlinePayment: { numerator: 5, denominator: 12 },
    });
  });

  it('takes b from the catalogue flag when configured so', () => {
    expect(indicatorRatios(rows, catalogue, 'catalogue').procedureIntegration).toEqual({ numerator: 2, denominator: 4 });
    expect(indicatorRatios([], catalogue, 'catalogue').procedureIntegration).toEqual({ numerator: 2, denominator: 4 });
    expect(indicatorRatios([], catalogue, 'dossiers').procedureIntegration).toEqual({ numerator: 0, denominator: 4 });
  });

  it("counts in b's denominator only the fee-bearing procedures the scope can receive", () => {
    // A commune receives P1 and P2 (and the free one); P3 and P4 are provincial.
    const commune = { ...catalogue, receivable: new Set(['P1', 'P2', 'FREE']) };
    expect(indicatorRatios(rows, commune, 'dossiers').procedureIntegration).toEqual({ numerator: 2, denominator: 2 });
    // The catalogue flag: P1 is integrated and receivable; P4 is integrated but provincial.
    expect(indicatorRatios(rows, commune, 'catalogue').procedureIntegration).toEqual({ numerator: 1, denominator: 2 });
    // a and c are not narrowed: they follow the dossiers the scope has.
    expect(indicatorRatios(rows, commune, 'dossiers').procedureOnlinePayment).toEqual({ numerator: 1, denominator: 3 });
    expect(indicatorRatios([], { ...catalogue, receivable: new Set() }, 'catalogue').procedureIntegration).toEqual({
      numerator: 0,
      denominator: 0,
    });
  });
});

describe('who receives a procedure', () => {
  const commune = { level: 'commune', path: '/000.00.00.H19/000.21.32.H19/' };
  const trafficPolice = { level: 'unit', path: '/000.00.00.H19/000.00.15.H19/000.01.15.H19/' };
  const police = { level: 'department', path: '/000.00.00.H19/000.00.15.H19/' };
  const health = { level: 'department', path: '/000.00.00.H19/000.00.22.H19/' };

  it('every agency when the catalogue says nothing', () => {
    for (const a of [commune, trafficPolice, police, health]) expect(receives(a, { receivingLevels: [], receivingUnits: [] })).toBe(true);
  });

  it('agencies of the levels named, and the units named with the units under them', () => {
    const communal = { receivingLevels: ['commune'], receivingUnits: [] };
    expect([commune, trafficPolice, police, health].map((a) => receives(a, communal))).toEqual([true, false, false, false]);
    const byPolice = { receivingLevels: [], receivingUnits: ['000.00.15.H19'] };
    expect([commune, trafficPolice, police, health].map((a) => receives(a, byPolice))).toEqual([false, true, true, false]);
    const byTraffic = { receivingLevels: [], receivingUnits: ['000.01.15.H19'] };
    expect([commune, trafficPolice, police, health].map((a) => receives(a, byTraffic))).toEqual([false, true, false, false]);
    const both = { receivingLevels: ['commune'], receivingUnits: ['000.00.22.H19'] };
    expect([commune, trafficPolice, police, health].map((a) => receives(a, both))).toEqual([true, false, false, true]);
    // A code is matched as a whole path segment, not as a piece of another code.
    expect(receives(police, { receivingLevels: [], receivingUnits: ['00.15.H19'] })).toBe(false);
  });
});

describe('fee-bearing procedures', () => {
  const rule = (formula: FeeFormula, adjustments: FeeAdjustment[] = [], validFrom = '2020-01-01', validTo: string | null = null) => ({
    formula,
    adjustments,
    validFrom,
    validTo,
  });

  it('a rule can charge when its formula or an adjustment can ask for money', () => {
    expect(canCharge(rule({ type: 'exempt' }))).toBe(false);
    expect(canCharge(rule({ type: 'fixed', amount: 0 }))).toBe(false);
    expect(canCharge(rule({ type: 'fixed', amount: 135_000 }))).toBe(true);
    expect(canCharge(rule({ type: 'per_unit', unit: 'trang', tiers: [{ fromUnit: 1, unitAmount: 0 }] }))).toBe(false);
    expect(canCharge(rule({ type: 'per_unit', unit: 'trang', tiers: [{ fromUnit: 1, unitAmount: 2_000 }] }))).toBe(true);
    expect(canCharge(rule({ type: 'percentage', rate: '0' }))).toBe(false);
    expect(canCharge(rule({ type: 'percentage', rate: '0', minimum: 10_000 }))).toBe(true);
    expect(canCharge(rule({ type: 'percentage', rate: '0.5' }))).toBe(true);
    expect(canCharge(rule({ type: 'table', input: 'quantity', rows: [{ amount: 0 }] }))).toBe(false);
    expect(canCharge(rule({ type: 'table', input: 'quantity', rows: [{ below: 5, amount: 0 }, { amount: 10_000 }] }))).toBe(true);
    // Death registration: free on time, charged when late.
    const late: FeeAdjustment = {
      label: 'Đăng ký quá hạn',
      payerCategories: ['late_registration'],
      effect: { type: 'amount', amount: 8_000 },
    };
    expect(canCharge(rule({ type: 'exempt' }, [late]))).toBe(true);
  });

  it('is decided by the rules in force today, as the portal takes it at its current value', () => {
    const expired = rule({ type: 'fixed', amount: 20_000 }, [], '2020-01-01', '2026-10-15');
    const future = rule({ type: 'fixed', amount: 20_000 }, [], '2027-01-01');
    expect(isFeeBearing([expired], '2026-10-15')).toBe(true);
    expect(isFeeBearing([expired], '2026-10-16')).toBe(false);
    expect(isFeeBearing([future], '2026-12-03')).toBe(false);
    expect(isFeeBearing([expired, rule({ type: 'exempt' })], '2026-12-03')).toBe(false);
    expect(isFeeBearing([expired, rule({ type: 'fixed', amount: 1 })], '2026-12-03')).toBe(true);
  });
});

describe('dvcqgSyncRecord', () => {
  const forms = { direct: 1, online: 2, postal: 3 };
  const line = (status: string, amount: number, kind: 'phi' | 'le_phi' = 'le_phi') => ({
    name: 'Lệ phí',
    feeCode: 'LP',
    amount,
    kind,
    status,
  });

  it('maps the channel, every line (zero-priced included), the collection form and the 766 flag', () => {
    const record = dvcqgSyncRecord(
      {
        code: 'D-1',
        procedureCode: '2.001610',
        channel: 'online',
        onlinePaymentFlag: 1,
        lines: [line('waived', 0), line('paid', 100_000, 'phi')],
      },
      forms,
    );
    expect(record).toEqual({
      MaHoSo: 'D-1',
      MaTTHC: '2.001610',
      KenhThucHien: 2,
      DanhSachLePhi: [
        { TenPhiLePhi: 'Lệ phí', MaPhiLePhi: 'LP', HinhThucThu: 2, Gia: 0, LoaiPhiLePhi: '2' },
        { TenPhiLePhi: 'Lệ phí', MaPhiLePhi: 'LP', HinhThucThu: 2, Gia: 100_000, LoaiPhiLePhi: '1' },
      ],
      DuocThanhToanTrucTuyen: 1,
    });
    const counter = dvcqgSyncRecord(
      { code: 'D-2', procedureCode: '2.000815', channel: 'direct', onlinePaymentFlag: 0, lines: [line('unpaid', 7_000)] },
      forms,
    );
    expect(counter).toMatchObject({ KenhThucHien: 1, DuocThanhToanTrucTuyen: 0, DanhSachLePhi: [{ HinhThucThu: 1, Gia: 7_000 }] });
    const post = dvcqgSyncRecord(
      { code: 'D-3', procedureCode: '3.000333', channel: 'postal', onlinePaymentFlag: 2, lines: [line('refunded', 200_000)] },
      forms,
    );
    expect(post).toMatchObject({ KenhThucHien: 3, DuocThanhToanTrucTuyen: 2, DanhSachLePhi: [{ HinhThucThu: 2 }] });
  });
});

describe('Vietnamese number formats', () => {
  it('groups thousands with dots, marks decimals with a comma, rounds half up', () => {
    expect(formatPercent(0.525)).toBe('52,50%');
    expect(formatPercent(0.70005)).toBe('70,01%');
    expect(formatPercent(1)).toBe('100,00%');
    expect(formatPercent(null)).toBe('—');
    expect(formatPercent(0.2, 0)).toBe('20%');
    expect(formatDecimal(3.15)).toBe('3,15');
    expect(formatDecimal(1234.5, 1)).toBe('1.234,5');
    expect(formatCount(1_234_567)).toBe('1.234.567');
    expect(formatPointChange(0.052)).toBe('+5,20 điểm %');
    expect(formatPointChange(-0.5)).toBe('−50,00 điểm %');
    expect(formatPointChange(0)).toBe('0,00 điểm %');
  });
});
