import Decimal from 'decimal.js';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  adjustmentApplies,
  type Channel,
  canCharge,
  computeFee,
  defaultRounding,
  type FeeAdjustment,
  type FeeFormula,
  FeeInputError,
  type FeeInputs,
  type FeeRuleLike,
  feeAdjustmentSchema,
  feeFormulaSchema,
  inputsUsed,
  isRuleValidOn,
  type RoundingRule,
  roundingRuleSchema,
  roundVnd,
} from '../../src/domain/fees.ts';

function rule(formula: FeeFormula, adjustments: FeeAdjustment[] = [], rounding: RoundingRule = defaultRounding): FeeRuleLike {
  return { formula, adjustments, rounding, validFrom: '2020-01-01', validTo: null };
}

function inputs(over: Partial<FeeInputs> = {}): FeeInputs {
  return { channel: 'direct', receivedDate: '2026-03-01', ...over };
}

const amountOf = (r: FeeRuleLike, over: Partial<FeeInputs> = {}) => computeFee(r, inputs(over)).amount;

/** Catches a FeeInputError so its field can be checked. */
function feeInputError(fn: () => unknown): FeeInputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FeeInputError);
    return error as FeeInputError;
  }
  throw new Error('expected a FeeInputError');
}

// ---------------------------------------------------------------------------------------------
// Real rules from domain/procedures.md
// ---------------------------------------------------------------------------------------------

/** 2.000815 Chứng thực bản sao: 2,000/page for pages 1–2, 1,000/page from page 3, at most 200,000. */
const copyCertification = rule({
  type: 'per_unit',
  unit: 'trang',
  tiers: [
    { fromUnit: 1, unitAmount: 2000 },
    { fromUnit: 3, unitAmount: 1000 },
  ],
  cap: 200_000,
});

/** 3.000347 Đổi giấy phép lái xe: 135,000; 115,000 online from 01/12/2023 to 31/12/2025. */
const drivingLicence = rule({ type: 'fixed', amount: 135_000 }, [
  {
    label: 'Nộp trực tuyến: 115.000 đ',
    channels: ['online'],
    from: '2023-12-01',
    to: '2025-12-31',
    effect: { type: 'amount', amount: 115_000 },
  },
]);

/** 2.001195 Cấp đổi thẻ căn cước: 50,000; 50 % on every channel 01/07/2025–31/12/2026; 50 % online in 2025. */
const idCard = rule({ type: 'fixed', amount: 50_000 }, [
  {
    label: 'Giảm 50% (01/07/2025–31/12/2026)',
    from: '2025-07-01',
    to: '2026-12-31',
    effect: { type: 'percent_of_base', percent: '50' },
  },
  {
    label: 'Nộp trực tuyến năm 2025: 50%',
    channels: ['online'],
    from: '2025-01-01',
    to: '2025-12-31',
    effect: { type: 'percent_of_base', percent: '50' },
  },
]);

/** 3.000333 Phiếu lý lịch tư pháp: 200,000; 100,000 for students and people with merit; exempt groups. */
const criminalRecord = rule({ type: 'fixed', amount: 200_000 }, [
  {
    label: 'Miễn phí',
    payerCategories: ['child', 'elderly', 'disabled', 'poor_household'],
    effect: { type: 'exempt' },
  },
  { label: 'Giảm: 100.000 đ', payerCategories: ['student', 'merit'], effect: { type: 'amount', amount: 100_000 } },
]);

/** 2.001610 Đăng ký doanh nghiệp: lệ phí 50,000, exempt online. */
const enterpriseRegistration = rule({ type: 'fixed', amount: 50_000 }, [
  { label: 'Miễn lệ phí khi nộp trực tuyến', channels: ['online'], effect: { type: 'exempt' } },
]);

/** 1.001193 Đăng ký khai sinh: exempt. */
const birthRegistration = rule({ type: 'exempt' });

/** 1.013855 An toàn thực phẩm: 700,000 below 200 meals, 1,000,000 from 200. */
const foodSafety = rule({
  type: 'table',
  input: 'quantity',
  rows: [{ below: 200, amount: 700_000 }, { amount: 1_000_000 }],
});

/** Lệ phí trước bạ, house and land: 0.5 % of the declared value. */
const registrationFeeLand = rule({ type: 'percentage', rate: '0.5' });

