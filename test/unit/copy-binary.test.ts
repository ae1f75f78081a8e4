import fc from 'fast-check';
import { parse as parseUuid } from 'uuid';
import { describe, expect, it } from 'vitest';
import { CopyBinary } from '../../src/services/copy-binary.ts';

type Value =
  | { kind: 'text'; value: string | null }
  | { kind: 'int4' | 'int8'; value: number | null }
  | { kind: 'instant'; value: Date | null };

/**
 * The format read back as PostgreSQL's documentation describes it (a reader of its own, not the
 * writer's code): the header, then per row a 16-bit count and per field a 32-bit length and its bytes.
 */
function readBack(bytes: Uint8Array, kinds: Value['kind'][][]): unknown[][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(Array.from(bytes.subarray(0, 11))).toEqual([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]);
  expect(view.getInt32(11)).toBe(0);
  expect(view.getInt32(15)).toBe(0);
  let at = 19;
  const rows: unknown[][] = [];
  for (const rowKinds of kinds) {
    expect(view.getInt16(at)).toBe(rowKinds.length);
    at += 2;
    const row: unknown[] = [];
    for (const kind of rowKinds) {
      const length = view.getInt32(at);
      at += 4;
      if (length === -1) {
        row.push(null);
        continue;
      }
      const field = bytes.subarray(at, at + length);
      at += length;
      if (kind === 'text') row.push(new TextDecoder('utf-8', { fatal: true }).decode(field));
      else if (kind === 'int4') {
        expect(length).toBe(4);
        row.push(view.getInt32(at - 4));
      } else {
        expect(length).toBe(8);
        const value = view.getBigInt64(at - 8);
        row.push(kind === 'int8' ? Number(value) : new Date(Number(value / 1000n) + Date.UTC(2000, 0, 1)));
      }
    }
    rows.push(row);
  }
  expect(view.getInt16(at)).toBe(-1);
  expect(at + 2).toBe(bytes.length);
  return rows;
}

function write(rows: CopyBinary, value: Value) {
  if (value.kind === 'text') rows.text(value.value);
  else if (value.kind === 'instant') rows.instant(value.value);
  else if (value.kind === 'int4') rows.int4(value.value);
  else rows.int8(value.value);
}

describe("rows in COPY's binary format", () => {
  it('writes a uuid as its 16 bytes, integers big-endian, an instant in microseconds since 2000', () => {
    const rows = new CopyBinary().header();
    rows
      .row(5)
      .uuid(parseUuid('0193a1b2-0000-7000-8000-00000000000f'))
      .int4(-2)
      .int8(-5_000_000_001)
      .instant(new Date('2000-01-01T00:00:01.5Z'))
      .text('Nộp');
    const bytes = rows.trailer().take();
    const fields = Array.from(bytes.subarray(19));
    expect(fields.slice(0, 2)).toEqual([0, 5]);
    expect(fields.slice(2, 22)).toEqual([0, 0, 0, 16, 0x01, 0x93, 0xa1, 0xb2, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 0x0f]);
    expect(fields.slice(22, 30)).toEqual([0, 0, 0, 4, 0xff, 0xff, 0xff, 0xfe]);
    // -5,000,000,001 in two's complement, 64 bits.
    expect(fields.slice(30, 42)).toEqual([0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0xd5, 0xfa, 0x0d, 0xff]);
    // 1.5 s after the epoch: 1,500,000 µs = 0x16E360.
    expect(fields.slice(42, 54)).toEqual([0, 0, 0, 8, 0, 0, 0, 0, 0, 0x16, 0xe3, 0x60]);
    expect(fields.slice(54, 58)).toEqual([0, 0, 0, 5]);
    expect(new TextDecoder().decode(new Uint8Array(fields.slice(58, 63)))).toBe('Nộp');
  });

  it('refuses a number it would have to round, rather than writing other money', () => {
    const rows = new CopyBinary();
    expect(() => rows.int8(1.5)).toThrow(RangeError);
    expect(() => rows.int8(2 ** 53)).toThrow(RangeError);
    expect(() => rows.int4(2 ** 31)).toThrow(RangeError);
    expect(() => rows.instant(new Date(Number.NaN))).toThrow(RangeError);
    expect(() => rows.uuid(new Uint8Array(15))).toThrow();
  });

  const value: fc.Arbitrary<Value> = fc.oneof(
    fc.record({ kind: fc.constant('text' as const), value: fc.option(fc.string({ unit: 'grapheme', maxLength: 300 })) }),
    fc.record({
      kind: fc.constant('text' as const),
      value: fc.option(fc.string({ unit: fc.constantFrom('a', '\\', '\t', '\n', 'é', 'ệ', '😀'), maxLength: 40 })),
    }),
    fc.record({ kind: fc.constant('int4' as const), value: fc.option(fc.integer()) }),
    fc.record({ kind: fc.constant('int8' as const), value: fc.option(fc.maxSafeInteger()) }),
    fc.record({
      kind: fc.constant('instant' as const),
      value: fc.option(fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })),
    }),
  );

  it('any rows, however long, read back as written (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(value, { maxLength: 8 }), { maxLength: 30 }), fc.integer({ min: 1, max: 64 }), (table, initial) => {
        // Started small, the buffer grows through every kind of value; taken in two parts.
        const rows = new CopyBinary(initial).header();
        const half = Math.floor(table.length / 2);
        const parts: Uint8Array[] = [];
        table.forEach((row, i) => {
          if (i === half) parts.push(rows.take());
          rows.row(row.length);
          for (const v of row) write(rows, v);
        });
        parts.push(rows.trailer().take());
        const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const part of parts) {
          bytes.set(part, at);
          at += part.length;
        }
        const back = readBack(
          bytes,
          table.map((row) => row.map((v) => v.kind)),
        );
        expect(back).toEqual(table.map((row) => row.map((v) => v.value)));
      }),
    );
  });
});
