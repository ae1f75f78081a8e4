/**
 * A CSV statement's lines, read in one pass over its bytes (issue 11's benchmark: import and
 * matching within 5× a plain COPY of the file). csv-records.ts finds the records and their cells
 * in the bytes (quote state, line numbers, the header's number of fields); each record becomes
 * its line through the same `lineReader` as every other file (statement-format.ts), whose readers
 * remember their readings (a day's file repeats a few hundred amounts, at most 86,400 times and a
 * handful of words). Lines come out a batch per chunk of the file, for the import's sink (COPY on
 * a server, batched INSERTs on PGlite).
 *
 * csv-parse, the maintained parser, read the same million-line file in 3.5 s before a single line
 * was made of it (BENCHMARKS.md): this scanner does it in a fraction, and
 * test/db/statement-copy.test.ts holds its lines to csv-parse's, file by file.
 */
import { isBlank } from '../domain/statement-values.ts';
import { HeaderSearch, lineReader, type Plan, type StatementLayout, type StatementLine } from '../gateways/statement-format.ts';
import { CsvRecordScanner } from './csv-records.ts';
import { ServiceError } from './errors.ts';
import { concatBytes, sniffDelimiter } from './statement-files.ts';

/** A header not found in this many bytes is not there (the search also stops after 30 rows). */
const HEAD_LIMIT_BYTES = 4 * 1024 * 1024;
const UTF8_BOM = [0xef, 0xbb, 0xbf];

/** The file's lines, a batch per chunk read. Throws StatementLayoutError when no header is found. */
export async function* csvStatementLines(layout: StatementLayout, bytes: ReadableStream<Uint8Array>): AsyncGenerator<StatementLine[]> {
  const reader = bytes.getReader();
  try {
    const head = await readHead(reader, layout);
    const { plan, scanner } = head;
    const read = lineReader(layout, plan);
    let batch: StatementLine[] = [];
    const repeating = [plan.amount, plan.debit, plan.credit, plan.time, plan.direction, plan.status];
    const texts = [plan.transactionId, plan.reference, plan.text];
    scanner.startLines(
      head.header.length,
      {
        record(lineNo, cells, ink, plain, beyond) {
          // A row of blank cells is no line (ink 0: ASCII whitespace only; 1: maybe Unicode spaces).
          if (ink === 0 || (ink === 1 && cells.every(isBlank) && isBlank(beyond()))) return;
          batch.push(read(lineNo, cells, plain));
        },
      },
      repeating.filter((i): i is number => i !== undefined),
      texts.filter((i): i is number => i !== undefined),
    );
    const take = () => {
      const lines = batch;
      batch = [];
      return lines;
    };
    scanner.scan(head.prefix, head.from);
    if (batch.length > 0) yield take();
    if (!head.done) {
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        scanner.scan(next.value);
        if (batch.length > 0) yield take();
      }
    }
    scanner.finish();
    if (batch.length > 0) yield take();
  } finally {
    // Left early (a refusal, a failed write): the rest of the upload is not read.
    await reader.cancel().catch(() => {});
  }
}

interface Head {
  header: string[];
  plan: Plan;
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
    else prefix = concatBytes([prefix, next.value]);
    if (prefix.byteLength > HEAD_LIMIT_BYTES) {
      throw new ServiceError('statement-unreadable', `the file has no header in its first ${HEAD_LIMIT_BYTES / 1024 / 1024} MB`);
    }
  };
  // The delimiter is read from the first line.
  while (!done && !prefix.includes(0x0a) && !prefix.includes(0x0d)) await more();
  let from = UTF8_BOM.every((b, i) => prefix[i] === b) ? 3 : 0;
  const firstLine = new TextDecoder().decode(prefix.subarray(from)).split(/\r\n|\n|\r/, 1)[0] ?? '';
  const scanner = new CsvRecordScanner(sniffDelimiter(firstLine).charCodeAt(0));
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
    if (plan) return { header: records[0]!.cells, plan, scanner, prefix, from, done };
  }
}
