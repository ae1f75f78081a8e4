import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, vnCompactTimestamp, vnDate, vnDayStart, vnDisplayDate } from '../../src/domain/dates.ts';
import { allocateProportionally, assertVnd, formatVnd, groupThousands, isVnd, MAX_VND, sumVnd } from '../../src/domain/money.ts';
import {
  newReference,
  REFERENCE_ALPHABET,
  REFERENCE_PATTERN,
  REFERENCE_PREFIX,
  REFERENCE_RANDOM_LENGTH,
} from '../../src/domain/reference.ts';

describe('money', () => {
  it.each([
    [0, '0 đ'],
    [5, '5 đ'],
    [999, '999 đ'],
    [1000, '1.000 đ'],
    [10_000, '10.000 đ'],
    [135_000, '135.000 đ'],
    [1_000_000, '1.000.000 đ'],
    [20_000_000, '20.000.000 đ'],
    [1_234_567_890, '1.234.567.890 đ'],
    [Number.MAX_SAFE_INTEGER, '9.007.199.254.740.991 đ'],
  ])('formatVnd(%d) = %s', (amount, text) => {
    expect(formatVnd(amount)).toBe(text);
    expect(groupThousands(amount)).toBe(text.slice(0, -2));
  });

  it('groupThousands reads back to the number and groups by three from the right', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const text = groupThousands(n);
        expect(text).toMatch(/^\d{1,3}(\.\d{3})*$/);
        expect(Number(text.replaceAll('.', ''))).toBe(n);
      }),
    );
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1])('formatting refuses %s', (bad) => {
    expect(() => formatVnd(bad)).toThrow(RangeError);
    expect(() => groupThousands(bad)).toThrow(RangeError);
  });

  it('isVnd / assertVnd accept exactly the non-negative safe integers', () => {
    expect(MAX_VND).toBe(Number.MAX_SAFE_INTEGER);
    for (const ok of [0, 1, 135_000, Number.MAX_SAFE_INTEGER]) {
      expect(isVnd(ok)).toBe(true);
      expect(assertVnd(ok)).toBe(ok);
    }
    for (const bad of [-1, 0.1, 1e-9, Number.NaN, Infinity, 2 ** 53, '1000', null, undefined, 10n]) {
      expect(isVnd(bad)).toBe(false);
    }
    expect(() => assertVnd(-5, 'refund')).toThrow(/refund/);
  });

  it('sumVnd adds exactly', () => {
    expect(sumVnd([])).toBe(0);
    expect(sumVnd([135_000])).toBe(135_000);
    expect(sumVnd([50_000, 100_000, 0])).toBe(150_000);
    expect(sumVnd(new Set([1, 2, 3]))).toBe(6);
    expect(sumVnd([Number.MAX_SAFE_INTEGER - 1, 1])).toBe(Number.MAX_SAFE_INTEGER);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { maxLength: 50 }), (xs) => {
        expect(BigInt(sumVnd(xs))).toBe(xs.reduce((a, x) => a + BigInt(x), 0n));
      }),
    );
  });

  it('sumVnd refuses totals beyond the exact range instead of rounding them', () => {
    expect(() => sumVnd([Number.MAX_SAFE_INTEGER, 1])).toThrow(RangeError);
    expect(() => sumVnd([2 ** 52, 2 ** 52])).toThrow(RangeError);
    expect(() => sumVnd([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER])).toThrow(RangeError);
  });

  it.each([[[1000, 0.5]], [[1.5]], [[100, -1]], [[Number.NaN]], [[Infinity]], [[2 ** 53]]])('sumVnd refuses a non-VND term %j', (terms) => {
    expect(() => sumVnd(terms)).toThrow(RangeError);
  });
});

