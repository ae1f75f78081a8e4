/**
 * A catalogue file (`POST /v1/catalogue/imports`) read into procedures and fee rules: CSV (the
 * hub's own CSV scanner, as for statements) or XLSX (the host's spreadsheet reader), a header row
 * naming the columns, then one row per fee rule. Every cell that cannot be read is an error of its
 * row and column, never a guess; catalogue-import.ts plans and applies what the rows say.
 */
import { z } from 'zod';
import { type AgencyLevel, agencyLevels } from '../db/schema/agencies.ts';
import { feeAdjustmentSchema, feeFormulaSchema, roundingRuleSchema } from '../domain/fees.ts';
import type { Cell } from '../domain/statement-values.ts';
import { checkRule, type FeeRuleInput, type ProcedureInput } from './catalogue.ts';
import type { ServiceContext } from './context.ts';
import { CsvRecordScanner } from './csv-records.ts';
import { ServiceError } from './errors.ts';
import { concatBytes, sniffDelimiter } from './statement-files.ts';

/** A catalogue file is small (the province's catalogue is a few thousand rows at most). */
export const CATALOGUE_FILE_MAX_BYTES = 5 * 1024 * 1024;
const MAX_ROWS = 10_000;
/** The file's columns (header names, any order, any case), what each holds: the route's and README's documentation. */
export const CATALOGUE_COLUMNS = [
  ['procedureCode', 'required on every row: the national procedure code (1.001612)'],
  ['procedureName', "the procedure's name (required for a new procedure)"],
  ['field', 'its field (lĩnh vực; required for a new procedure)'],
  ['level', 'its level as the national database words it (xã, tỉnh; required for a new procedure)'],
  ['receivingLevels', 'the agency levels that receive it (province, department, district, commune, unit), separated by `;`'],
  ['receivingUnits', 'the agency codes that receive it (with the units under them), separated by `;`'],
  ['integratedOnlinePayment', 'true/false (also 1/0, có/không)'],
  ['dataConfidence', 'confirmed, secondary or unconfirmed'],
  ['note', 'free text'],
  ['feeCode', 'the fee line: empty on a row that only gives the procedure'],
  ['kind', 'phi or le_phi'],
  ['feeName', "the fee line's name"],
  ['lineNo', 'its order on the dossier (1 by default)'],
  ['formula', 'JSON, as in the API: {"type":"fixed","amount":135000}, per_unit, percentage (with rateCases), table, exempt'],
  ['adjustments', 'JSON list of adjustments, as in the API ([] by default)'],
  ['rounding', 'JSON, {"mode":"half_up","unit":1} by default'],
  ['validFrom', 'the first day the rule prices dossiers (yyyy-mm-dd or dd/mm/yyyy); with feeCode, it names the rule'],
  ['validTo', 'its last day, or empty: open'],
  ['legalBasis', 'the circular or decree'],
  ['collectionAccount', 'where the money goes (text)'],
  ['budgetChapter', 'mã chương, 3 digits'],
  ['budgetSubItem', 'tiểu mục, 4 digits'],
  ['budgetAccount', '7111 or a temporary-collection account, 4 digits'],
  ['retainedPercent', 'the share of a phí the agency keeps, e.g. 30 or 12.5'],
  ['budgetCodesDemo', 'true when the budget codes are demo values'],
  ['setByProvince', "true when the amount is the provincial People's Council's"],
] as const;
type Column = (typeof CATALOGUE_COLUMNS)[number][0];
const COLUMN_NAMES = CATALOGUE_COLUMNS.map(([name]) => name) as Column[];

/** A cell that clears a value an existing procedure or rule has (a blank cell leaves it as it is). */
const CLEAR = '-';

export interface ImportRowError {
  /** The row as the spreadsheet numbers it (the header is row 1); null: the file as a whole. */
  row: number | null;
  column: string | null;
  message: string;
}

export interface CatalogueFile {
  name?: string;
  format: 'csv' | 'xlsx';
  body: ReadableStream<Uint8Array>;
}

// ── Reading the file ────────────────────────────────────────────────────────────────────

const fileProblem = (message: string) => new ServiceError('validation-failed', message, [{ path: 'file', message }]);

export async function readAll(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      size += next.value.byteLength;
      if (size > CATALOGUE_FILE_MAX_BYTES)
        throw new ServiceError('payload-too-large', `a catalogue file is at most ${CATALOGUE_FILE_MAX_BYTES} bytes`);
      chunks.push(next.value);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return concatBytes(chunks);
}

