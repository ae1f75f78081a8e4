/**
 * Reading a settlement file (DESIGN.md `parseStatement`: file → normalised lines). Each adapter
 * describes its own file as data (`StatementFormat`: the column headers its system exports, the
 * unit of its amounts, its status words); a generic CSV/XLSX comes with a mapping in the request.
 * Both go through the one reader below, row by row, so a million-line file never sits in memory.
 * The exact layouts are not published (domain/gateways.md): the headers are lists of the names
 * seen in exports, compared without case or diacritics, and kept covered by fixtures.
 */
import {
  type Cell,
  DIRECTION_WORDS,
  fold,
  isBlank,
  type LineDirection,
  type LineStatus,
  quote,
  type Read,
  readAmount,
  readText,
  readTime,
  readWord,
  STATUS_WORDS,
} from '../domain/statement-values.ts';

export const statementFields = ['transactionId', 'reference', 'amount', 'time', 'text', 'direction'] as const;
export type StatementField = (typeof statementFields)[number];
/** Column headers naming each field in a generic file (the request's `mapping`); absent ones are unknown. */
export type ColumnMapping = Partial<Record<StatementField, string>>;

type FormatColumn = StatementField | 'status' | 'debit' | 'credit';

export interface StatementFormat {
  /** Recorded on the statement (`statements.format`). */
  id: 'vnpay' | 'dvcqg' | 'sandbox' | 'bank';
  /** The header names each column goes by in this system's exports; the first one found is used. */
  columns: Partial<Record<FormatColumn, readonly string[]>>;
  /** The file's amount unit per đồng (1 unless the system writes its wire unit). */
  amountScale?: number;
  /** The direction of every line when the file has no direction column: a gateway's file lists collections. */
  direction?: LineDirection;
  /** Status words (folded, see domain/statement-values.ts `fold`) beyond the common ones. */
  statusWords?: Readonly<Record<string, LineStatus>>;
  /** A gateway's line must name its transaction (its id or the hub's reference) to be matched at all. */
  requiresTransaction: boolean;
}

/** One line as `statement_lines` keeps it: readable fields, or the reason it was refused in `error`. */
export interface StatementLine {
  lineNo: number;
  transactionId: string | null;
  reference: string | null;
  amount: number | null;
  occurredAt: Date | null;
  text: string | null;
  direction: LineDirection | null;
  status: LineStatus | null;
  error: string | null;
}

/** Up to this many rows before the header (a bank's export starts with the account's details). */
const HEADER_SEARCH_ROWS = 30;

/** Where each field is among a file's columns (by index), as its header row says. */
export type Plan = Partial<Record<FormatColumn, number>> & { statusWords?: Readonly<Record<string, LineStatus>> };

/** What a file is read with: an adapter's format, or a generic file's mapping. */
export type StatementLayout = { kind: 'format'; format: StatementFormat } | { kind: 'mapping'; mapping: ColumnMapping };

export class StatementLayoutError extends Error {
  constructor(
    message: string,
    /** The mapping's fields naming a column the file does not have (a 400 on `mapping`), if that is why. */
    readonly missing: StatementField[] = [],
  ) {
    super(message);
  }
}

const headerOf = (cell: Cell) => (isBlank(cell) ? '' : fold(String(cell)));

/** The column of each field in a header row, or null if this row is not the header. */
function planOf(layout: StatementLayout, row: readonly Cell[]): Plan | null {
  const headers = row.map(headerOf);
  const find = (names: readonly string[] | undefined) => {
    for (const name of names ?? []) {
      const i = headers.indexOf(fold(name));
      if (i >= 0) return i;
    }
    return undefined;
  };
  const plan: Plan = {};
  if (layout.kind === 'mapping') {
    for (const field of statementFields) {
      const name = layout.mapping[field];
      if (name === undefined) continue;
      const i = find([name]);
      if (i === undefined) return null;
      plan[field] = i;
    }
    return plan;
  }
  for (const [column, names] of Object.entries(layout.format.columns) as Array<[FormatColumn, readonly string[]]>) {
    const i = find(names);
    if (i !== undefined) plan[column] = i;
  }
  const hasAmount = plan.amount !== undefined || (plan.debit !== undefined && plan.credit !== undefined);
  const hasIdentity = plan.transactionId !== undefined || plan.reference !== undefined || plan.text !== undefined;
  // The status words, merged once per file (not per line: a million merges is seconds of garbage).
  if (layout.format.statusWords) plan.statusWords = { ...STATUS_WORDS, ...layout.format.statusWords };
  return hasAmount && hasIdentity ? plan : null;
}

const ZERO = /^\s*0+([.,]0+)?\s*(đ|vnd)?\s*$/i;
const absentMoney = (cell: Cell) => isBlank(cell) || cell === 0 || (typeof cell === 'string' && ZERO.test(cell));