describe('fee shapes', () => {
  it('exempt is 0 whatever the inputs', () => {
    expect(computeFee(birthRegistration, inputs())).toEqual({ amount: 0, adjustment: null });
    expect(amountOf(birthRegistration, { channel: 'online', quantity: 10, declaredValue: 1e9 })).toBe(0);
  });

  it('fixed is its amount, with no inputs needed', () => {
    expect(computeFee(rule({ type: 'fixed', amount: 10_000 }), inputs())).toEqual({ amount: 10_000, adjustment: null });
    expect(amountOf(rule({ type: 'fixed', amount: 0 }))).toBe(0);
  });

  describe('per_unit tiers with threshold and cap (chứng thực bản sao)', () => {
    it.each([
      [0, 0],
      [1, 2000],
      [2, 4000],
      [3, 5000],
      [4, 6000],
      [10, 12_000],
      [100, 102_000],
      [197, 199_000],
      [198, 200_000],
      [199, 200_000],
      [200, 200_000],
      [500, 200_000],
      [100_000, 200_000],
    ])('%d pages → %d', (pages, amount) => {
      expect(computeFee(copyCertification, inputs({ quantity: pages }))).toEqual({ amount, adjustment: null });
    });

    it('without a cap keeps counting', () => {
      const noCap = rule({ ...copyCertification.formula, cap: undefined } as FeeFormula);
      expect(amountOf(noCap, { quantity: 500 })).toBe(2 * 2000 + 498 * 1000);
    });

    it('with three tiers applies each rate to its own units', () => {
      const three = rule({
        type: 'per_unit',
        unit: 'trang',
        tiers: [
          { fromUnit: 1, unitAmount: 500 },
          { fromUnit: 4, unitAmount: 300 },
          { fromUnit: 10, unitAmount: 100 },
        ],
      });
      expect(amountOf(three, { quantity: 3 })).toBe(1500);
      expect(amountOf(three, { quantity: 4 })).toBe(1800);
      expect(amountOf(three, { quantity: 9 })).toBe(1500 + 6 * 300);
      expect(amountOf(three, { quantity: 10 })).toBe(1500 + 6 * 300 + 100);
      expect(amountOf(three, { quantity: 12 })).toBe(1500 + 6 * 300 + 300);
    });

    it('refuses a total beyond the exact VND range when there is no cap', () => {
      const huge = rule({ type: 'per_unit', unit: 'x', tiers: [{ fromUnit: 1, unitAmount: Number.MAX_SAFE_INTEGER }] });
      expect(amountOf(huge, { quantity: 1 })).toBe(Number.MAX_SAFE_INTEGER);
      expect(() => amountOf(huge, { quantity: 2 })).toThrow(RangeError);
      const capped = rule({ ...huge.formula, cap: 1_000_000 } as FeeFormula);
      expect(amountOf(capped, { quantity: 1_000_000 })).toBe(1_000_000);
    });
  });

  describe('percentage of the declared value', () => {
    it('lệ phí trước bạ 0.5 % of a house', () => {
      expect(amountOf(registrationFeeLand, { declaredValue: 2_000_000_000 })).toBe(10_000_000);
      expect(amountOf(registrationFeeLand, { declaredValue: 0 })).toBe(0);
      expect(amountOf(rule({ type: 'percentage', rate: '2' }), { declaredValue: 35_000_000 })).toBe(700_000);
      expect(amountOf(rule({ type: 'percentage', rate: '10' }), { declaredValue: 799_000_000 })).toBe(79_900_000);
      expect(amountOf(rule({ type: 'percentage', rate: '100' }), { declaredValue: 123_457 })).toBe(123_457);
      expect(amountOf(rule({ type: 'percentage', rate: '0' }), { declaredValue: 123_457 })).toBe(0);
    });

    // 2,469,100 × 0.5 % = 12,345.5
    it.each<[RoundingRule['mode'], RoundingRule['unit'], number]>([
      ['half_up', 1, 12_346],
      ['down', 1, 12_345],
      ['up', 1, 12_346],
      ['half_up', 10, 12_350],
      ['down', 10, 12_340],
      ['up', 10, 12_350],
      ['half_up', 100, 12_300],
      ['down', 100, 12_300],
      ['up', 100, 12_400],
      ['half_up', 1000, 12_000],
      ['down', 1000, 12_000],
      ['up', 1000, 13_000],
    ])('12,345.5 rounded %s to %d → %d', (mode, unit, amount) => {
      expect(amountOf(rule({ type: 'percentage', rate: '0.5' }, [], { mode, unit }), { declaredValue: 2_469_100 })).toBe(amount);
    });

    it.each<[RoundingRule['mode'], RoundingRule['unit'], number, number]>([
      // exact halves go up under half_up, at every unit
      ['half_up', 1, 1_000_100, 5001], // 5,000.5
      ['half_up', 10, 1_001_000, 5010], // 5,005
      ['half_up', 100, 1_010_000, 5100], // 5,050
      ['half_up', 1000, 2_500_000, 13_000], // 12,500
      ['down', 1000, 2_500_000, 12_000],
      // just below a half goes down
      ['half_up', 1, 1_000_099, 5000], // 5,000.495
      ['half_up', 1000, 2_499_999, 12_000], // 12,499.995
      // "up" moves even the smallest fraction, but never an exact multiple
      ['up', 1, 1_000_001, 5001], // 5,000.005
      ['up', 1000, 2_400_000, 12_000], // 12,000 exactly
      ['up', 10, 2_000, 10], // 10 exactly
      ['down', 1, 1_999, 9], // 9.995
    ])('%s to %d: declared %d → %d', (mode, unit, declaredValue, amount) => {
      expect(amountOf(rule({ type: 'percentage', rate: '0.5' }, [], { mode, unit }), { declaredValue })).toBe(amount);
    });

    it('rounds by default half-up to the dong', () => {
      expect(defaultRounding).toEqual({ mode: 'half_up', unit: 1 });
      expect(amountOf(rule({ type: 'percentage', rate: '33.333333' }), { declaredValue: 3 })).toBe(1); // 0.99999999
      expect(amountOf(rule({ type: 'percentage', rate: '0.000001' }), { declaredValue: 50_000_000 })).toBe(1); // 0.5
      expect(amountOf(rule({ type: 'percentage', rate: '0.000001' }), { declaredValue: 49_999_999 })).toBe(0);
    });

    it('is exact for large values (no double rounding through 20-digit decimals)', () => {
      // Regressions found by the oracle property below: decimal.js's default 20 significant digits
      // rounded value × rate before the fee's own rounding, one dong off.
      const cases: Array<[number, string, RoundingRule['mode'], RoundingRule['unit'], number]> = [
        [8_706_803_456_300_279, '30.673467', 'half_up', 1, 2_670_678_484_923_125],
        [6_456_158_126_830_025, '24.850931', 'up', 1, 1_604_415_401_349_423],
        [5_445_696_538_328_403, '84.270503', 'down', 1, 4_589_115_864_702_932],
        [6_798_153_085_145_859, '76.875647', 'down', 10, 5_226_124_168_256_330],
      ];
      for (const [declaredValue, rate, mode, unit, amount] of cases) {
        expect(amountOf(rule({ type: 'percentage', rate }, [], { mode, unit }), { declaredValue })).toBe(amount);
        expect(BigInt(amount)).toBe(oraclePercent(BigInt(declaredValue), rate, mode, BigInt(unit)));
      }
    });

    describe('does not depend on the global decimal.js configuration', () => {
      afterEach(() => {
        Decimal.set({ precision: 20, rounding: Decimal.ROUND_HALF_UP });
      });
      it('with precision 5 and rounding down set globally', () => {
        Decimal.set({ precision: 5, rounding: Decimal.ROUND_DOWN });
        expect(amountOf(registrationFeeLand, { declaredValue: 2_469_100 })).toBe(12_346);
        expect(amountOf(idCard, { receivedDate: '2026-01-01' })).toBe(25_000);
        expect(amountOf(copyCertification, { quantity: 123 })).toBe(125_000);
      });
    });

    it('applies minimum and maximum after rounding', () => {
      const capped = rule({ type: 'percentage', rate: '2', minimum: 100_000, maximum: 500_000 });
      expect(amountOf(capped, { declaredValue: 0 })).toBe(100_000);
      expect(amountOf(capped, { declaredValue: 4_999_999 })).toBe(100_000); // 99,999.98
      expect(amountOf(capped, { declaredValue: 5_000_000 })).toBe(100_000);
      expect(amountOf(capped, { declaredValue: 5_000_050 })).toBe(100_001);
      expect(amountOf(capped, { declaredValue: 24_999_999 })).toBe(500_000); // 499,999.98 → 500,000
      expect(amountOf(capped, { declaredValue: 24_999_974 })).toBe(499_999); // 499,999.48
      expect(amountOf(capped, { declaredValue: 25_000_000 })).toBe(500_000);
      expect(amountOf(capped, { declaredValue: 1_000_000_000 })).toBe(500_000);
      const onlyMax = rule({ type: 'percentage', rate: '0.5', maximum: 500_000_000 });
      expect(amountOf(onlyMax, { declaredValue: 200_000_000_000 })).toBe(500_000_000);
      expect(amountOf(onlyMax, { declaredValue: 1_000 })).toBe(5);
      const onlyMin = rule({ type: 'percentage', rate: '0.5', minimum: 1000 });
      expect(amountOf(onlyMin, { declaredValue: 1_000 })).toBe(1000);
      expect(amountOf(onlyMin, { declaredValue: 1_000_000 })).toBe(5000);
    });
  });

  describe('table', () => {
    it.each([
      [0, 700_000],
      [1, 700_000],
      [199, 700_000],
      [200, 1_000_000],
      [201, 1_000_000],
      [100_000, 1_000_000],
    ])('food safety: %d meals → %d', (meals, amount) => {
      expect(amountOf(foodSafety, { quantity: meals })).toBe(amount);
    });

    it('reads the declared value when the table says so, with boundaries below/at/above', () => {
      const byValue = rule({
        type: 'table',
        input: 'declaredValue',
        rows: [{ below: 1_000_000, amount: 10_000 }, { below: 5_000_000, amount: 20_000 }, { amount: 50_000 }],
      });
      expect(amountOf(byValue, { declaredValue: 0, quantity: 999_999_999 })).toBe(10_000);
      expect(amountOf(byValue, { declaredValue: 999_999 })).toBe(10_000);
      expect(amountOf(byValue, { declaredValue: 1_000_000 })).toBe(20_000);
      expect(amountOf(byValue, { declaredValue: 1_000_001 })).toBe(20_000);
      expect(amountOf(byValue, { declaredValue: 4_999_999 })).toBe(20_000);
      expect(amountOf(byValue, { declaredValue: 5_000_000 })).toBe(50_000);
      expect(amountOf(byValue, { declaredValue: 5_000_001 })).toBe(50_000);
      expect(feeInputError(() => amountOf(byValue, { quantity: 3 })).field).toBe('declaredValue');
    });

    it('with a single unbounded row is a fixed amount of that input', () => {
      const one = rule({ type: 'table', input: 'quantity', rows: [{ amount: 7 }] });
      expect(amountOf(one, { quantity: 0 })).toBe(7);
      expect(amountOf(one, { quantity: 1_000_000 })).toBe(7);
    });
  });

  describe('missing or invalid inputs → FeeInputError naming the field', () => {
    it.each<[string, FeeRuleLike, 'declaredValue' | 'quantity']>([
      ['per_unit', copyCertification, 'quantity'],
      ['percentage', registrationFeeLand, 'declaredValue'],
      ['table by quantity', foodSafety, 'quantity'],
    ])('%s', (_, r, field) => {
      const other = field === 'quantity' ? { declaredValue: 1_000_000 } : { quantity: 3 };
      for (const missing of [undefined, null]) {
        const error = feeInputError(() => amountOf(r, { ...other, [field]: missing }));
        expect(error.field).toBe(field);
        expect(error.name).toBe('FeeInputError');
        expect(error).toBeInstanceOf(Error);
      }
      for (const invalid of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
        expect(feeInputError(() => amountOf(r, { ...other, [field]: invalid })).field).toBe(field);
      }
    });

    it('an exemption or fixed amount by adjustment does not ask for the input the base needs', () => {
      const percentageWithExemptions: FeeRuleLike = {
        ...registrationFeeLand,
        adjustments: [
          { label: 'Miễn', payerCategories: ['poor_household'], effect: { type: 'exempt' } },
          { label: 'Mức cố định', payerCategories: ['merit'], effect: { type: 'amount', amount: 10_000 } },
          { label: 'Giảm 50 %', payerCategories: ['student'], effect: { type: 'percent_of_base', percent: '50' } },
        ],
      };
      expect(amountOf(percentageWithExemptions, { payerCategory: 'poor_household' })).toBe(0);
      expect(amountOf(percentageWithExemptions, { payerCategory: 'merit' })).toBe(10_000);
      // A percentage of the base still needs the base's input.
      expect(feeInputError(() => amountOf(percentageWithExemptions, { payerCategory: 'student' })).field).toBe('declaredValue');
      expect(feeInputError(() => amountOf(percentageWithExemptions, {})).field).toBe('declaredValue');
    });

    it('exempt and fixed fees need no input', () => {
      expect(() => amountOf(birthRegistration)).not.toThrow();
      expect(() => amountOf(drivingLicence, { channel: 'online' })).not.toThrow();
    });

    it('inputsUsed names what each shape reads', () => {
      expect(inputsUsed(birthRegistration.formula)).toEqual([]);
      expect(inputsUsed(drivingLicence.formula)).toEqual([]);
      expect(inputsUsed(copyCertification.formula)).toEqual(['quantity']);
      expect(inputsUsed(registrationFeeLand.formula)).toEqual(['declaredValue']);
      expect(inputsUsed(foodSafety.formula)).toEqual(['quantity']);
      expect(inputsUsed({ type: 'table', input: 'declaredValue', rows: [{ amount: 1 }] })).toEqual(['declaredValue']);
    });
  });
});

