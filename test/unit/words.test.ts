import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { amountInWords } from '../../src/domain/words.ts';

/**
 * An independent reader of Vietnamese amounts in words, strict about the conventions receipts
 * use (domain/fees-and-codes.md, Decree 123/2020 Art. 32), so a round trip proves both the value
 * and the form:
 * - groups of three digits, read from the left, each followed by its scale (nghìn, triệu; tỷ
 *   closes everything before it, so "một triệu tỷ" is 10^15);
 * - an all-zero group is not read at all;
 * - every group after the first is read in full: it starts with "<digit> trăm", "không trăm"
 *   included;
 * - tens: "mười" for 1, "<digit> mươi" for 2..9, "linh" (or "lẻ") for 0 between hundreds and a
 *   non-zero unit;
 * - units: "mốt" for 1 and "tư" for 4 after "<digit> mươi"; "lăm" for 5 after "mười"/"mươi";
 *   "một", "bốn", "năm" otherwise.
 */
const DIGITS: Record<string, number> = {
  không: 0,
  một: 1,
  hai: 2,
  ba: 3,
  bốn: 4,
  năm: 5,
  sáu: 6,
  bảy: 7,
  tám: 8,
  chín: 9,
};
const SCALES: Record<string, bigint> = { nghìn: 1000n, triệu: 1_000_000n };

class Reader {
  private pos = 0;
  constructor(private readonly tokens: string[]) {}

  private peek(offset = 0): string | undefined {
    return this.tokens[this.pos + offset];
  }

  private fail(why: string): never {
    throw new Error(`${why} at word ${this.pos} of "${this.tokens.join(' ')}"`);
  }

  /** One group of three digits, 1..999. `full` requires the hundreds to be read. */
  private triple(full: boolean): number {
    const start = this.pos;
    let hundreds = 0;
    let hasHundreds = false;
    const d0 = this.peek();
    if (d0 !== undefined && d0 in DIGITS && this.peek(1) === 'trăm') {
      hundreds = DIGITS[d0]!;
      hasHundreds = true;
      this.pos += 2;
    } else if (full) {
      this.fail('an inner group must be read in full, starting with "<digit> trăm"');
    }

    let tens = 0;
    let linh = false;
    const t = this.peek();
    if (t === 'mười') {
      tens = 1;
      this.pos += 1;
    } else if (t !== undefined && t in DIGITS && this.peek(1) === 'mươi') {
      tens = DIGITS[t]!;
      if (tens < 2) this.fail(`"${t} mươi" is not a tens word`);
      this.pos += 2;
    } else if (t === 'linh' || t === 'lẻ') {
      if (!hasHundreds) this.fail('"linh" only follows the hundreds');
      linh = true;
      this.pos += 1;
    }

    let units = 0;
    const u = this.peek();
    const unitWord = (): number | undefined => {
      switch (u) {
        case 'mốt':
          return tens >= 2 ? 1 : this.fail('"mốt" only after "<digit> mươi"');
        case 'một':
          return tens < 2 ? 1 : this.fail('after "<digit> mươi" a 1 reads "mốt"');
        case 'tư':
          return tens >= 2 ? 4 : this.fail('"tư" only after "<digit> mươi"');
        case 'bốn':
          return tens < 2 ? 4 : this.fail('after "<digit> mươi" a 4 reads "tư"');
        case 'lăm':
          return tens >= 1 ? 5 : this.fail('"lăm" only after "mười" or "mươi"');
        case 'năm':
          // "năm trăm" / "năm mươi" are not units; they were consumed above, so a "năm" here is one.
          return tens === 0 ? 5 : this.fail('after a tens word a 5 reads "lăm"');
        case 'hai':
        case 'ba':
        case 'sáu':
        case 'bảy':
        case 'tám':
        case 'chín':
          return DIGITS[u];
        default:
          return undefined;
      }
    };
    const unit = unitWord();
    if (unit !== undefined) {
      units = unit;
      this.pos += 1;
    }
    if (linh && units === 0) this.fail('"linh" must be followed by a unit');
    if (hasHundreds && tens === 0 && !linh && units > 0) this.fail('a unit after the hundreds needs "linh"');
    if (this.pos === start) this.fail('expected a number');
    const value = hundreds * 100 + tens * 10 + units;
    if (value === 0) this.fail('an all-zero group is not read');
    return value;
  }

