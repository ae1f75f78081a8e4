import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readAmount, readTime } from '../../src/domain/statement-values.ts';
import {
  type ColumnMapping,
  readStatementLines,
  type StatementLayout,
  StatementLayoutError,
  type StatementLine,
} from '../../src/gateways/statement-format.ts';
import { defaultStatementFormats } from '../../src/gateways/statement-formats.ts';
import { createSpreadsheets } from '../../src/node/spreadsheets.ts';
import { csvStatementLines } from '../../src/services/csv-lines.ts';
import { ServiceError } from '../../src/services/errors.ts';
import { hashingBody, sniffDelimiter, workbookRows } from '../../src/services/statement-files.ts';
import { chunked } from '../helpers/streams.ts';

const fixture = (name: string) => readFile(new URL(`../fixtures/statements/${name}`, import.meta.url));

async function linesOf(layout: StatementLayout, bytes: Uint8Array, chunk = 7): Promise<StatementLine[]> {
  const lines: StatementLine[] = [];
  for await (const batch of csvStatementLines(layout, chunked(bytes, chunk))) lines.push(...batch);
  return lines;
}

const vn = (wall: string) => new Date(`${wall}+07:00`);
const format = (id: keyof typeof defaultStatementFormats): StatementLayout => ({ kind: 'format', format: defaultStatementFormats[id] });

describe('amounts', () => {
  it.each([
    ['135000', 135_000],
    ['135.000', 135_000],
    ['135,000', 135_000],
    ['1.250.000', 1_250_000],
    ['1,250,000', 1_250_000],
    ['1.000.000,00', 1_000_000],
    ['1,000,000.00', 1_000_000],
    ['135000.00', 135_000],
    ['135.000 đ', 135_000],
    ['135.000 VND', 135_000],
    ['+135000', 135_000],
    [' 135 000 ', 135_000],
    [135_000, 135_000],
  ])('reads %j as %d VND', (text, vnd) => {
    expect(readAmount(text)).toEqual({ ok: true, value: vnd });
  });

  it.each([
    ['135.5', /fraction/],
    ['135,50', /fraction/],
    ['1234.567', /fraction/],
    [135000.5, /fraction/],
    ['-135000', /negative/],
    ['(135.000)', /negative/],
    ['0', /zero/],
    ['', /missing/],
    ['abc', /not a number/],
    ['1.000,000.00', /not a number/],
    ['1.2.3', /not a number/],
    ['12345678901234567', /too large/],
    [Number.NaN, /not a number/],
  ])('refuses %j', (text, reason) => {
    const read = readAmount(text);
    expect(read.ok).toBe(false);
    expect(read.ok ? '' : read.reason).toMatch(reason);
  });

  it('reads VNPay-style ×100 only when divisible', () => {
    expect(readAmount('13500000', 100)).toEqual({ ok: true, value: 135_000 });
    expect(readAmount('13500050', 100).ok).toBe(false);
  });

  it('reads every positive amount back from each way exports write it (property)', () => {
    const group = (n: number, sep: string) => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, sep);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999_999_999 }), fc.constantFrom('', '.', ','), fc.boolean(), (n, sep, decimals) => {
        let text = sep ? group(n, sep) : String(n);
        if (decimals) text += `${sep === '.' ? ',' : '.'}00`;
        expect(readAmount(text)).toEqual({ ok: true, value: n });
      }),
    );
  });

  it('never answers a float, a negative or a non-integer (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.integer()), (value) => {
        const read = readAmount(value);
        if (read.ok) {
          expect(Number.isSafeInteger(read.value)).toBe(true);
          expect(read.value).toBeGreaterThan(0);
        }
      }),
    );
  });
});

