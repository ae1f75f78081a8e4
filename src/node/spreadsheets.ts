import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type ExcelJS from 'exceljs';
import type { Cell } from '../domain/statement-values.ts';
import type { ColumnFormat, SheetCell, SheetSpec, SpreadsheetRow, Spreadsheets, WorkbookSpec } from '../services/spreadsheets.ts';

/**
 * The spreadsheet port on Node, with ExcelJS (maintained, MIT; Node-only here: it needs Node
 * streams). Its streaming WorkbookWriter writes each row as it is committed, so a report's memory
 * is its rows' JSON and the zip, never a whole in-memory object model.
 */

/** ExcelJS is loaded at the first workbook, not at the hub's start (it takes half a second to load, and most starts write none). */
let loaded: Promise<typeof ExcelJS> | undefined;
const excel = () => {
  loaded ??= import('exceljs').then((m) => m.default);
  return loaded;
};

/** Excel number formats of each column format (a format string is what the file stores). */
const NUMBER_FORMATS: Record<ColumnFormat, string | undefined> = {
  text: '@',
  integer: '#,##0',
  vnd: '#,##0',
  decimal: '#,##0.00',
  percent: '0.00%',
  date: 'dd/mm/yyyy',
  datetime: 'dd/mm/yyyy hh:mm',
};

function cellValue(cell: SheetCell): ExcelJS.CellValue {
  if (cell === null) return null;
  if (typeof cell === 'object' && !(cell instanceof Date)) return Number.isFinite(cell.value) ? cell.value : null;
  if (typeof cell === 'number' && !Number.isFinite(cell)) return null;
  return cell;
}

function writeSheet(workbook: ExcelJS.stream.xlsx.WorkbookWriter, spec: SheetSpec): void {
  const sheet = workbook.addWorksheet(spec.name.replace(/[[\]:*?/\\]/g, ' ').slice(0, 31), {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  sheet.columns = spec.columns.map((c, i) => ({
    key: String(i),
    width: c.width ?? Math.max(10, Math.min(60, c.header.length + 2)),
    // Column styles: what a value typed in later is shown as, too.
    style: c.format && c.format !== 'text' ? { numFmt: NUMBER_FORMATS[c.format] } : {},
  }));
  const header = sheet.getRow(1);
  header.values = spec.columns.map((c) => c.header);
  header.font = { bold: true };
  header.alignment = { vertical: 'middle', wrapText: true };
  header.commit();
  const rows = spec.footer ? [...spec.rows, spec.footer] : spec.rows;
  rows.forEach((cells, r) => {
    const row = sheet.getRow(r + 2);
    cells.forEach((cell, i) => {
      const target = row.getCell(i + 1);
      target.value = cellValue(cell);
      const own = typeof cell === 'object' && cell !== null && !(cell instanceof Date) ? cell.format : undefined;
      const format = own ?? spec.columns[i]?.format;
      // Text in a number column (a label row) keeps the text format; numbers and dates get theirs.
      if (format && typeof target.value !== 'string' && target.value !== null) target.numFmt = NUMBER_FORMATS[format]!;
    });
    if (spec.footer && r === spec.rows.length) row.font = { bold: true };
    row.commit();
  });
  sheet.commit();
}

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

/** Written with the streaming WorkbookWriter, read with the streaming WorkbookReader (one row in memory at a time). */
export function createSpreadsheets(): Spreadsheets {
  return {
    async write(spec: WorkbookSpec): Promise<Uint8Array> {
      const stream = new PassThrough();
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      const done = new Promise<void>((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      const workbook = new (await excel()).stream.xlsx.WorkbookWriter({ stream, useStyles: true, useSharedStrings: false });
      workbook.creator = spec.creator ?? 'fee-payment-hub';
      workbook.created = spec.created ?? new Date();
      for (const sheet of spec.sheets) writeSheet(workbook, sheet);
      await workbook.commit();
      await done;
      const bytes = Buffer.concat(chunks);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
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
      const reader = new (await excel()).stream.xlsx.WorkbookReader(input, {
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