/** One cell read: its value (null when there is none), or the reason it cannot be read. */
interface CellRead<T> {
  value: T | null;
  reason: string | null;
}
/** A money cell: `absent` when a bank leaves it empty or zero (the other column has the money). */
interface MoneyRead extends CellRead<number> {
  absent: boolean;
}

/**
 * How each cell of a line is read under a layout: the one place the values' rules are applied
 * (readLine, through lineReader's memory of each text's reading). How a line's cells combine
 * (debit and credit, the order of the reasons) is readLine's.
 */
function cellReaders(layout: StatementLayout, plan: Plan) {
  const format = layout.kind === 'format' ? layout.format : undefined;
  const read = <T>(r: Read<T>): CellRead<T> => (r.ok ? { value: r.value, reason: null } : { value: null, reason: r.reason });
  return {
    money(cell: Cell): MoneyRead {
      const amount = readAmount(cell, format?.amountScale);
      return { ...read(amount), absent: absentMoney(cell) };
    },
    /** A blank time is no time in a generic file, and a refusal in a system's own file. */
    time(cell: Cell): CellRead<Date> {
      if (isBlank(cell)) return { value: null, reason: format ? 'time is missing' : null };
      return read(readTime(cell));
    },
    direction: (cell: Cell): CellRead<LineDirection> => read(readWord(cell, DIRECTION_WORDS, 'direction')),
    status: (cell: Cell): CellRead<LineStatus> => read(readWord(cell, plan.statusWords ?? STATUS_WORDS, 'status')),
  };
}
type CellReaders = ReturnType<typeof cellReaders>;

/** The row's cell of a column of the plan (undefined if the file has no such column). */
const cellAt = (row: readonly Cell[], i: number | undefined): Cell => (i === undefined ? undefined : row[i]);

/**
 * One row into one line. Called a million times for a day's file: no closures or arrays made per
 * line (the reasons are joined as they come, in the same order as ever).
 */
function readLine(
  layout: StatementLayout,
  plan: Plan,
  readers: CellReaders,
  lineNo: number,
  row: readonly Cell[],
  /** The row's text cells are known to need no cleaning (csv-records.ts `plain`): readText would give them back as they are. */
  plain = false,
): StatementLine {
  const format = layout.kind === 'format' ? layout.format : undefined;
  let error: string | null = null;
  const text = plain ? plainText : readText;
  const line: StatementLine = {
    lineNo,
    transactionId: text(cellAt(row, plan.transactionId)),
    reference: text(cellAt(row, plan.reference)),
    amount: null,
    occurredAt: null,
    text: text(cellAt(row, plan.text)),
    direction: format?.direction ?? null,
    status: null,
    error: null,
  };
  if (plan.amount !== undefined) {
    const amount = readers.money(row[plan.amount]);
    line.amount = amount.value;
    error = withReason(error, amount.reason);
  } else {
    // A bank's statement: one column for money out (Ghi nợ), one for money in (Ghi có).
    const debit = readers.money(cellAt(row, plan.debit));
    const credit = readers.money(cellAt(row, plan.credit));
    if (!debit.absent && !credit.absent) error = withReason(error, 'both debit and credit are given');
    else if (debit.absent && credit.absent) error = withReason(error, 'amount is missing (neither debit nor credit)');
    else {
      const amount = debit.absent ? credit : debit;
      line.direction = debit.absent ? 'credit' : 'debit';
      line.amount = amount.value;
      error = withReason(error, amount.reason);
    }
  }
  if (plan.time !== undefined) {
    const time = readers.time(row[plan.time]);
    line.occurredAt = time.value;
    error = withReason(error, time.reason);
  }
  if (plan.direction !== undefined) {
    const direction = readers.direction(row[plan.direction]);
    if (direction.value !== null) line.direction = direction.value;
    error = withReason(error, direction.reason);
  }
  if (plan.status !== undefined) {
    const status = readers.status(row[plan.status]);
    line.status = status.value;
    error = withReason(error, status.reason);
  }
  if (format?.requiresTransaction && !line.transactionId && !line.reference) error = withReason(error, NAMES_NO_TRANSACTION);
  line.error = error;
  return line;
}

/** A line's reasons, joined as they come. */
function withReason(error: string | null, reason: string | null): string | null {
  if (reason === null) return error;
  return error === null ? reason : `${error}; ${reason}`;
}

/** readText of a text that needs no cleaning: itself, or null when empty. */
const plainText = (cell: Cell): string | null => (cell === undefined || cell === '' ? null : (cell as string));

/** Distinct texts a reader remembers the reading of (a day has 86,400 seconds); then it starts again. */
const READINGS_REMEMBERED = 100_000;

/**
 * The layout's readers, each remembering its readings by text, for one file: a day's file repeats
 * a few hundred amounts, at most 86,400 times and a handful of words a million times (the readers
 * are pure; each text is read once).
 */
