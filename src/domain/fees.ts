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
 * exemptions; the first that matches wins, and between a payer's several categories the most
 * favourable: see `computeFee`) and a rounding rule. Percentages are computed in decimal
 * arithmetic and rounded to whole VND by the rule stated with the fee.
 */

export const channels = ['online', 'direct', 'postal'] as const;
export type Channel = (typeof channels)[number];

/**
 * Lệ phí trước bạ of vehicles (Decree 10/2022/NĐ-CP Art. 8, amended by Decree 175/2025): the
 * rate depends on whether this is the vehicle's first registration or a later one, and, for a
 * first registration, on whether the owner is in an urban area (centrally-run cities, provincial
 * cities and towns). Payer attributes the portal sends with the dossier.
 */
export const vehicleRegistrations = ['first', 'later'] as const;
export type VehicleRegistration = (typeof vehicleRegistrations)[number];

/** The payer category of a citizen with a level-2 electronic identity (VNeID) account (Circular 117/2026/TT-BTC). */
export const VNEID_LEVEL2 = 'vneid_level2';

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

/** Conditions on the dossier's vehicle inputs, shared by a percentage's rate cases and by adjustments. */
const vehicleConditions = {
  vehicleRegistration: z.enum(vehicleRegistrations).optional(),
  urbanArea: z.boolean().optional(),
};