interface Row {
  number: number;
  cells: Cell[];
}

const ZIP = [0x50, 0x4b, 0x03, 0x04];
const UTF8_BOM = [0xef, 0xbb, 0xbf];

export function csvRows(bytes: Uint8Array): Row[] {
  if (ZIP.every((b, i) => bytes[i] === b)) throw new ServiceError('unsupported-media-type', 'the file is a workbook (XLSX), not CSV text');
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw fileProblem('the file is not UTF-8 text: save it as "CSV UTF-8"');
  }
  const from = UTF8_BOM.every((b, i) => bytes[i] === b) ? 3 : 0;
  const firstLine = new TextDecoder().decode(bytes.subarray(from, from + 64 * 1024)).split(/\r\n|\n|\r/, 1)[0] ?? '';
  const scanner = new CsvRecordScanner(sniffDelimiter(firstLine).charCodeAt(0));
  try {
    return scanner.head(bytes, from, MAX_ROWS + 100, true).records.map((r) => ({ number: r.lineNo, cells: r.cells }));
  } catch (error) {
    if (error instanceof ServiceError) throw fileProblem(error.message);
    throw error;
  }
}

export async function xlsxRows(ctx: ServiceContext, bytes: Uint8Array): Promise<Row[]> {
  if (!ZIP.every((b, i) => bytes[i] === b)) {
    throw new ServiceError(
      'unsupported-media-type',
      'the file is not an XLSX workbook (an .xls of old Excel is not read: save it as .xlsx or CSV)',
    );
  }
  if (!ctx.spreadsheets) {
    throw new ServiceError(
      'unsupported-media-type',
      'this hub reads no XLSX files here (no spreadsheet reader on this runtime): send the catalogue as CSV UTF-8',
    );
  }
  const rows: Row[] = [];
  try {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    for await (const row of ctx.spreadsheets.readRows(body)) {
      rows.push({ number: row.number, cells: row.cells });
      if (rows.length > MAX_ROWS + 100) break;
    }
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    throw fileProblem(`the workbook cannot be read: ${(error instanceof Error ? error.message : String(error)).slice(0, 200)}`);
  }
  return rows;
}

const blank = (cell: Cell) => cell === null || cell === undefined || (typeof cell === 'string' && cell.trim() === '');

/** A cell as text (trimmed; a date cell as its yyyy-mm-dd); undefined when blank. */
function text(cell: Cell): string | undefined {
  if (blank(cell)) return undefined;
  if (cell instanceof Date) return cell.toISOString().slice(0, 10);
  return String(cell).normalize('NFC').trim();
}

// ── Reading a row ───────────────────────────────────────────────────────────────────────

export class RowErrors {
  readonly list: ImportRowError[] = [];
  add(row: number | null, column: string | null, message: string) {
    this.list.push({ row, column, message });
  }
}

/** The procedure's columns a row gives (undefined: not given; CLEAR on a list or note: emptied). */
export interface ProcedureCells {
  name?: string;
  field?: string;
  level?: string;
  receivingLevels?: AgencyLevel[];
  receivingUnits?: string[];
  integratedOnlinePayment?: boolean;
  dataConfidence?: ProcedureInput['dataConfidence'];
  note?: string | null;
}

interface RuleRow {
  row: number;
  procedureCode: string;
  rule: FeeRuleInput;
}

const BOOLEANS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, yes: true, no: false, có: true, không: false };
const PROCEDURE_CODE = /^\d\.\d{6}(\.[A-Za-z0-9.]+)?$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const VN_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

