/**
 * CSV records found in bytes, for PostgreSQL's own CSV parser (`COPY … (FORMAT csv)`) to read: a
 * server imports a statement's lines by COPYing the file itself into a staging table
 * (statement-copy.ts), and COPY alone cannot say which line of the file a row was, nor keep a row
 * whose number of fields is not the header's. This scanner walks the bytes once, quote state and
 * all, and writes each record as COPY will read it: its fields padded or cut to the header's
 * number, then three more — the line the record starts on in the file (a quoted field may span
 * lines), what the record holds besides whitespace (`ink`: a row of blank cells is no line), and
 * whether its text columns need cleaning at all (`plain`).
 * It also collects the distinct texts of the columns the import reads (amounts, times, words) as
 * COPY will see them, so that each is read once without asking PostgreSQL for them afterwards.
 * Blank lines are left out, as csv-parse's reader of the other path does (statement-files.ts
 * `csvRows`), and the same quoting is refused: a quote inside an unquoted field, anything but a
 * delimiter or a line break after a closing quote, and a quote left open at the end.
 */
import { readText } from '../domain/statement-values.ts';
import { ServiceError } from './errors.ts';
import { RepeatFinder } from './repeats.ts';

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;
const SPACE = 0x20;
const TAB = 0x09;

enum State {
  FieldStart = 0,
  Unquoted = 1,
  Quoted = 2,
  /** A quote inside a quoted field: the field's end, or the first of a doubled quote. */
  QuoteInQuoted = 3,
}

/** Texts remembered by their bytes per collected column (a power of two). */
const RECENT = 64;

