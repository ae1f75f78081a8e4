/**
 * Independent arithmetic for the 766 tests: exact ratios with BigInt, rounded half up to a
 * number of decimals, so expected values never come from the decimal library the hub uses.
 */
export function roundHalfUp(numerator: bigint, denominator: bigint, digits: number): number {
  if (denominator === 0n) throw new Error('no ratio without a denominator');
  const scale = 10n ** BigInt(digits);
  const scaled = numerator * scale;
  let q = scaled / denominator;
  const r = scaled % denominator;
  if (r * 2n >= denominator) q += 1n;
  return Number(q) / Number(scale);
}

/** The rate and points the portal's curve gives (threshold as a rate with up to 4 decimals). */
function expectedScore(numerator: number, denominator: number, threshold: number, maxPoints: number) {
  if (denominator === 0) return { numerator, denominator, rate: null, points: null, maxPoints };
  const n = BigInt(numerator);
  const d = BigInt(denominator);
  const t = BigInt(Math.round(threshold * 10_000));
  const full = n * 10_000n >= t * d;
  return {
    numerator,
    denominator,
    rate: roundHalfUp(n, d, 4),
    points: full ? maxPoints : roundHalfUp(n * BigInt(maxPoints) * 10_000n, d * t, 2),
    maxPoints,
  };
}

/** A receipt date in Vietnam, by the platform's own time-zone data (not the hub's +7 arithmetic). */
export function vietnamDate(instant: Date): string {
  return instant.toLocaleDateString('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' });
}

/** A dossier as a test models it: what 766 reads of it, computed by the test itself. */
export interface ModelDossier {
  procedure: string;
  agency: string;
  /** The receipt date in Vietnam. */
  date: string;
  /** Amounts of its fee lines (none: no line synchronised). */
  lines: number[];
  /** DuocThanhToanTrucTuyen. */
  flag: number;
  /** Received by a unit the catalogue says receives the procedure (default: yes). */
  atReceiver?: boolean;
}

export interface ModelCatalogue {
  feeBearing: ReadonlySet<string>;
  integrated: ReadonlySet<string>;
  /** Of the procedures, those the scope can receive (default: every one). */
  receivable?: ReadonlySet<string>;
}

export const pricedAllZero = (d: Pick<ModelDossier, 'lines'>) => d.lines.length > 0 && d.lines.every((a) => a === 0);
export const hasCharge = (d: Pick<ModelDossier, 'lines'>) => d.lines.some((a) => a > 0);

export type Curves = Record<'a' | 'b' | 'c', [threshold: number, maxPoints: number]>;
export const DOMAIN_CURVES: Curves = { a: [0.8, 2], b: [0.8, 2], c: [1, 6] };

/**
 * The three ratios as domain/indicators-766.md defines them, over the dossiers given (already
 * narrowed to a scope and period by the caller): a over fee-bearing procedures with a dossier, b
 * over the catalogue's fee-bearing procedures the scope can receive (a charged dossier counting
 * where a unit that receives the procedure received it), c over dossiers less those priced all zero.
 */
export function modelRatios(dossiers: ModelDossier[], catalogue: ModelCatalogue, source: 'dossiers' | 'catalogue' = 'dossiers') {
  const counted = dossiers.filter((d) => catalogue.feeBearing.has(d.procedure));
  const due = counted.filter((d) => !pricedAllZero(d));
  const paid = due.filter((d) => d.flag === 1 || d.flag === 2);
  const receivable = [...catalogue.feeBearing].filter((p) => catalogue.receivable?.has(p) ?? true);
  const integrated = receivable.filter((p) => catalogue.integrated.has(p)).length;
  const integratedByDossiers = counted.filter((d) => hasCharge(d) && d.atReceiver !== false && receivable.includes(d.procedure));
  return {
    a: { numerator: new Set(paid.map((d) => d.procedure)).size, denominator: new Set(counted.map((d) => d.procedure)).size },
    b: {
      numerator: source === 'dossiers' ? new Set(integratedByDossiers.map((d) => d.procedure)).size : integrated,
      denominator: receivable.length,
    },
    c: { numerator: paid.length, denominator: due.length },
  };
}

/** The indicators with points, shaped as the hub answers them. */
export function modelIndicators(
  dossiers: ModelDossier[],
  catalogue: ModelCatalogue,
  source: 'dossiers' | 'catalogue' = 'dossiers',
  curves: Curves = DOMAIN_CURVES,
) {
  const k = modelRatios(dossiers, catalogue, source);
  const procedureOnlinePayment = expectedScore(k.a.numerator, k.a.denominator, ...curves.a);
  const procedureIntegration = expectedScore(k.b.numerator, k.b.denominator, ...curves.b);
  const dossierOnlinePayment = expectedScore(k.c.numerator, k.c.denominator, ...curves.c);
  const values = [procedureOnlinePayment, procedureIntegration, dossierOnlinePayment];
  return {
    procedureOnlinePayment,
    procedureIntegration,
    dossierOnlinePayment,
    points: values.reduce((s, v) => s + Math.round((v.points ?? 0) * 100), 0) / 100,
    maxPoints: curves.a[1] + curves.b[1] + curves.c[1],
  };
}

/** The least k with (n + k) / d ≥ target (target with up to 4 decimals). */
export function modelNeeded(n: number, d: number, target: number): number {
  const t = BigInt(Math.round(target * 10_000));
  let k = 0;
  while (BigInt(n + k) * 10_000n < t * BigInt(d)) k++;
  return k;
}

/** Half away from zero, as the hub's decimal arithmetic rounds: a signed ratio to `digits`. */
export function roundSigned(numerator: bigint, denominator: bigint, digits: number): number {
  const negative = numerator < 0n !== denominator < 0n && numerator !== 0n;
  const magnitude = roundHalfUp(numerator < 0n ? -numerator : numerator, denominator < 0n ? -denominator : denominator, digits);
  return negative ? -magnitude : magnitude;
}
