import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CopyText } from '../../src/services/copy-text.ts';

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A text value as COPY's text format reads it back (the reference: one replace per special character). */
const escaped = (value: string | null) =>
  value === null ? '\\N' : value.replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n').replaceAll('\r', '\\r');

describe('rows in COPY text format, as bytes', () => {
  it('writes each kind of value, tab-separated, a line per row', () => {
    const rows = new CopyText();
    rows.ascii('0193a1b2-0000-7000-8000-000000000001').integer(12).text('HP0123456789').integer(null).ascii(null).text('a\\b\tc\nd\re');
    rows.end();
    rows.text('Nộp phí\t😀').text(null).integer(-5);
    rows.end();
    expect(decode(rows.take())).toBe(
      '0193a1b2-0000-7000-8000-000000000001\t12\tHP0123456789\t\\N\t\\N\ta\\\\b\\tc\\nd\\re\nNộp phí\\t😀\t\\N\t-5\n',
    );
    // Taken: the next rows start afresh.
    rows.integer(1);
    rows.end();
    expect(decode(rows.take())).toBe('1\n');
  });

  it('grows its buffer for a text that escapes to twice its length, or encodes to three bytes a character', () => {
    const rows = new CopyText(1);
    rows.text('\\'.repeat(50)).text('ệ'.repeat(50));
    rows.end();
    expect(decode(rows.take())).toBe(`${'\\\\'.repeat(50)}\t${'ệ'.repeat(50)}\n`);
  });

  // The characters COPY escapes, before and after letters beyond ASCII, and any others.
  const text = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', ' ', '\\', '\t', '\n', '\r', 'é', 'ệ', '😀'), maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 400 }),
  );

  it('any texts, however long, come out as COPY reads them back (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.option(text), { maxLength: 6 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        (table, initial) => {
          // Started small, the buffer grows through every kind of text.
          const rows = new CopyText(initial);
          for (const row of table) {
            for (const value of row) rows.text(value);
            rows.end();
          }
          expect(decode(rows.take())).toBe(table.map((row) => `${row.map(escaped).join('\t')}\n`).join(''));
        },
      ),
    );
  });
});
