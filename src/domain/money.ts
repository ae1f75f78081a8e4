/**
 * Money in the hub is integer VND (ISO 4217 exponent 0). Amounts are JS numbers restricted to
 * safe integers: exact, and far above any fee. Percentages go through decimal.js (see fees.ts).
 */
export const MAX_VND = Number.MAX_SAFE_INTEGER;

export function isVnd(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function assertVnd(value: number, what = 'amount'): number {
  if (!isVnd(value)) throw new RangeError(`${what} must be a non-negative integer number of VND`);
  return value;
}

/** Sums integer VND, refusing to leave the exact range rather than silently rounding. */
export function sumVnd(amounts: Iterable<number>): number {
  let total = 0;
  for (const a of amounts) {
    assertVnd(a);
    total += a;
    if (!Number.isSafeInteger(total)) throw new RangeError('total exceeds the exact VND range');
  }
  return total;
}

/** Vietnamese formatting: `.` groups thousands, "đ" follows (135.000 đ). */
export function formatVnd(amount: number): string {
  return `${groupThousands(amount)} đ`;
}

export function groupThousands(amount: number): string {
  assertVnd(amount);
  return String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
}

/**
 * Splits `amount` đồng over parts in proportion to what each holds: whole đồng that add up to
 * `amount` exactly, none above what its part holds, each within one đồng of its exact share (the
 * largest remainders get the đồng left over; ties go to the earlier part). BigInt inside, so
 * products of two amounts never lose a digit.
 */
export function allocateProportionally(amount: number, holds: readonly number[]): number[] {
  assertVnd(amount);
  for (const h of holds) assertVnd(h, 'a part');
  const total = holds.reduce((a, b) => a + b, 0);
  if (amount > total) throw new RangeError(`cannot take ${amount} of ${total}`);
  if (amount === 0) return holds.map(() => 0);
  const big = BigInt(amount);
  const whole = BigInt(total);
  const parts = holds.map((h) => Number((BigInt(h) * big) / whole));
  let left = amount - parts.reduce((a, b) => a + b, 0);
  const order = holds
    .map((h, i) => ({ i, rest: (BigInt(h) * big) % whole }))
    .sort((a, b) => (a.rest === b.rest ? a.i - b.i : a.rest > b.rest ? -1 : 1));
  for (const { i } of order) {
    if (left === 0) break;
    if (parts[i]! < holds[i]!) {
      parts[i]! += 1;
      left -= 1;
    }
  }
  return parts;
}
