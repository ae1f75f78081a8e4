import Decimal from 'decimal.js';
import { addDays } from './dates.ts';

/**
 * The online-payment indicators of Decision 766/QĐ-TTg (domain/indicators-766.md), as pure
 * arithmetic over counts the hub keeps: rates, the portal's scoring curves, reporting periods,
 * what a unit still needs to reach a target, and where a campaign is heading.
 *
 * Rates are exact ratios of integers, shown to 4 decimals; points are computed from the exact
 * ratio in decimal arithmetic and shown to 2 decimals, as the portal shows them.
 */
const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

export const indicatorKeys = ['procedureOnlinePayment', 'procedureIntegration', 'dossierOnlinePayment'] as const;
export type IndicatorKey = (typeof indicatorKeys)[number];

/** `points = maxPoints if rate ≥ threshold, else rate × maxPoints / threshold`. */
export interface ScoringCurve {
  /** A rate in (0, 1], as a decimal string ("0.8"). */
  threshold: string;
  /** A positive decimal string ("2"). */
  maxPoints: string;
}
export type Scoring = Record<IndicatorKey, ScoringCurve>;

/**
 * The domain file's curves: a and b full at 80 % (2 points each). The curve of c is not
 * published: one reconciled implementation scores it linearly to 100 % (6 points), which is the
 * default; configuration may set another (older vendor code gave full points at 30 %).
 */
export const DEFAULT_SCORING: Scoring = {
  procedureOnlinePayment: { threshold: '0.8', maxPoints: '2' },
  procedureIntegration: { threshold: '0.8', maxPoints: '2' },
  dossierOnlinePayment: { threshold: '1', maxPoints: '6' },
};

export interface IndicatorValue {
  numerator: number;
  denominator: number;
  /** numerator / denominator to 4 decimals; null when nothing is counted (no division by zero). */
  rate: number | null;
  /** Points as the portal scores the rate; null with the rate. */
  points: number | null;
  maxPoints: number;
}

export interface Ratio {
  numerator: number;
  denominator: number;
}

export function rateOf(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : new Dec(numerator).div(denominator).toDecimalPlaces(4).toNumber();
}

/** One indicator's value and points from its counts. */
export function score({ numerator, denominator }: Ratio, curve: ScoringCurve): IndicatorValue {
  const maxPoints = new Dec(curve.maxPoints);
  if (denominator === 0) return { numerator, denominator, rate: null, points: null, maxPoints: maxPoints.toNumber() };
  const rate = new Dec(numerator).div(denominator);
  const threshold = new Dec(curve.threshold);
  const points = rate.gte(threshold) ? maxPoints : rate.mul(maxPoints).div(threshold);
  return {
    numerator,
    denominator,
    rate: rate.toDecimalPlaces(4).toNumber(),
    points: points.toDecimalPlaces(2).toNumber(),
    maxPoints: maxPoints.toNumber(),
  };
}

export type IndicatorSet = Record<IndicatorKey, IndicatorValue> & { points: number; maxPoints: number };

/** The three indicators scored, with the group's total: the points shown, added up. */
export function scoreAll(counts: Record<IndicatorKey, Ratio>, scoring: Scoring): IndicatorSet {
  const values = Object.fromEntries(indicatorKeys.map((k) => [k, score(counts[k], scoring[k])])) as Record<IndicatorKey, IndicatorValue>;
  const sum = (pick: (v: IndicatorValue) => number | null) =>
    indicatorKeys.reduce((total, k) => total.add(pick(values[k]) ?? 0), new Dec(0)).toNumber();
  return { ...values, points: sum((v) => v.points), maxPoints: sum((v) => v.maxPoints) };
}

/**
 * How many more dossiers paid online a unit needs for its rate to reach `target`: the least k
 * with (numerator + k) / denominator ≥ target. Never negative; 0 with nothing to count.
 */
/** Target less the exact rate (≤ 0 once reached), to 4 decimals; null with nothing counted. */
export function gapTo({ numerator, denominator }: Ratio, target: number | string): number | null {
  if (denominator === 0) return null;
  return new Dec(target).sub(new Dec(numerator).div(denominator)).toDecimalPlaces(4).toNumber();
}

/** The change from one ratio to another, exactly, in rate units to 4 decimals. */
export function changeOf(before: Ratio, after: Ratio): number {
  return new Dec(after.numerator)
    .div(after.denominator)
    .sub(new Dec(before.numerator).div(before.denominator))
    .toDecimalPlaces(4)
    .toNumber();
}

export function neededForTarget({ numerator, denominator }: Ratio, target: number | string): number {
  if (denominator === 0) return 0;
  const k = new Dec(target).mul(denominator).sub(numerator).ceil().toNumber();
  return Math.max(0, Math.min(k, denominator - numerator));
}

// ── Periods ───────────────────────────────────────────────────────────────────────────────

export const periodKinds = ['month', 'quarter', 'half', 'nine-months', 'year'] as const;
export type PeriodKind = (typeof periodKinds)[number];

export interface DateRange {
  /** Vietnamese calendar dates, inclusive. */
  from: string;
  to: string;
}

