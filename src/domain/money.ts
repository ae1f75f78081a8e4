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
