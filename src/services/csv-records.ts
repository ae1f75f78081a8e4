/**
 * CSV records found in bytes: a statement's lines are read in one pass over its bytes
 * (csv-lines.ts). This scanner walks the bytes once, quote state and all, and hands each record
 * over as its cells — the text of each field (quotes undone, NUL left out, '' for an empty or
 * missing one), padded or cut to the header's number — with the line the record starts on in the
 * file (a quoted field may span lines), what the record holds besides whitespace (`ink`: a row of
 * blank cells is no line), and whether its text columns need cleaning at all (`plain`).
 * Blank lines are left out, as csv-parse (the maintained parser the tests hold it to) leaves them
 * out, and the same quoting is refused: a quote inside an unquoted field, anything but a delimiter
 * or a line break after a closing quote, and a quote left open at the end.
 */
import { ServiceError } from './errors.ts';

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

/** Texts remembered by their bytes per repeating column (a power of two). */
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

/**
 * Where the records go, one at a time: the cells (quotes undone, NUL left out, '' for an empty or
 * missing field) are the scanner's own array, reused for the next record.
 */
export interface RecordTarget {
  record(
    lineNo: number,
    cells: readonly string[],
    /** What the record holds beyond whitespace (0 nothing, 1 only non-ASCII letters — maybe Unicode spaces —, 2 visible ASCII). */
    ink: number,
    /** The text columns need no cleaning (printable ASCII, no space at either end, at most 1,000 characters). */
    plain: boolean,
    /** The text of the fields past the header's last column, run together: known only when `ink` is 1. */
    beyond: () => string,
  ): void;
}

export interface RecordCells {
  lineNo: number;
  cells: string[];
}

