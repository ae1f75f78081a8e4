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
export function expectedScore(numerator: number, denominator: number, threshold: number, maxPoints: number) {
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
