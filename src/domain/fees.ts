import Decimal from 'decimal.js';
import { z } from 'zod';
import { assertVnd } from './money.ts';

/**
 * Decimal arithmetic with enough significant digits to be exact for every fee: a safe-integer
 * value (16 digits) times a percentage of up to 3 + 6 digits has at most 25 significant digits.
 * decimal.js's global default is 20, which rounds the product before the fee's own rounding rule
 * is applied (double rounding, off by one dong for large values). A private clone also keeps the
 * fee arithmetic independent of anybody changing the global Decimal configuration.
 */
const Dec = Decimal.clone({ precision: 64, rounding: Decimal.ROUND_HALF_UP });

/**
 * Fee rules (domain/fees-and-codes.md). A rule has a base formula, an ordered list of
 * adjustments (channel amounts, dated reduction windows, payer-category reductions or
 * exemptions; the first that matches wins) and a rounding rule. Percentages are computed in
 * decimal arithmetic and rounded to whole VND by the rule stated with the fee.
 */

export const channels = ['online', 'direct', 'postal'] as const;
export type Channel = (typeof channels)[number];

const vnd = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const isoDate = z.iso.date();
/** A percentage as a decimal string ("0.5" means 0.5 %), so it never passes through a float. */
const PERCENT_PATTERN = /^\d{1,3}(\.\d{1,6})?$/;
const percent = z
  .string()
  .regex(PERCENT_PATTERN, 'a percentage as a decimal string, e.g. "0.5"')
  // zod runs this refinement even when the pattern failed; "0,5" or "" must be a validation
  // error, not a DecimalError thrown out of safeParse (a 500 instead of a 400).
  .refine((s) => !PERCENT_PATTERN.test(s) || new Dec(s).lte(100), 'at most 100');

export const feeFormulaSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('exempt') }),
  z.object({ type: z.literal('fixed'), amount: vnd }),
  z.object({
    type: z.literal('per_unit'),
    /** What is counted, in Vietnamese (e.g. "trang"). The dossier's `quantity` counts it. */
    unit: z.string().min(1),
    /** Rate per unit from unit number `fromUnit` on; the first tier starts at 1. */
    tiers: z
      .array(z.object({ fromUnit: z.number().int().min(1), unitAmount: vnd }))
      .min(1)
      .refine((t) => t[0]?.fromUnit === 1, 'the first tier starts at unit 1')
      .refine((t) => t.every((x, i) => i === 0 || x.fromUnit > t[i - 1]!.fromUnit), 'tiers ascend'),
    cap: vnd.optional(),
  }),
  z
    .object({
      type: z.literal('percentage'),
      /** Percentage of the dossier's declared value. */
      rate: percent,
      minimum: vnd.optional(),
      maximum: vnd.optional(),
    })
    .refine((f) => f.minimum === undefined || f.maximum === undefined || f.minimum <= f.maximum, {
      message: 'minimum is at most maximum',
      path: ['maximum'],
    }),
  z.object({
    type: z.literal('table'),
    input: z.enum(['quantity', 'declaredValue']),
    /**
     * Rows in ascending order; a row applies while the input is below `below`. Every row but the
     * last has a `below`, strictly ascending; the last has none, so every input finds exactly one
     * row (no silent fallback to a row whose bound the input has passed).
     */
    rows: z
      .array(z.object({ below: vnd.optional(), amount: vnd }))
      .min(1)
      .refine((rows) => rows.length === 0 || rows.at(-1)!.below === undefined, 'the last row has no upper bound ("below")')
      .refine((rows) => rows.slice(0, -1).every((r) => r.below !== undefined), 'every row but the last has an upper bound ("below")')
      .refine((rows) => rows.slice(0, -1).every((r, i) => i === 0 || r.below! > rows[i - 1]!.below!), 'row bounds ascend'),
  }),
]);
export type FeeFormula = z.infer<typeof feeFormulaSchema>;