describe('times (GMT+7)', () => {
  it.each([
    ['03/12/2026 09:15:02', '2026-12-03T09:15:02'],
    ['3/12/2026 09:15', '2026-12-03T09:15:00'],
    ['03-12-2026 09:15:02', '2026-12-03T09:15:02'],
    ['03/12/2026', '2026-12-03T00:00:00'],
    ['20261203143000', '2026-12-03T14:30:00'],
    ['2026-12-03 14:30:00', '2026-12-03T14:30:00'],
  ])('reads %j as %s in Vietnam', (text, wall) => {
    expect(readTime(text)).toEqual({ ok: true, value: vn(wall) });
  });

  it('keeps an explicit offset', () => {
    expect(readTime('2026-12-03T02:30:00Z')).toEqual({ ok: true, value: new Date('2026-12-03T02:30:00Z') });
  });

  it("reads a spreadsheet's zone-less date cell as Vietnamese wall-clock time", () => {
    expect(readTime(new Date(Date.UTC(2026, 11, 3, 9, 15, 2)))).toEqual({ ok: true, value: vn('2026-12-03T09:15:02') });
  });

  it.each(['31/02/2026 10:00:00', '20261303101500', '03/12/2026 24:00:00', 'hôm qua', '12/03', '2026-12-03T25:00:00Z'])(
    'refuses %j',
    (text) => {
      expect(readTime(text).ok).toBe(false);
    },
  );

  it('reads back every instant written either way (property)', () => {
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-02T00:00:00Z'), max: new Date('2099-12-30T00:00:00Z'), noInvalidDate: true }), (d) => {
        const instant = new Date(Math.floor(d.getTime() / 1000) * 1000);
        const w = new Date(instant.getTime() + 7 * 3600_000);
        const [y, mo, da, h, mi, s] = [
          w.getUTCFullYear(),
          w.getUTCMonth() + 1,
          w.getUTCDate(),
          w.getUTCHours(),
          w.getUTCMinutes(),
          w.getUTCSeconds(),
        ];
        expect(readTime(`${pad(da)}/${pad(mo)}/${y} ${pad(h)}:${pad(mi)}:${pad(s)}`)).toEqual({ ok: true, value: instant });
        expect(readTime(`${y}${pad(mo)}${pad(da)}${pad(h)}${pad(mi)}${pad(s)}`)).toEqual({ ok: true, value: instant });
      }),
    );
  });
});

