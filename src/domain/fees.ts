import Decimal from 'decimal.js';
import { z } from 'zod';
import { assertVnd } from './money.ts';

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
const percent = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,6})?$/, 'a percentage as a decimal string, e.g. "0.5"')
  .refine((s) => new Decimal(s).lte(100), 'at most 100');

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
  z.object({
    type: z.literal('percentage'),
    /** Percentage of the dossier's declared value. */
    rate: percent,
    minimum: vnd.optional(),
    maximum: vnd.optional(),
  }),
  z.object({
    type: z.literal('table'),
    input: z.enum(['quantity', 'declaredValue']),
    /** Rows in ascending order; a row applies while the input is below `below` (last: none). */
    rows: z.array(z.object({ below: vnd.optional(), amount: vnd })).min(1),
  }),
]);
export type FeeFormula = z.infer<typeof feeFormulaSchema>;

export const feeAdjustmentSchema = z.object({
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

export function roundVnd(value: Decimal, rule: RoundingRule): number {
  const unit = new Decimal(rule.unit);
  const mode =
    rule.mode === 'half_up' ? Decimal.ROUND_HALF_UP : rule.mode === 'down' ? Decimal.ROUND_DOWN : Decimal.ROUND_UP;
  const rounded = value.div(unit).toDecimalPlaces(0, mode).mul(unit);
  return assertVnd(rounded.toNumber());
}

function requireInput(value: number | null | undefined, field: 'declaredValue' | 'quantity'): number {
  if (value === null || value === undefined) {
    throw new FeeInputError(field, `this fee is computed from ${field}, which the dossier does not give`);
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
      let total = new Decimal(0);
      formula.tiers.forEach((tier, i) => {
        const next = formula.tiers[i + 1];
        const last = next ? Math.min(units, next.fromUnit - 1) : units;
        const count = last - tier.fromUnit + 1;
        if (count > 0) total = total.add(new Decimal(tier.unitAmount).mul(count));
      });
      const amount = total.toNumber();
      return formula.cap !== undefined ? Math.min(amount, formula.cap) : amount;
    }
    case 'percentage': {
      const value = requireInput(inputs.declaredValue, 'declaredValue');
      let amount = roundVnd(new Decimal(value).mul(formula.rate).div(100), rounding);
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
  if (adjustment.payerCategories && !(inputs.payerCategory && adjustment.payerCategories.includes(inputs.payerCategory)))
    return false;
  if (adjustment.from && inputs.receivedDate < adjustment.from) return false;
  if (adjustment.to && inputs.receivedDate > adjustment.to) return false;
  return true;
}

/** The amount of one fee line for a dossier. Pure: same rule and inputs, same amount. */
export function computeFee(rule: FeeRuleLike, inputs: FeeInputs): FeeResult {
  const base = baseAmount(rule.formula, inputs, rule.rounding);
  const adjustment = rule.adjustments.find((a) => adjustmentApplies(a, inputs));
  if (!adjustment) return { amount: base, adjustment: null };
  const effect = adjustment.effect;
  const amount =
    effect.type === 'exempt'
      ? 0
      : effect.type === 'amount'
        ? effect.amount
        : roundVnd(new Decimal(base).mul(effect.percent).div(100), rule.rounding);
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
