import type { Cell } from '../domain/statement-values.ts';

/** One row of a sheet: its number (1-based, as the spreadsheet shows it) and its cells, column A first. */
export interface SpreadsheetRow {
  number: number;
  cells: Cell[];
}

/**
 * Spreadsheets (XLSX), behind a port: the library that reads them (exceljs) is Node's only, so
 * the Node entry and the tests inject it (src/node/spreadsheets.ts) and Workers runs without one
 * (an XLSX upload there answers 415; CSV works everywhere).
 */
export interface Spreadsheets {
  /**
   * The rows of the workbook's first sheet, streamed: a row at a time, whatever the file's size
   * (shared strings aside, which the format keeps in one table).
   */
  readRows(body: ReadableStream<Uint8Array>): AsyncIterable<SpreadsheetRow>;
}