/**
 * Scans a CSV file's bytes. `head` reads whole records into cells (the header search); after
 * `startLines`, `scan` hands each record to its target. Bytes are pushed a chunk at a time; a
 * record may span chunks.
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
  // after startLines
  private columns = 0;
  private cut = false;
  /**
   * What the record holds beyond whitespace: 0 nothing, 1 only bytes of non-ASCII letters (maybe
   * Unicode spaces), 2 visible ASCII.
   */
  private ink = 0;
  private scanned = 0;
  private target: RecordTarget | undefined;
  /** The record's cells, and the bytes of the fields past the header's last column (while it may be blank). */
  private texts: string[] = [];
  private beyondBytes: number[] = [];
  /** The columns whose texts repeat (amounts, times, words), and their last texts by a hash of their bytes. */
  private repeating: boolean[] = [];
  private recent: Array<Array<Uint8Array | undefined>> = [];
  private recentTexts: string[][] = [];
  /**
   * Whether the record's text columns (`plainColumns`) hold only what needs no cleaning: printable
   * ASCII, no space at either end, at most 1,000 characters, unquoted (readText gives such a text
   * back as it is).
   */
  private plainColumn: boolean[] = [];
  private plain = true;
  private plainLength = 0;
  private plainLast = -1;
  /** The current field's bytes. */
  private cell = new Uint8Array(256);
  private cellLength = 0;
  // head mode
  private field: number[] = [];
  private cells: string[] = [];
  private readonly decoder = new TextDecoder();

  /** The line the current record starts on (the file's first is 1). */
  private lineNo = 1;

  constructor(private readonly delimiter: number) {}

  /** Records scanned so far. */
  get records(): number {
    return this.scanned;
  }

  /**
   * Head mode: the complete records of `bytes` from `from`, until `limit` records (the rest of the
   * bytes are left for `scan`). Answers the records and the offset just after the last one read;
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
    // An incomplete record is read again from its start (with more bytes, or by `scan`).
    this.resetRecord();
    return { records, end: recordStart };
  }

  /**
   * From here on each record goes to `target` (see RecordTarget), as `columns` cells. The cells of
   * the `repeating` columns (amounts, times, words: a day's file repeats a few hundred texts) are
   * remembered by their bytes, so that the same one is not decoded again.
   */
  startLines(columns: number, target: RecordTarget, repeating: readonly number[] = [], plainColumns: readonly number[] = []) {
    this.columns = columns;
    this.target = target;
    this.plainColumn = Array.from({ length: columns }, (_, i) => plainColumns.includes(i));
    this.repeating = Array.from({ length: columns }, (_, i) => repeating.includes(i));
    this.recent = this.repeating.map(() => new Array<Uint8Array | undefined>(RECENT));
    this.recentTexts = this.repeating.map(() => new Array<string>(RECENT));
    this.texts = Array.from({ length: columns }, () => '');
    this.resetRecord();
  }

  /** The field `index` of the current record ended: its text is the record's cell. */
  private endCell(index: number) {
    this.texts[index] = this.cellText(index);
    this.cellLength = 0;
  }

  /** The current field's text (a repeating column's from the texts last seen, by their bytes). */
  private cellText(index: number): string {
    const cell = this.cell;
    const length = this.cellLength;
    if (length === 0) return '';
    if (!this.repeating[index]) return this.decoder.decode(cell.subarray(0, length));
    let hash = 0x811c9dc5;
    for (let k = 0; k < length; k++) hash = Math.imul(hash ^ cell[k]!, 0x01000193);
    const slot = hash & (RECENT - 1);
    const slots = this.recent[index]!;
    if (sameBytes(slots[slot], cell, length)) return this.recentTexts[index]![slot]!;
    const text = this.decoder.decode(cell.subarray(0, length));
    slots[slot] = cell.slice(0, length);
    this.recentTexts[index]![slot] = text;
    return text;
  }

  /** Keeps bytes of the current field. */
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

  /** A byte of a field past the header's last column, while the record may still be blank. */
  private readonly keepBeyond = (b: number) => {
    if (this.ink !== 2) this.beyondBytes.push(b);
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

  /** The record ended: its last field, and the fields it lacks ('' each). */
  private endCells() {
    if (this.plainColumn[this.delimiters]) this.endPlain();
    if (!this.cut && this.delimiters < this.columns) this.endCell(this.delimiters);
    this.cellLength = 0;
    for (let f = this.delimiters + 1; f < this.columns; f++) this.texts[f] = '';
  }

  /**
   * Scans `bytes` (from `from`) as far as they go, each record to the target; a record continuing
   * in the next chunk is continued there. The loop of a million-line file: the state lives in
   * locals, and the bytes of an unquoted field are passed over in an inner loop.
   */
  scan(bytes: Uint8Array, from = 0): void {
    const d = this.delimiter;
    const n = bytes.length;
    let state = this.state;
    let i = from;
    if (this.afterCr && i < n) {
      this.afterCr = false;
      if (bytes[i] === LF) ++i;
    }
    while (i < n) {
      let b = bytes[i]!;
      if ((state === State.Unquoted || state === State.FieldStart) && !this.cut) {
        // Plain bytes of an unquoted field: kept, and moved over.
        const start = i;
        while (b !== d && b !== LF && b !== CR && b !== QUOTE && b !== NUL) {
          if (++i === n) break;
          b = bytes[i]!;
        }
        if (i > start) {
          state = State.Unquoted;
          this.recordBytes += 1;
          if (this.ink !== 2) for (let k = start; k < i && this.ink !== 2; k++) this.inked(bytes[k]!);
          this.keepCell(bytes, start, i);
          if (this.plainColumn[this.delimiters] && this.plain) this.checkPlain(bytes, start, i);
        }
        if (i === n) break;
      }
      if (b === NUL) {
        // PostgreSQL text holds no NUL (readText drops it too: a plain text is plain without it).
        ++i;
        continue;
      }
      this.state = state;
      const before = this.delimiters;
      // A text column's byte here that does not end its field is a quote, or inside one.
      if (this.plainColumn[before] && ((b !== d && b !== LF && b !== CR) || state === State.Quoted)) this.plain = false;
      const ended = this.step(b, this.cut ? this.keepBeyond : this.keepByte);
      state = this.state;
      if (ended === 'field' && this.plainColumn[before]) this.endPlain();
      if (ended === 'field' && !this.cut && before < this.columns) this.endCell(before);
      if (ended === 'record') {
        i += 1;
        this.endCells();
        this.endRecord();
        state = this.state;
        if (this.afterCr && i < n) {
          this.afterCr = false;
          if (bytes[i] === LF) i += 1;
        }
        continue;
      }
      // The header's last field ends here: the rest of the record is cut.
      if (ended === 'field' && before + 1 === this.columns) this.cut = true;
      i += 1;
    }
    this.state = state;
  }

  /** The end of the file: the last record if it has no line break, refused if a quote is still open. */
  finish(): void {
    if (this.state === State.Quoted) throw unreadable(this.lineNo, 'a quoted field is not closed at the end of the file');
    if (this.recordBytes > 0 || this.state !== State.FieldStart) {
      this.endCells();
      this.endRecord();
    }
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
  }

  private endRecord() {
    // A blank line is no record (its number is still counted).
    if (this.recordBytes > 0) {
      this.scanned += 1;
      this.target!.record(this.lineNo, this.texts, this.ink, this.plain, this.beyond);
    }
    this.beyondBytes.length = 0;
    this.nextRecord();
    this.state = State.FieldStart;
  }

  private readonly beyond = () => this.decoder.decode(Uint8Array.from(this.beyondBytes));
}