function validDate(year: number, month: number, day: number): string | null {
  const d = new Date(Date.UTC(year, month - 1, day));
  if (year < 1900 || d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return d.toISOString().slice(0, 10);
}

/** Reads the cells of one row, noting what cannot be read. */
class CellReader {
  constructor(
    private readonly row: Row,
    private readonly columns: Map<Column, number>,
    private readonly errors: RowErrors,
  ) {}

  text(column: Column): string | undefined {
    const index = this.columns.get(column);
    return index === undefined ? undefined : text(this.row.cells[index]);
  }

  private bad(column: Column, message: string): undefined {
    this.errors.add(this.row.number, column, message);
    return undefined;
  }

  bounded(column: Column, max: number): string | undefined {
    const value = this.text(column);
    if (value !== undefined && value.length > max) return this.bad(column, `at most ${max} characters`);
    return value;
  }

  boolean(column: Column): boolean | undefined {
    const index = this.columns.get(column);
    const cell = index === undefined ? undefined : this.row.cells[index];
    if (typeof cell === 'boolean') return cell;
    const value = this.text(column)?.toLowerCase();
    if (value === undefined) return undefined;
    if (value in BOOLEANS) return BOOLEANS[value];
    return this.bad(column, 'true or false');
  }

  integer(column: Column, min: number, max: number): number | undefined {
    const value = this.text(column);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) return this.bad(column, `a whole number from ${min} to ${max}`);
    return n;
  }

  date(column: Column): string | undefined {
    const index = this.columns.get(column);
    const cell = index === undefined ? undefined : this.row.cells[index];
    // A date cell a workbook stores as its serial number (days since 30/12/1899).
    if (typeof cell === 'number' && Number.isInteger(cell) && cell > 0) {
      return new Date(Date.UTC(1899, 11, 30) + cell * 86_400_000).toISOString().slice(0, 10);
    }
    const value = this.text(column);
    if (value === undefined) return undefined;
    const iso = ISO_DATE.exec(value);
    const vn = VN_DATE.exec(value);
    const date = iso ? validDate(+iso[1]!, +iso[2]!, +iso[3]!) : vn ? validDate(+vn[3]!, +vn[2]!, +vn[1]!) : null;
    return date ?? this.bad(column, 'a date: yyyy-mm-dd or dd/mm/yyyy, from 1900 on');
  }

  json(column: Column): unknown {
    const value = this.text(column);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value);
    } catch {
      return this.bad(column, 'JSON (as the API takes it)');
    }
  }

  list(column: Column): string[] | undefined {
    const value = this.text(column);
    if (value === undefined) return undefined;
    if (value === CLEAR) return [];
    return [...new Set(value.split(/[;,\s]+/).filter((v) => v !== ''))];
  }

  procedure(): ProcedureCells {
    const cells: ProcedureCells = {
      name: this.bounded('procedureName', 500),
      field: this.bounded('field', 200),
      level: this.bounded('level', 100),
      integratedOnlinePayment: this.boolean('integratedOnlinePayment'),
    };
    const levels = this.list('receivingLevels');
    if (levels !== undefined) {
      const wrong = levels.filter((l) => !(agencyLevels as readonly string[]).includes(l));
      if (wrong.length > 0) this.bad('receivingLevels', `unknown level ${wrong[0]}: one of ${agencyLevels.join(', ')}`);
      else cells.receivingLevels = levels as AgencyLevel[];
    }
    const units = this.list('receivingUnits');
    if (units !== undefined) cells.receivingUnits = units;
    const confidence = this.text('dataConfidence');
    if (confidence !== undefined) {
      if (confidence === 'confirmed' || confidence === 'secondary' || confidence === 'unconfirmed') cells.dataConfidence = confidence;
      else this.bad('dataConfidence', 'confirmed, secondary or unconfirmed');
    }
    const note = this.bounded('note', 2000);
    if (note !== undefined) cells.note = note === CLEAR ? null : note;
    return cells;
  }

  /** The row's fee rule, if it has a fee code and every part of it reads. */
  rule(): FeeRuleInput | undefined {
    const feeCode = this.bounded('feeCode', 50);
    if (feeCode === undefined) {
      const stray = (['kind', 'feeName', 'formula', 'adjustments', 'validFrom', 'validTo', 'legalBasis'] as const).find(
        (c) => this.text(c) !== undefined,
      );
      if (stray) this.bad('feeCode', `a fee rule needs its fee code (the row gives ${stray})`);
      return undefined;
    }
    const before = this.errors.list.length;
    const clearable = (column: Column, max: number) => {
      const value = this.bounded(column, max);
      return value === CLEAR ? null : value;
    };
    const validTo = this.text('validTo') === CLEAR ? null : this.date('validTo');
    const candidate = {
      kind: this.text('kind'),
      feeCode,
      name: this.bounded('feeName', 300),
      lineNo: this.integer('lineNo', 1, 50) ?? 1,
      formula: this.json('formula'),
      adjustments: this.json('adjustments') ?? [],
      rounding: this.json('rounding') ?? { mode: 'half_up', unit: 1 },
      validFrom: this.date('validFrom'),
      validTo: validTo ?? null,
      legalBasis: this.bounded('legalBasis', 500),
      collectionAccount: clearable('collectionAccount', 200) ?? null,
      budgetChapter: clearable('budgetChapter', 10) ?? null,
      budgetSubItem: clearable('budgetSubItem', 10) ?? null,
      budgetAccount: clearable('budgetAccount', 10) ?? null,
      retainedPercent: clearable('retainedPercent', 10) ?? null,
      budgetCodesDemo: this.boolean('budgetCodesDemo') ?? false,
      setByProvince: this.boolean('setByProvince') ?? false,
    };
    if (this.errors.list.length > before) return undefined;
    const parsed = ruleSchema.safeParse(candidate);
    if (!parsed.success) {
      for (const issue of parsed.error.issues.slice(0, 5)) {
        const [head, ...rest] = issue.path.map(String);
        const column = head === 'name' ? 'feeName' : (head ?? null);
        this.errors.add(this.row.number, column, [rest.join('.'), issue.message].filter(Boolean).join(': '));
      }
      return undefined;
    }
    try {
      return checkRule(parsed.data);
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      for (const f of error.fields) this.errors.add(this.row.number, f.path, f.message);
      return undefined;
    }
  }
}

