import { readFile } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, queryRows } from '../../src/db/types.ts';
import { readStatementLines, type StatementLayout, type StatementLine } from '../../src/gateways/statement-format.ts';
import { defaultStatementFormats } from '../../src/gateways/statement-formats.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { csvStatementLines } from '../../src/services/csv-lines.ts';
import { ServiceError } from '../../src/services/errors.ts';
import { lineSink } from '../../src/services/statement-copy.ts';
import { holdImportingStatementIn } from '../../src/services/statement-lines-key.ts';
import { csvRows } from '../helpers/csv-parse-rows.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { chunked } from '../helpers/streams.ts';

/**
 * A CSV statement is read by the hub's own scanner (csv-lines.ts: csv-parse took 3.5 s of a
 * million-line file before a line was made of it), and its lines go through the sink
 * (statement-copy.ts: COPY as bytes on a server, INSERTs on PGlite). Here the scanner reads the
 * same bytes as csv-parse — fixtures and generated files, cut into chunks of every size — and must
 * make the same lines (numbers, values, reasons, blank rows left out) or refuse the same files; and
 * the lines written through the sink must be read back from the database as they were.
 */

let db: DatabaseHandle;
let ctx: ServiceContext;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.db.execute(
    sql`INSERT INTO agencies (code, name, level, path, depth) VALUES ('000.00.00.H99', 'UBND (test)', 'province', '/000.00.00.H99/', 0)`,
  );
  ctx = { db: db.db } as unknown as ServiceContext;
});
afterAll(async () => {
  await db?.close();
});

type Outcome = { lines: StatementLine[] } | { refused: string };

const refusal = (error: unknown): Outcome => ({ refused: error instanceof ServiceError ? error.code : (error as Error).constructor.name });

/** The oracle: csv-parse's rows, read into lines by the same reader. */
async function byCsvParse(layout: StatementLayout, bytes: Uint8Array): Promise<Outcome> {
  const lines: StatementLine[] = [];
  try {
    for await (const line of readStatementLines(layout, csvRows(chunked(bytes, 4096)))) lines.push(line);
  } catch (error) {
    return refusal(error);
  }
  return { lines };
}

async function byScanner(layout: StatementLayout, bytes: Uint8Array, chunk: number): Promise<Outcome> {
  const lines: StatementLine[] = [];
  try {
    for await (const batch of csvStatementLines(layout, chunked(bytes, chunk))) lines.push(...batch);
  } catch (error) {
    return refusal(error);
  }
  return { lines };
}

async function importingStatement(): Promise<string> {
  const id = crypto.randomUUID();
  await db.db.execute(sql`INSERT INTO statements (id, source, business_date, agency_code, format, content_hash, status, uploaded_by)
                          VALUES (${id}, 'vnpay', '2026-10-16', '000.00.00.H99', 'vnpay', ${`test:${id}`}, 'importing', 'test')`);
  return id;
}

/** The lines written through the sink into statement `id` (as it is: the caller makes it), in batches of `batch`, read back. */
async function throughSink(id: string, lines: StatementLine[], batch = 3): Promise<Outcome> {
  try {
    const sink = await lineSink(ctx, id);
    try {
      for (let at = 0; at < lines.length; at += batch) await sink.write(lines.slice(at, at + batch));
      await sink.end();
    } catch (error) {
      await sink.abort();
      throw error;
    }
  } catch (error) {
    return refusal(error);
  }
  const rows = await queryRows<Record<string, unknown>>(
    db.db,
    sql`SELECT line_no, transaction_id, reference, amount, occurred_at, text, direction, status, error
        FROM statement_lines WHERE statement_id = ${id}::uuid ORDER BY line_no`,
  );
  return {
    lines: rows.map(
      (r): StatementLine => ({
        lineNo: Number(r.line_no),
        transactionId: r.transaction_id as string | null,
        reference: r.reference as string | null,
        amount: r.amount === null ? null : Number(r.amount),
        occurredAt: r.occurred_at === null ? null : new Date(r.occurred_at as string),
        text: r.text as string | null,
        direction: r.direction as StatementLine['direction'],
        status: r.status as StatementLine['status'],
        error: r.error as string | null,
      }),
    ),
  };
}