const PERIOD_INDEXES: Record<PeriodKind, number> = { month: 12, quarter: 4, half: 2, 'nine-months': 1, year: 1 };
const PERIOD_MONTHS: Record<PeriodKind, number> = { month: 1, quarter: 3, half: 6, 'nine-months': 9, year: 12 };

export class PeriodError extends Error {
  constructor(
    readonly field: 'index' | 'year' | 'from' | 'to' | 'period',
    message: string,
  ) {
    super(message);
    this.name = 'PeriodError';
  }
}

/**
 * The portal's reporting periods of a year: month 1–12, quarter 1–4, half 1–2, the first nine
 * months, the year. `index` may be left out for the last two.
 */
export function periodRange(kind: PeriodKind, year: number, index?: number): DateRange {
  const count = PERIOD_INDEXES[kind];
  const i = index ?? (count === 1 ? 1 : undefined);
  if (i === undefined) throw new PeriodError('index', `a ${kind} needs an index from 1 to ${count}`);
  if (!Number.isInteger(i) || i < 1 || i > count) throw new PeriodError('index', `a ${kind} index runs from 1 to ${count}`);
  const months = PERIOD_MONTHS[kind];
  const firstMonth = (i - 1) * months; // 0-based
  const from = new Date(Date.UTC(year, firstMonth, 1)).toISOString().slice(0, 10);
  const to = new Date(Date.UTC(year, firstMonth + months, 0)).toISOString().slice(0, 10);
  return { from, to };
}

/** Days from `from` to `to`, both counted. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

/** Every date of a range, in order. */
export function datesOf({ from, to }: DateRange): string[] {
  const dates: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) dates.push(d);
  return dates;
}

// ── Where a campaign is heading ──────────────────────────────────────────────────────────

export interface Projection {
  /** The days the recent rate is taken over (up to `window`, fewer early in a campaign). */
  windowDays: number;
  /** Of what the last `windowDays` days added: numerator added / denominator added. */
  recentRate: number | null;
  /** Change of the cumulative rate per day over those days, in rate units (0.01 = 1 point of %). */
  trendPerDay: number | null;
  /** The cumulative rate at the end date if the recent days' additions go on at the same pace. */
  projectedRate: number | null;
  /** Whether that projection reaches `target`, compared exactly; null without a target or a projection. */
  onTrack: boolean | null;
}

/**
 * Projects a cumulative ratio to the end of a campaign: the numerator and denominator each grow
 * by what they grew per day over the last `window` days, for `remainingDays` more days. A ratio
 * of counts is projected through its counts, not by drawing a line through its rates: a day with
 * few dossiers moves the rate a lot and the projection little. `cap` bounds the denominator
 * (the indicators a and b count procedures, of which there are only so many).
 */
export function project(
  cumulative: Ratio[],
  remainingDays: number,
  options: { window?: number; cap?: number; target?: number | null } = {},
): Projection {
  const window = Math.min(options.window ?? 7, cumulative.length);
  if (window === 0) return { windowDays: 0, recentRate: null, trendPerDay: null, projectedRate: null, onTrack: null };
  const last = cumulative.at(-1)!;
  const before = cumulative.length > window ? cumulative[cumulative.length - 1 - window]! : { numerator: 0, denominator: 0 };
  const addedN = new Dec(last.numerator - before.numerator);
  const addedD = new Dec(last.denominator - before.denominator);
  const ratio = (n: Decimal, d: Decimal) => (d.lte(0) ? null : Decimal.min(n.div(d), 1).toDecimalPlaces(4).toNumber());
  const recentRate = ratio(addedN, addedD);
  const lastRate = ratio(new Dec(last.numerator), new Dec(last.denominator));
  const beforeRate = ratio(new Dec(before.numerator), new Dec(before.denominator));
  const trendPerDay =
    lastRate === null || beforeRate === null || cumulative.length <= window
      ? null
      : new Dec(lastRate).sub(beforeRate).div(window).toDecimalPlaces(6).toNumber();
  let d = new Dec(last.denominator).add(addedD.div(window).mul(Math.max(0, remainingDays)));
  if (options.cap !== undefined) d = Decimal.max(Decimal.min(d, options.cap), last.denominator);
  let n = new Dec(last.numerator).add(addedN.div(window).mul(Math.max(0, remainingDays)));
  n = Decimal.min(n, d);
  const target = options.target;
  const onTrack = target === undefined || target === null || d.lte(0) ? null : n.gte(new Dec(target).mul(d));
  return { windowDays: window, recentRate, trendPerDay, projectedRate: ratio(n, d), onTrack };
}

// ── From roll-up counts to the three ratios ──────────────────────────────────────────────

/** A procedure's counts over a scope and period, summed from the daily roll-ups. */
export interface ProcedureCounts {
  procedureCode: string;
  dossiers: number;
  /** Dossiers less those whose fee list is priced all zero: indicator c's denominator. */
  feeDossiers: number;
  /** Paid online (DuocThanhToanTrucTuyen 1 or 2): c's numerator. */
  paidOnline: number;
  /**
   * With a charged fee line (synchronised fee data that is non-zero), received by a unit that
   * receives the procedure: b's numerator then never counts a procedure its denominator leaves out.
   */
  charged: number;
}

