/**
 * A CSV statement into `statement_lines` on a server, at the speed of COPY (issue 11's benchmark:
 * import and matching within 5× a plain COPY of the file). PostgreSQL's own CSV parser reads the
 * file: it is COPYed, as the bytes arrive, into a staging table of text cells (csv-records.ts
 * numbers each record and fits it to the header's columns, and collects, as the records pass,
 * the distinct texts of the columns that need reading — a day's file repeats a few hundred
 * amounts, at most 86,400 times and a handful of status words a million times); each is read once
 * by the one set of rules (statement-format.ts `cellReaders`), and one INSERT … SELECT makes the
 * lines, joining each cell to its reading. How a line's cells combine (debit and credit, the
 * order of the reasons, blank rows) is `readLine`'s, said again below in SQL;
 * test/db/statement-copy.test.ts holds the two to the same lines.
 *
 * All of it is one transaction on one connection: an import that fails leaves no line.
 */
import { pgError } from '../db/errors.ts';
import {
  type CellRead,
  cellReaders,
  HeaderSearch,
  type MoneyRead,
  NAMES_NO_TRANSACTION,
  type Plan,
  type StatementLayout,
} from '../gateways/statement-format.ts';
import { CsvRecordScanner } from './csv-records.ts';
import { countedLineText } from './day-payments.ts';
import { ServiceError } from './errors.ts';
import { sniffDelimiter } from './statement-files.ts';
import { holdImportingStatement } from './statement-lines-key.ts';

export interface RejectedLine {
  line: number;
  reason: string;
}

export interface LineCounts {
  linesTotal: number;
  linesImported: number;
  linesRejected: number;
  creditTotal: number;
  debitTotal: number;
  /** Lines the matching counts (countedLine), and the sum of the valid ones it does not. */
  linesCounted: number;
  ignoredTotal: number;
  /** Transaction ids that may be on more than one line (repeats.ts); null when unknown. */
  repeatedTransactions: string[] | null;
  /** The first rejected lines, by number. */
  rejected: RejectedLine[];
}