export const feeAdjustmentSchema = z
  .object({
    /** Short human label shown with the obligation, e.g. "Nộp trực tuyến: 115.000 đ". */
    label: z.string().min(1),
    channels: z.array(z.enum(channels)).min(1).optional(),
    payerCategories: z.array(z.string().min(1)).min(1).optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    effect: z.discriminatedUnion('type', [
      z.object({ type: z.literal('exempt') }),
      z.object({ type: z.literal('amount'), amount: vnd }),
      /** The amount becomes this percentage of the base amount (e.g. "50" = half). */
      z.object({ type: z.literal('percent_of_base'), percent }),
    ]),
  })
  .refine((a) => a.from === undefined || a.to === undefined || a.from <= a.to, {
    message: 'the window starts on or before it ends',
    path: ['to'],
  });
export type FeeAdjustment = z.infer<typeof feeAdjustmentSchema>;

export const roundingRuleSchema = z.object({
  mode: z.enum(['half_up', 'down', 'up']),
  /** Round to a multiple of this many dong. */
  unit: z.union([z.literal(1), z.literal(10), z.literal(100), z.literal(1000)]),
});
export type RoundingRule = z.infer<typeof roundingRuleSchema>;
export const defaultRounding: RoundingRule = { mode: 'half_up', unit: 1 };

export interface FeeRuleLike {
  formula: FeeFormula;
  adjustments: FeeAdjustment[];
  rounding: RoundingRule;
  validFrom: string;
  validTo: string | null;
}

export interface FeeInputs {
  channel: Channel;
  /** Receipt date in Asia/Ho_Chi_Minh, YYYY-MM-DD. */
  receivedDate: string;
  declaredValue?: number | null;
  quantity?: number | null;
  payerCategory?: string | null;
}

export interface FeeResult {
  amount: number;
  /** Label of the adjustment that applied, if any. */
  adjustment: string | null;
}

/** A dossier lacks an input its fee needs (e.g. declared value for a percentage fee). */
export class FeeInputError extends Error {
  constructor(
    readonly field: 'declaredValue' | 'quantity',
    message: string,
  ) {
    super(message);
    this.name = 'FeeInputError';
  }
}

/** Validity is inclusive at both ends, in business (Vietnamese) dates. */
export function isRuleValidOn(rule: Pick<FeeRuleLike, 'validFrom' | 'validTo'>, date: string): boolean {
  return rule.validFrom <= date && (rule.validTo === null || date <= rule.validTo);
}

export function roundVnd(value: Decimal.Value, rule: RoundingRule): number {
  const unit = new Dec(rule.unit);
  const mode = rule.mode === 'half_up' ? Dec.ROUND_HALF_UP : rule.mode === 'down' ? Dec.ROUND_DOWN : Dec.ROUND_UP;
  const rounded = new Dec(value).div(unit).toDecimalPlaces(0, mode).mul(unit);
  return assertVnd(rounded.toNumber(), 'fee amount');
}

function requireInput(value: number | null | undefined, field: 'declaredValue' | 'quantity'): number {
  if (value === null || value === undefined) {
    throw new FeeInputError(field, `this fee is computed from ${field}, which the dossier does not give`);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new FeeInputError(field, `${field} must be a non-negative integer`);
  }
  return value;
}

function baseAmount(formula: FeeFormula, inputs: FeeInputs, rounding: RoundingRule): number {
  switch (formula.type) {
    case 'exempt':
      return 0;
    case 'fixed':
      return formula.amount;
    case 'per_unit': {
      const units = requireInput(inputs.quantity, 'quantity');
      let total = new Dec(0);
      formula.tiers.forEach((tier, i) => {
        const next = formula.tiers[i + 1];
        const last = next ? Math.min(units, next.fromUnit - 1) : units;
        const count = last - tier.fromUnit + 1;
        if (count > 0) total = total.add(new Dec(tier.unitAmount).mul(count));
      });
      if (formula.cap !== undefined && total.gt(formula.cap)) return formula.cap;
      return assertVnd(total.toNumber(), 'fee amount');
    }
    case 'percentage': {
      const value = requireInput(inputs.declaredValue, 'declaredValue');
      let amount = roundVnd(new Dec(value).mul(formula.rate).div(100), rounding);
      if (formula.minimum !== undefined) amount = Math.max(amount, formula.minimum);
      if (formula.maximum !== undefined) amount = Math.min(amount, formula.maximum);
      return amount;
    }
    case 'table': {
      const value = requireInput(inputs[formula.input], formula.input);
      const row = formula.rows.find((r) => r.below === undefined || value < r.below) ?? formula.rows.at(-1)!;
      return row.amount;
    }
  }
}

