import { readFile } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, queryRows } from '../../src/db/types.ts';
import { readStatementLines, type StatementLayout, type StatementLine } from '../../src/gateways/statement-format.ts';
import { defaultStatementFormats } from '../../src/gateways/statement-formats.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { isCountedLine } from '../../src/services/day-payments.ts';
import { ServiceError } from '../../src/services/errors.ts';
import { RepeatFinder } from '../../src/services/repeats.ts';
import { type CopyServer, copyStatementLines, type LineCounts } from '../../src/services/statement-copy.ts';
import { csvRows } from '../../src/services/statement-files.ts';
import { holdImportingStatementIn } from '../../src/services/statement-lines-key.ts';
import { createTestDatabase, onServer } from '../helpers/database.ts';
import { chunked } from '../helpers/streams.ts';

/**
 * A server reads a CSV statement with PostgreSQL's COPY and one INSERT … SELECT
 * (statement-copy.ts); PGlite and XLSX row by row in JavaScript (readStatementLines). Both must
 * make the same lines of the same file — numbers, values, reasons, blank rows left out — so here
 * the two read the same bytes, fixtures and generated files alike, and are compared line by line.
 */
if (!onServer) console.info('test/db/statement-copy.test.ts: the COPY import is a server path; runs with DATABASE_URL set');

let db: DatabaseHandle;
let server: CopyServer;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.db.execute(
    sql`INSERT INTO agencies (code, name, level, path, depth) VALUES ('000.00.00.H99', 'UBND (test)', 'province', '/000.00.00.H99/', 0)`,
  );
  if (onServer) server = (db.db as unknown as { $client: CopyServer }).$client;
});
afterAll(async () => {
  await db?.close();
});

type Outcome = { lines: StatementLine[]; counts: Omit<LineCounts, 'rejected'> } | { refused: string };

async function byJavaScript(layout: StatementLayout, bytes: Uint8Array): Promise<Outcome> {
  const lines: StatementLine[] = [];
  try {
    for await (const line of readStatementLines(layout, csvRows(chunked(bytes, 4096)))) lines.push(line);
  } catch (error) {
    return { refused: error instanceof ServiceError ? error.code : (error as Error).constructor.name };
  }
  const counts = {
    linesTotal: lines.length,
    linesImported: 0,
    linesRejected: 0,
    creditTotal: 0,
    debitTotal: 0,
    linesCounted: lines.filter(isCountedLine).length,
    ignoredTotal: lines.filter((l) => l.error === null && !isCountedLine(l)).reduce((sum, l) => sum + l.amount!, 0),
    repeatedTransactions: repeatsOf(lines),
  };
  for (const line of lines) {
    if (line.error) counts.linesRejected += 1;
    else {
      counts.linesImported += 1;
      if (line.status === null || line.status === 'paid' || line.status === 'refunded') {
        if (line.direction === 'credit') counts.creditTotal += line.amount!;
        else if (line.direction === 'debit') counts.debitTotal += line.amount!;
      }
    }
  }
  return { lines, counts };
}

/** The JavaScript path's suspects (every id its lines give twice among them: checked here). */
function repeatsOf(lines: StatementLine[]): string[] | null {
  const finder = new RepeatFinder();
  for (const line of lines) finder.offer(line.transactionId);
  const suspects = finder.result();
  const given = new Map<string, number>();
  for (const line of lines) if (line.transactionId) given.set(line.transactionId, (given.get(line.transactionId) ?? 0) + 1);
  for (const [id, times] of given) if (times > 1) expect(suspects).toContain(id);
  return suspects;
}

async function byCopy(layout: StatementLayout, bytes: Uint8Array, chunk: number, collectLimit?: number): Promise<Outcome> {
  const id = crypto.randomUUID();
  await db.db.execute(sql`INSERT INTO statements (id, source, business_date, agency_code, format, content_hash, status, uploaded_by)
                          VALUES (${id}, 'vnpay', '2026-10-16', '000.00.00.H99', 'vnpay', ${`test:${id}`}, 'importing', 'test')`);
  return byCopyOf(id, layout, bytes, chunk, collectLimit);
}

/** The file's lines COPYed into statement `id` (as it is: the caller makes it), read back. */
async function byCopyOf(id: string, layout: StatementLayout, bytes: Uint8Array, chunk = 4096, collectLimit?: number): Promise<Outcome> {
  const client = (db.db as unknown as { $client: { unsafe(q: string, p?: unknown[]): Promise<Array<Record<string, unknown>>> } }).$client;
  let counts: LineCounts;
  try {
    counts = await copyStatementLines(server, id, layout, chunked(bytes, chunk), undefined, collectLimit);
  } catch (error) {
    return { refused: error instanceof ServiceError ? error.code : (error as Error).constructor.name };
  }
  const rows = await client.unsafe(
    `SELECT line_no, transaction_id, reference, amount, occurred_at, text, direction, status, error
     FROM statement_lines WHERE statement_id = $1 ORDER BY line_no`,
    [id],
  );
  const lines = rows.map(
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
  );
  const { rejected, ...rest } = counts;
  expect(rejected).toEqual(
    lines
      .filter((l) => l.error)
      .slice(0, 100)
      .map((l) => ({ line: l.lineNo, reason: l.error })),
  );
  return { lines, counts: rest };
}

