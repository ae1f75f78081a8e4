import { stringify } from 'csv-stringify/browser/esm/sync';
import type { Context } from 'hono';
import { type SheetCell, type SheetSpec, type Spreadsheets, spreadsheetsOrRefuse, XLSX_CONTENT_TYPE } from '../services/spreadsheets.ts';

/**
 * Report downloads, one convention for all (the campaign's, the treasury's collections): CSV for
 * machines — UTF-8 with a byte-order mark (Excel then reads Vietnamese right), comma-separated,
 * ISO dates, plain numbers (integers for đồng, fractions with a point for rates), text that looks
 * like a formula defused — and XLSX for people, through the host's spreadsheet writer (real dates,
 * number formats, Vietnamese headers, the header row frozen). CSV is written with csv-stringify
 * (its browser ESM build: Web-standard, so Workers serve CSV too).
 */

/** A `yyyy-mm-dd` calendar date as a spreadsheet date (midnight UTC: spreadsheet dates have no zone). */
export const calendarDate = (isoDate: string): Date => new Date(`${isoDate}T00:00:00Z`);

function csvValue(cell: SheetCell, format: string | undefined): string | number | boolean | null {
  if (cell === null) return null;
  if (cell instanceof Date) return format === 'datetime' ? cell.toISOString() : cell.toISOString().slice(0, 10);
  if (typeof cell === 'object') return cell.value;
  return cell;
}

/** One sheet as CSV: its header, then its rows. */
export function csvOf(sheet: SheetSpec): string {
  const rows = sheet.rows.map((row) => row.map((cell, i) => csvValue(cell, sheet.columns[i]?.format)));
  return stringify([sheet.columns.map((c) => c.header), ...rows], { bom: true, record_delimiter: 'windows', escape_formulas: true });
}

/** The download headers: named, never cached. */
function attachment(c: Context, fileName: string) {
  c.header('cache-control', 'no-store');
  c.header('content-disposition', `attachment; filename="${fileName}"`);
}

export function csvResponse(c: Context, fileName: string, sheet: SheetSpec): Response {
  attachment(c, `${fileName}.csv`);
  return c.body(csvOf(sheet), 200, { 'content-type': 'text/csv; charset=utf-8' });
}

/** XLSX through the host's writer; 406 (before any header is set) where there is none. */
export async function xlsxResponse(
  c: Context,
  spreadsheets: Spreadsheets | undefined,
  fileName: string,
  sheets: SheetSpec[],
  created: Date,
): Promise<Response> {
  const writer = spreadsheetsOrRefuse(spreadsheets);
  const bytes = await writer.write({ sheets, created });
  attachment(c, `${fileName}.xlsx`);
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': XLSX_CONTENT_TYPE });
}
