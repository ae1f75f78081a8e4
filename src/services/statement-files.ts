/**
 * The bytes of an uploaded statement, read once as they arrive: counted against the size limit,
 * hashed (SHA-256, incrementally), checked to be UTF-8 where text is expected, and turned into
 * numbered rows by a maintained parser (csv-parse for CSV, the injected Spreadsheets for XLSX).
 * Nothing here holds more than a chunk and a batch of rows.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { NumberedRow } from '../gateways/statement-format.ts';
import { ServiceError } from './errors.ts';
import type { Spreadsheets } from './spreadsheets.ts';

export type StatementFileFormat = 'csv' | 'xlsx';

export interface HashedBody {
  stream: ReadableStream<Uint8Array>;
  /** The file's SHA-256 (hex) and size, once every byte has passed. */
  digest(): { hash: string; bytes: number };
}

interface Sha256 {
  update(data: Uint8Array): unknown;
  hex(): string;
}
type NodeCrypto = typeof import('node:crypto');
type NodeBuffer = typeof import('node:buffer');

/** A module of the runtime's own, through `process.getBuiltinModule` (no import: Workers' bundle stays free of node:*). */
function builtin<T>(id: string): T | undefined {
  const host = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return host?.getBuiltinModule?.(id) as T | undefined;
}

/**
 * SHA-256 updated chunk by chunk (Web Crypto's digest takes the whole input at once): the
 * runtime's own (node:crypto, reached through `process.getBuiltinModule` where there is one: Node
 * 20.16+, and Workers with nodejs_compat — six times faster on a 90 MB file), else @noble/hashes'
 * (audited, pure JS).
 */
function sha256Hash(): Sha256 {
  const nodeCrypto = builtin<NodeCrypto>('node:crypto');
  if (nodeCrypto?.createHash) {
    const hash = nodeCrypto.createHash('sha256');
    return { update: (data) => hash.update(data), hex: () => hash.digest('hex') };
  }
  const hash = sha256.create();
  return { update: (data) => hash.update(data), hex: () => bytesToHex(hash.digest()) };
}

/** Passes the body through, hashing it and counting its bytes, and checking a CSV's UTF-8. */
export function hashingBody(body: ReadableStream<Uint8Array>, maxBytes: number, format: StatementFileFormat): HashedBody {
  const hash = sha256Hash();
  let bytes = 0;
  let finished = false;
  // CSV must be UTF-8 (with or without a byte-order mark): checked as it passes, without keeping it.
  const utf8 = format === 'csv' ? utf8Check() : undefined;
  let head = new Uint8Array(0);
  const transform = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) throw new ServiceError('payload-too-large', `a statement file is at most ${maxBytes} bytes`);
      if (head.byteLength < 4) {
        const joined = new Uint8Array(head.byteLength + Math.min(chunk.byteLength, 4));
        joined.set(head);
        joined.set(chunk.subarray(0, 4), head.byteLength);
        head = joined;
        checkMagic(head, format);
      }
      hash.update(chunk);
      utf8?.(chunk, false);
      controller.enqueue(chunk);
    },
    flush() {
      utf8?.(new Uint8Array(0), true);
      finished = true;
    },
  });
  return {
    stream: body.pipeThrough(transform),
    digest() {
      if (!finished) throw new Error('the statement file was not read to its end');
      return { hash: hash.hex(), bytes };
    },
  };
}

/**
 * Checks that the chunks are UTF-8 as they pass, without keeping them: with the runtime's
 * `isUtf8` (node:buffer, where `process.getBuiltinModule` reaches it: 7 ms for 90 MB) on each
 * chunk up to its last whole letter, the cut letter carried to the next; else with a fatal
 * TextDecoder (0.7 s for 90 MB).
 */
