import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { budgetClassificationErrors, budgetShare } from '../../src/domain/budget.ts';

describe("the budget's share of a collection", () => {
  it('remits a lệ phí wholly, whatever share is stored', () => {
    expect(budgetShare(135_000, 'le_phi', null)).toEqual({ remit: 135_000, retained: 0 });
    expect(budgetShare(135_000, 'le_phi', '0.00')).toEqual({ remit: 135_000, retained: 0 });
  });

  it('keeps the phí share rounded half-up to the whole đồng, the rest remitted', () => {
    expect(budgetShare(50_000, 'phi', '30.00')).toEqual({ remit: 35_000, retained: 15_000 });
    // 50.005 × 12,5 % = 6.250,625 → 6.251
    expect(budgetShare(50_005, 'phi', '12.50')).toEqual({ remit: 43_754, retained: 6_251 });
    // exactly half a đồng goes up
    expect(budgetShare(1, 'phi', '50')).toEqual({ remit: 0, retained: 1 });
    expect(budgetShare(3, 'phi', '50')).toEqual({ remit: 1, retained: 2 });
    // a refund mirrors its payment
    expect(budgetShare(-50_005, 'phi', '12.50')).toEqual({ remit: -43_754, retained: -6_251 });
    expect(budgetShare(9_007_199_254_740_991, 'phi', '33.33').retained).toBe(3_002_099_511_605_172);
  });

  it('always adds up to the amount exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1_000_000_000_000, max: 1_000_000_000_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (amount, hundredths) => {
          const percent = (hundredths / 100).toFixed(2);
          const { remit, retained } = budgetShare(amount, 'phi', percent);
          expect(Number.isSafeInteger(remit) && Number.isSafeInteger(retained)).toBe(true);
          expect(remit + retained).toBe(amount);
          expect(Math.abs(retained)).toBeLessThanOrEqual(Math.abs(amount));
        },
      ),
    );
  });

  it('names what is wrong with a classification', () => {
    const ok = { kind: 'phi' as const, budgetChapter: '757', budgetSubItem: '2801', budgetAccount: '7111', retainedPercent: '30' };
    expect(budgetClassificationErrors(ok)).toEqual([]);
    expect(
      budgetClassificationErrors({ ...ok, budgetChapter: '75', budgetSubItem: 'x', budgetAccount: '71111' }).map((e) => e.path),
    ).toEqual(['budgetChapter', 'budgetSubItem', 'budgetAccount']);
    expect(budgetClassificationErrors({ ...ok, retainedPercent: '100.5' })).toEqual([
      { path: 'retainedPercent', message: 'from 0 to 100' },
    ]);
    expect(budgetClassificationErrors({ ...ok, retainedPercent: '1.005' })[0]!.message).toBe('at most 2 decimals');
    expect(budgetClassificationErrors({ ...ok, kind: 'le_phi' })[0]!.path).toBe('retainedPercent');
    expect(budgetClassificationErrors({ ...ok, kind: 'le_phi', retainedPercent: '0' })).toEqual([]);
  });
});
