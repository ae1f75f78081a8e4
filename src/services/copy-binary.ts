/**
 * Rows in COPY's binary format (issue 11: a million statement lines a second), written into one
 * growing buffer. The text format made PostgreSQL parse every value back — the statement's uuid,
 * the line number, the amount and the instant of each of a million lines: its COPY of a day's
 * lines took 2.1-2.7 s where the same lines in binary took 1.6-1.8 s (BENCHMARKS.md). Here a
 * uuid is its 16 bytes, an integer its 4 or 8, an instant its microseconds since 2000-01-01 UTC,
 * and a text its UTF-8 bytes with their length: nothing to escape, nothing to parse.
 *
 * https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4 — a header, then per row a
 * 16-bit field count and per field a 32-bit length (-1: NULL) and its bytes, big-endian; a 16-bit
 * -1 ends the data.
 */

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]; // PGCOPY\n\377\r\n\0
const TWO_32 = 2 ** 32;
/** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;
const INT4_MIN = -(2 ** 31);
const INT4_MAX = 2 ** 31 - 1;

export class CopyBinary {
  private out: Uint8Array;
  private view: DataView;
  private at = 0;
  private readonly encoder = new TextEncoder();

  /** `initialBytes`: the buffer's first size; it grows as rows need (tests start it small). */
  constructor(initialBytes = 1 << 20) {
    this.out = new Uint8Array(Math.max(initialBytes, 1));
    this.view = new DataView(this.out.buffer);
  }

  /** Room for `more` bytes. */
  private room(more: number) {
    if (this.at + more <= this.out.length) return;
    const grown = new Uint8Array(Math.max(this.out.length * 2, this.at + more));
    grown.set(this.out.subarray(0, this.at));
    this.out = grown;
    this.view = new DataView(grown.buffer);
  }

  /** The signature, no flags, no header extension: the stream's first bytes. */
  header(): this {
    this.room(SIGNATURE.length + 8);
    for (const b of SIGNATURE) this.out[this.at++] = b;
    this.view.setInt32(this.at, 0);
    this.view.setInt32(this.at + 4, 0);
    this.at += 8;
    return this;
  }

  /** A row of `fields` values starts. */
  row(fields: number): this {
    this.room(2);
    this.view.setInt16(this.at, fields);
    this.at += 2;
    return this;
  }

  private nullValue(): this {
    this.room(4);
    this.view.setInt32(this.at, -1);
    this.at += 4;
    return this;
  }

  /** A uuid as its 16 bytes (the `uuid` package's `parse`). */
  uuid(bytes: Uint8Array): this {
    if (bytes.length !== 16) throw new Error('a uuid is 16 bytes');
    this.room(20);
    this.view.setInt32(this.at, 16);
    this.out.set(bytes, this.at + 4);
    this.at += 20;
    return this;
  }

  /** An `integer` (null: NULL); anything but a 32-bit integer is refused, never rounded. */
  int4(value: number | null): this {
    if (value === null) return this.nullValue();
    if (!Number.isInteger(value) || value < INT4_MIN || value > INT4_MAX) throw new RangeError(`not a 32-bit integer: ${value}`);
    this.room(8);
    this.view.setInt32(this.at, 4);
    this.view.setInt32(this.at + 4, value);
    this.at += 8;
    return this;
  }

  /** A `bigint` (null: NULL); anything but a safe integer is refused, never rounded (money). */
  int8(value: number | null): this {
    if (value === null) return this.nullValue();
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`);
    this.room(12);
    const high = Math.floor(value / TWO_32);
    this.view.setInt32(this.at, 8);
    this.view.setInt32(this.at + 4, high);
    this.view.setUint32(this.at + 8, value - high * TWO_32);
    this.at += 12;
    return this;
  }

  /** A `timestamptz` (null: NULL): microseconds since PostgreSQL's epoch. */
  instant(value: Date | null): this {
    if (value === null) return this.nullValue();
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new RangeError('not a valid instant');
    return this.int8((ms - PG_EPOCH_MS) * 1000);
  }

  /** A `text` (null: NULL) as its UTF-8 bytes; PostgreSQL refuses a NUL in a text, as it would in any format. */
  text(value: string | null): this {
    if (value === null) return this.nullValue();
    const length = value.length;
    // At most three bytes of UTF-8 a UTF-16 unit.
    this.room(4 + length * 3);
    const out = this.out;
    const start = this.at + 4;
    let at = start;
    let k = 0;
    // ASCII a character at a time (nearly every value of a gateway's file); the rest encoded.
    for (; k < length; k++) {
      const c = value.charCodeAt(k);
      if (c >= 0x80) break;
      out[at++] = c;
    }
    if (k < length) at += this.encoder.encodeInto(k === 0 ? value : value.slice(k), out.subarray(at)).written;
    this.view.setInt32(this.at, at - start);
    this.at = at;
    return this;
  }

  /** The end of the data (after the last row). */
  trailer(): this {
    this.room(2);
    this.view.setInt16(this.at, -1);
    this.at += 2;
    return this;
  }

  /** The bytes written so far (a copy), and a fresh start. */
  take(): Uint8Array {
    const taken = this.out.slice(0, this.at);
    this.at = 0;
    return taken;
  }
}