/** postgres.js's query, as much of it as this import uses. */
interface Query extends Promise<Array<Record<string, unknown>>> {
  writable(): Promise<CopyStream>;
}
export interface CopySql {
  unsafe(query: string, params?: unknown[]): Query;
}
/** postgres.js's client: `begin` gives one connection in one transaction. */
export interface CopyServer {
  begin<T>(fn: (sql: CopySql) => Promise<T>): Promise<T>;
}
export interface CopyStream {
  readonly writableLength: number;
  write(chunk: Uint8Array | string): boolean;
  end(): void;
  destroy(error?: Error): void;
  once(event: 'drain' | 'finish' | 'close', listener: () => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
}

/** How much COPY text may wait for PostgreSQL before reading pauses. */
const COPY_BUFFER_BYTES = 4 * 1024 * 1024;
/** A header not found in this many bytes is not there (the search also stops after 30 rows). */
const HEAD_LIMIT_BYTES = 4 * 1024 * 1024;
/** Distinct cell texts read per round trip. */
const VALUES_PAGE = 50_000;
/** Distinct texts a column's set may hold while the file is read (a day has 86,400 seconds; beyond: PostgreSQL's DISTINCT, and memory stays bounded). */
const COLLECT_LIMIT = 100_000;
const REJECTED_IN_ANSWER = 100;
const MAX_COLUMNS = 1_000;
const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * What JavaScript's `trim()` removes (isBlank and readText trim with it), for SQL's btrim: the
 * same cells are blank, and the same text kept, on either path.
 */
const JS_WHITESPACE =
  '\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';

/** The two sets as SQL literals (whitespace only: nothing to escape). */
const SPACES = `'${JS_WHITESPACE}'`;
const ASCII_SPACES = `'${JS_WHITESPACE.slice(0, 6)}'`;

type Kind = 'money' | 'time' | 'direction' | 'status';

export async function copyStatementLines(
  server: CopyServer,
  statementId: string,
  layout: StatementLayout,
  bytes: ReadableStream<Uint8Array>,
  onProgress?: (progress: { lines: number }) => void,
  /** How many distinct texts of a column are collected while reading before PostgreSQL is asked instead (tests lower it). */
  collectLimit = COLLECT_LIMIT,
): Promise<LineCounts> {
  const reader = bytes.getReader();
  try {
    return await server.begin(async (sql) => {
      await holdImportingStatement(sql, statementId);
      const head = await readHead(reader, layout);
      const columns = head.header.length;
      // A staging table has at most 1,600 columns (PostgreSQL's limit); no statement has a tenth of that.
      if (columns > MAX_COLUMNS) {
        throw new ServiceError('statement-unreadable', `the header has ${columns} columns: a statement has at most ${MAX_COLUMNS}`);
      }
      await sql.unsafe(`SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`);
      await sql.unsafe(
        `CREATE TEMP TABLE statement_raw (${Array.from({ length: columns }, (_, i) => `c${i} text`).join(', ')},
                                          line_no integer NOT NULL, ink smallint NOT NULL, plain smallint NOT NULL) ON COMMIT DROP`,
      );
      // Each column's distinct texts, read once by the rules (cellReaders) and joined back: the
      // scanner collects them as the records pass (a day's file has a few hundred amounts, at most
      // 86,400 times and a handful of words); a column with more is asked of PostgreSQL instead.
      const { plan } = head;
      const kinds: Array<[Kind, number]> = [];
      for (const [kind, column] of [
        ['money', plan.amount],
        ['money', plan.debit],
        ['money', plan.credit],
        ['time', plan.time],
        ['direction', plan.direction],
        ['status', plan.status],
      ] as Array<[Kind, number | undefined]>) {
        if (column !== undefined) kinds.push([kind, column]);
      }
      const textColumns = [plan.transactionId, plan.reference, plan.text].filter((i): i is number => i !== undefined);
      await copyRecords(
        sql,
        head,
        { columns: kinds.map(([, column]) => column), limit: collectLimit, texts: textColumns, transaction: plan.transactionId },
        reader,
        onProgress,
      );
      // A reading is an amount, an instant or a word (direction, status), or the reason there is none.
      await sql.unsafe(`CREATE TEMP TABLE statement_dictionary (kind text NOT NULL, raw text NOT NULL, amount bigint, instant timestamptz,
                                                                word text, reason text, absent boolean) ON COMMIT DROP`);
      for (const kind of new Set(kinds.map(([k]) => k))) {
        const of = kinds.filter(([k]) => k === kind).map(([, column]) => column);
        const collected = of.map((column) => head.scanner.distinct(column));
        const texts: AsyncIterable<string[]> | Iterable<string[]> = collected.every((set) => set !== undefined)
          ? pages(new Set(collected.flatMap((set) => [...set!])))
          : distinctTexts(sql, of);
        await writeReadings(sql, layout, plan, kind, texts);
      }
      await sql.unsafe('ANALYZE statement_dictionary');
      // The lines, and their totals from what was written (not read again: a million lines).
      const [totals] = await sql.unsafe(
        `WITH l AS (${insertLines(layout, plan, columns)} RETURNING amount, error, status, direction) ${TOTALS}`,
        [statementId],
      );
      const rejected = await sql.unsafe(
        `SELECT line_no AS line, error AS reason FROM statement_lines WHERE statement_id = $1::uuid AND error IS NOT NULL
         ORDER BY line_no LIMIT ${REJECTED_IN_ANSWER}`,
        [statementId],
      );
      return {
        linesTotal: Number(totals!.total),
        linesImported: Number(totals!.imported),
        linesRejected: Number(totals!.rejected),
        creditTotal: Number(totals!.credit),
        debitTotal: Number(totals!.debit),
        linesCounted: Number(totals!.counted),
        ignoredTotal: Number(totals!.ignored),
        repeatedTransactions: head.scanner.repeats(),
        rejected: rejected.map((r) => ({ line: Number(r.line), reason: String(r.reason) })),
      };
    });
  } catch (error) {
    const pg = pgError(error);
    // Not met with a file hashingBody let through (its UTF-8 is checked, and csv-records.ts fits each record to the header).
    if (pg.code === '22021' || pg.code === '22P04')
      throw new ServiceError('statement-unreadable', `the CSV cannot be read: ${pg.message?.slice(0, 200)}`);
    throw error;
  } finally {
    // Left early (a refusal): the rest of the upload is not read.
    await reader.cancel().catch(() => {});
  }
}

interface Head {
  header: string[];
  plan: Plan;
  delimiter: string;
  scanner: CsvRecordScanner;
  /** The bytes read so far, and where the records after the header start in them. */
  prefix: Uint8Array;
  from: number;
  done: boolean;
}

/** Reads the file up to its header (the layout's HeaderSearch over the first records). */
async function readHead(reader: ReadableStreamDefaultReader<Uint8Array>, layout: StatementLayout): Promise<Head> {
  let prefix: Uint8Array = new Uint8Array(0);
  let done = false;
  const more = async () => {
    const next = await reader.read();
    if (next.done) done = true;
    else prefix = concat(prefix, next.value);
    if (prefix.byteLength > HEAD_LIMIT_BYTES) {
      throw new ServiceError('statement-unreadable', `the file has no header in its first ${HEAD_LIMIT_BYTES / 1024 / 1024} MB`);
    }
  };
  // The delimiter is read from the first line.
  while (!done && !prefix.includes(0x0a) && !prefix.includes(0x0d)) await more();
  let from = UTF8_BOM.every((b, i) => prefix[i] === b) ? 3 : 0;
  const firstLine = new TextDecoder().decode(prefix.subarray(from)).split(/\r\n|\n|\r/, 1)[0] ?? '';
  const delimiter = sniffDelimiter(firstLine);
  const scanner = new CsvRecordScanner(delimiter.charCodeAt(0));
  const search = new HeaderSearch(layout);
  for (;;) {
    const { records, end } = scanner.head(prefix, from, 1, done);
    // Past what was read, even when no record was complete (the LF of a CR LF is consumed once).
    from = end;
    if (records.length === 0) {
      if (done) search.end();
      await more();
      continue;
    }
    const plan = search.offer(records[0]!.cells);
    if (plan) return { header: records[0]!.cells, plan, delimiter, scanner, prefix, from, done };
  }
}

/**
 * A `COPY … FROM STDIN` on the transaction's connection: its stream, and `ended`, which settles
 * when PostgreSQL has taken it all or refused it. postgres.js 3.4 resolves a COPY's query with its
 * stream; an error PostgreSQL sends once the stream has ended (a COPY refused at its end) reaches
 * only the query's `reject` — the promise already settled — and the stream gets no event at all:
 * it is caught here instead, where waiting for the stream alone would wait for ever.
 */
export async function openCopyIn(sql: CopySql, text: string): Promise<{ stream: CopyStream; ended: Promise<void> }> {
  const query = sql.unsafe(text);
  const refused = new Promise<never>((_, reject) => {
    const settles = query as unknown as { reject?: (error: Error) => void };
    const original = settles.reject;
    settles.reject = (error) => {
      reject(error);
      original?.(error);
    };
  });
  const stream = await query.writable();
  const ended = Promise.race([
    new Promise<void>((resolve, reject) => {
      stream.once('finish', resolve);
      stream.once('error', reject);
    }),
    refused,
  ]);
  ended.catch(() => {});
  return { stream, ended };
}

/** The records after the header, through COPY, with the stream's backpressure. */
async function copyRecords(
  sql: CopySql,
  head: Head,
  collect: { columns: number[]; limit: number; texts: number[]; transaction: number | undefined },
  reader: ReadableStreamDefaultReader<Uint8Array>,
  onProgress?: (progress: { lines: number }) => void,
) {
  const delimiter = head.delimiter === '\t' ? `E'\\t'` : `'${head.delimiter}'`;
  const copy = await openCopyIn(sql, `COPY statement_raw FROM STDIN (FORMAT csv, DELIMITER ${delimiter})`);
  const { stream } = copy;
  let failure: Error | undefined;
  const settled = copy.ended.catch((error: Error) => {
    failure = error;
    throw error;
  });
  settled.catch(() => {});
  const { scanner } = head;
  scanner.startCopy(head.header.length, collect.columns, collect.limit, collect.texts, collect.transaction);
  const send = async (chunk: Uint8Array) => {
    if (failure) throw failure;
    if (chunk.byteLength > 0) stream.write(chunk);
    if (stream.writableLength > COPY_BUFFER_BYTES) {
      await Promise.race([
        new Promise<void>((resolve) => stream.once('drain', resolve)),
        settled.then(() => {
          throw new Error('the COPY ended early');
        }),
      ]);
    }
  };
  try {
    await send(scanner.copy(head.prefix, head.from));
    if (!head.done) {
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        await send(scanner.copy(next.value));
        onProgress?.({ lines: scanner.records });
      }
    }
    await send(scanner.finish());
    stream.end();
    await settled;
  } catch (error) {
    stream.destroy(error instanceof Error ? error : new Error(String(error)));
    await settled.catch(() => {});
    throw error;
  }
  onProgress?.({ lines: scanner.records });
}

