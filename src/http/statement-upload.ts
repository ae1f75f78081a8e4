import { z } from '@hono/zod-openapi';
import { streamMultipart } from '@web3-storage/multipart-parser';
import { type ColumnMapping, statementFields } from '../gateways/statement-format.ts';
import { ServiceError } from '../services/errors.ts';
import type { StatementFileFormat } from '../services/statement-files.ts';

/**
 * A statement upload read as it arrives (multipart/form-data): the text fields before the file are
 * collected (small, bounded), the file is handed on as a stream the import pulls at its own pace,
 * so a file of any size is never held in memory. Shared by POST /v1/statements and the treasury's
 * upload form.
 */

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** A text field (source, date, a mapping, a CSRF token) is never longer than this. */
const MAX_FIELD_BYTES = 16 * 1024;

export interface StatementUploadFile {
  fileName?: string;
  format: StatementFileFormat;
  body: ReadableStream<Uint8Array>;
}

/** The file's format, from its name, else its declared type; anything else is refused (415). */
function fileFormatOf(fileName: string | undefined, contentType: string | undefined): StatementFileFormat {
  const name = fileName?.toLowerCase() ?? '';
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (name.endsWith('.xlsx') || (!/\.\w+$/.test(name) && type === XLSX_TYPE)) return 'xlsx';
  if (name.endsWith('.csv') || name.endsWith('.txt') || (!/\.\w+$/.test(name) && /^(text\/(csv|plain)|application\/csv)$/.test(type)))
    return 'csv';
  throw new ServiceError('unsupported-media-type', `the file ${JSON.stringify(fileName ?? '')} is neither CSV nor XLSX`, [
    { path: 'file', message: 'a .csv (UTF-8) or .xlsx file' },
  ]);
}

export function parseMapping(text: string): ColumnMapping {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ServiceError('validation-failed', 'the mapping is not JSON', [{ path: 'mapping', message: 'a JSON object' }]);
  }
  const schema = z
    .object(
      Object.fromEntries(statementFields.map((f) => [f, z.string().trim().min(1).max(200).optional()])) as Record<
        (typeof statementFields)[number],
        z.ZodOptional<z.ZodString>
      >,
    )
    .strict();
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ServiceError(
      'validation-failed',
      'the mapping names a column header (a string) for some of transactionId, reference, amount, time, text, direction',
      parsed.error.issues.slice(0, 10).map((i) => ({ path: ['mapping', ...i.path.map(String)].join('.'), message: i.message })),
    );
  }
  return parsed.data as ColumnMapping;
}

interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: AsyncIterable<Uint8Array>;
}

async function fieldText(part: MultipartPart): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of part.data) {
    size += chunk.byteLength;
    if (size > MAX_FIELD_BYTES)
      throw new ServiceError('validation-failed', `the field ${part.name} is too long`, [
        { path: part.name, message: `at most ${MAX_FIELD_BYTES} bytes` },
      ]);
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(bytes).trim();
}

const malformed = () =>
  new ServiceError('validation-failed', 'the body is not well-formed multipart/form-data', [
    { path: 'body', message: 'multipart/form-data' },
  ]);

/** A part's content as a web stream, pulled only as fast as the import reads it. */
function partStream(part: MultipartPart): ReadableStream<Uint8Array> {
  const iterator = part.data[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch {
          controller.error(malformed());
        }
      },
    },
    { highWaterMark: 0 },
  );
}

export const MISSING_FIELD = (name: string) => ({ path: name, message: 'required before the file' });

/**
 * Reads `request` as multipart/form-data: the fields named in `fields` (in any order, before the
 * file) as text, other fields read past; then calls `onFile` with them and the file. 415 when it is
 * not multipart, 400 when it is malformed or has no file.
 */
export async function withStatementUpload<T>(
  request: Request,
  fields: readonly string[],
  onFile: (values: Record<string, string>, file: StatementUploadFile) => Promise<T>,
): Promise<T> {
  const contentType = request.headers.get('content-type') ?? '';
  const boundary = /^multipart\/form-data\s*;.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!boundary)
    throw new ServiceError('unsupported-media-type', 'send the file as multipart/form-data', [
      { path: 'content-type', message: 'multipart/form-data; boundary=…' },
    ]);
  const body = request.body;
  if (!body) throw new ServiceError('validation-failed', 'the body is empty', [{ path: 'file', message: 'required' }]);
  const values: Record<string, string> = {};
  const parts: AsyncGenerator<MultipartPart> = streamMultipart(body, (boundary[1] ?? boundary[2])!);
  for (;;) {
    let next: IteratorResult<MultipartPart>;
    try {
      next = await parts.next();
    } catch {
      throw malformed();
    }
    if (next.done) break;
    const part = next.value;
    if (part.name !== 'file') {
      if (fields.includes(part.name))
        values[part.name] = await fieldText(part).catch((e) => Promise.reject(e instanceof ServiceError ? e : malformed()));
      else
        for await (const _ of part.data) {
        } // an unknown field is read past
      continue;
    }
    const format = fileFormatOf(part.filename, part.contentType);
    return onFile(values, { fileName: part.filename, format, body: partStream(part) });
  }
  throw new ServiceError('validation-failed', 'no file was sent', [{ path: 'file', message: 'required' }]);
}