describe('dates in Asia/Ho_Chi_Minh (UTC+7, no daylight saving)', () => {
  it('vnDate changes at 17:00 UTC', () => {
    expect(vnDate(new Date('2026-01-31T16:59:59Z'))).toBe('2026-01-31');
    expect(vnDate(new Date('2026-01-31T16:59:59.999Z'))).toBe('2026-01-31');
    expect(vnDate(new Date('2026-01-31T17:00:00Z'))).toBe('2026-02-01');
    expect(vnDate(new Date('2026-01-31T00:00:00Z'))).toBe('2026-01-31');
    expect(vnDate(new Date('2025-12-31T17:00:00Z'))).toBe('2026-01-01');
    expect(vnDate(new Date('2024-02-28T17:00:00Z'))).toBe('2024-02-29');
  });

  it('a dossier received at 23:30 on the 31st, Vietnamese time, belongs to the 31st', () => {
    const received = new Date('2026-01-31T23:30:00+07:00');
    expect(received.toISOString()).toBe('2026-01-31T16:30:00.000Z');
    expect(vnDate(received)).toBe('2026-01-31');
    // And 00:30 on the 1st, Vietnamese time (still the 31st in UTC), belongs to the 1st.
    expect(vnDate(new Date('2026-02-01T00:30:00+07:00'))).toBe('2026-02-01');
  });

  it('vnCompactTimestamp is yyyyMMddHHmmss in GMT+7', () => {
    expect(vnCompactTimestamp(new Date('2026-01-31T16:59:59Z'))).toBe('20260131235959');
    expect(vnCompactTimestamp(new Date('2026-01-31T17:00:00Z'))).toBe('20260201000000');
    expect(vnCompactTimestamp(new Date('2025-12-31T17:05:09.999Z'))).toBe('20260101000509');
    expect(vnCompactTimestamp(new Date('2026-07-08T02:03:04Z'))).toBe('20260708090304');
  });

  it('vnCompactTimestamp and vnDate agree, and the timestamp has 14 digits', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }), (d) => {
        const ts = vnCompactTimestamp(d);
        expect(ts).toMatch(/^\d{14}$/);
        expect(`${ts.slice(0, 4)}-${ts.slice(4, 6)}-${ts.slice(6, 8)}`).toBe(vnDate(d));
      }),
    );
  });

  it('vnDayStart is 17:00 UTC the day before', () => {
    expect(vnDayStart('2026-02-01').toISOString()).toBe('2026-01-31T17:00:00.000Z');
    expect(vnDayStart('2026-01-01').toISOString()).toBe('2025-12-31T17:00:00.000Z');
    expect(vnDayStart('2024-03-01').toISOString()).toBe('2024-02-29T17:00:00.000Z');
  });

  it('vnDayStart starts the day vnDate names: the instant before is the previous day', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }), (d) => {
        const day = vnDate(d);
        const start = vnDayStart(day);
        expect(vnDate(start)).toBe(day);
        expect(vnDate(new Date(start.getTime() - 1))).toBe(addDays(day, -1));
        expect(start.getTime()).toBeLessThanOrEqual(d.getTime());
        expect(d.getTime() - start.getTime()).toBeLessThan(24 * 60 * 60 * 1000);
      }),
    );
  });

  it.each([
    ['2026-01-31', 1, '2026-02-01'],
    ['2026-02-28', 1, '2026-03-01'],
    ['2024-02-28', 1, '2024-02-29'],
    ['2024-02-29', 1, '2024-03-01'],
    ['2025-12-31', 1, '2026-01-01'],
    ['2026-01-01', -1, '2025-12-31'],
    ['2026-03-01', -1, '2026-02-28'],
    ['2026-01-15', 30, '2026-02-14'],
    ['2025-12-15', 30, '2026-01-14'],
    ['2026-01-01', 365, '2027-01-01'],
    ['2024-01-01', 366, '2025-01-01'],
    ['2026-05-05', 0, '2026-05-05'],
  ])('addDays(%s, %d) = %s', (date, days, result) => {
    expect(addDays(date, days)).toBe(result);
  });

  it('addDays composes and inverts', () => {
    const day = fc.integer({ min: 0, max: 36_500 }).map((n) => addDays('2000-01-01', n));
    fc.assert(
      fc.property(day, fc.integer({ min: -400, max: 400 }), fc.integer({ min: -400, max: 400 }), (d, a, b) => {
        expect(addDays(addDays(d, a), b)).toBe(addDays(d, a + b));
        expect(addDays(addDays(d, a), -a)).toBe(d);
        expect((vnDayStart(addDays(d, a)).getTime() - vnDayStart(d).getTime()) / 86_400_000).toBe(a);
      }),
    );
  });

  it('vnDisplayDate prints dd/MM/yyyy', () => {
    expect(vnDisplayDate('2026-01-31')).toBe('31/01/2026');
    expect(vnDisplayDate('2025-07-01')).toBe('01/07/2025');
  });
});

