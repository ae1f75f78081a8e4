/**
 * `npm run import-statement -- <file> --source <id> --date <yyyy-mm-dd> [--mapping <json>]`
 *
 * Imports one statement file (CSV or XLSX, by its extension) as POST /v1/statements does, with a
 * progress bar (on standard error) and a summary (on standard output; `--json` prints the answer
 * as one JSON line instead). On a server database (DATABASE_URL) or a free embedded one it
 * imports itself, as an admin named by $USER. An embedded database held by a running hub cannot
 * be opened beside it: the file is then uploaded through that hub's API (its address from the
 * lock, else HUB_URL, else http://127.0.0.1:$PORT), with an admin token minted from the data
 * folder's secret as `npm run token` does. Exit 0 when imported (a repeat included), 1 when the
 * hub refused the file (its problem printed), 64 on a usage error.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { SignJWT } from 'jose';
import { migrate } from '../src/db/migrate.ts';
import { parseMapping } from '../src/http/statement-upload.ts';
import { DatabaseLockedError } from '../src/node/database-lock.ts';
import { createNodeLogger } from '../src/node/logger.ts';
import { buildDeps, exitOnConfigError, loadConfig, openDatabase, resolveSecrets, serviceContext } from '../src/node/runtime.ts';
import { ServiceError } from '../src/services/errors.ts';
import type { StatementFileFormat } from '../src/services/statement-files.ts';
import { importStatement, type StatementImportResult } from '../src/services/statements.ts';

const USAGE =
  'usage: npm run import-statement -- <file> --source <vnpay|dvcqg|sandbox|bank:<account>> --date <yyyy-mm-dd> [--mapping <json>] [--json]';

function usage(message: string): never {
  console.error(`import-statement: ${message}`);
  console.error(USAGE);
  process.exit(64); // EX_USAGE
}

const { positionals, values } = (() => {
  try {
    return parseArgs({
      options: {
        source: { type: 'string' },
        date: { type: 'string' },
        mapping: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return usage((error as Error).message);
  }
})();

if (positionals.length !== 1) usage('name one file');
if (!values.source) usage('--source is required');
if (!values.date) usage('--date is required');
const file = positionals[0]!;
const extension = extname(file).toLowerCase();
const format: StatementFileFormat | undefined =
  extension === '.xlsx' ? 'xlsx' : extension === '.csv' || extension === '.txt' ? 'csv' : undefined;
if (!format) usage(`${file}: a .csv (UTF-8) or .xlsx file`);
const size = await stat(file).then(
  (s) => s.size,
  () => usage(`${file}: no such file`),
);
if (values.mapping) {
  try {
    parseMapping(values.mapping);
  } catch (error) {
    usage(`--mapping: ${(error as ServiceError).message}`);
  }
}

const bar = new SingleBar(
  { format: 'importing {bar} {percentage}% | {lines} lines | {mb}/{totalMb} MB', hideCursor: true, stream: process.stderr, etaBuffer: 50 },
  undefined,
);
const showProgress = process.stderr.isTTY || process.env.IMPORT_PROGRESS === '1';
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
let linesSoFar = 0;
if (showProgress) bar.start(size, 0, { lines: 0, mb: mb(0), totalMb: mb(size) });

/** The file as a web stream, counting bytes for the bar as they are read. */
function fileStream(): ReadableStream<Uint8Array> {
  let read = 0;
  const stream = Readable.toWeb(createReadStream(file, { highWaterMark: 256 * 1024 })) as unknown as ReadableStream<Uint8Array>;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        read += chunk.byteLength;
        if (showProgress) bar.update(read, { lines: linesSoFar, mb: mb(read), totalMb: mb(size) });
        controller.enqueue(chunk);
      },
    }),
  );
}

