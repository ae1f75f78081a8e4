import Decimal from 'decimal.js';

/** Exact for every safe-integer amount times a percentage (the global default of 20 digits is not); a private clone, as in fees.ts. */
const Dec = Decimal.clone({ precision: 64, rounding: Decimal.ROUND_HALF_UP });

/**
 * The budget's share of a collection (domain/fees-and-codes.md "Budget classification"): a lệ phí
 * goes wholly to the state budget; of a phí the collecting agency keeps the share its circular
 * allows (`retainedPercent`) and remits the rest. Codes of the state budget's chart of accounts
 * (Circular 324/2016/TT-BTC): the chapter (mã chương, 3 digits), the sub-item (tiểu mục, 4 digits)
 * and the treasury account collected into (7111, or a temporary-collection account: 4 digits).
 */

export interface BudgetClassification {
  kind: 'phi' | 'le_phi';
  budgetChapter: string | null;
  budgetSubItem: string | null;
  budgetAccount: string | null;
  /** Decimal string with at most 2 decimals, 0–100; only a phí keeps a share. */
  retainedPercent: string | null;
}

/** How many digits each code has. */
const BUDGET_CODE_DIGITS = { budgetChapter: 3, budgetSubItem: 4, budgetAccount: 4 } as const;

/** What is wrong with a rule's classification, field by field (empty: nothing). */
export function budgetClassificationErrors(c: BudgetClassification): Array<{ path: string; message: string }> {
  const errors: Array<{ path: string; message: string }> = [];
  for (const [field, digits] of Object.entries(BUDGET_CODE_DIGITS) as Array<[keyof typeof BUDGET_CODE_DIGITS, number]>) {
    const value = c[field];
    if (value !== null && !new RegExp(`^\\d{${digits}}$`).test(value)) errors.push({ path: field, message: `${digits} digits` });
  }
  if (c.retainedPercent !== null) {
    let percent: Decimal | null = null;
    try {
      percent = new Dec(c.retainedPercent);
    } catch {
      errors.push({ path: 'retainedPercent', message: 'a number' });
    }
    if (percent) {
      if (!percent.isFinite() || percent.lt(0) || percent.gt(100)) errors.push({ path: 'retainedPercent', message: 'from 0 to 100' });
      else if (percent.decimalPlaces() > 2) errors.push({ path: 'retainedPercent', message: 'at most 2 decimals' });
      else if (c.kind === 'le_phi' && !percent.isZero()) {
        errors.push({ path: 'retainedPercent', message: 'a lệ phí goes wholly to the state budget: nothing is retained' });
      }
    }
  }
  return errors;
}

/** The share as stored (numeric(5,2)): two decimals, or null. */
export const normalisePercent = (percent: string | number | null | undefined): string | null =>
  percent === null || percent === undefined ? null : new Dec(percent).toFixed(2);

/**
 * Splits an amount (integer VND, possibly negative: a net of refunds) into what is remitted to the
 * state budget and what the agency retains. Retained = amount × percent / 100 rounded half-up to
 * the whole đồng (away from zero at .5, so a refund mirrors its payment); remit = amount − retained,
 * so the two always add up to the amount exactly.
 */
export function budgetShare(amount: number, kind: 'phi' | 'le_phi', retainedPercent: string | null): { remit: number; retained: number } {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`amount must be an integer VND, got ${amount}`);
  if (kind === 'le_phi' || retainedPercent === null) return { remit: amount, retained: 0 };
  const retained = new Dec(amount).times(retainedPercent).dividedBy(100).toDecimalPlaces(0, Dec.ROUND_HALF_UP).toNumber();
  return { remit: amount - retained, retained: retained === 0 ? 0 : retained };
}