export function adjustmentApplies(adjustment: FeeAdjustment, inputs: FeeInputs): boolean {
  if (adjustment.channels && !adjustment.channels.includes(inputs.channel)) return false;
  if (adjustment.payerCategories && !(inputs.payerCategory && adjustment.payerCategories.includes(inputs.payerCategory))) return false;
  if (adjustment.from && inputs.receivedDate < adjustment.from) return false;
  if (adjustment.to && inputs.receivedDate > adjustment.to) return false;
  return true;
}

/** The amount of one fee line for a dossier. Pure: same rule and inputs, same amount. */
export function computeFee(rule: FeeRuleLike, inputs: FeeInputs): FeeResult {
  const adjustment = rule.adjustments.find((a) => adjustmentApplies(a, inputs));
  if (!adjustment) return { amount: baseAmount(rule.formula, inputs, rule.rounding), adjustment: null };
  const effect = adjustment.effect;
  // An exemption or a fixed amount does not read the base, so an exempt payer is not asked for
  // the declared value or quantity the base would need.
  const amount =
    effect.type === 'exempt'
      ? 0
      : effect.type === 'amount'
        ? effect.amount
        : roundVnd(new Dec(baseAmount(rule.formula, inputs, rule.rounding)).mul(effect.percent).div(100), rule.rounding);
  return { amount, adjustment: adjustment.label };
}

/** Which inputs a set of rules reads, so a dossier knows which changes affect its fees. */
export function inputsUsed(formula: FeeFormula): Array<'declaredValue' | 'quantity'> {
  switch (formula.type) {
    case 'per_unit':
      return ['quantity'];
    case 'percentage':
      return ['declaredValue'];
    case 'table':
      return [formula.input];
    default:
      return [];
  }
}

/**
 * Whether a rule can ever ask for money: 766's "fee information with a non-zero amount". The
 * base formula can (a fixed amount above zero, a priced unit or table row, a non-zero percentage
 * or minimum), or an adjustment sets an amount above zero (death registration is free on time,
 * charged when late). Stored with the rule (`fee_rules.can_charge`) so SQL can read it.
 */
export function canCharge(rule: Pick<FeeRuleLike, 'formula' | 'adjustments'>): boolean {
  const f = rule.formula;
  const base =
    f.type === 'fixed'
      ? f.amount > 0
      : f.type === 'per_unit'
        ? f.tiers.some((t) => t.unitAmount > 0) && f.cap !== 0
        : f.type === 'percentage'
          ? (new Dec(f.rate).gt(0) || (f.minimum ?? 0) > 0) && f.maximum !== 0
          : f.type === 'table'
            ? f.rows.some((r) => r.amount > 0)
            : false;
  return base || rule.adjustments.some((a) => a.effect.type === 'amount' && a.effect.amount > 0);
}

/**
 * A fee-bearing procedure (766 indicators a, b and c), as the national procedure database shows
 * it now: one of its rules in force on `today` can charge. The portal takes this at its current
 * value, not as of the period counted (domain/indicators-766.md, indicator b).
 */
export function isFeeBearing(rules: Array<Pick<FeeRuleLike, 'formula' | 'adjustments' | 'validFrom' | 'validTo'>>, today: string): boolean {
  return rules.some((r) => isRuleValidOn(r, today) && canCharge(r));
}