function rememberingReaders(readers: CellReaders): CellReaders {
  const remembering = <T>(read: (cell: Cell) => T) => {
    const readings = new Map<string, T>();
    return (cell: Cell): T => {
      if (typeof cell !== 'string') return read(cell);
      let reading = readings.get(cell);
      if (reading === undefined) {
        if (readings.size >= READINGS_REMEMBERED) readings.clear();
        // Shared by every line of the same text: frozen, so that no caller changes another line's reading.
        reading = Object.freeze(read(cell));
        readings.set(cell, reading);
      }
      return reading;
    };
  };
  return {
    money: remembering(readers.money),
    time: remembering(readers.time),
    direction: remembering(readers.direction),
    status: remembering(readers.status),
  };
}

/**
 * The reader of one file's rows into lines, once its header's plan is known: `read(lineNo, row,
 * plain)` is one line (see readLine).
 */
export function lineReader(layout: StatementLayout, plan: Plan) {
  const readers = rememberingReaders(cellReaders(layout, plan));
  return (lineNo: number, row: readonly Cell[], plain = false): StatementLine => readLine(layout, plan, readers, lineNo, row, plain);
}

const NAMES_NO_TRANSACTION = 'names no transaction (neither its id nor a reference)';

export interface NumberedRow {
  /** The row's number in the file (a CSV's header is line 1; a sheet's row number). */
  lineNo: number;
  cells: readonly Cell[];
}

/**
 * Finds a file's header among its first rows (rows before it are the export's preamble, not
 * lines): each row is offered in turn until one has the layout's columns. Throws
 * StatementLayoutError after HEADER_SEARCH_ROWS rows without one, or at `end()`.
 */
export class HeaderSearch {
  private seen = 0;
  // For a mapping's error: the row naming most of its columns, where the header must have been.
  private first: readonly Cell[] | undefined;
  private firstScore = -1;
  constructor(private readonly layout: StatementLayout) {}

  /** The plan if this row is the header; null if it is not (yet). */
  offer(cells: readonly Cell[]): Plan | null {
    const score = mappedHeaders(this.layout, cells);
    if (score > this.firstScore) {
      this.first = cells;
      this.firstScore = score;
    }
    const plan = planOf(this.layout, cells);
    this.seen += 1;
    if (!plan && this.seen >= HEADER_SEARCH_ROWS) throw missingHeader(this.layout, this.first);
    return plan;
  }

  /** The file ended without a header. */
  end(): never {
    throw missingHeader(this.layout, this.first);
  }
}

/**
 * Reads rows into lines: finds the header (HeaderSearch), then every non-blank row after it is
 * one line, good or refused with its reason. Throws StatementLayoutError when no header is found.
 */
export async function* readStatementLines(layout: StatementLayout, rows: AsyncIterable<NumberedRow>): AsyncGenerator<StatementLine> {
  const search = new HeaderSearch(layout);
  let plan: Plan | null = null;
  let read: ReturnType<typeof lineReader> | undefined;
  for await (const row of rows) {
    if (!plan) {
      plan = search.offer(row.cells);
      if (plan) read = lineReader(layout, plan);
      continue;
    }
    if (row.cells.every(isBlank)) continue;
    yield read!(row.lineNo, row.cells);
  }
  if (!plan) search.end();
}

function mappedHeaders(layout: StatementLayout, cells: readonly Cell[]): number {
  if (layout.kind !== 'mapping' || cells.every(isBlank)) return -1;
  const headers = cells.map(headerOf);
  return statementFields.filter((f) => layout.mapping[f] !== undefined && headers.includes(fold(layout.mapping[f]!))).length;
}

function missingHeader(layout: StatementLayout, first: readonly Cell[] | undefined): StatementLayoutError {
  if (layout.kind === 'mapping') {
    // Named against the file's first row, where a generic file's header is.
    const headers = (first ?? []).map(headerOf);
    const missing = statementFields.filter((f) => layout.mapping[f] !== undefined && !headers.includes(fold(layout.mapping[f]!)));
    const names = (missing.length > 0 ? missing : statementFields.filter((f) => layout.mapping[f] !== undefined)).map((f) =>
      quote(layout.mapping[f]!),
    );
    return new StatementLayoutError(`the file has no column ${names.join(', ')} (the mapping names it)`, missing);
  }
  const { columns } = layout.format;
  const amount = columns.amount ? quote(columns.amount[0]!) : `${quote(columns.debit?.[0] ?? '')}/${quote(columns.credit?.[0] ?? '')}`;
  return new StatementLayoutError(
    `this is not a ${layout.format.id} statement: no row among the first ${HEADER_SEARCH_ROWS} has its columns (${amount} and ${quote(
      (columns.transactionId ?? columns.reference ?? columns.text ?? [''])[0]!,
    )}); send a mapping for another layout`,
  );
}