/** A fee rule row, with the limits of the API's FeeRuleInput (budget codes are checked by checkRule). */
const ruleSchema = z.object({
  kind: z.enum(['phi', 'le_phi'], 'phi or le_phi'),
  feeCode: z.string().min(1).max(50),
  name: z.string('required').min(1).max(300),
  lineNo: z.number().int().min(1).max(50),
  formula: feeFormulaSchema,
  adjustments: z.array(feeAdjustmentSchema).max(20),
  rounding: roundingRuleSchema,
  validFrom: z.string('required'),
  validTo: z.string().nullable(),
  legalBasis: z.string('required').min(1).max(500),
  collectionAccount: z.string().max(200).nullable(),
  budgetChapter: z.string().nullable(),
  budgetSubItem: z.string().nullable(),
  budgetAccount: z.string().nullable(),
  retainedPercent: z.string().nullable(),
  budgetCodesDemo: z.boolean(),
  setByProvince: z.boolean(),
});

export interface ParsedFile {
  rows: number;
  procedures: Map<string, { row: number; cells: ProcedureCells }>;
  rules: RuleRow[];
}

/** The header row (the first that is not blank), then every row: procedure cells merged per code, rules as they come. */
export function parseRows(rows: Row[], errors: RowErrors): ParsedFile {
  const filled = rows.filter((r) => !r.cells.every(blank));
  const [header, ...body] = filled;
  if (!header) throw fileProblem('the file is empty: it needs a header row naming its columns (procedureCode, …)');
  const columns = new Map<Column, number>();
  header.cells.forEach((cell, index) => {
    const name = text(cell);
    if (name === undefined) return;
    const column = COLUMN_NAMES.find((c) => c.toLowerCase() === name.toLowerCase());
    if (!column) errors.add(header.number, name, `unknown column: the columns are ${COLUMN_NAMES.join(', ')}`);
    else if (columns.has(column)) errors.add(header.number, name, 'the column is named twice');
    else columns.set(column, index);
  });
  if (!columns.has('procedureCode')) errors.add(header.number, 'procedureCode', 'the header must name the procedureCode column');
  if (errors.list.length > 0) return { rows: body.length, procedures: new Map(), rules: [] };
  if (body.length > MAX_ROWS) throw fileProblem(`a catalogue file has at most ${MAX_ROWS} rows`);

  const parsed: ParsedFile = { rows: body.length, procedures: new Map(), rules: [] };
  for (const row of body) {
    const read = new CellReader(row, columns, errors);
    const code = read.text('procedureCode');
    if (code === undefined || !PROCEDURE_CODE.test(code)) {
      errors.add(row.number, 'procedureCode', code === undefined ? 'required' : 'a national procedure code such as 1.001612');
      continue;
    }
    const cells = read.procedure();
    const known = parsed.procedures.get(code);
    if (!known) parsed.procedures.set(code, { row: row.number, cells });
    else {
      // A procedure's columns may be given on several of its rows, but must say the same.
      for (const [key, value] of Object.entries(cells) as Array<[keyof ProcedureCells, unknown]>) {
        if (value === undefined) continue;
        const earlier = known.cells[key];
        if (earlier === undefined) (known.cells as Record<string, unknown>)[key] = value;
        else if (JSON.stringify(earlier) !== JSON.stringify(value)) {
          errors.add(row.number, columnOf(key), `says otherwise than row ${known.row} for procedure ${code}`);
        }
      }
    }
    const rule = read.rule();
    if (rule) parsed.rules.push({ row: row.number, procedureCode: code, rule });
  }
  return parsed;
}

export const columnOf = (key: keyof ProcedureCells): Column => (key === 'name' ? 'procedureName' : key);