/**
 * What the catalogue says now: the fee-bearing procedures, those flagged integrated, and of the
 * fee-bearing ones those the scope counted can receive (indicator b's denominator: a commune is
 * not asked to integrate a provincial procedure).
 */
export interface CatalogueFacts {
  feeBearing: ReadonlySet<string>;
  integrated: ReadonlySet<string>;
  receivable: ReadonlySet<string>;
}

/** Who receives a procedure, as the catalogue says (procedures.receiving_levels, receiving_units). */
export interface Receivers {
  receivingLevels: readonly string[];
  receivingUnits: readonly string[];
}

/**
 * Whether an agency receives a procedure: its level is one the procedure names, or it is one of
 * the units named or under one (a department's units act for it). A procedure that names
 * neither is received everywhere: the catalogue has not said, and nothing is taken away from
 * any unit's count on a guess. services/indicators.ts says the same in SQL (`receivesSql`).
 */
export function receives(agency: { level: string; path: string }, procedure: Receivers): boolean {
  if (procedure.receivingLevels.length === 0 && procedure.receivingUnits.length === 0) return true;
  return procedure.receivingLevels.includes(agency.level) || procedure.receivingUnits.some((u) => agency.path.includes(`/${u}/`));
}

/**
 * Where indicator b's numerator comes from. `dossiers` (default) is the portal's own measure
 * (domain/indicators-766.md): fee-bearing procedures with a dossier in the period whose
 * synchronised fee data is non-zero. `catalogue` counts the fee-bearing procedures flagged
 * integrated for online payment in the hub's catalogue, whatever their dossiers.
 */
export const integrationSources = ['dossiers', 'catalogue'] as const;
export type IntegrationSource = (typeof integrationSources)[number];

export interface IndicatorSettings {
  scoring: Scoring;
  integrationSource: IntegrationSource;
}

/**
 * What the three ratios are made of, over a set of fee-bearing procedures' counts: how many
 * procedures had a dossier, one paid online, one with a charged line; how many dossiers were
 * paid online, and how many had something to pay. The SQL of services/indicators.ts computes
 * the same summary per group (`SUMMARY_SQL`), so only summaries, not procedures, leave the
 * database when a query groups by day or unit.
 */
export interface Summary {
  withDossiers: number;
  withPayment: number;
  withCharge: number;
  paid: number;
  feeDossiers: number;
}

export const emptySummary = (): Summary => ({ withDossiers: 0, withPayment: 0, withCharge: 0, paid: 0, feeDossiers: 0 });

/** The summary of per-procedure counts (any procedures: only the fee-bearing ones count). */
export function summarise(rows: Iterable<ProcedureCounts>, feeBearing: ReadonlySet<string>): Summary {
  const s = emptySummary();
  for (const row of rows) {
    if (!feeBearing.has(row.procedureCode)) continue;
    if (row.dossiers > 0) s.withDossiers++;
    if (row.paidOnline > 0) s.withPayment++;
    if (row.charged > 0) s.withCharge++;
    s.paid += row.paidOnline;
    s.feeDossiers += row.feeDossiers;
  }
  return s;
}

/**
 * The three ratios of 766's online-payment group from a summary:
 * (a) fee-bearing procedures with a dossier paid online / fee-bearing procedures with a dossier
 *     in the period, as the domain file words it (totalDossierOnlineFormalityPaymentSuccess /
 *     totalFeeDossierFormalityDistinct): a fee-bearing procedure whose every dossier of the period
 *     happened to be priced zero (death registration on time) still counts against the unit;
 * (b) fee-bearing procedures integrated / fee-bearing procedures in the catalogue, now, that the
 *     scope can receive (by the catalogue's receiving levels and units);
 * (c) dossiers paid online / dossiers of fee-bearing procedures less those priced all zero.
 */
export function ratiosOf(s: Summary, catalogue: CatalogueFacts, source: IntegrationSource): Record<IndicatorKey, Ratio> {
  let receivable = 0;
  let integratedInCatalogue = 0;
  for (const code of catalogue.receivable) {
    if (!catalogue.feeBearing.has(code)) continue;
    receivable++;
    if (catalogue.integrated.has(code)) integratedInCatalogue++;
  }
  return {
    procedureOnlinePayment: { numerator: s.withPayment, denominator: s.withDossiers },
    procedureIntegration: {
      numerator: source === 'dossiers' ? s.withCharge : integratedInCatalogue,
      denominator: receivable,
    },
    dossierOnlinePayment: { numerator: s.paid, denominator: s.feeDossiers },
  };
}

/** The three ratios from per-procedure counts. */
export function indicatorRatios(
  rows: Iterable<ProcedureCounts>,
  catalogue: CatalogueFacts,
  source: IntegrationSource,
): Record<IndicatorKey, Ratio> {
  return ratiosOf(summarise(rows, catalogue.feeBearing), catalogue, source);
}
