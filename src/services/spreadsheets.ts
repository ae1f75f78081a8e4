/**
 * Writing (and, for statement import, reading) spreadsheets is a port: the maintained library
 * (ExcelJS) is Node-only, so the Node entry and the tests pass an implementation
 * (src/node/spreadsheets.ts) and Workers pass none — there a report answers CSV and JSON, and
 * `format=xlsx` is refused with 406 (`spreadsheetsOrRefuse`).
 */
import type { Cell } from '../domain/statement-values.ts';
import { ServiceError } from './errors.ts';

/** One row of a sheet read: its number (1-based, as the spreadsheet shows it) and its cells, column A first. */
export interface SpreadsheetRow {
  number: number;
  cells: Cell[];
}

/**
 * How a column's numbers and dates are shown. `vnd`: whole đồng with thousands separators;
 * `integer`: a count; `percent`: a fraction (0.25) shown as 25.00 %; `date`: a calendar date
 * (dd/mm/yyyy), `datetime`: with the time.
 */
export type ColumnFormat = 'text' | 'integer' | 'vnd' | 'decimal' | 'percent' | 'date' | 'datetime';

/**
 * A cell: text, a number or a date (a real spreadsheet value, shown in its column's format), or a
 * number with its own format (a percentage in a column of counts). `yyyy-mm-dd` dates are passed
 * as `Date`s at midnight UTC: spreadsheet dates have no time zone.
 */
export type SheetCell = string | number | Date | boolean | null | { value: number; format: ColumnFormat };

export interface SheetColumn {
  /** The header (the first row: bold, frozen). */
  header: string;
  /** Width in characters. */
  width?: number;
  format?: ColumnFormat;
}

export interface SheetSpec {
  /** The tab's name (at most 31 characters, none of []:*?/\). */
  name: string;
  columns: SheetColumn[];
  rows: SheetCell[][];
  /**
   * A totals row under the rows, in bold: the workbook a person reads. A CSV is data for other
   * programs and leaves it out (a program summing the column would count everything twice).
   */
  footer?: SheetCell[];
}

export interface WorkbookSpec {
  sheets: SheetSpec[];
  /** The workbook's creation time (document properties). */
  created?: Date;
  creator?: string;
}

export interface Spreadsheets {
  /** The workbook as XLSX bytes. */
  write(workbook: WorkbookSpec): Promise<Uint8Array>;
  /**
   * The rows of the workbook's first sheet, streamed: a row at a time, whatever the file's size
   * (shared strings aside, which the format keeps in one table). An XLSX statement upload without
   * a reader (Workers) answers 415; CSV works everywhere.
   */
  readRows(body: ReadableStream<Uint8Array>): AsyncIterable<SpreadsheetRow>;
}

export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The host's spreadsheet writer, or 406 where there is none (Workers): CSV and JSON still serve. */
export function spreadsheetsOrRefuse(spreadsheets: Spreadsheets | undefined): Spreadsheets {
  if (!spreadsheets) {
    throw new ServiceError(
      'not-acceptable',
      'this hub cannot write XLSX here (it runs without a spreadsheet writer); ask for format=csv or format=json',
    );
  }
  return spreadsheets;
}
