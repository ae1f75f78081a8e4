import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import ExcelJS from 'exceljs';
import type { Cell } from '../domain/statement-values.ts';
import type { SpreadsheetRow, Spreadsheets } from '../services/spreadsheets.ts';

/** A cell as the statement reader takes it: formulas by their result, rich text as its text. */
function cellOf(value: ExcelJS.CellValue): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value;
  if (typeof value === 'object') {
    if ('richText' in value) return value.richText.map((part) => part.text).join('');
    if ('result' in value) return cellOf((value.result ?? null) as ExcelJS.CellValue);
    if ('text' in value) return cellOf(value.text as ExcelJS.CellValue);
    if ('error' in value) return String(value.error);
  }
  return String(value);
}

/** Spreadsheets read with exceljs's streaming reader (WorkbookReader): one row in memory at a time. */
export function createNodeSpreadsheets(): Spreadsheets {
  return {
    async *readRows(body: ReadableStream<Uint8Array>): AsyncIterable<SpreadsheetRow> {
      const input = Readable.fromWeb(body as NodeReadableStream<Uint8Array>);
      // exceljs pipes the input into its unzipper, and a pipe does not pass errors on: an error of
      // the upload (too large, cut off) would leave the reader waiting for ever. Every step races it.
      let fail: (error: unknown) => void = () => {};
      const failed = new Promise<never>((_, reject) => {
        fail = reject;
      });
      failed.catch(() => {});
      input.on('error', (error) => fail(error));
      const step = <T>(next: Promise<T>) => Promise.race([next, failed]);
      // Styles are needed to tell a date cell from a number; shared strings are one table per file.
      const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, {
        worksheets: 'emit',
        sharedStrings: 'cache',
        styles: 'cache',
        hyperlinks: 'ignore',
        entries: 'ignore',
      });
      let first = true;
      const sheets = reader[Symbol.asyncIterator]();
      for (let sheet = await step(sheets.next()); !sheet.done; sheet = await step(sheets.next())) {
        const rows = sheet.value[Symbol.asyncIterator]();
        for (let row = await step(rows.next()); !row.done; row = await step(rows.next())) {
          if (!first) continue;
          const values = row.value.values as ExcelJS.CellValue[];
          // exceljs's row.values is 1-based (index 0 is empty).
          yield { number: row.value.number, cells: values.slice(1).map(cellOf) };
        }
        // The first sheet is the statement; the others are read through, not kept, so that every
        // byte of the file reaches its content hash.
        first = false;
      }
      if (!input.readableEnded) {
        input.resume();
        await step(new Promise<void>((resolve) => input.once('end', resolve).once('close', resolve)));
      }
    },
  };
}