describe("each source's own file", () => {
  it('VNPay: its lines, numbered as in the file, the bad ones kept with their reasons', async () => {
    const lines = await linesOf(format('vnpay'), await fixture('vnpay-daily.csv'));
    expect(lines.map((l) => l.lineNo)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(lines[0]).toEqual({
      lineNo: 2,
      transactionId: '14628301',
      reference: 'HP7K2M9Q',
      amount: 135_000,
      occurredAt: vn('2026-12-03T09:15:02'),
      text: 'Thanh toan le phi ho so',
      direction: 'credit',
      status: 'paid',
      error: null,
    });
    expect(lines[1]).toMatchObject({ amount: 1_250_000, status: 'paid', error: null });
    expect(lines[2]).toMatchObject({ amount: 50_000, status: 'failed', occurredAt: vn('2026-12-03T14:30:00'), error: null });
    expect(lines[3]).toMatchObject({ transactionId: '14628390', amount: null, error: expect.stringMatching(/fraction/) });
    expect(lines[4]!.error).toMatch(/names no transaction/);
    expect(lines[5]!.error).toMatch(/negative.*not a real date.*status "Không rõ"/);
  });

  it('the national platform: `;`-separated, MaLoi as status', async () => {
    const lines = await linesOf(format('dvcqg'), await fixture('dvcqg-daily.csv'));
    expect(lines.map((l) => [l.lineNo, l.transactionId, l.reference, l.amount, l.status, l.error === null])).toEqual([
      [2, '9002611201', 'HPD4C2XY', 200_000, 'paid', true],
      [3, '9002611202', 'HPD4C2ZZ', 75_000, 'failed', true],
      [4, '9002611203', 'HPD4C3AA', null, 'paid', false],
    ]);
  });

  it('the sandbox', async () => {
    const lines = await linesOf(format('sandbox'), await fixture('sandbox-daily.csv'));
    expect(lines.map((l) => [l.transactionId, l.amount, l.status, l.occurredAt?.toISOString()])).toEqual([
      ['sbx_0001', 135_000, 'paid', '2026-12-03T02:00:00.000Z'],
      ['sbx_0002', 90_000, 'refunded', '2026-12-03T03:30:00.000Z'],
    ]);
  });

  it("a bank's statement: preamble skipped, debit and credit columns, the reference left inside the text", async () => {
    const lines = await linesOf(format('bank'), await fixture('bank-vcb.csv'), 13);
    expect(lines.map((l) => l.lineNo)).toEqual([7, 8, 9, 10, 11, 12, 13]);
    expect(lines[0]).toMatchObject({
      transactionId: 'FT26337000101',
      amount: 135_000,
      direction: 'credit',
      reference: null,
      text: 'MBVCB.123 HP7K2M9Q NOP LE PHI',
      status: null,
      error: null,
    });
    expect(lines[1]).toMatchObject({ amount: 50_000, direction: 'credit', text: 'NGUYEN VAN A chuyen tien, HPX3B8RT' });
    expect(lines[2]).toMatchObject({ amount: 22_000, direction: 'debit', error: null });
    expect(lines[4]!.error).toMatch(/both debit and credit/);
    expect(lines[5]).toMatchObject({ amount: 1_000_000, occurredAt: vn('2026-12-03T00:00:00'), error: null });
    // The totals row is not a transaction: kept, refused, with its number.
    expect(lines[6]).toMatchObject({ lineNo: 13, error: expect.stringMatching(/both debit and credit|time/) });
  });

  it('reads the same lines however the bytes are cut', async () => {
    const bytes = await fixture('bank-vcb.csv');
    const whole = await linesOf(format('bank'), bytes, bytes.byteLength);
    for (const size of [1, 2, 3, 64]) expect(await linesOf(format('bank'), bytes, size)).toEqual(whole);
  });

  it('refuses a file that is not the format named, before any line', async () => {
    await expect(linesOf(format('vnpay'), await fixture('bank-vcb.csv'))).rejects.toBeInstanceOf(StatementLayoutError);
  });
});

describe('a generic file with a mapping', () => {
  const mapping: ColumnMapping = { time: 'Ngay', transactionId: 'So CT', amount: 'So tien', direction: 'Loai', text: 'Dien giai' };

  it('reads the mapped columns, direction words included', async () => {
    const lines = await linesOf({ kind: 'mapping', mapping }, await fixture('generic-mapped.csv'));
    expect(lines.map((l) => [l.lineNo, l.transactionId, l.amount, l.direction, l.error])).toEqual([
      [2, 'CT001', 135_000, 'credit', null],
      [3, 'CT002', 22_000, 'debit', null],
      [4, 'CT003', 30_000, null, 'direction "X" is not one this format knows'],
    ]);
  });

  it('numbers lines as in the file when a quoted text spans lines, and skips blank lines', async () => {
    const csv = 'Ngay,So tien,Dien giai\r\n03/12/2026,1000,"HP1\r\nsecond line"\r\n\r\n03/12/2026,2000,"a\nb\nc"\n03/12/2026,3000,HP3\n';
    const lines = await linesOf(
      { kind: 'mapping', mapping: { time: 'Ngay', amount: 'So tien', text: 'Dien giai' } },
      new TextEncoder().encode(csv),
      5,
    );
    expect(lines.map((l) => [l.lineNo, l.amount])).toEqual([
      [2, 1000],
      [5, 2000],
      [8, 3000],
    ]);
  });

  it('names the mapped columns the file does not have', async () => {
    const error = await linesOf(
      { kind: 'mapping', mapping: { ...mapping, reference: 'Ma tham chieu' } },
      await fixture('generic-mapped.csv'),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(StatementLayoutError);
    expect(error.missing).toEqual(['reference']);
  });
});

describe('bytes', () => {
  it('sniffs the delimiter from the header line, ignoring quoted text', () => {
    expect(sniffDelimiter('a,b,c')).toBe(',');
    expect(sniffDelimiter('a;b;"x,y,z"')).toBe(';');
    expect(sniffDelimiter('a\tb\tc')).toBe('\t');
  });

  it('hashes incrementally: the same SHA-256 as the whole file at once', async () => {
    const bytes = await fixture('vnpay-daily.csv');
    const body = hashingBody(chunked(bytes, 5), 10_000, 'csv');
    const reader = body.stream.getReader();
    while (!(await reader.read()).done) {}
    const expected = createHash('sha256').update(bytes).digest('hex');
    expect(body.digest()).toEqual({ hash: expected, bytes: bytes.byteLength });
  });

  it('refuses text that is not UTF-8, UTF-16, a workbook sent as CSV, and a file over the limit', async () => {
    const run = async (bytes: Uint8Array, max = 10_000, kind: 'csv' | 'xlsx' = 'csv') => {
      const body = hashingBody(chunked(bytes, 4), max, kind);
      const reader = body.stream.getReader();
      while (!(await reader.read()).done) {}
    };
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'none',
        (e: unknown) => (e instanceof ServiceError ? e.code : String(e)),
      );
    // "Số tiền" in Windows-1258 (ố = 0xD3 0xEC... not valid UTF-8).
    expect(await codeOf(run(new Uint8Array([0x53, 0xf4, 0x20, 0x74, 0x69, 0xea, 0x6e, 0x0a])))).toBe('statement-unreadable');
    expect(await codeOf(run(new Uint8Array([0xff, 0xfe, 0x61, 0x00])))).toBe('statement-unreadable');
    expect(await codeOf(run(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00])))).toBe('unsupported-media-type');
    expect(await codeOf(run(new TextEncoder().encode('a,b\n1,2\n'), 4, 'xlsx'))).toBe('unsupported-media-type');
    expect(await codeOf(run(new TextEncoder().encode('a,b\n'.repeat(100)), 50))).toBe('payload-too-large');
  });

  it('checks UTF-8 however the chunks cut the letters: any text passes, one stray byte anywhere is refused (property)', async () => {
    const passes = async (bytes: Uint8Array, size: number) => {
      const reader = hashingBody(chunked(bytes, size), 1_000_000, 'csv').stream.getReader();
      try {
        while (!(await reader.read()).done) {}
        return true;
      } catch (error) {
        if (error instanceof ServiceError && error.code === 'statement-unreadable') return false;
        throw error;
      }
    };
    // Letters of one to four bytes (Vietnamese, CJK, emoji), not starting with a zip's or UTF-16's mark.
    const text = fc.string({
      unit: fc.constantFrom('a', ',', '\n', 'ố', 'đ', 'Ư', '₫', '中', '😀', '\u00a0'),
      minLength: 1,
      maxLength: 60,
    });
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.integer({ min: 1, max: 9 }),
        fc.nat(),
        fc.constantFrom(0x80, 0xbf, 0xc3, 0xe1, 0xf0, 0xff),
        async (t, size, at, stray) => {
          const bytes = new TextEncoder().encode(`x${t}`);
          expect(await passes(bytes, size)).toBe(true);
          // A lone continuation or lead byte (or 0xFF) put between two letters is never UTF-8.
          const cut = [...`x${t}`].slice(0, 1 + (at % [...t].length)).join('');
          const head = new TextEncoder().encode(cut);
          const broken = new Uint8Array([...head, stray, ...bytes.slice(head.byteLength)]);
          expect(await passes(broken, size)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('XLSX (through the Spreadsheets port)', () => {
  async function workbook(rows: unknown[][]): Promise<Uint8Array> {
    const wb = new ExcelJS.Workbook();
    const sheet = wb.addWorksheet('Sao ke');
    for (const row of rows) sheet.addRow(row);
    sheet.getColumn(1).numFmt = 'dd/mm/yyyy hh:mm:ss';
    wb.addWorksheet('Ghi chu').addRow(['not read']);
    return new Uint8Array(await wb.xlsx.writeBuffer());
  }

  it("reads the first sheet's rows: dates, numbers and text, numbered as the sheet shows them", async () => {
    const bytes = await workbook([
      ['Vietcombank - Sao kê tài khoản 0071000123456'],
      [],
      ['Ngày giao dịch', 'Số tham chiếu', 'Ghi nợ', 'Ghi có', 'Nội dung'],
      [new Date(Date.UTC(2026, 11, 3, 8, 1, 12)), 'FT1', null, 135000, 'HP7K2M9Q NOP LE PHI'],
      [new Date(Date.UTC(2026, 11, 3, 9, 0, 0)), 'FT2', null, 135000.5, 'LE'],
      [new Date(Date.UTC(2026, 11, 3, 10, 0, 0)), 'FT3', '22.000', null, 'Phi SMS'],
    ]);
    const body = hashingBody(chunked(bytes, 4096), 10_000_000, 'xlsx');
    const lines: StatementLine[] = [];
    for await (const line of readStatementLines(format('bank'), workbookRows(body.stream, createSpreadsheets()))) lines.push(line);
    expect(lines.map((l) => [l.lineNo, l.transactionId, l.amount, l.direction, l.occurredAt?.toISOString(), l.error])).toEqual([
      [4, 'FT1', 135_000, 'credit', vn('2026-12-03T08:01:12').toISOString(), null],
      [5, 'FT2', null, 'credit', vn('2026-12-03T09:00:00').toISOString(), 'amount "135000.5" has a fraction of a đồng'],
      [6, 'FT3', 22_000, 'debit', vn('2026-12-03T10:00:00').toISOString(), null],
    ]);
    // Every byte reached the hash, the sheets after the first included.
    const expected = createHash('sha256').update(bytes).digest('hex');
    expect(body.digest()).toEqual({ hash: expected, bytes: bytes.byteLength });
  });

  it('answers 415 where no spreadsheet reader is injected (Workers)', () => {
    expect(() => workbookRows(chunked(new Uint8Array(4)))).toThrow(expect.objectContaining({ code: 'unsupported-media-type' }));
  });
});
