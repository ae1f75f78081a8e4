/**
 * The rows of a CSV file as csv-parse — the maintained parser — reads them, numbered by the line
 * each starts on (the header is line 1): the oracle the hub's own scanner (src/services/csv-lines.ts,
 * which the import uses for speed) is held to, file by file.
 */
import { parse as parseCsv } from 'csv-parse/stream';
import type { Cell } from '../../src/domain/statement-values.ts';
import type { NumberedRow } from '../../src/gateways/statement-format.ts';
import { ServiceError } from '../../src/services/errors.ts';
import { concatBytes, sniffDelimiter } from '../../src/services/statement-files.ts';

const FIRST_LINE_LIMIT = 64 * 1024;

/** The rows of a CSV file, numbered by the line each starts on (the header is line 1). */
export async function* csvRows(bytes: ReadableStream<Uint8Array>): AsyncGenerator<NumberedRow> {
  // The delimiter is read from the first line, so the first chunks wait until one is complete.
  const reader = bytes.getReader();
  const prefix: Uint8Array[] = [];
  let prefixBytes = 0;
  let done = false;
  while (!done && prefixBytes < FIRST_LINE_LIMIT) {
    const next = await reader.read();
    if (next.done) {
      done = true;
      break;
    }
    prefix.push(next.value);
    prefixBytes += next.value.byteLength;
    if (next.value.includes(0x0a) || next.value.includes(0x0d)) break;
  }
  const headText = new TextDecoder().decode(concatBytes(prefix));
  const delimiter = sniffDelimiter(headText.split(/\r\n|\n|\r/, 1)[0] ?? '');
  const rest = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of prefix) controller.enqueue(chunk);
      if (done) controller.close();
    },
    async pull(controller) {
      if (done) return;
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  // No `info`: csv-parse's per-record info objects cost 40 % of its time; the line numbers are
  // counted here instead, from the line breaks inside the (rare) quoted fields that span lines.
  const parser = parseCsv({
    bom: true,
    delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    skip_empty_lines: false,
  });
  // Fed a chunk at a time, each write awaited: csv-parse's stream queues up to 1,024 chunks on its
  // writable side, which piping would fill (64 MB of 64 KB chunks); this way at most one waits.
  const writer = parser.writable.getWriter();
  const feeding = (async () => {
    try {
      for await (const chunk of iterate(rest)) await writer.write(chunk);
      await writer.close();
    } catch (error) {
      await writer.abort(error).catch(() => {});
    }
  })();
  const records = parser.readable as ReadableStream<string[]>;
  let previousEnd = 0;
  let completed = false;
  try {
    for await (const record of iterate(records)) {
      yield { lineNo: previousEnd + 1, cells: record as Cell[] };
      previousEnd += 1 + lineBreaksIn(record);
    }
    completed = true;
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ServiceError('statement-unreadable', `the CSV cannot be read past line ${previousEnd + 1}: ${message.slice(0, 200)}`);
  } finally {
    // Left early (the reader refused the file): stop the parser, so that the feeding loop ends.
    if (!completed) await records.cancel().catch(() => {});
    await feeding;
  }
}

/** A web stream as an async iterable (TypeScript's DOM types lack ReadableStream's own). */
async function* iterate<T>(stream: ReadableStream<T>): AsyncGenerator<T> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    reader.releaseLock();
  }
}

const LINE_BREAK = /\r\n|\r|\n/g;

/** The line breaks inside a record's fields (a quoted field may span lines). */
function lineBreaksIn(record: string[]): number {
  let breaks = 0;
  for (const field of record) {
    if (field.includes('\n') || field.includes('\r')) breaks += field.match(LINE_BREAK)!.length;
  }
  return breaks;
}