  /** A number below 10^9: groups with descending scales. */
  private belowBillion(leading: boolean): bigint {
    let total = 0n;
    let lastScale: bigint | null = null;
    let first = true;
    for (;;) {
      const next = this.peek();
      if (next === undefined || next === 'tỷ' || next === 'đồng') break;
      const group = this.triple(!(leading && first));
      first = false;
      const scaleWord = this.peek();
      const scale = scaleWord !== undefined && scaleWord in SCALES ? SCALES[scaleWord]! : 1n;
      if (scale !== 1n) this.pos += 1;
      if (lastScale !== null && scale >= lastScale) this.fail('scales must descend');
      lastScale = scale;
      total += BigInt(group) * scale;
      if (scale === 1n) break;
    }
    if (first) this.fail('expected a number');
    return total;
  }

  number(): bigint {
    if (this.tokens.length === 1 && this.tokens[0] === 'không') {
      this.pos = 1;
      return 0n;
    }
    let total = this.belowBillion(true);
    if (this.peek() === 'tỷ') {
      this.pos += 1;
      total *= 1_000_000_000n;
      if (this.peek() !== undefined) total += this.belowBillion(false);
    }
    if (this.peek() !== undefined) this.fail('unexpected trailing words');
    return total;
  }
}

function parseVietnameseAmount(text: string): bigint {
  if (!text.endsWith(' đồng')) throw new Error(`"${text}" does not end with " đồng"`);
  const words = text.slice(0, -' đồng'.length).toLowerCase().split(' ');
  return new Reader(words).number();
}

describe('amountInWords: fixed examples', () => {
  const examples: Array<[number, string]> = [
    [0, 'Không đồng'],
    [1, 'Một đồng'],
    [4, 'Bốn đồng'],
    [5, 'Năm đồng'],
    [10, 'Mười đồng'],
    [11, 'Mười một đồng'],
    [14, 'Mười bốn đồng'],
    [15, 'Mười lăm đồng'],
    [20, 'Hai mươi đồng'],
    [21, 'Hai mươi mốt đồng'],
    [24, 'Hai mươi tư đồng'],
    [25, 'Hai mươi lăm đồng'],
    [55, 'Năm mươi lăm đồng'],
    [91, 'Chín mươi mốt đồng'],
    [100, 'Một trăm đồng'],
    [101, 'Một trăm linh một đồng'],
    [104, 'Một trăm linh bốn đồng'],
    [105, 'Một trăm linh năm đồng'],
    [110, 'Một trăm mười đồng'],
    [115, 'Một trăm mười lăm đồng'],
    [121, 'Một trăm hai mươi mốt đồng'],
    [505, 'Năm trăm linh năm đồng'],
    [1000, 'Một nghìn đồng'],
    [1005, 'Một nghìn không trăm linh năm đồng'],
    [1010, 'Một nghìn không trăm mười đồng'],
    [1234, 'Một nghìn hai trăm ba mươi tư đồng'],
    [2000, 'Hai nghìn đồng'],
    [7000, 'Bảy nghìn đồng'],
    [10_000, 'Mười nghìn đồng'],
    [20_000, 'Hai mươi nghìn đồng'],
    [50_000, 'Năm mươi nghìn đồng'],
    [90_000, 'Chín mươi nghìn đồng'],
    [100_000, 'Một trăm nghìn đồng'],
    [115_000, 'Một trăm mười lăm nghìn đồng'],
    [135_000, 'Một trăm ba mươi lăm nghìn đồng'],
    [180_000, 'Một trăm tám mươi nghìn đồng'],
    [200_000, 'Hai trăm nghìn đồng'],
    [1_000_000, 'Một triệu đồng'],
    [1_000_005, 'Một triệu không trăm linh năm đồng'],
    [1_001_000, 'Một triệu không trăm linh một nghìn đồng'],
    [1_500_000, 'Một triệu năm trăm nghìn đồng'],
    [2_010_000, 'Hai triệu không trăm mười nghìn đồng'],
    [20_000_000, 'Hai mươi triệu đồng'],
    [190_234_500, 'Một trăm chín mươi triệu hai trăm ba mươi tư nghìn năm trăm đồng'],
    [215_321_500, 'Hai trăm mười lăm triệu ba trăm hai mươi mốt nghìn năm trăm đồng'],
    [1_000_000_000, 'Một tỷ đồng'],
    [1_000_000_005, 'Một tỷ không trăm linh năm đồng'],
    [1_000_005_000, 'Một tỷ không trăm linh năm nghìn đồng'],
    [1_005_000_000, 'Một tỷ không trăm linh năm triệu đồng'],
    [1_050_000_000, 'Một tỷ không trăm năm mươi triệu đồng'],
    [2_500_000_000, 'Hai tỷ năm trăm triệu đồng'],
    [12_345_678_901, 'Mười hai tỷ ba trăm bốn mươi lăm triệu sáu trăm bảy mươi tám nghìn chín trăm linh một đồng'],
    [1_000_000_000_000, 'Một nghìn tỷ đồng'],
    [1_005_000_000_000, 'Một nghìn không trăm linh năm tỷ đồng'],
    [1_000_000_000_000_000, 'Một triệu tỷ đồng'],
    [1_000_000_000_000_005, 'Một triệu tỷ không trăm linh năm đồng'],
    [
      Number.MAX_SAFE_INTEGER,
      'Chín triệu không trăm linh bảy nghìn một trăm chín mươi chín tỷ hai trăm năm mươi tư triệu bảy trăm bốn mươi nghìn chín trăm chín mươi mốt đồng',
    ],
  ];
  it.each(examples)('%d → %s', (amount, words) => {
    expect(amountInWords(amount)).toBe(words);
    // The reader used by the property below agrees with every hand-written example.
    expect(parseVietnameseAmount(words)).toBe(BigInt(amount));
  });
});