describe('adjustments', () => {
  describe('channel amount in a dated window (driving licence 3.000347)', () => {
    it.each<[Channel, string, number, string | null]>([
      ['online', '2023-11-30', 135_000, null],
      ['online', '2023-12-01', 115_000, 'Nộp trực tuyến: 115.000 đ'],
      ['online', '2024-06-15', 115_000, 'Nộp trực tuyến: 115.000 đ'],
      ['online', '2025-12-31', 115_000, 'Nộp trực tuyến: 115.000 đ'],
      ['online', '2026-01-01', 135_000, null],
      ['direct', '2023-12-01', 135_000, null],
      ['direct', '2024-06-15', 135_000, null],
      ['direct', '2025-12-31', 135_000, null],
      ['postal', '2024-06-15', 135_000, null],
    ])('%s on %s → %d', (channel, receivedDate, amount, adjustment) => {
      expect(computeFee(drivingLicence, inputs({ channel, receivedDate }))).toEqual({ amount, adjustment });
    });
  });

  it('channel exemption without dates (enterprise registration online)', () => {
    expect(computeFee(enterpriseRegistration, inputs({ channel: 'online' }))).toEqual({
      amount: 0,
      adjustment: 'Miễn lệ phí khi nộp trực tuyến',
    });
    expect(computeFee(enterpriseRegistration, inputs({ channel: 'direct' }))).toEqual({ amount: 50_000, adjustment: null });
    expect(computeFee(enterpriseRegistration, inputs({ channel: 'postal' }))).toEqual({ amount: 50_000, adjustment: null });
  });

  describe('percent_of_base (ID card 2.001195)', () => {
    it.each<[Channel, string, number, string | null]>([
      ['direct', '2024-12-31', 50_000, null],
      ['online', '2024-12-31', 50_000, null],
      ['online', '2025-01-01', 25_000, 'Nộp trực tuyến năm 2025: 50%'],
      ['direct', '2025-01-01', 50_000, null],
      ['online', '2025-06-30', 25_000, 'Nộp trực tuyến năm 2025: 50%'],
      ['direct', '2025-06-30', 50_000, null],
      // From 01/07/2025 the every-channel window is listed first, so it wins even online.
      ['online', '2025-07-01', 25_000, 'Giảm 50% (01/07/2025–31/12/2026)'],
      ['direct', '2025-07-01', 25_000, 'Giảm 50% (01/07/2025–31/12/2026)'],
      ['postal', '2026-12-31', 25_000, 'Giảm 50% (01/07/2025–31/12/2026)'],
      ['direct', '2027-01-01', 50_000, null],
      ['online', '2027-01-01', 50_000, null],
    ])('%s on %s → %d', (channel, receivedDate, amount, adjustment) => {
      expect(computeFee(idCard, inputs({ channel, receivedDate }))).toEqual({ amount, adjustment });
    });

    it('passport online at 90 % of the rate', () => {
      const passport = rule({ type: 'fixed', amount: 200_000 }, [
        { label: '90%', channels: ['online'], to: '2025-12-31', effect: { type: 'percent_of_base', percent: '90' } },
      ]);
      expect(amountOf(passport, { channel: 'online', receivedDate: '2025-12-31' })).toBe(180_000);
      expect(amountOf(passport, { channel: 'online', receivedDate: '2026-01-01' })).toBe(200_000);
      expect(amountOf(passport, { channel: 'direct', receivedDate: '2025-12-31' })).toBe(200_000);
    });

    it('rounds by the rule stated with the fee', () => {
      const third = (rounding: RoundingRule) =>
        rule({ type: 'fixed', amount: 135_000 }, [{ label: '1/3', effect: { type: 'percent_of_base', percent: '33.333333' } }], rounding);
      // 135,000 × 33.333333 % = 44,999.99955
      expect(amountOf(third({ mode: 'half_up', unit: 1 }))).toBe(45_000);
      expect(amountOf(third({ mode: 'down', unit: 1 }))).toBe(44_999);
      expect(amountOf(third({ mode: 'down', unit: 1000 }))).toBe(44_000);
      expect(amountOf(third({ mode: 'up', unit: 1 }))).toBe(45_000);
    });

    it('applies to a computed base (per page, then half)', () => {
      const half = rule(copyCertification.formula, [{ label: 'half', effect: { type: 'percent_of_base', percent: '50' } }]);
      expect(amountOf(half, { quantity: 3 })).toBe(2_500);
      expect(amountOf(half, { quantity: 1000 })).toBe(100_000);
    });
  });

  describe('payer categories (criminal record 3.000333)', () => {
    it.each<[string | null | undefined, number, string | null]>([
      ['student', 100_000, 'Giảm: 100.000 đ'],
      ['merit', 100_000, 'Giảm: 100.000 đ'],
      ['child', 0, 'Miễn phí'],
      ['elderly', 0, 'Miễn phí'],
      ['disabled', 0, 'Miễn phí'],
      ['poor_household', 0, 'Miễn phí'],
      [null, 200_000, null],
      [undefined, 200_000, null],
      ['', 200_000, null],
      ['veteran', 200_000, null],
      ['Student', 200_000, null],
    ])('%s → %d', (payerCategory, amount, adjustment) => {
      expect(computeFee(criminalRecord, inputs({ payerCategory }))).toEqual({ amount, adjustment });
      expect(computeFee(criminalRecord, inputs({ payerCategory, channel: 'online' }))).toEqual({ amount, adjustment });
    });
  });

  it('the first matching adjustment wins', () => {
    const a: FeeAdjustment = { label: 'A', channels: ['online'], effect: { type: 'amount', amount: 1 } };
    const b: FeeAdjustment = { label: 'B', payerCategories: ['student'], effect: { type: 'amount', amount: 2 } };
    const c: FeeAdjustment = { label: 'C', effect: { type: 'exempt' } };
    const base = { type: 'fixed', amount: 10 } as const;
    const both = inputs({ channel: 'online', payerCategory: 'student' });
    expect(computeFee(rule(base, [a, b, c]), both)).toEqual({ amount: 1, adjustment: 'A' });
    expect(computeFee(rule(base, [b, a, c]), both)).toEqual({ amount: 2, adjustment: 'B' });
    expect(computeFee(rule(base, [c, a, b]), both)).toEqual({ amount: 0, adjustment: 'C' });
    // When the first does not match, the next that does applies.
    expect(computeFee(rule(base, [a, b, c]), inputs({ payerCategory: 'student' }))).toEqual({ amount: 2, adjustment: 'B' });
    expect(computeFee(rule(base, [a, b]), inputs())).toEqual({ amount: 10, adjustment: null });
  });

  it('an adjustment applies only when every condition it states holds', () => {
    const all: FeeAdjustment = {
      label: 'all',
      channels: ['online', 'postal'],
      payerCategories: ['student'],
      from: '2025-01-01',
      to: '2025-01-31',
      effect: { type: 'exempt' },
    };
    const ok = inputs({ channel: 'postal', payerCategory: 'student', receivedDate: '2025-01-15' });
    expect(adjustmentApplies(all, ok)).toBe(true);
    expect(adjustmentApplies(all, { ...ok, channel: 'direct' })).toBe(false);
    expect(adjustmentApplies(all, { ...ok, payerCategory: 'merit' })).toBe(false);
    expect(adjustmentApplies(all, { ...ok, payerCategory: null })).toBe(false);
    expect(adjustmentApplies(all, { ...ok, receivedDate: '2024-12-31' })).toBe(false);
    expect(adjustmentApplies(all, { ...ok, receivedDate: '2025-01-01' })).toBe(true);
    expect(adjustmentApplies(all, { ...ok, receivedDate: '2025-01-31' })).toBe(true);
    expect(adjustmentApplies(all, { ...ok, receivedDate: '2025-02-01' })).toBe(false);
    expect(adjustmentApplies({ label: 'always', effect: { type: 'exempt' } }, inputs())).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// December 2026 (domain/procedures.md, "Changes in force in December 2026")
// ---------------------------------------------------------------------------------------------

/** Motorbikes, Decree 10/2022 Art. 8 (amended by Decree 175/2025): 5 % first in an urban area, 1 % later, 2 % otherwise. */
const motorbike = rule({
  type: 'percentage',
  rate: '2',
  rateCases: [
    { vehicleRegistration: 'first', urbanArea: true, rate: '5' },
    { vehicleRegistration: 'later', rate: '1' },
  ],
});

const VNEID: FeeAdjustment = {
  label: 'VNeID mức 2: miễn',
  payerCategories: ['vneid_level2'],
  from: '2026-08-15',
  to: '2027-02-28',
  effect: { type: 'exempt' },
};

describe('lệ phí trước bạ of vehicles: the rate by first or later registration and urban area', () => {
  it.each<[string, 'first' | 'later', boolean | undefined, number]>([
    ['first registration in a city', 'first', true, 5_000_000],
    ['first registration elsewhere', 'first', false, 2_000_000],
    ['a second-hand motorbike, in a city', 'later', true, 1_000_000],
    ['a second-hand motorbike, elsewhere', 'later', false, 1_000_000],
    ['a second-hand motorbike, area not said', 'later', undefined, 1_000_000],
  ])('%s', (_, vehicleRegistration, urbanArea, amount) => {
    expect(amountOf(motorbike, { declaredValue: 100_000_000, vehicleRegistration, urbanArea })).toBe(amount);
  });

  it('asks for what the rate depends on: first or later, then the area of a first registration', () => {
    expect(feeInputError(() => amountOf(motorbike, { declaredValue: 100_000_000 })).field).toBe('vehicleRegistration');
    expect(feeInputError(() => amountOf(motorbike, { declaredValue: 100_000_000, urbanArea: true })).field).toBe('vehicleRegistration');
    expect(feeInputError(() => amountOf(motorbike, { declaredValue: 100_000_000, vehicleRegistration: 'first' })).field).toBe('urbanArea');
    expect(feeInputError(() => amountOf(motorbike, { vehicleRegistration: 'later' })).field).toBe('declaredValue');
    // A rate that depends on nothing asks for nothing more than before.
    expect(amountOf(registrationFeeLand, { declaredValue: 1_000_000 })).toBe(5_000);
  });

  it('rounds the chosen rate by the rule, exactly', () => {
    // 1 % of 12.345.650 = 123.456,5 → half up
    expect(amountOf(motorbike, { declaredValue: 12_345_650, vehicleRegistration: 'later' })).toBe(123_457);
    // 5 % of 35.000.010 = 1.750.000,5
    expect(amountOf(motorbike, { declaredValue: 35_000_010, vehicleRegistration: 'first', urbanArea: true })).toBe(1_750_001);
  });

  it('an adjustment can be for later registrations only (VNeID −100 %, at most 11.700.000 đ off)', () => {
    const reduced = rule(motorbike.formula, [
      {
        label: 'VNeID: giảm 100% từ lần thứ hai',
        payerCategories: ['vneid_level2'],
        vehicleRegistration: 'later',
        effect: { type: 'percent_of_base', percent: '0', maxReduction: 11_700_000 },
      },
    ]);
    const later = { vehicleRegistration: 'later' as const, payerCategories: ['vneid_level2'] };
    expect(computeFee(reduced, inputs({ ...later, declaredValue: 60_000_000 }))).toEqual({
      amount: 0,
      adjustment: 'VNeID: giảm 100% từ lần thứ hai',
    });
    // 1 % of 2 billion is 20.000.000: the reduction stops at 11.700.000.
    expect(amountOf(reduced, { ...later, declaredValue: 2_000_000_000 })).toBe(8_300_000);
    // A first registration is not reduced; nor is a payer without the category.
    expect(
      computeFee(
        reduced,
        inputs({ vehicleRegistration: 'first', urbanArea: true, payerCategories: ['vneid_level2'], declaredValue: 60_000_000 }),
      ),
    ).toEqual({ amount: 3_000_000, adjustment: null });
    expect(amountOf(reduced, { vehicleRegistration: 'later', declaredValue: 60_000_000 })).toBe(600_000);
  });

  it('a reduction of a percentage of the base, capped: land −10 % at most 11.700.000 đ', () => {
    const land = rule({ type: 'percentage', rate: '0.5', maximum: 500_000_000 }, [
      {
        label: 'VNeID −10%',
        payerCategories: ['vneid_level2'],
        effect: { type: 'percent_of_base', percent: '90', maxReduction: 11_700_000 },
      },
    ]);
    const vneid = { payerCategories: ['vneid_level2'] };
    expect(amountOf(land, { ...vneid, declaredValue: 2_000_000_000 })).toBe(9_000_000); // 10.000.000 − 10 %
    expect(amountOf(land, { ...vneid, declaredValue: 40_000_000_000 })).toBe(188_300_000); // 200.000.000 − 11.700.000 (10 % would be 20.000.000)
    expect(amountOf(land, { ...vneid, declaredValue: 1_000_000_000_000 })).toBe(488_300_000); // the 500.000.000 maximum, then the reduction
    expect(amountOf(land, { declaredValue: 2_000_000_000 })).toBe(10_000_000);
  });
});

describe('certified copies: the page tiers and the cap per copy, times the copies', () => {
  const perCopy = rule({ ...copyCertification.formula, perCopy: true } as FeeFormula);
  it.each([
    [1, 1, 2_000],
    [5, 1, 7_000],
    [5, 3, 21_000],
    [198, 2, 400_000],
    [300, 1, 200_000],
    [300, 3, 600_000],
    [2, 10, 40_000],
  ])('%d pages × %d copies → %d', (quantity, copies, amount) => {
    expect(amountOf(perCopy, { quantity, copies })).toBe(amount);
  });

  it('one copy when the dossier does not say; never fewer than one', () => {
    expect(amountOf(perCopy, { quantity: 5 })).toBe(7_000);
    expect(amountOf(perCopy, { quantity: 5, copies: null })).toBe(7_000);
    for (const copies of [0, -1, 1.5]) expect(feeInputError(() => amountOf(perCopy, { quantity: 5, copies })).field).toBe('copies');
    // A formula that is not per copy does not read copies at all.
    expect(amountOf(copyCertification, { quantity: 5, copies: 3 })).toBe(7_000);
    expect(inputsUsed(perCopy.formula)).toEqual(['quantity', 'copies']);
  });
});

describe('several payer categories: the most favourable reduction, never stacked', () => {
  it('a student who is also a child pays nothing for a judicial record (exempt beats 100.000 đ)', () => {
    expect(computeFee(criminalRecord, inputs({ payerCategories: ['student', 'child'] }))).toEqual({ amount: 0, adjustment: 'Miễn phí' });
    expect(computeFee(criminalRecord, inputs({ payerCategories: ['child', 'student'] }))).toEqual({ amount: 0, adjustment: 'Miễn phí' });
    // The alias and the list add up.
    expect(computeFee(criminalRecord, inputs({ payerCategory: 'student', payerCategories: ['child'] })).amount).toBe(0);
    expect(computeFee(criminalRecord, inputs({ payerCategories: ['student', 'veteran'] }))).toEqual({
      amount: 100_000,
      adjustment: 'Giảm: 100.000 đ',
    });
    expect(computeFee(criminalRecord, inputs({ payerCategories: [] }))).toEqual({ amount: 200_000, adjustment: null });
  });

  it('two percentage reductions give the larger one, not both', () => {
    const r = rule({ type: 'fixed', amount: 100_000 }, [
      { label: '−30%', payerCategories: ['a'], effect: { type: 'percent_of_base', percent: '70' } },
      { label: '−50%', payerCategories: ['b'], effect: { type: 'percent_of_base', percent: '50' } },
      { label: '60.000 đ', payerCategories: ['c'], effect: { type: 'amount', amount: 60_000 } },
    ]);
    expect(computeFee(r, inputs({ payerCategories: ['a', 'b'] }))).toEqual({ amount: 50_000, adjustment: '−50%' });
    expect(computeFee(r, inputs({ payerCategories: ['a', 'c'] }))).toEqual({ amount: 60_000, adjustment: '60.000 đ' });
    expect(computeFee(r, inputs({ payerCategories: ['a'] }))).toEqual({ amount: 70_000, adjustment: '−30%' });
    // On a tie, the one listed first names it.
    const tie = rule({ type: 'fixed', amount: 100_000 }, [
      { label: 'first', payerCategories: ['a'], effect: { type: 'amount', amount: 50_000 } },
      { label: 'second', payerCategories: ['b'], effect: { type: 'percent_of_base', percent: '50' } },
    ]);
    expect(computeFee(tie, inputs({ payerCategories: ['b', 'a'] }))).toEqual({ amount: 50_000, adjustment: 'first' });
  });

  it('a category that names the case still applies when another category brings nothing (a lost passport of a student)', () => {
    const passport = rule({ type: 'fixed', amount: 200_000 }, [
      VNEID,
      { label: 'Cấp lại do hỏng, mất: 400.000 đ', payerCategories: ['lost_or_damaged'], effect: { type: 'amount', amount: 400_000 } },
    ]);
    expect(amountOf(passport, { payerCategories: ['lost_or_damaged', 'student'], receivedDate: '2026-12-04' })).toBe(400_000);
    // …and yields to an exemption the payer also has.
    expect(computeFee(passport, inputs({ payerCategories: ['lost_or_damaged', 'vneid_level2'], receivedDate: '2026-12-04' }))).toEqual({
      amount: 0,
      adjustment: 'VNeID mức 2: miễn',
    });
    // Outside the exemption's window the case applies again.
    expect(amountOf(passport, { payerCategories: ['lost_or_damaged', 'vneid_level2'], receivedDate: '2027-03-01' })).toBe(400_000);
  });

  it('a level-2 VNeID account exempts from 15/08/2026 to 28/02/2027 inclusive, on every channel', () => {
    const licence = rule({ type: 'fixed', amount: 135_000 }, [VNEID]);
    const vneid = { payerCategories: ['vneid_level2'] };
    expect(amountOf(licence, { ...vneid, receivedDate: '2026-08-14' })).toBe(135_000);
    expect(amountOf(licence, { ...vneid, receivedDate: '2026-08-15' })).toBe(0);
    expect(amountOf(licence, { ...vneid, receivedDate: '2026-12-04', channel: 'online' })).toBe(0);
    expect(amountOf(licence, { ...vneid, receivedDate: '2027-02-28', channel: 'postal' })).toBe(0);
    expect(amountOf(licence, { ...vneid, receivedDate: '2027-03-01' })).toBe(135_000);
    expect(amountOf(licence, { receivedDate: '2026-12-04' })).toBe(135_000);
  });

  it('an exemption among the categories asks for no input the base needs', () => {
    const r = rule({ type: 'percentage', rate: '2' }, [
      { label: '−50%', payerCategories: ['a'], effect: { type: 'percent_of_base', percent: '50' } },
      { label: 'free', payerCategories: ['b'], effect: { type: 'exempt' } },
    ]);
    expect(computeFee(r, inputs({ payerCategories: ['a', 'b'] }))).toEqual({ amount: 0, adjustment: 'free' });
    expect(feeInputError(() => amountOf(r, { payerCategories: ['a'] })).field).toBe('declaredValue');
  });
});

describe('schemas of the December 2026 shapes', () => {
  const ok = (schema: { safeParse: (v: unknown) => { success: boolean } }, value: unknown) =>
    expect(schema.safeParse(value).success, JSON.stringify(value)).toBe(true);
  const bad = (schema: { safeParse: (v: unknown) => { success: boolean } }, value: unknown) =>
    expect(schema.safeParse(value).success, JSON.stringify(value)).toBe(false);

  it('accept rate cases, per-copy tiers, vehicle conditions and a capped reduction', () => {
    ok(feeFormulaSchema, motorbike.formula);
    ok(feeFormulaSchema, { ...copyCertification.formula, perCopy: true });
    ok(feeAdjustmentSchema, { label: 'x', vehicleRegistration: 'later', urbanArea: false, effect: { type: 'exempt' } });
    ok(feeAdjustmentSchema, { label: 'x', effect: { type: 'percent_of_base', percent: '90', maxReduction: 11_700_000 } });
  });

  it('refuse a rate case without a condition or with a bad rate, an unknown registration, a fractional cap', () => {
    bad(feeFormulaSchema, { type: 'percentage', rate: '2', rateCases: [{ rate: '5' }] });
    bad(feeFormulaSchema, { type: 'percentage', rate: '2', rateCases: [] });
    bad(feeFormulaSchema, { type: 'percentage', rate: '2', rateCases: [{ vehicleRegistration: 'first', rate: '105' }] });
    bad(feeFormulaSchema, { type: 'percentage', rate: '2', rateCases: [{ vehicleRegistration: 'second', rate: '1' }] });
    bad(feeFormulaSchema, { type: 'percentage', rate: '2', rateCases: [{ urbanArea: 'yes', rate: '1' }] });
    bad(feeAdjustmentSchema, { label: 'x', vehicleRegistration: 'used', effect: { type: 'exempt' } });
    bad(feeAdjustmentSchema, { label: 'x', effect: { type: 'percent_of_base', percent: '90', maxReduction: 1.5 } });
    bad(feeAdjustmentSchema, { label: 'x', effect: { type: 'percent_of_base', percent: '90', maxReduction: -1 } });
  });

  it('a rate case with a non-zero rate makes a zero-rate rule able to charge', () => {
    expect(
      canCharge({ formula: { type: 'percentage', rate: '0', rateCases: [{ vehicleRegistration: 'later', rate: '1' }] }, adjustments: [] }),
    ).toBe(true);
    expect(
      canCharge({ formula: { type: 'percentage', rate: '0', rateCases: [{ vehicleRegistration: 'later', rate: '0' }] }, adjustments: [] }),
    ).toBe(false);
  });
});

describe('isRuleValidOn: inclusive at both ends', () => {
  const bounded = { validFrom: '2024-01-01', validTo: '2025-12-31' };
  it.each([
    ['2023-12-31', false],
    ['2024-01-01', true],
    ['2024-07-01', true],
    ['2025-12-31', true],
    ['2026-01-01', false],
  ])('%s → %s', (date, valid) => {
    expect(isRuleValidOn(bounded, date)).toBe(valid);
  });
  it('open-ended when validTo is null', () => {
    expect(isRuleValidOn({ validFrom: '2024-01-01', validTo: null }, '2023-12-31')).toBe(false);
    expect(isRuleValidOn({ validFrom: '2024-01-01', validTo: null }, '2024-01-01')).toBe(true);
    expect(isRuleValidOn({ validFrom: '2024-01-01', validTo: null }, '2099-12-31')).toBe(true);
  });
  it('a one-day rule is valid on that day only', () => {
    const oneDay = { validFrom: '2025-07-01', validTo: '2025-07-01' };
    expect(isRuleValidOn(oneDay, '2025-06-30')).toBe(false);
    expect(isRuleValidOn(oneDay, '2025-07-01')).toBe(true);
    expect(isRuleValidOn(oneDay, '2025-07-02')).toBe(false);
  });
});

describe('schemas', () => {
  const ok = (schema: { safeParse: (v: unknown) => { success: boolean } }, value: unknown) =>
    expect(schema.safeParse(value).success, JSON.stringify(value)).toBe(true);
  const bad = (schema: { safeParse: (v: unknown) => { success: boolean } }, value: unknown) =>
    expect(schema.safeParse(value).success, JSON.stringify(value)).toBe(false);

  it('accept every rule used above', () => {
    for (const r of [
      copyCertification,
      drivingLicence,
      idCard,
      criminalRecord,
      enterpriseRegistration,
      birthRegistration,
      foodSafety,
      registrationFeeLand,
    ]) {
      ok(feeFormulaSchema, r.formula);
      for (const a of r.adjustments) ok(feeAdjustmentSchema, a);
      ok(roundingRuleSchema, r.rounding);
    }
    ok(feeFormulaSchema, { type: 'percentage', rate: '100', minimum: 5, maximum: 5 });
    ok(feeFormulaSchema, { type: 'percentage', rate: '100.000000' });
    ok(feeFormulaSchema, { type: 'percentage', rate: '0.000001' });
    ok(feeFormulaSchema, { type: 'fixed', amount: Number.MAX_SAFE_INTEGER });
  });

  it.each([
    ['unknown type', { type: 'free' }],
    ['negative fixed amount', { type: 'fixed', amount: -1 }],
    ['float fixed amount', { type: 'fixed', amount: 1000.5 }],
    ['amount as a string', { type: 'fixed', amount: '1000' }],
    ['unsafe fixed amount', { type: 'fixed', amount: 2 ** 53 }],
    ['missing amount', { type: 'fixed' }],
    ['negative unit amount', { type: 'per_unit', unit: 'trang', tiers: [{ fromUnit: 1, unitAmount: -2000 }] }],
    ['float unit amount', { type: 'per_unit', unit: 'trang', tiers: [{ fromUnit: 1, unitAmount: 0.5 }] }],
    ['negative cap', { type: 'per_unit', unit: 'trang', tiers: [{ fromUnit: 1, unitAmount: 2000 }], cap: -1 }],
    ['float cap', { type: 'per_unit', unit: 'trang', tiers: [{ fromUnit: 1, unitAmount: 2000 }], cap: 1.5 }],
    ['no tiers', { type: 'per_unit', unit: 'trang', tiers: [] }],
    ['tiers not starting at 1', { type: 'per_unit', unit: 'trang', tiers: [{ fromUnit: 2, unitAmount: 2000 }] }],
    ['tier from 0', { type: 'per_unit', unit: 'trang', tiers: [{ fromUnit: 0, unitAmount: 2000 }] }],
    [
      'tiers repeating a unit',
      {
        type: 'per_unit',
        unit: 'trang',
        tiers: [
          { fromUnit: 1, unitAmount: 2000 },
          { fromUnit: 1, unitAmount: 1000 },
        ],
      },
    ],
    [
      'tiers descending',
      {
        type: 'per_unit',
        unit: 'trang',
        tiers: [
          { fromUnit: 1, unitAmount: 2000 },
          { fromUnit: 5, unitAmount: 1000 },
          { fromUnit: 3, unitAmount: 500 },
        ],
      },
    ],
    [
      'fractional tier start',
      {
        type: 'per_unit',
        unit: 'trang',
        tiers: [
          { fromUnit: 1, unitAmount: 1 },
          { fromUnit: 2.5, unitAmount: 1 },
        ],
      },
    ],
    ['empty unit', { type: 'per_unit', unit: '', tiers: [{ fromUnit: 1, unitAmount: 2000 }] }],
    ['percent above 100', { type: 'percentage', rate: '100.000001' }],
    ['percent 101', { type: 'percentage', rate: '101' }],
    ['percent 999', { type: 'percentage', rate: '999' }],
    ['percent as a number', { type: 'percentage', rate: 0.5 }],
    ['percent as an integer number', { type: 'percentage', rate: 2 }],
    ['negative percent', { type: 'percentage', rate: '-1' }],
    ['percent with 7 decimals', { type: 'percentage', rate: '0.1234567' }],
    ['percent in exponent form', { type: 'percentage', rate: '5e-1' }],
    ['percent with a comma', { type: 'percentage', rate: '0,5' }],
    ['percent with a sign', { type: 'percentage', rate: '+2' }],
    ['percent with a % sign', { type: 'percentage', rate: '2%' }],
    ['percent empty', { type: 'percentage', rate: '' }],
    ['negative minimum', { type: 'percentage', rate: '2', minimum: -1 }],
    ['float maximum', { type: 'percentage', rate: '2', maximum: 10.5 }],
    ['minimum above maximum', { type: 'percentage', rate: '2', minimum: 500_000, maximum: 100_000 }],
    ['table without rows', { type: 'table', input: 'quantity', rows: [] }],
    ['table on an unknown input', { type: 'table', input: 'weight', rows: [{ amount: 1 }] }],
    ['table with a negative amount', { type: 'table', input: 'quantity', rows: [{ amount: -1 }] }],
    ['table whose last row is bounded', { type: 'table', input: 'quantity', rows: [{ below: 200, amount: 700_000 }] }],
    [
      'table with an unbounded row before the last',
      { type: 'table', input: 'quantity', rows: [{ amount: 1 }, { below: 10, amount: 2 }, { amount: 3 }] },
    ],
    [
      'table with bounds not ascending',
      { type: 'table', input: 'quantity', rows: [{ below: 10, amount: 1 }, { below: 10, amount: 2 }, { amount: 3 }] },
    ],
  ])('formula schema rejects %s', (_, formula) => {
    bad(feeFormulaSchema, formula);
  });

  it.each([
    ['no label', { label: '', effect: { type: 'exempt' } }],
    ['empty channel list', { label: 'x', channels: [], effect: { type: 'exempt' } }],
    ['unknown channel', { label: 'x', channels: ['kiosk'], effect: { type: 'exempt' } }],
    ['empty payer category list', { label: 'x', payerCategories: [], effect: { type: 'exempt' } }],
    ['bad date', { label: 'x', from: '2025-13-01', effect: { type: 'exempt' } }],
    ['date with time', { label: 'x', from: '2025-01-01T00:00:00Z', effect: { type: 'exempt' } }],
    ['window ending before it starts', { label: 'x', from: '2025-12-31', to: '2025-12-01', effect: { type: 'exempt' } }],
    ['negative amount', { label: 'x', effect: { type: 'amount', amount: -1 } }],
    ['float amount', { label: 'x', effect: { type: 'amount', amount: 114_999.5 } }],
    ['percent as a number', { label: 'x', effect: { type: 'percent_of_base', percent: 50 } }],
    ['percent above 100', { label: 'x', effect: { type: 'percent_of_base', percent: '150' } }],
    ['unknown effect', { label: 'x', effect: { type: 'discount' } }],
  ])('adjustment schema rejects %s', (_, adjustment) => {
    bad(feeAdjustmentSchema, adjustment);
  });

  it('adjustment schema accepts a one-day window', () => {
    ok(feeAdjustmentSchema, { label: 'x', from: '2025-12-31', to: '2025-12-31', effect: { type: 'exempt' } });
  });

  it('rounding schema accepts the three modes and four units only', () => {
    for (const mode of ['half_up', 'down', 'up']) for (const unit of [1, 10, 100, 1000]) ok(roundingRuleSchema, { mode, unit });
    bad(roundingRuleSchema, { mode: 'half_even', unit: 1 });
    bad(roundingRuleSchema, { mode: 'half_up', unit: 5 });
    bad(roundingRuleSchema, { mode: 'half_up', unit: '1' });
  });
});

describe('roundVnd', () => {
  it('rounds a decimal to whole dong by the rule', () => {
    expect(roundVnd(new Decimal('0.5'), { mode: 'half_up', unit: 1 })).toBe(1);
    expect(roundVnd(new Decimal('0.4999999999999999999999999'), { mode: 'half_up', unit: 1 })).toBe(0);
    expect(roundVnd('1.0000000000000000000000001', { mode: 'up', unit: 1 })).toBe(2);
    expect(roundVnd('1999.999999999999999999999', { mode: 'down', unit: 1000 })).toBe(1000);
    expect(roundVnd('1500', { mode: 'half_up', unit: 1000 })).toBe(2000);
  });
  it('refuses a negative or unsafe result', () => {
    expect(() => roundVnd('-1', defaultRounding)).toThrow(RangeError);
    expect(() => roundVnd(String(2 ** 53), defaultRounding)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/** value × rate % rounded by `mode` to a multiple of `unit`, in BigInt on scaled integers. */
function oraclePercent(value: bigint, rate: string, mode: RoundingRule['mode'], unit: bigint): bigint {
  const [whole, fraction = ''] = rate.split('.');
  const numerator = value * BigInt(`${whole}${fraction}`);
  const denominator = 10n ** BigInt(fraction.length) * 100n * unit;
  const quotient = numerator / denominator;
  const remainder = numerator % denominator;
  let steps = quotient;
  if (mode === 'half_up' && remainder * 2n >= denominator) steps += 1n;
  if (mode === 'up' && remainder > 0n) steps += 1n;
  return steps * unit;
}

const rateArb = fc
  .tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 999_999 }), fc.integer({ min: 0, max: 6 }))
  .map(([whole, fraction, digits]) => {
    if (whole === 100 || digits === 0) return String(whole);
    return `${whole}.${String(fraction).padStart(6, '0').slice(0, digits)}`;
  });
const valueArb = fc.oneof(
  fc.integer({ min: 0, max: 10_000_000_000 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.integer({ min: Number.MAX_SAFE_INTEGER - 1_000_000, max: Number.MAX_SAFE_INTEGER }),
);
const roundingArb = fc.record({
  mode: fc.constantFrom<RoundingRule['mode']>('half_up', 'down', 'up'),
  unit: fc.constantFrom<RoundingRule['unit']>(1, 10, 100, 1000),
});

describe('percentage properties', () => {
  it('the rate generator yields only rates the schema accepts', () => {
    fc.assert(
      fc.property(rateArb, (rate) => {
        expect(feeFormulaSchema.safeParse({ type: 'percentage', rate }).success).toBe(true);
      }),
    );
  });

  it('is an integer, never negative, and equals the BigInt oracle', () => {
    fc.assert(
      fc.property(valueArb, rateArb, roundingArb, (value, rate, rounding) => {
        const expected = oraclePercent(BigInt(value), rate, rounding.mode, BigInt(rounding.unit));
        const compute = () => amountOf(rule({ type: 'percentage', rate }, [], rounding), { declaredValue: value });
        if (expected > BigInt(Number.MAX_SAFE_INTEGER)) {
          // Only rounding up to a unit can leave the exact range; it is refused, not rounded.
          expect(compute).toThrow(RangeError);
          return;
        }
        const amount = compute();
        expect(Number.isSafeInteger(amount)).toBe(true);
        expect(amount).toBeGreaterThanOrEqual(0);
        expect(amount % rounding.unit).toBe(0);
        expect(BigInt(amount)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });

  /** x⁻¹ mod m, by the extended Euclidean algorithm. */
  function modInverse(x: bigint, m: bigint): bigint {
    let [r0, r1] = [x % m, m];
    let [s0, s1] = [1n, 0n];
    while (r1 !== 0n) {
      const q = r0 / r1;
      [r0, r1] = [r1, r0 - q * r1];
      [s0, s1] = [s1, s0 - q * s1];
    }
    if (r0 !== 1n) throw new Error('not invertible');
    return ((s0 % m) + m) % m;
  }

  /**
   * Large declared values whose exact fee lies a hair beside a rounding boundary (just above a
   * multiple of the unit for "up", just below the next for "down", just below the half for
   * "half_up"), where any intermediate rounding of value × rate gives the wrong dong.
   */
  const nearBoundaryArb = fc
    .record({
      scaledRate: fc.integer({ min: 1, max: 99_999_999 }),
      rounding: roundingArb,
      high: fc.integer({ min: 0, max: 89_000 }),
      offset: fc.integer({ min: 1, max: 10_000 }),
    })
    .map(({ scaledRate, rounding, high, offset }) => {
      let r = BigInt(scaledRate);
      if (r % 2n === 0n) r += 1n;
      if (r % 5n === 0n) r += 2n; // odd and not a multiple of 5: invertible modulo 10^k
      const denominator = 100_000_000n * BigInt(rounding.unit); // rate scaled by 10^6, per cent, per unit
      const target =
        rounding.mode === 'up'
          ? BigInt(offset)
          : rounding.mode === 'down'
            ? denominator - BigInt(offset)
            : denominator / 2n - BigInt(offset);
      const low = (target * modInverse(r, denominator)) % denominator;
      const value = BigInt(high) * denominator + low;
      const rate = `${r / 1_000_000n}.${String(r % 1_000_000n).padStart(6, '0')}`;
      return { value: Number(value), rate, rounding };
    })
    .filter(({ value }) => Number.isSafeInteger(value));

  it('is exact beside rounding boundaries for large values', () => {
    fc.assert(
      fc.property(nearBoundaryArb, ({ value, rate, rounding }) => {
        const expected = oraclePercent(BigInt(value), rate, rounding.mode, BigInt(rounding.unit));
        expect(BigInt(amountOf(rule({ type: 'percentage', rate }, [], rounding), { declaredValue: value }))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('with the default rounding equals the half-up oracle, and min/max clamp it', () => {
    fc.assert(
      fc.property(
        valueArb,
        rateArb,
        fc.option(fc.integer({ min: 0, max: 1_000_000_000 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 1_000_000_000 }), { nil: undefined }),
        (value, rate, a, b) => {
          const [minimum, maximum] = a !== undefined && b !== undefined && a > b ? [b, a] : [a, b];
          const formula = { type: 'percentage' as const, rate, minimum, maximum };
          expect(feeFormulaSchema.safeParse(formula).success).toBe(true);
          let expected = oraclePercent(BigInt(value), rate, 'half_up', 1n);
          if (minimum !== undefined && expected < BigInt(minimum)) expected = BigInt(minimum);
          if (maximum !== undefined && expected > BigInt(maximum)) expected = BigInt(maximum);
          const amount = amountOf(rule(formula), { declaredValue: value });
          expect(Number.isInteger(amount)).toBe(true);
          expect(BigInt(amount)).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is monotone in the declared value', () => {
    fc.assert(
      fc.property(valueArb, valueArb, rateArb, roundingArb, (x, y, rate, rounding) => {
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        // Rounding up (or half up) to a unit can pass the exact range, where the fee is refused.
        fc.pre(oraclePercent(BigInt(hi), rate, rounding.mode, BigInt(rounding.unit)) <= BigInt(Number.MAX_SAFE_INTEGER));
        const r = rule({ type: 'percentage', rate }, [], rounding);
        expect(amountOf(r, { declaredValue: lo })).toBeLessThanOrEqual(amountOf(r, { declaredValue: hi }));
      }),
    );
  });
});

describe('per_unit properties', () => {
  const perUnitArb = fc
    .record({
      starts: fc.uniqueArray(fc.integer({ min: 2, max: 300 }), { maxLength: 4 }),
      amounts: fc.array(fc.integer({ min: 0, max: 50_000 }), { minLength: 5, maxLength: 5 }),
      cap: fc.option(fc.integer({ min: 0, max: 2_000_000 }), { nil: undefined }),
    })
    .map(({ starts, amounts, cap }) => {
      const fromUnits = [1, ...[...starts].sort((a, b) => a - b)];
      return {
        type: 'per_unit' as const,
        unit: 'trang',
        tiers: fromUnits.map((fromUnit, i) => ({ fromUnit, unitAmount: amounts[i]! })),
        cap,
      };
    });

  /** Unit by unit: each unit costs the rate of the last tier that starts at or before it. */
  function oraclePerUnit(formula: { tiers: Array<{ fromUnit: number; unitAmount: number }>; cap?: number }, quantity: number): number {
    let total = 0;
    for (let unit = 1; unit <= quantity; unit++) {
      let rate = 0;
      for (const tier of formula.tiers) if (tier.fromUnit <= unit) rate = tier.unitAmount;
      total += rate;
    }
    return formula.cap === undefined ? total : Math.min(total, formula.cap);
  }

  it('generated rules are valid', () => {
    fc.assert(
      fc.property(perUnitArb, (formula) => {
        expect(feeFormulaSchema.safeParse(formula).success).toBe(true);
      }),
    );
  });

  it('equals a unit-by-unit count, is monotone in quantity and never above the cap', () => {
    fc.assert(
      fc.property(perUnitArb, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (formula, q1, q2) => {
        const [lo, hi] = q1 <= q2 ? [q1, q2] : [q2, q1];
        const r = rule(formula);
        const a = amountOf(r, { quantity: lo });
        const b = amountOf(r, { quantity: hi });
        expect(a).toBe(oraclePerUnit(formula, lo));
        expect(b).toBe(oraclePerUnit(formula, hi));
        expect(a).toBeLessThanOrEqual(b);
        expect(amountOf(r, { quantity: hi + 1 })).toBeGreaterThanOrEqual(b);
        if (formula.cap !== undefined) expect(b).toBeLessThanOrEqual(formula.cap);
        expect(Number.isSafeInteger(b) && b >= 0).toBe(true);
        if (lo === 0) expect(a).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('the copy-certification rule is monotone and capped over any page count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (pages) => {
        const amount = amountOf(copyCertification, { quantity: pages });
        expect(amount).toBeLessThanOrEqual(200_000);
        expect(amount).toBe(pages <= 2 ? pages * 2000 : Math.min(4000 + (pages - 2) * 1000, 200_000));
        expect(amountOf(copyCertification, { quantity: pages + 1 })).toBeGreaterThanOrEqual(amount);
      }),
    );
  });
});

describe('computeFee is pure', () => {
  it('gives the same result for the same rule and inputs and does not mutate them', () => {
    const r = structuredClone(idCard);
    const i = inputs({ channel: 'online', receivedDate: '2025-03-01' });
    const frozenRule = structuredClone(r);
    const frozenInputs = structuredClone(i);
    const first = computeFee(r, i);
    expect(computeFee(r, i)).toEqual(first);
    expect(r).toEqual(frozenRule);
    expect(i).toEqual(frozenInputs);
  });
});