/**
 * The COPY path gives the lines the JavaScript path gives. `collectLimit`: the distinct texts per
 * column the scanner collects before PostgreSQL's DISTINCT is asked instead (0: always asked).
 */
async function expectSameLines(layout: StatementLayout, bytes: Uint8Array, chunk = 4096, collectLimit?: number) {
  const expected = await byJavaScript(layout, bytes);
  const actual = await byCopy(layout, bytes, chunk, collectLimit);
  expect(actual).toEqual(expected);
  return actual;
}

const format = (id: keyof typeof defaultStatementFormats): StatementLayout => ({ kind: 'format', format: defaultStatementFormats[id] });
const fixture = async (name: string) => new Uint8Array(await readFile(new URL(`../fixtures/statements/${name}`, import.meta.url)));
const encode = (text: string) => new TextEncoder().encode(text);

describe.runIf(onServer)('the COPY import reads a CSV as the JavaScript reader does', () => {
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
    await expectSameLines(format(id), bytes, 4096, 0);
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
    // Debit and credit are one kind: past the limit in either column, both are asked of PostgreSQL.
    await expectSameLines(layout, encode(text), 7, 1);
  });

  it('refuses the same files (no header, a stray quote, a quote left open); a COPY PostgreSQL refuses is an answer, not a hang', async () => {
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
    // Not UTF-8 (hashingBody refuses it before it gets here): PostgreSQL refuses the COPY after its last bytes.
    const latin1 = new Uint8Array([
      ...encode('Mã GD VNPAY,Mã GD merchant,Số tiền,Thời gian thanh toán,Trạng thái\n1,HP1,100,'),
      0xe9,
      0x0a,
    ]);
    expect(await byCopy(format('vnpay'), latin1, 4096)).toEqual({ refused: 'statement-unreadable' });
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
      // The distinct texts collected as the file is read, or past the limit asked of PostgreSQL.
      fc.asyncProperty(
        fc.array(shaped, { maxLength: 25 }),
        fc.integer({ min: 1, max: 97 }),
        fc.constantFrom(0, 3, 1000),
        async (rows, chunk, limit) => {
          let text = 'Mã GD VNPAY,Mã GD merchant,Số tiền,Thời gian thanh toán,Trạng thái,Nội dung thanh toán\n';
          for (const { row: cells, width, quoteAll, eol } of rows) {
            const fitted = width <= 6 ? cells.slice(0, width) : [...cells, 'extra', ''];
            text += fitted.map((c) => quoted(c, quoteAll)).join(',') + eol;
          }
          await expectSameLines(format('vnpay'), encode(text), chunk, limit);
        },
      ),
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
  const statement = async () => {
    const id = crypto.randomUUID();
    await db.db.execute(sql`INSERT INTO statements (id, source, business_date, agency_code, format, content_hash, status, uploaded_by)
                            VALUES (${id}, 'vnpay', '2026-10-16', '000.00.00.H99', 'vnpay', ${`test:${id}`}, 'importing', 'test')`);
    return id;
  };

  it('the import writes no line of a statement that is not being imported', async (t) => {
    if (!onServer) return t.skip();
    const layout = format('vnpay');
    const file = encode(
      `Mã GD VNPAY,Mã GD merchant,Số tiền,Thời gian thanh toán,Trạng thái,Nội dung thanh toán\n14000001,HP000000000A,"150.000",16/10/2026 09:00:00,Thành công,lệ phí\n`,
    );
    // No statement row at all, and one that is no longer importing (current, or discarded).
    const missing = crypto.randomUUID();
    expect(await byCopyOf(missing, layout, file)).toEqual({ refused: 'conflict' });
    const current = await statement();
    await db.db.execute(sql`UPDATE statements SET status = 'current' WHERE id = ${current}::uuid`);
    expect(await byCopyOf(current, layout, file)).toEqual({ refused: 'conflict' });
    const [left] = await queryRows<{ n: number }>(
      db.db,
      sql`SELECT count(*)::int AS n FROM statement_lines WHERE statement_id IN (${missing}::uuid, ${current}::uuid)`,
    );
    expect(left!.n).toBe(0);
    // The same file into a statement being imported is written.
    const importing = await statement();
    expect(await byCopyOf(importing, layout, file)).toMatchObject({ lines: [{ lineNo: 2, transactionId: '14000001' }] });
  });

  it('the writers of lines hold an importing statement (both databases)', async () => {
    const ctx = { db: db.db } as unknown as ServiceContext;
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