describe('hub payment reference', () => {
  it('has the documented shape and fits every channel', () => {
    expect(REFERENCE_ALPHABET).toHaveLength(32);
    expect(new Set(REFERENCE_ALPHABET).size).toBe(32);
    expect(REFERENCE_ALPHABET).toMatch(/^[0-9A-Z]+$/);
    expect(REFERENCE_ALPHABET).not.toMatch(/[ILOU]/);
    for (let i = 0; i < 1000; i++) {
      const ref = newReference();
      expect(ref).toMatch(REFERENCE_PATTERN);
      expect(ref).toMatch(/^HP[0-9A-HJKMNP-TV-Z]{10}$/);
      expect(ref.startsWith(REFERENCE_PREFIX)).toBe(true);
      expect(ref).toHaveLength(REFERENCE_PREFIX.length + REFERENCE_RANDOM_LENGTH);
      expect(ref.length).toBeLessThanOrEqual(20); // MaThamChieu ≤ 20, and so VietQR text ≤ 25
      expect(ref).not.toMatch(/[ILOU]/);
      expect(ref).toBe(ref.toUpperCase());
    }
  });

  it('is distinct over 10,000 draws', () => {
    const refs = new Set(Array.from({ length: 10_000 }, () => newReference()));
    expect(refs.size).toBe(10_000);
  });

  it('maps the 256 byte values onto the 32 characters evenly (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (let v = 0; v < 256; v++) {
      const ref = newReference((b) => b.fill(v));
      const chars = new Set(ref.slice(REFERENCE_PREFIX.length));
      expect(chars.size).toBe(1);
      const ch = [...chars][0]!;
      counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect([...counts.keys()].sort().join('')).toBe([...REFERENCE_ALPHABET].sort().join(''));
    for (const n of counts.values()) expect(n).toBe(8);
  });

  it('is determined by its random bytes and asks for exactly ten of them', () => {
    let asked = 0;
    const ref = newReference((b) => {
      asked = b.length;
      b.set([0, 1, 31, 32, 255, 10, 18, 200, 100, 7]);
      return b;
    });
    expect(asked).toBe(10);
    expect(ref).toBe('HP01Z0ZAJ847');
  });
});

describe('allocateProportionally', () => {
  it('splits exactly, never above a part, each within a đồng of its exact share', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2_000_000_000 }), { minLength: 1, maxLength: 8 }).filter((h) => h.some((x) => x > 0)),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (holds, fraction) => {
          const total = holds.reduce((a, b) => a + b, 0);
          const amount = Math.floor(total * fraction);
          const parts = allocateProportionally(amount, holds);
          expect(parts.reduce((a, b) => a + b, 0)).toBe(amount);
          parts.forEach((p, i) => {
            expect(Number.isInteger(p)).toBe(true);
            expect(p).toBeGreaterThanOrEqual(0);
            expect(p).toBeLessThanOrEqual(holds[i]!);
            // |p − h·amount/total| < 1, in integers: |p·total − h·amount| < total.
            const gap = BigInt(p) * BigInt(total) - BigInt(holds[i]!) * BigInt(amount);
            expect(gap < BigInt(total) && gap > -BigInt(total)).toBe(true);
          });
        },
      ),
    );
  });

  it('gives the đồng left over to the largest remainder', () => {
    expect(allocateProportionally(55_000, [135_000, 20_000])).toEqual([47_903, 7_097]);
    expect(allocateProportionally(1, [1, 1])).toEqual([1, 0]);
    expect(() => allocateProportionally(3, [1, 1])).toThrow(RangeError);
    expect(() => allocateProportionally(1.5, [1, 1])).toThrow(RangeError);
  });
});