/** A set's texts a page at a time. */
function* pages(texts: Set<string>): Iterable<string[]> {
  let page: string[] = [];
  for (const text of texts) {
    page.push(text);
    if (page.length === VALUES_PAGE) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

/**
 * The columns' distinct texts ('' for none), asked of the staged cells and read a page at a
 * time (kept numbered in a table of their own: the connection runs the readings' INSERTs between
 * pages, which an open cursor would hold up).
 */
async function* distinctTexts(sql: CopySql, columns: number[]): AsyncIterable<string[]> {
  await sql.unsafe(`CREATE TEMP TABLE statement_values ON COMMIT DROP AS
    SELECT row_number() OVER () AS ord, raw
    FROM (SELECT DISTINCT raw FROM (${columns.map((i) => `SELECT coalesce(r.c${i}, '') AS raw FROM statement_raw r`).join(' UNION ALL ')}) x) d`);
  await sql.unsafe('CREATE INDEX ON statement_values (ord)');
  let last = 0;
  for (;;) {
    const page = await sql.unsafe(`SELECT ord, raw FROM statement_values WHERE ord > $1 ORDER BY ord LIMIT ${VALUES_PAGE}`, [last]);
    if (page.length === 0) break;
    yield page.map((row) => String(row.raw));
    last = Number(page[page.length - 1]!.ord);
  }
  await sql.unsafe('DROP TABLE statement_values');
}

/** Reads each text once by the layout's rules and writes the readings into the dictionary. */
async function writeReadings(
  sql: CopySql,
  layout: StatementLayout,
  plan: Plan,
  kind: Kind,
  texts: AsyncIterable<string[]> | Iterable<string[]>,
) {
  const readers = cellReaders(layout, plan);
  const read: (raw: string) => CellRead<unknown> | MoneyRead = readers[kind];
  for await (const page of texts) {
    const readings = page.map((raw) => {
      const r = read(raw);
      const v = r.value;
      return {
        raw,
        amount: typeof v === 'number' ? v : null,
        instant: v instanceof Date ? v.toISOString() : null,
        word: typeof v === 'string' ? v : null,
        reason: r.reason,
        absent: 'absent' in r ? r.absent : null,
      };
    });
    await sql.unsafe(
      `INSERT INTO statement_dictionary SELECT $1, x.* FROM json_to_recordset($2::text::json)
         AS x(raw text, amount bigint, instant timestamptz, word text, reason text, absent boolean)`,
      [kind, JSON.stringify(readings)],
    );
  }
}

/**
 * The one INSERT … SELECT making the lines from the staged cells and their readings ($1 the
 * statement): `readLine` (statement-format.ts) in SQL.
 */
function insertLines(layout: StatementLayout, plan: Plan, columns: number): string {
  const format = layout.kind === 'format' ? layout.format : undefined;
  const cell = (i: number | undefined) => (i === undefined ? 'NULL' : `r.c${i}`);
  // readText: NFC unless plain ASCII, trimmed as JavaScript trims, at most 1,000 characters, null
  // when blank. A record the scanner found plain (its texts printable ASCII, untrimmed, short,
  // unquoted: nearly every line of a gateway's file) keeps them as they are; otherwise plain ASCII
  // has only ASCII spaces to trim (the multibyte set costs twice as much).
  const text = (i: number | undefined) =>
    i === undefined
      ? 'NULL::text'
      : `CASE WHEN r.plain = 1 THEN ${cell(i)}
              ELSE nullif(left(CASE WHEN octet_length(${cell(i)}) = char_length(${cell(i)}) THEN btrim(${cell(i)}, ${ASCII_SPACES})
                                    ELSE btrim(normalize(${cell(i)}, NFC), ${SPACES}) END, 1000), '') END`;
  const join = (alias: string, kind: Kind, i: number | undefined) =>
    i === undefined
      ? ''
      : `LEFT JOIN statement_dictionary ${alias} ON ${alias}.kind = '${kind}' AND ${alias}.raw = coalesce(${cell(i)}, '')`;
  const baseDirection = format?.direction ? `'${format.direction}'` : 'NULL::text';
  let amount: string;
  let amountReason: string;
  let direction: string;
  if (plan.amount !== undefined) {
    amount = 'm.amount';
    amountReason = 'm.reason';
    direction = baseDirection;
  } else {
    // A bank's statement: one column for money out (Ghi nợ), one for money in (Ghi có).
    amount = `CASE WHEN md.absent <> mc.absent THEN (CASE WHEN md.absent THEN mc.amount ELSE md.amount END) END`;
    amountReason = `CASE WHEN NOT md.absent AND NOT mc.absent THEN 'both debit and credit are given'
                         WHEN md.absent AND mc.absent THEN 'amount is missing (neither debit nor credit)'
                         WHEN md.absent THEN mc.reason ELSE md.reason END`;
    direction = `CASE WHEN md.absent <> mc.absent THEN (CASE WHEN md.absent THEN 'credit' ELSE 'debit' END) ELSE ${baseDirection} END`;
  }
  if (plan.direction !== undefined) direction = `coalesce(dw.word, ${direction})`;
  const reasons = [
    amountReason,
    plan.time !== undefined ? 'tm.reason' : undefined,
    plan.direction !== undefined ? 'dw.reason' : undefined,
    plan.status !== undefined ? 'sw.reason' : undefined,
    format?.requiresTransaction ? `CASE WHEN t.txn IS NULL AND t.ref IS NULL THEN '${NAMES_NO_TRANSACTION}' END` : undefined,
  ].filter(Boolean);
  // A row is a line unless every cell is blank (the cut part of a long row included): the scanner
  // saw visible ASCII (ink 2), nothing (0), or only other letters, which may be Unicode spaces (1).
  const blank = Array.from({ length: columns }, (_, i) => `coalesce(btrim(r.c${i}, ${SPACES}), '') = ''`).join(' AND ');
  return `
    INSERT INTO statement_lines (statement_id, line_no, transaction_id, reference, amount, occurred_at, text, direction, status, error)
    SELECT $1::uuid, r.line_no, t.txn, t.ref, ${amount}, ${plan.time !== undefined ? 'tm.instant' : 'NULL::timestamptz'},
           t.text, ${direction}, ${plan.status !== undefined ? 'sw.word' : 'NULL::text'},
           nullif(concat_ws('; ', ${reasons.join(', ')}), '')
    FROM statement_raw r
    CROSS JOIN LATERAL (SELECT ${text(plan.transactionId)} AS txn, ${text(plan.reference)} AS ref, ${text(plan.text)} AS text) t
    ${join('m', 'money', plan.amount)}
    ${join('md', 'money', plan.debit)}
    ${join('mc', 'money', plan.credit)}
    ${join('tm', 'time', plan.time)}
    ${join('dw', 'direction', plan.direction)}
    ${join('sw', 'status', plan.status)}
    WHERE r.ink = 2 OR (r.ink = 1 AND NOT (${blank}))`;
}

/** The statement's totals, from its lines (`l`, those the INSERT returns). A day's totals count money that moved (as writeLines counts them on the other path). */
const TOTALS = `
  SELECT count(*) AS total, count(*) FILTER (WHERE error IS NULL) AS imported, count(*) FILTER (WHERE error IS NOT NULL) AS rejected,
         coalesce(sum(amount) FILTER (WHERE error IS NULL AND (status IS NULL OR status IN ('paid', 'refunded')) AND direction = 'credit'), 0) AS credit,
         coalesce(sum(amount) FILTER (WHERE error IS NULL AND (status IS NULL OR status IN ('paid', 'refunded')) AND direction = 'debit'), 0) AS debit,
         count(*) FILTER (WHERE ${countedLineText('l')}) AS counted,
         coalesce(sum(amount) FILTER (WHERE error IS NULL AND NOT ${countedLineText('l')}), 0) AS ignored
  FROM l`;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