describe('amountInWords: refuses what is not an amount of VND', () => {
  it.each([-1, -1000, 0.5, 1.5, 135_000.01, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1, 2 ** 60])('%s', (bad) => {
    expect(() => amountInWords(bad)).toThrow(RangeError);
  });
});

describe('the reader in this test is strict (so the round trip checks the form, not only the value)', () => {
  it.each([
    'Một tỷ năm đồng', // inner group not read in full
    'Hai mươi một đồng', // 21 reads "mốt"
    'Mười năm đồng', // 15 reads "lăm"
    'Một trăm năm đồng', // 105 needs "linh"
    'Một triệu không trăm đồng', // zero group read
    'Một nghìn triệu đồng', // scales must descend
    'Mốt đồng',
    'Hai mươi bốn đồng', // 24 reads "tư" on receipts
  ])('rejects %s', (text) => {
    expect(() => parseVietnameseAmount(text)).toThrow();
  });
  it('accepts "lẻ" as well as "linh"', () => {
    expect(parseVietnameseAmount('Một trăm lẻ năm đồng')).toBe(105n);
  });
});

describe('amountInWords: properties over 0..10^15', () => {
  const amount = fc.oneof(
    fc.integer({ min: 0, max: 999 }),
    fc.integer({ min: 0, max: 999_999 }),
    fc.integer({ min: 0, max: 999_999_999 }),
    fc.integer({ min: 0, max: 1_000_000_000_000_000 }),
    // Sparse numbers: most groups zero, the shapes where zero groups are skipped or read in full.
    fc
      .array(fc.constantFrom(0, 0, 0, 1, 4, 5, 10, 15, 21, 24, 100, 105, 110, 999), { minLength: 5, maxLength: 5 })
      .map((groups) => groups.reduce<number>((acc, g) => acc * 1000 + g, 0)),
  );

  it('reads back to the same number', () => {
    fc.assert(
      fc.property(amount, (n) => {
        expect(parseVietnameseAmount(amountInWords(n))).toBe(BigInt(n));
      }),
      { numRuns: 3000 },
    );
  });

  it('starts with a capital letter, ends with " đồng", has single spaces and no other capitals', () => {
    fc.assert(
      fc.property(amount, (n) => {
        const text = amountInWords(n);
        expect(text).toMatch(/^\p{Lu}/u);
        expect(text.endsWith(' đồng')).toBe(true);
        expect(text).not.toMatch(/\s{2,}|^\s|\s$|[^\S ]/u);
        expect(text.slice(1)).toBe(text.slice(1).toLowerCase());
      }),
      { numRuns: 2000 },
    );
  });

  it('is injective: different amounts read differently', () => {
    fc.assert(
      fc.property(amount, amount, (a, b) => {
        fc.pre(a !== b);
        expect(amountInWords(a)).not.toBe(amountInWords(b));
      }),
      { numRuns: 1000 },
    );
  });
});