function summary(result: StatementImportResult, via: string) {
  if (showProgress) bar.stop();
  if (values.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const vnd = (n: number) => `${n.toLocaleString('vi-VN')} đ`;
  console.log(
    result.repeat
      ? `${basename(file)} was imported before for ${result.source} on ${result.date}: nothing changed (statement ${result.id}, ${result.status})`
      : `statement ${result.id}: ${result.source} on ${result.date}, ${result.status}${result.replaced ? `, replacing ${result.replaced}` : ''} (${via})`,
  );
  console.log(`lines: ${result.linesTotal} read, ${result.linesImported} imported, ${result.linesRejected} rejected`);
  console.log(`credits ${vnd(result.creditTotal)}, debits ${vnd(result.debitTotal)}; sha256 ${result.contentHash}`);
  for (const r of result.rejected.slice(0, 20)) console.log(`  line ${r.line}: ${r.reason}`);
  if (result.linesRejected > 20) console.log(`  … every rejected line: GET ${result.rejectedLink}`);
}

function refused(code: string, detail: string, fields: Array<{ path: string; message: string }> = []): never {
  if (showProgress) bar.stop();
  console.error(`import-statement: refused (${code}): ${detail}`);
  for (const f of fields) console.error(`  ${f.path}: ${f.message}`);
  process.exit(1);
}

const config = loadConfig();
const handle = await openDatabase(config, { throwWhenLocked: true }).catch((error: unknown) => {
  if (error instanceof DatabaseLockedError) return error;
  throw error;
});

if (handle instanceof DatabaseLockedError) {
  // Only one process may open the embedded database: ask the hub that holds it.
  const hub = process.env.HUB_URL ?? handle.holder.listening ?? `http://127.0.0.1:${config.port}`;
  console.error(`import-statement: the embedded database is held by pid ${handle.holder.pid}; uploading through ${hub}`);
  const secrets = await resolveSecrets(config).catch(exitOnConfigError);
  if (!secrets.jwtSecret)
    refused('unauthenticated', 'the hub verifies tokens with a JWKS: upload through the API with a token of the identity provider');
  const token = await new SignJWT({ role: 'admin', agencies: [] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(`cli-${process.env.USER ?? 'import'}`)
    .setIssuer(config.auth.issuer)
    .setAudience(config.auth.audience)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secrets.jwtSecret));
  const boundary = `----import-statement-${crypto.randomUUID()}`;
  const encoder = new TextEncoder();
  const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const head = encoder.encode(
    field('source', values.source!) +
      field('date', values.date!) +
      (values.mapping ? field('mapping', values.mapping) : '') +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${basename(file).replace(/["\r\n]/g, '_')}"\r\n` +
      `Content-Type: ${format === 'xlsx' ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv'}\r\n\r\n`,
  );
  const reader = fileStream().getReader();
  let stage: 'head' | 'file' | 'done' = 'head';
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (stage === 'head') {
        stage = 'file';
        return controller.enqueue(head);
      }
      if (stage === 'file') {
        const next = await reader.read();
        if (!next.done) return controller.enqueue(next.value);
        stage = 'done';
        controller.enqueue(encoder.encode(`\r\n--${boundary}--\r\n`));
      }
      controller.close();
    },
  });
  const response = await fetch(`${hub}/v1/statements`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'idempotency-key': `import-statement-${crypto.randomUUID()}`,
    },
    body: body as unknown as NodeReadableStream<Uint8Array> as never,
    duplex: 'half',
  } as RequestInit).catch((error: unknown) => refused('service-unavailable', `${hub} did not answer (${(error as Error).message})`));
  const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) refused(String(answer.code ?? response.status), String(answer.detail ?? response.statusText), answer.errors as never);
  summary(answer as unknown as StatementImportResult, `through ${hub}`);
  process.exit(0);
}

let exitCode = 0;
try {
  await migrate(handle);
  const secrets = await resolveSecrets(config).catch(exitOnConfigError);
  // The hub's log lines go to standard error, below the warnings: standard output is the summary.
  const deps = await buildDeps(config, handle, secrets, createNodeLogger('warn', { write: (line) => process.stderr.write(line) }));
  const ctx = serviceContext(deps);
  const principal = { subject: `cli-${process.env.USER ?? 'import'}`, role: 'admin' as const, agencies: [] };
  try {
    const result = await importStatement(ctx, principal, {
      source: values.source!,
      date: values.date!,
      mapping: values.mapping ? parseMapping(values.mapping) : undefined,
      fileName: basename(file),
      format,
      body: fileStream(),
      onProgress: ({ lines }) => {
        linesSoFar = lines;
      },
    });
    summary(result.body, config.database.kind === 'server' ? 'server database' : 'embedded database');
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    if (showProgress) bar.stop();
    console.error(`import-statement: refused (${error.code}): ${error.message}`);
    for (const f of error.fields) console.error(`  ${f.path}: ${f.message}`);
    exitCode = 1;
  }
} finally {
  await handle.close();
}
process.exit(exitCode);
