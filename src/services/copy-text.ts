/**
 * Rows in COPY's text format, written as bytes (issue 11: a million statement lines a second).
 * Built as strings, a batch of rows was a rope of small pieces that Buffer.from flattened and
 * encoded at the socket: 1.1 s of the import's 4.9 s (BENCHMARKS.md). Here each value goes into
 * one growing buffer: ASCII a character at a time (nearly every value of a gateway's file),
 * anything else through TextEncoder.encodeInto.
 */
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const NULL_BYTES = [BACKSLASH, 0x4e]; // \N

export class CopyText {
  private out: Uint8Array;
  private at = 0;
  private readonly encoder = new TextEncoder();
  private fields = 0;

  /** `initialBytes`: the buffer's first size; it grows as rows need (tests start it small). */
  constructor(initialBytes = 1 << 20) {
    this.out = new Uint8Array(initialBytes);
  }

  /** Room for `more` bytes. */
  private room(more: number) {
    if (this.at + more <= this.out.length) return;
    const grown = new Uint8Array(Math.max(this.out.length * 2, this.at + more));
    grown.set(this.out.subarray(0, this.at));
    this.out = grown;
  }

  private separate() {
    if (this.fields++ > 0) this.out[this.at++] = TAB;
  }

  /** A text value (null: \N), its backslash, tab and line breaks escaped as COPY reads them back. */
  text(value: string | null): this {
    this.room(1);
    this.separate();
    if (value === null) return this.nullValue();
    const length = value.length;
    // Each character at most two bytes of escape, or three of UTF-8.
    this.room(length * 3);
    const out = this.out;
    let at = this.at;
    for (let k = 0; k < length; k++) {
      const c = value.charCodeAt(k);
      if (c >= 0x80) {
        this.at = at;
        return this.encoded(value.slice(k));
      }
      if (c === BACKSLASH || c === TAB || c === LF || c === CR) {
        out[at++] = BACKSLASH;
        out[at++] = c === BACKSLASH ? BACKSLASH : c === TAB ? 0x74 : c === LF ? 0x6e : 0x72;
      } else out[at++] = c;
    }
    this.at = at;
    return this;
  }

  /** The rest of a text that is not ASCII: escaped, then encoded. */
  private encoded(rest: string): this {
    const escaped = rest.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
    this.room(escaped.length * 3);
    this.at += this.encoder.encodeInto(escaped, this.out.subarray(this.at)).written;
    return this;
  }

  /** An integer (null: \N). */
  integer(value: number | null): this {
    if (value === null) {
      this.room(1);
      this.separate();
      return this.nullValue();
    }
    return this.ascii(String(value));
  }

  /** A value known to be ASCII with nothing to escape (a uuid, an ISO instant, a word); null: \N. */
  ascii(value: string | null): this {
    this.room((value?.length ?? 2) + 1);
    this.separate();
    if (value === null) return this.nullValue();
    const out = this.out;
    let at = this.at;
    for (let k = 0; k < value.length; k++) out[at++] = value.charCodeAt(k);
    this.at = at;
    return this;
  }

  private nullValue(): this {
    this.room(2);
    this.out[this.at++] = NULL_BYTES[0]!;
    this.out[this.at++] = NULL_BYTES[1]!;
    return this;
  }

  /** The row ends. */
  end(): void {
    this.room(1);
    this.out[this.at++] = LF;
    this.fields = 0;
  }

  /** The rows written so far (a copy), and a fresh start. */
  take(): Uint8Array {
    const taken = this.out.slice(0, this.at);
    this.at = 0;
    return taken;
  }
}