function utf8Check(): (chunk: Uint8Array, end: boolean) => void {
  const isUtf8 = builtin<NodeBuffer>('node:buffer')?.isUtf8;
  if (!isUtf8) {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    return (chunk, end) => {
      try {
        decoder.decode(chunk, { stream: !end });
      } catch {
        throw notUtf8();
      }
    };
  }
  let carried = new Uint8Array(0);
  return (chunk, end) => {
    const bytes = carried.byteLength > 0 ? concatBytes([carried, chunk]) : chunk;
    // The last letter may go on in the next chunk: its lead byte is among the last three.
    let whole = bytes.byteLength;
    if (!end) {
      for (let back = 1; back <= Math.min(3, bytes.byteLength); back++) {
        const b = bytes[bytes.byteLength - back]!;
        if (b < 0x80) break;
        if (b >= 0xc0) {
          const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
          if (length > back) whole = bytes.byteLength - back;
          break;
        }
      }
    }
    if (!isUtf8(bytes.subarray(0, whole))) throw notUtf8();
    carried = bytes.slice(whole);
  };
}

const notUtf8 = () =>
  new ServiceError(
    'statement-unreadable',
    'the file is not UTF-8 text: save it as "CSV UTF-8" (a Windows-1258 or TCVN3 file would lose its Vietnamese letters)',
  );

const ZIP = [0x50, 0x4b, 0x03, 0x04];

/** An XLSX is a zip; a CSV is not one, and a UTF-16 text is not UTF-8. Checked on the first bytes. */
function checkMagic(head: Uint8Array, format: StatementFileFormat) {
  const isZip = head.byteLength >= 4 && ZIP.every((b, i) => head[i] === b);
  if (format === 'xlsx' && head.byteLength >= 4 && !isZip) {
    throw new ServiceError(
      'unsupported-media-type',
      'the file is not an XLSX workbook (an .xls of old Excel is not read: save it as .xlsx or CSV)',
    );
  }
  if (format === 'csv' && isZip) throw new ServiceError('unsupported-media-type', 'the file is a workbook (XLSX), not CSV text');
  if (format === 'csv' && head.byteLength >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    throw new ServiceError('statement-unreadable', 'the file is UTF-16 text: save it as "CSV UTF-8"');
  }
}

/** The delimiter of a CSV file: whichever of `,` `;` tab occurs most in its first line outside quotes. */
export function sniffDelimiter(firstLine: string): ',' | ';' | '\t' {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of firstLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch in counts) counts[ch as keyof typeof counts] += 1;
  }
  return counts[';'] > counts[','] && counts[';'] >= counts['\t'] ? ';' : counts['\t'] > counts[','] ? '\t' : ',';
}

/** The rows of a workbook (a CSV is read by csv-lines.ts); XLSX needs the Spreadsheets port (Node). */
export function workbookRows(bytes: ReadableStream<Uint8Array>, spreadsheets?: Spreadsheets): AsyncIterable<NumberedRow> {
  if (!spreadsheets) throw xlsxUnsupported();
  const sheets = spreadsheets;
  return (async function* () {
    try {
      for await (const row of sheets.readRows(await peeked(bytes))) yield { lineNo: row.number, cells: row.cells };
    } catch (error) {
      if (error instanceof ServiceError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new ServiceError('statement-unreadable', `the workbook cannot be read: ${message.slice(0, 200)}`);
    }
  })();
}

/**
 * The same stream, its first chunk already read: an error of the first bytes (not a workbook, too
 * large) is thrown here, to the importer, rather than inside the workbook reader.
 */
async function peeked(bytes: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const reader = bytes.getReader();
  const first = await reader.read();
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (first.done) controller.close();
        else controller.enqueue(first.value);
      },
      async pull(controller) {
        const next = await reader.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

export const xlsxUnsupported = () =>
  new ServiceError(
    'unsupported-media-type',
    'this hub reads no XLSX files here (no spreadsheet reader on this runtime): send the statement as CSV UTF-8',
  );

/** The chunks' bytes, one after the other. */
export function concatBytes(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