/** The scanner makes csv-parse's lines (or refuses the file as it does), and the sink keeps them as they are. */
async function expectSameLines(layout: StatementLayout, bytes: Uint8Array, chunk = 4096) {
  const expected = await byCsvParse(layout, bytes);
  const actual = await byScanner(layout, bytes, chunk);
  expect(actual).toEqual(expected);
  if ('lines' in actual && actual.lines.length > 0) expect(await throughSink(await importingStatement(), actual.lines)).toEqual(actual);
  return actual;
}

const format = (id: keyof typeof defaultStatementFormats): StatementLayout => ({ kind: 'format', format: defaultStatementFormats[id] });
const fixture = async (name: string) => new Uint8Array(await readFile(new URL(`../fixtures/statements/${name}`, import.meta.url)));
const encode = (text: string) => new TextEncoder().encode(text);

describe('the scanner reads a CSV as csv-parse does; the sink keeps its lines as they are', () => {
  it.each([
    ['vnpay-daily.csv', 'vnpay'],
    ['dvcqg-daily.csv', 'dvcqg'],
    ['sandbox-daily.csv', 'sandbox'],
    ['bank-vcb.csv', 'bank'],
  ] as const)('the fixture %s, cut into chunks of every size', async (file, id) => {
    const bytes = await fixture(file);
    const first = await expectSameLines(format(id), bytes);
    expect('lines' in first && first.lines.length).toBeGreaterThan(0);
    for (const chunk of [1, 2, 3, 7, 64]) await expectSameLines(format(id), bytes, chunk);
  });

  it('a generic file with a mapping: direction words, blank and short and long rows, quoted line breaks, CR LF', async () => {
    const layout: StatementLayout = {
      kind: 'mapping',
      mapping: { reference: 'Ref', amount: 'Amount', time: 'When', text: 'Memo', direction: 'Dir' },
    };
    const text =
      'Ref;Amount;When;Memo;Dir\r\n' +
      'HP1;135.000;16/10/2026 08:00:00;"a; b";C\r\n' +
      '\r\n' +
      ';;;;\r\n' +
      ' \u00a0 ;;;;\r\n' +
      'HP2;1,250,000;;"two\r\nlines ""quoted""";ghi nợ\r\n' +
      'HP3;135.5;31/02/2026;short\r\n' +
      'HP4;-5;2026-10-16T08:00:00+07:00;x;sideways;extra;cells\r\n' +
      ';;;;;;tail only\r\n' +
      'HP5;0;20261016080000;  Nộp phí \u3000;D';
    await expectSameLines(layout, encode(text));
    await expectSameLines(layout, encode(text), 1);
    await expectSameLines(layout, encode(text), 7);
  });

  it('refuses the same files (no header, a stray quote, a quote left open)', async () => {
    const cases = [
      'Số tiền,Nội dung\n1,2\n',
      'Mã GD VNPAY,Mã GD merchant,Số tiền,Thời gian thanh toán,Trạng thái\n1,HP1,ab"c,16/10/2026 08:00:00,00\n',
      'Mã GD VNPAY,Mã GD merchant,Số tiền,Thời gian thanh toán,Trạng thái\n1,HP1,"100,16/10/2026 08:00:00,00\n',
      'Mã GD VNPAY,Mã GD merchant,Số tiền,Thời gian thanh toán,Trạng thái\n1,HP1,"100"x,16/10/2026 08:00:00,00\n',
    ];
    for (const text of cases) {
      const outcome = await expectSameLines(format('vnpay'), encode(text));
      expect(outcome).toHaveProperty('refused');
    }
  });

  it('generated files: any cells, any quoting, any chunking (property)', async () => {
    const amounts = [
      '135000',
      '135.000',
      '1,250,000',
      '1.000.000,00',
      '135.5',
      '-5',
      '(5)',
      '0',
      '',
      ' ',
      '12 000 đ',
      'VND 5',
      'abc',
      '99999999999999999',
    ];
    const times = [
      '16/10/2026 08:00:00',
      '16-10-2026',
      '20261016080000',
      '2026-10-16 08:00',
      '2026-10-16T08:00:00+07:00',
      '31/02/2026',
      '',
      'x',
    ];
    const statuses = ['00', 'Thành công', 'THẤT BẠI', 'Hoàn tiền', 'pending', 'lạ', ''];
    // Texts kept as they are (plain: printable ASCII, untrimmed, at most 1,000) and every kind that is not.
    const texts = [
      '',
      ' ',
      'HP0123456789',
      ' a b ',
      'a ',
      ' a',
      'Nộp phí',
      'x, y',
      'say "hi"',
      'two\nlines',
      'e\u0301',
      '\u00a0',
      '\t',
      'a\tb',
      'x\u0000y',
      'k'.repeat(1000),
      'k'.repeat(1001),
      // Cut at 1,000 characters (code points, as SQL's left() counts), not 1,000 UTF-16 units.
      `${'k'.repeat(999)}😀z`,
      '😀'.repeat(1001),
    ];
    const cell = (pool: string[]) => fc.oneof(fc.constantFrom(...pool), fc.string({ maxLength: 6 }));
    const row = fc.tuple(cell(texts), cell(texts), cell(amounts), cell(times), cell(statuses), cell(texts));
    const shaped = fc.record({
      row,
      width: fc.constantFrom(6, 6, 6, 0, 1, 3, 8),
      quoteAll: fc.boolean(),
      eol: fc.constantFrom('\n', '\r\n', '\r'),
    });
    const quoted = (value: string, always: boolean) => (always || /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
    await fc.assert(
      fc.asyncProperty(fc.array(shaped, { maxLength: 25 }), fc.integer({ min: 1, max: 97 }), async (rows, chunk) => {
        let text = 'Mã GD VNPAY,Mã GD merchant,Số tiền,Thời gian thanh toán,Trạng thái,Nội dung thanh toán\n';
        for (const { row: cells, width, quoteAll, eol } of rows) {
          const fitted = width <= 6 ? cells.slice(0, width) : [...cells, 'extra', ''];
          text += fitted.map((c) => quoted(c, quoteAll)).join(',') + eol;
        }
        await expectSameLines(format('vnpay'), encode(text), chunk);
      }),
      { numRuns: 60 },
    );
  });
});

/**
 * statement_lines and reconciliation_items name their statement and day without a per-row foreign
 * key (drizzle/0013_set_level_keys.sql): statement-level triggers keep the key's promise, but for
 * a statement's lines as they are written — their one writer, the import, holds its statement
 * first (drizzle/0015, statement-lines-key.ts).
 */
describe('the keys checked once per statement', () => {
  const code = (error: unknown) => (error as { cause?: { code?: string }; code?: string }).cause?.code ?? (error as { code?: string }).code;
  const refusal = async (query: ReturnType<typeof sql>) => {
    try {
      await db.db.execute(query);
    } catch (error) {
      return code(error);
    }
    return 'accepted';
  };
  const statement = importingStatement;

  it('the sink writes no line of a statement that is not being imported (both databases)', async () => {
    const line: StatementLine = {
      lineNo: 2,
      transactionId: '14000001',
      reference: 'HP000000000A',
      amount: 150_000,
      occurredAt: new Date('2026-10-16T02:00:00Z'),
      text: 'lệ phí',
      direction: 'credit',
      status: 'paid',
      error: null,
    };
    // No statement row at all, and one that is no longer importing (current).
    const missing = crypto.randomUUID();
    expect(await throughSink(missing, [line])).toEqual({ refused: 'conflict' });
    const current = await importingStatement();
    await db.db.execute(sql`UPDATE statements SET status = 'current' WHERE id = ${current}::uuid`);
    expect(await throughSink(current, [line])).toEqual({ refused: 'conflict' });
    const [left] = await queryRows<{ n: number }>(
      db.db,
      sql`SELECT count(*)::int AS n FROM statement_lines WHERE statement_id IN (${missing}::uuid, ${current}::uuid)`,
    );
    expect(left!.n).toBe(0);
    // The same line into a statement being imported is written.
    expect(await throughSink(await importingStatement(), [line])).toEqual({ lines: [line] });
  });

  it('the writers of lines hold an importing statement (both databases)', async () => {
    await expect(holdImportingStatementIn(ctx, crypto.randomUUID())).rejects.toMatchObject({ code: 'conflict' });
    const id = await statement();
    await expect(holdImportingStatementIn(ctx, id)).resolves.toBeUndefined();
    await db.db.execute(sql`UPDATE statements SET status = 'replaced' WHERE id = ${id}::uuid`);
    await expect(holdImportingStatementIn(ctx, id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('a line cannot be moved to no statement; a statement with lines is not deleted', async () => {
    const id = await statement();
    await db.db.execute(sql`INSERT INTO statement_lines (statement_id, line_no) SELECT ${id}::uuid, n FROM generate_series(1, 3) AS n`);
    expect(
      await refusal(sql`UPDATE statement_lines SET statement_id = ${crypto.randomUUID()}::uuid WHERE statement_id = ${id}::uuid`),
    ).toBe('23503');
    expect(await refusal(sql`DELETE FROM statements WHERE id = ${id}::uuid`)).toBe('23503');
    const [kept] = await queryRows<{ n: number }>(
      db.db,
      sql`SELECT count(*)::int AS n FROM statement_lines WHERE statement_id = ${id}::uuid`,
    );
    expect(kept!.n).toBe(3);
    expect(await refusal(sql`DELETE FROM statement_lines WHERE statement_id = ${id}::uuid`)).toBe('accepted');
    expect(await refusal(sql`DELETE FROM statements WHERE id = ${id}::uuid`)).toBe('accepted');
  });

  it('a discrepancy names an existing day, payment and review; none of them is deleted while it does (drizzle/0017)', async () => {
    const day = crypto.randomUUID();
    await db.db.execute(sql`INSERT INTO reconciliations (id, source, business_date, agency_code, status)
                            VALUES (${day}, 'vnpay', '2026-10-17', '000.00.00.H99', 'open')`);
    const review = crypto.randomUUID();
    await db.db.execute(sql`INSERT INTO payment_reviews (id, kind, gateway, proposed_action, reason)
                            VALUES (${review}, 'amount_mismatch', 'vnpay', 'refund', 'test')`);
    let subject = 0;
    const discrepancy = (reconciliationId: string, names: { intent?: string; review?: string } = {}) =>
      sql`INSERT INTO discrepancies (id, reconciliation_id, source, business_date, agency_code, class, subject, intent_id, review_id)
          VALUES (gen_random_uuid(), ${reconciliationId}::uuid, 'vnpay', '2026-10-17', '000.00.00.H99', 'missing_in_hub',
                  ${`line:${++subject}`}, ${names.intent ?? null}::uuid, ${names.review ?? null}::uuid)`;
    // No such day, payment or review: refused, as the foreign keys refused them.
    expect(await refusal(discrepancy(crypto.randomUUID()))).toBe('23503');
    expect(await refusal(discrepancy(day, { intent: crypto.randomUUID() }))).toBe('23503');
    expect(await refusal(discrepancy(day, { review: crypto.randomUUID() }))).toBe('23503');
    expect(await refusal(discrepancy(day, { review }))).toBe('accepted');
    // Nor named by an update.
    for (const column of [sql`reconciliation_id`, sql`intent_id`, sql`review_id`]) {
      expect(
        await refusal(sql`UPDATE discrepancies SET ${column} = ${crypto.randomUUID()}::uuid WHERE reconciliation_id = ${day}::uuid`),
      ).toBe('23503');
    }
    // A day or a review a discrepancy names is not deleted.
    expect(await refusal(sql`DELETE FROM payment_reviews WHERE id = ${review}::uuid`)).toBe('23503');
    expect(await refusal(sql`DELETE FROM reconciliations WHERE id = ${day}::uuid`)).toBe('23503');
    expect(await refusal(sql`DELETE FROM discrepancies WHERE reconciliation_id = ${day}::uuid`)).toBe('accepted');
    expect(await refusal(sql`DELETE FROM payment_reviews WHERE id = ${review}::uuid`)).toBe('accepted');
    expect(await refusal(sql`DELETE FROM reconciliations WHERE id = ${day}::uuid`)).toBe('accepted');
  });

  it('an item of no day is refused; a day with items is not deleted', async () => {
    const day = crypto.randomUUID();
    await db.db.execute(sql`INSERT INTO reconciliations (id, source, business_date, agency_code, status)
                            VALUES (${day}, 'vnpay', '2026-10-16', '000.00.00.H99', 'open')`);
    const item = (reconciliationId: string) =>
      sql`INSERT INTO reconciliation_items (reconciliation_id, class, statement_amount) VALUES (${reconciliationId}::uuid, 'missing_in_hub', 1000)`;
    expect(await refusal(item(crypto.randomUUID()))).toBe('23503');
    expect(await refusal(item(day))).toBe('accepted');
    expect(await refusal(sql`DELETE FROM reconciliations WHERE id = ${day}::uuid`)).toBe('23503');
    expect(await refusal(sql`DELETE FROM reconciliation_items WHERE reconciliation_id = ${day}::uuid`)).toBe('accepted');
    expect(await refusal(sql`DELETE FROM reconciliations WHERE id = ${day}::uuid`)).toBe('accepted');
  });
});