function sameBytes(a: Uint8Array | undefined, b: Uint8Array, length: number): boolean {
  if (a === undefined || a.length !== length) return false;
  for (let k = 0; k < length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** The reasons csv-parse gives for the same files, in the hub's words. */
function unreadable(line: number, what: string): ServiceError {
  return new ServiceError('statement-unreadable', `the CSV cannot be read past line ${line}: ${what}`);
}

export interface RecordCells {
  lineNo: number;
  cells: string[];
}

/**
 * Scans a CSV file's bytes. `head` mode reads whole records into cells (the header search);
 * `copy` mode writes records for COPY. Bytes are pushed a chunk at a time; a record may span chunks.
 */
export class CsvRecordScanner {
  private state = State.FieldStart;
  /** The line breaks inside the current record's quoted fields so far. */
  private innerBreaks = 0;
  /** Delimiters seen outside quotes in the current record (fields - 1). */
  private delimiters = 0;
  private recordBytes = 0;
  /** A CR ended the previous record (or broke a quoted line): an LF right after it belongs to it. */
  private afterCr = false;
  // copy mode
  private columns = 0;
  private cut = false;
  /**
   * What the record holds beyond whitespace: 0 nothing, 1 only bytes of non-ASCII letters (maybe
   * Unicode spaces), 2 visible ASCII.
   */
  private ink = 0;
  private out = new Uint8Array(0);
  private at = 0;
  private emitted = 0;
  // copy mode: the distinct texts of some columns, collected as the records pass
  private wanted: boolean[] = [];
  private seen: Array<Set<string> | undefined> = [];
  private full: boolean[] = [];
  private recent: Array<Array<Uint8Array | undefined>> = [];
  private limit = 0;
  /**
   * Whether the record's text columns (`plainColumns`) hold only what needs no cleaning: printable
   * ASCII, no space at either end, at most 1,000 characters, unquoted.
   * COPY gets it as a column after the ink: the import's SQL then keeps such a text as it is.
   */
  private plainColumn: boolean[] = [];
  private plain = true;
  private plainLength = 0;
  private plainLast = -1;
  /** The current field's bytes, when its column is wanted. */
  private cell = new Uint8Array(256);
  private cellLength = 0;
  /** The transaction id column's bytes in the current record, for `repeats`. */
  private transactionColumn = -1;
  private transaction = new Uint8Array(64);
  private transactionLength = 0;
  private finder: RepeatFinder | undefined;
  // head mode
  private field: number[] = [];
  private cells: string[] = [];
  private readonly decoder = new TextDecoder();

  /** The line the current record starts on (the file's first is 1). */
  private lineNo = 1;

  constructor(private readonly delimiter: number) {}

  /** Records written for COPY so far. */
  get records(): number {
    return this.emitted;
  }

  /**
   * Head mode: the complete records of `bytes` from `from`, until `limit` records (the rest of the
   * bytes are left for `copy`). Answers the records and the offset just after the last one read;
   * a record the bytes end inside of is left for the next call, with more bytes (or `final`).
   */
  head(bytes: Uint8Array, from: number, limit: number, final: boolean): { records: RecordCells[]; end: number } {
    const records: RecordCells[] = [];
    let i = from;
    let recordStart = from;
    const startState = () => {
      this.field = [];
      this.cells = [];
    };
    startState();
    while (i < bytes.length && records.length < limit) {
      const b = bytes[i]!;
      i += 1;
      if (this.afterCr) {
        this.afterCr = false;
        if (b === LF) {
          recordStart = i;
          continue;
        }
      }
      const ended = this.step(b, (byte) => this.field.push(byte));
      if (ended === 'record') {
        // A blank line is a row of one empty cell, as csv-parse gives it (the header search counts it).
        this.endField();
        records.push({ lineNo: this.lineNo, cells: this.cells });
        this.nextRecord();
        startState();
        recordStart = i;
      } else if (ended === 'field') this.endField();
    }
    if (final && i >= bytes.length && records.length < limit && (this.recordBytes > 0 || this.state !== State.FieldStart)) {
      if (this.state === State.Quoted) throw unreadable(this.lineNo, 'a quoted field is not closed at the end of the file');
      this.endField();
      records.push({ lineNo: this.lineNo, cells: this.cells });
      this.nextRecord();
      recordStart = i;
    }
    // An incomplete record is read again from its start (with more bytes, or in copy mode).
    this.resetRecord();
    return { records, end: recordStart };
  }

  /**
   * Copy mode from here on: each record as `columns` fields, then its line number and its ink.
   * The distinct texts of the `collect` columns are kept as they pass — the text COPY will read
   * for each field (quotes undone, NUL left out; '' for an empty or missing one) — up to `limit`
   * per column: `distinct(column)` says them, or undefined for a column that had more.
   */
  startCopy(
    columns: number,
    collect: readonly number[] = [],
    limit = 0,
    plainColumns: readonly number[] = [],
    /** The column of the gateway's transaction id, whose repeats `repeats()` says. */
    transactionColumn?: number,
  ) {
    this.columns = columns;
    this.plainColumn = Array.from({ length: columns }, (_, i) => plainColumns.includes(i));
    this.transactionColumn = transactionColumn ?? -1;
    this.finder = transactionColumn === undefined ? undefined : new RepeatFinder();
    this.wanted = Array.from({ length: columns }, (_, i) => collect.includes(i) || i === this.transactionColumn);
    this.seen = this.wanted.map((_, i) => (collect.includes(i) ? new Set<string>() : undefined));
    this.recent = this.wanted.map(() => new Array<Uint8Array | undefined>(RECENT));
    this.full = this.wanted.map(() => false);
    this.limit = limit;
    this.resetRecord();
  }

  /**
   * The transaction ids that may be on more than one line (repeats.ts), each as the import stores
   * it (none without a transaction id column); null when unknown (too many).
   */
  repeats(): string[] | null {
    return this.finder ? this.finder.result() : [];
  }

  /** The distinct texts of a collected column (see startCopy), or undefined if it had too many. */
  distinct(column: number): ReadonlySet<string> | undefined {
    return this.full[column] ? undefined : this.seen[column];
  }

  /**
   * The field `index` of the current record ended: its text joins its column's set. A million
   * cells hold a few hundred texts: the bytes of the last texts seen (64 per column, by a hash of
   * their bytes) spare decoding one again.
   */
  private collect(index: number) {
    if (index === this.transactionColumn) this.keepTransaction();
    const set = this.seen[index];
    if (set && !this.full[index]) {
      const cell = this.cell;
      const length = this.cellLength;
      let hash = 0x811c9dc5;
      for (let k = 0; k < length; k++) hash = Math.imul(hash ^ cell[k]!, 0x01000193);
      const slots = this.recent[index]!;
      const slot = hash & (RECENT - 1);
      if (!sameBytes(slots[slot], cell, length)) {
        set.add(length === 0 ? '' : this.decoder.decode(cell.subarray(0, length)));
        slots[slot] = cell.slice(0, length);
        if (set.size > this.limit) {
          this.full[index] = true;
          set.clear();
        }
      }
    }
    this.cellLength = 0;
  }

  /** The record's transaction id field, kept until the record ends (when it is known to be plain). */
  private keepTransaction() {
    if (this.cellLength > this.transaction.length) this.transaction = new Uint8Array(this.cellLength * 2);
    this.transaction.set(this.cell.subarray(0, this.cellLength));
    this.transactionLength = this.cellLength;
  }

  /**
   * The record's transaction id, as the import will store it, to the repeat finder: a plain
   * record's bytes are the text as they are; another's are read as readText reads them.
   */
  private offerTransaction() {
    if (!this.finder || this.transactionLength === 0) return;
    if (this.plain) this.finder.offerBytes(this.transaction, this.transactionLength);
    else this.finder.offer(readText(this.decoder.decode(this.transaction.subarray(0, this.transactionLength))));
  }

  /** Keeps bytes of a wanted field. */
  private keepCell(bytes: Uint8Array, start: number, end: number) {
    const need = this.cellLength + end - start;
    if (need > this.cell.length) {
      const grown = new Uint8Array(Math.max(need, this.cell.length * 2));
      grown.set(this.cell.subarray(0, this.cellLength));
      this.cell = grown;
    }
    // A cell is a few bytes: copied by hand (a subarray per cell is a million objects).
    const cell = this.cell;
    let at = this.cellLength;
    for (let k = start; k < end; k++) cell[at++] = bytes[k]!;
    this.cellLength = need;
  }
  private readonly keepByte = (b: number) => {
    if (this.cellLength === this.cell.length) this.keepCell(new Uint8Array([b]), 0, 1);
    else this.cell[this.cellLength++] = b;
  };

  /** Plain bytes of a text column's unquoted field (see `plain`). */
  private checkPlain(bytes: Uint8Array, start: number, end: number) {
    if (this.plainLength === 0 && bytes[start] === SPACE) this.plain = false;
    for (let k = start; k < end && this.plain; k++) {
      const b = bytes[k]!;
      if (b < SPACE || b >= 0x80) this.plain = false;
    }
    this.plainLength += end - start;
    this.plainLast = bytes[end - 1]!;
  }

  /** A text column's field ended (see `plain`). */
  private endPlain() {
    if (this.plainLast === SPACE || this.plainLength > 1000) this.plain = false;
    this.plainLength = 0;
    this.plainLast = -1;
  }

  /** The record ended: its last field, and the fields it lacks ('' each), join their columns' sets. */
  private collectRest() {
    if (this.plainColumn[this.delimiters]) this.endPlain();
    if (!this.cut && this.delimiters < this.columns) this.collect(this.delimiters);
    this.cellLength = 0;
    for (let f = this.delimiters + 1; f < this.columns; f++) if (this.wanted[f]) this.collect(f);
  }

  /**
   * The COPY text for `bytes` (from `from`), as far as they go; a record continuing in the next
   * chunk is continued there. The loop of a million-line file: the state lives in locals, and the
   * bytes of an unquoted field are passed over in an inner loop.
   */
  copy(bytes: Uint8Array, from = 0): Uint8Array {
    this.ensure((bytes.length - from) * 2 + 256);
    const d = this.delimiter;
    const n = bytes.length;
    let state = this.state;
    let i = from;
    // The start of the bytes of the current record not yet written out.
    let pending = i;
    if (this.afterCr && i < n) {
      this.afterCr = false;
      if (bytes[i] === LF) pending = ++i;
    }
    while (i < n) {
      let b = bytes[i]!;
      if ((state === State.Unquoted || state === State.FieldStart) && !this.cut) {
        // Plain bytes of an unquoted field: nothing to do but move on.
        const start = i;
        while (b !== d && b !== LF && b !== CR && b !== QUOTE && b !== NUL) {
          if (++i === n) break;
          b = bytes[i]!;
        }
        if (i > start) {
          state = State.Unquoted;
          this.recordBytes += 1;
          if (this.ink !== 2) for (let k = start; k < i && this.ink !== 2; k++) this.inked(bytes[k]!);
          if (this.wanted[this.delimiters]) this.keepCell(bytes, start, i);
          if (this.plainColumn[this.delimiters] && this.plain) this.checkPlain(bytes, start, i);
        }
        if (i === n) break;
      }
      if (b === NUL) {
        // PostgreSQL text holds no NUL (readText drops it too: a plain text is plain without it).
        if (i > pending && !this.cut) this.write(bytes, pending, i);
        pending = ++i;
        continue;
      }
      this.state = state;
      const before = this.delimiters;
      // A text column's byte here that does not end its field is a quote, or inside one.
      if (this.plainColumn[before] && ((b !== d && b !== LF && b !== CR) || state === State.Quoted)) this.plain = false;
      const ended = this.step(b, !this.cut && this.wanted[before] ? this.keepByte : null);
      state = this.state;
      if (ended === 'field' && this.plainColumn[before]) this.endPlain();
      if (ended === 'field' && !this.cut && before < this.columns) this.collect(before);
      if (ended === 'record') {
        if (i > pending && !this.cut) this.write(bytes, pending, i);
        i += 1;
        this.collectRest();
        this.endCopyRecord();
        state = this.state;
        if (this.afterCr && i < n) {
          this.afterCr = false;
          if (bytes[i] === LF) i += 1;
        }
        pending = i;
        continue;
      }
      if (ended === 'field' && before + 1 === this.columns && !this.cut) {
        // The header's last field ends here: the rest of the record is cut.
        if (i > pending) this.write(bytes, pending, i);
        this.cut = true;
      }
      i += 1;
    }
    this.state = state;
    if (n > pending && !this.cut) this.write(bytes, pending, n);
    return this.take();
  }

  /** The end of the file: the last record if it has no line break, refused if a quote is still open. */
  finish(): Uint8Array {
    if (this.state === State.Quoted) throw unreadable(this.lineNo, 'a quoted field is not closed at the end of the file');
    this.ensure(256);
    if (this.recordBytes > 0 || this.state !== State.FieldStart) {
      this.collectRest();
      this.endCopyRecord();
    }
    return this.take();
  }

  /** One byte of the quote state machine; says whether it ended a field or a record. */
  private step(b: number, keep: ((byte: number) => void) | null): 'field' | 'record' | null {
    const state = this.state;
    if (state === State.Quoted) {
      this.recordBytes += 1;
      if (b === QUOTE) {
        // A CR and an LF with a quote between are two line breaks.
        this.state = State.QuoteInQuoted;
        this.innerAfterCr = false;
        return null;
      }
      if (b === CR || (b === LF && !this.innerAfterCr)) this.innerBreaks += 1;
      this.innerAfterCr = b === CR;
      this.inked(b);
      keep?.(b);
      return null;
    }
    // Outside a quoted field (or just after its closing quote) a delimiter ends the field and a
    // line break the record.
    if (b === this.delimiter) {
      this.state = State.FieldStart;
      this.delimiters += 1;
      this.recordBytes += 1;
      return 'field';
    }
    if (b === LF || b === CR) {
      this.afterCr = b === CR;
      return 'record';
    }
    if (state === State.QuoteInQuoted) {
      if (b !== QUOTE) throw unreadable(this.lineNo, `a closing quote in field ${this.delimiters + 1} is followed by text`);
      // A doubled quote: one quote character of the text.
      this.state = State.Quoted;
      this.recordBytes += 1;
      this.ink = 2;
      keep?.(b);
      return null;
    }
    if (b === QUOTE) {
      if (state === State.Unquoted) throw unreadable(this.lineNo, `a quote inside the unquoted field ${this.delimiters + 1}`);
      this.state = State.Quoted;
      this.recordBytes += 1;
      return null;
    }
    this.state = State.Unquoted;
    this.recordBytes += 1;
    this.inked(b);
    keep?.(b);
    return null;
  }
  private innerAfterCr = false;

  /** A byte of a field's text: whitespace as JavaScript's trim() sees it, a visible ASCII character, or part of another letter. */
  private inked(b: number) {
    if (b >= 0x80) {
      if (this.ink === 0) this.ink = 1;
    } else if (b !== SPACE && (b < TAB || b > CR)) this.ink = 2;
  }

  private endField() {
    this.cells.push(this.decoder.decode(Uint8Array.from(this.field)));
    this.field = [];
  }

  private nextRecord() {
    this.lineNo += 1 + this.innerBreaks;
    this.resetRecord();
  }

  private resetRecord() {
    this.state = State.FieldStart;
    this.innerBreaks = 0;
    this.innerAfterCr = false;
    this.delimiters = 0;
    this.recordBytes = 0;
    this.cut = false;
    this.ink = 0;
    this.plain = true;
    this.plainLength = 0;
    this.plainLast = -1;
    this.transactionLength = 0;
  }

  private endCopyRecord() {
    // A blank line is no record (its number is still counted).
    if (this.recordBytes > 0) {
      this.offerTransaction();
      this.ensure(0);
      const d = this.delimiter;
      for (let f = this.delimiters + 1; f < this.columns; f++) this.out[this.at++] = d;
      this.out[this.at++] = d;
      this.writeNumber(this.lineNo);
      this.out[this.at++] = d;
      this.out[this.at++] = 0x30 + this.ink;
      this.out[this.at++] = d;
      this.out[this.at++] = this.plain ? 0x31 : 0x30;
      this.out[this.at++] = LF;
      this.emitted += 1;
    }
    this.nextRecord();
    this.state = State.FieldStart;
  }

  private writeNumber(n: number) {
    const digits = String(n);
    for (let k = 0; k < digits.length; k++) this.out[this.at++] = digits.charCodeAt(k);
  }

  private write(bytes: Uint8Array, start: number, end: number) {
    this.ensure(end - start + this.columns + 32);
    this.out.set(bytes.subarray(start, end), this.at);
    this.at += end - start;
  }

  /** Room for `more` bytes and one record's ending. */
  private ensure(more: number) {
    const need = this.at + more + this.columns + 32;
    if (need <= this.out.length) return;
    const grown = new Uint8Array(Math.max(need, this.out.length * 2));
    grown.set(this.out.subarray(0, this.at));
    this.out = grown;
  }

  private take(): Uint8Array {
    const taken = this.out.slice(0, this.at);
    this.at = 0;
    return taken;
  }
}