const rateCaseSchema = z
  .object({ ...vehicleConditions, rate: percent })
  .refine((c) => c.vehicleRegistration !== undefined || c.urbanArea !== undefined, 'a rate case states vehicleRegistration or urbanArea');

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
    /** At most this much (per copy when `perCopy`). */
    cap: vnd.optional(),
    /**
     * The tiers and the cap count the units of one copy, and the dossier's `copies` (1 when it
     * does not say) multiplies the amount: certified copies, TT 226/2016 (domain/procedures.md).
     */
    perCopy: z.boolean().optional(),
  }),
  z
    .object({
      type: z.literal('percentage'),
      /** Percentage of the dossier's declared value. */
      rate: percent,
      /**
       * Other rates by the dossier's vehicle inputs: the first case whose conditions hold gives
       * the rate, else `rate`. A condition the dossier does not answer is a missing fee input
       * (motorbikes: 5 % first registration in an urban area, 1 % from the second, 2 % otherwise).
       */
      rateCases: z.array(rateCaseSchema).min(1).max(10).optional(),
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
    /** Applies only when the dossier gives this input with this value (a dossier without it does not match). */
    ...vehicleConditions,
    from: isoDate.optional(),
    to: isoDate.optional(),
    effect: z.discriminatedUnion('type', [
      z.object({ type: z.literal('exempt') }),
      z.object({ type: z.literal('amount'), amount: vnd }),
      /**
       * The amount becomes this percentage of the base amount (e.g. "50" = half); with
       * `maxReduction`, it is reduced by at most that many đồng (Circular 117/2026: a reduction
       * of lệ phí trước bạ of at most 5 × the base salary).
       */
      z.object({ type: z.literal('percent_of_base'), percent, maxReduction: vnd.optional() }),
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
  /** The payer's categories (reductions and exemptions by category: the most favourable applies). */
  payerCategories?: readonly string[] | null;
  /** One category: the same as `payerCategories: [payerCategory]` (both may be given; they add up). */
  payerCategory?: string | null;
  vehicleRegistration?: VehicleRegistration | null;
  urbanArea?: boolean | null;
  /** Copies asked for (a per-copy fee); 1 when not given. */
  copies?: number | null;
}

/** The inputs a fee can be missing. */
export type FeeInputField = 'declaredValue' | 'quantity' | 'vehicleRegistration' | 'urbanArea' | 'copies';

export interface FeeResult {
  amount: number;
  /** Label of the adjustment that applied, if any. */
  adjustment: string | null;
}

/** A dossier lacks an input its fee needs (e.g. declared value for a percentage fee). */
export class FeeInputError extends Error {
  constructor(
    readonly field: FeeInputField,
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

/** The copies a per-copy fee counts: 1 unless the dossier says. */
function copiesOf(inputs: FeeInputs): number {
  const copies = inputs.copies ?? 1;
  if (!Number.isSafeInteger(copies) || copies < 1) throw new FeeInputError('copies', 'copies must be a positive integer');
  return copies;
}

type VehicleConditions = { vehicleRegistration?: VehicleRegistration; urbanArea?: boolean };

/**
 * Whether the dossier's vehicle inputs meet `condition`. An input the condition names but the
 * dossier does not give: a missing fee input where the base rate depends on it (`required`), a
 * condition that does not hold where only an adjustment does.
 */
function vehicleConditionsHold(condition: VehicleConditions, inputs: FeeInputs, required: boolean): boolean {
  for (const field of ['vehicleRegistration', 'urbanArea'] as const) {
    const wanted = condition[field];
    if (wanted === undefined) continue;
    const given = inputs[field];
    if (given === null || given === undefined) {
      if (required) throw new FeeInputError(field, `this fee's rate depends on ${field}, which the dossier does not give`);
      return false;
    }
    // Checked in order: a later registration is 1 % wherever the owner lives, so urbanArea is
    // not asked of it once vehicleRegistration has ruled the case out.
    if (given !== wanted) return false;
  }
  return true;
}

/** A percentage formula's rate for the dossier: its first rate case that holds, else its rate. */
function rateOf(formula: Extract<FeeFormula, { type: 'percentage' }>, inputs: FeeInputs): string {
  return formula.rateCases?.find((c) => vehicleConditionsHold(c, inputs, true))?.rate ?? formula.rate;
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
      if (formula.cap !== undefined && total.gt(formula.cap)) total = new Dec(formula.cap);
      // The tiers and the cap are those of one copy; every copy pays them again.
      if (formula.perCopy) total = total.mul(copiesOf(inputs));
      return assertVnd(total.toNumber(), 'fee amount');
    }
    case 'percentage': {
      const value = requireInput(inputs.declaredValue, 'declaredValue');
      let amount = roundVnd(new Dec(value).mul(rateOf(formula, inputs)).div(100), rounding);
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

/** The dossier's payer categories: `payerCategories` and the one-item alias `payerCategory`, each once. */
export function payerCategoriesOf(inputs: Pick<FeeInputs, 'payerCategories' | 'payerCategory'>): string[] {
  const all = [...(inputs.payerCategories ?? []), ...(inputs.payerCategory ? [inputs.payerCategory] : [])];
  return [...new Set(all.filter((c) => c !== ''))];
}

export function adjustmentApplies(adjustment: FeeAdjustment, inputs: FeeInputs): boolean {
  if (adjustment.channels && !adjustment.channels.includes(inputs.channel)) return false;
  if (adjustment.payerCategories) {
    const categories = payerCategoriesOf(inputs);
    if (!adjustment.payerCategories.some((c) => categories.includes(c))) return false;
  }
  if (!vehicleConditionsHold(adjustment, inputs, false)) return false;
  if (adjustment.from && inputs.receivedDate < adjustment.from) return false;
  if (adjustment.to && inputs.receivedDate > adjustment.to) return false;
  return true;
}

/** The amount an adjustment gives; `base` is asked for only by a percentage of the base. */
function adjustedAmount(adjustment: FeeAdjustment, base: () => number, rounding: RoundingRule): number {
  const effect = adjustment.effect;
  switch (effect.type) {
    case 'exempt':
      return 0;
    case 'amount':
      return effect.amount;
    case 'percent_of_base': {
      const full = base();
      const amount = roundVnd(new Dec(full).mul(effect.percent).div(100), rounding);
      return effect.maxReduction === undefined ? amount : Math.max(amount, full - effect.maxReduction);
    }
  }
}

/**
 * The amount of one fee line for a dossier. Pure: same rule and inputs, same amount.
 *
 * The rule's adjustments are tried in order and the first that matches applies. A payer with
 * several categories gets, of the adjustments each category alone reaches first (those naming
 * that category), the most favourable: the lowest amount, the earlier listed on a tie. They do
 * not stack (domain/procedures.md: "where a citizen qualifies for several reductions, the most
 * favourable applies"). A category whose first match names no category (a channel amount, a
 * dated window) brings nothing of its own; and a category that names the case rather than a
 * reduction (a lost passport: 400.000 đ) still applies when another category brings nothing,
 * since the lowest is taken among the categories' own adjustments, not against the ordinary fee.
 */
export function computeFee(rule: FeeRuleLike, inputs: FeeInputs): FeeResult {
  let base: number | undefined;
  const baseOnce = () => {
    base ??= baseAmount(rule.formula, inputs, rule.rounding);
    return base;
  };
  const only = (categories: string[]): FeeInputs => ({ ...inputs, payerCategory: null, payerCategories: categories });
  const candidates: FeeAdjustment[] = [];
  for (const category of payerCategoriesOf(inputs)) {
    const first = rule.adjustments.find((a) => adjustmentApplies(a, only([category])));
    if (first?.payerCategories?.includes(category) && !candidates.includes(first)) candidates.push(first);
  }
  if (candidates.length === 0) {
    const adjustment = rule.adjustments.find((a) => adjustmentApplies(a, only([])));
    if (!adjustment) return { amount: baseOnce(), adjustment: null };
    // An exemption or a fixed amount does not read the base, so an exempt payer is not asked for
    // the declared value or quantity the base would need.
    return { amount: adjustedAmount(adjustment, baseOnce, rule.rounding), adjustment: adjustment.label };
  }
  candidates.sort((a, b) => rule.adjustments.indexOf(a) - rule.adjustments.indexOf(b));
  // Nothing is more favourable than an exemption, and it reads no base.
  const exemption = candidates.find((a) => a.effect.type === 'exempt');
  if (exemption) return { amount: 0, adjustment: exemption.label };
  let best: FeeResult | undefined;
  for (const adjustment of candidates) {
    const amount = adjustedAmount(adjustment, baseOnce, rule.rounding);
    if (best === undefined || amount < best.amount) best = { amount, adjustment: adjustment.label };
  }
  return best!;
}

/** Which inputs a rule's formula reads, so a dossier knows which changes affect its fees. */
export function inputsUsed(formula: FeeFormula): FeeInputField[] {
  switch (formula.type) {
    case 'per_unit':
      return formula.perCopy ? ['quantity', 'copies'] : ['quantity'];
    case 'percentage': {
      const cases = formula.rateCases ?? [];
      return [
        'declaredValue',
        ...(cases.some((c) => c.vehicleRegistration !== undefined) ? (['vehicleRegistration'] as const) : []),
        ...(cases.some((c) => c.urbanArea !== undefined) ? (['urbanArea'] as const) : []),
      ];
    }
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
          ? ([f.rate, ...(f.rateCases ?? []).map((c) => c.rate)].some((r) => new Dec(r).gt(0)) || (f.minimum ?? 0) > 0) && f.maximum !== 0
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
