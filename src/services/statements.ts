import { and, asc, desc, eq, gt, isNotNull, lt, ne, type SQL, sql } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import { pgError } from '../db/errors.ts';
import { reconciliations, type StatementMapping, statementLines, statements } from '../db/schema/index.ts';
import { queryRows } from '../db/types.ts';
import {
  type ColumnMapping,
  readStatementLines,
  type StatementLayout,
  StatementLayoutError,
  type StatementLine,
} from '../gateways/statement-format.ts';
import { defaultStatementFormats } from '../gateways/statement-formats.ts';
import { appendAudit } from './audit.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { csvStatementLines } from './csv-lines.ts';
import { isCountedLine } from './day-payments.ts';
import { ServiceError } from './errors.ts';
import { idempotencyScope, keyUsed, rememberResponse, requestFingerprint, storedResponse } from './idempotency.ts';
import { actorOf, type Principal, scopeCondition } from './principal.ts';
import { RepeatFinder } from './repeats.ts';
import { requireSource, type StatementSource, sourceOutsideScope, sourceOwner } from './sources.ts';
import type { Spreadsheets } from './spreadsheets.ts';
import { type LineCounts, lineSink, type RejectedLine } from './statement-copy.ts';
import { hashingBody, type StatementFileFormat, workbookRows, xlsxUnsupported } from './statement-files.ts';

/**
 * Statements in (issue 11): one file per source and business day, streamed from the request into
 * `statement_lines` a batch at a time, so memory stays bounded whatever the file's size. Lines
 * go in under a statement marked `importing` (committed batch by batch, so the embedded
 * database's one connection is never held while the upload trickles in); one short transaction
 * at the end decides what the file is: a repeat (same content: its lines are discarded and the
 * earlier statement is the answer), the day's first statement, or the replacement of the current
 * one while the day is open (the earlier one stays, `superseded`). A failed import leaves nothing.
 */

/** Lines per INSERT: large enough to amortise the round trip, small enough to keep memory flat. */
export const LINE_BATCH = 2_000;
/** The answer lists this many rejected lines; all of them are at `rejectedLink`. */
const REJECTED_IN_ANSWER = 100;
const DEFAULT_STATEMENT_MAX_BYTES = 200 * 1024 * 1024;
/** Advisory-lock namespace of a (source, day)'s statements (the audit chain's is 766_0001). */
const STATEMENT_DAY_LOCK = 766_0011;

export interface ImportStatementInput {
  /** `vnpay`, `dvcqg`, `sandbox` or `bank:<account>`. */
  source: string;
  /** The business date, yyyy-mm-dd in Asia/Ho_Chi_Minh. */
  date: string;
  /** A generic file's columns; without one, the source's own format. */
  mapping?: ColumnMapping;
  fileName?: string;
  body: ReadableStream<Uint8Array>;
  format: StatementFileFormat;
  idempotencyKey?: string;
  /** Called after each batch of lines is written (the CLI's progress bar). */
  onProgress?: (progress: { lines: number }) => void;
}

export interface StatementView {
  id: string;
  source: string;
  date: string;
  agencyCode: string;
  format: string;
  fileName: string | null;
  contentHash: string;
  mapping: StatementMapping | null;
  status: 'importing' | 'current' | 'superseded' | 'failed';
  linesTotal: number;
  linesImported: number;
  linesRejected: number;
  creditTotal: number;
  debitTotal: number;
  supersededBy: string | null;
  uploadedBy: string;
  createdAt: string;
  completedAt: string | null;
}

export interface StatementImportResult {
  id: string;
  source: string;
  date: string;
  status: StatementView['status'];
  /** The same file was imported before for this source and day: nothing changed, `id` is that statement. */
  repeat: boolean;
  linesTotal: number;
  linesImported: number;
  linesRejected: number;
  /** The first rejected lines, by number; every one is at `rejectedLink`. */
  rejected: RejectedLine[];
  rejectedLink: string | null;
  creditTotal: number;
  debitTotal: number;
  contentHash: string;
  /** The statement this one replaced (now `superseded`). */
  replaced?: string;
}

/** The HTTP status the answer goes with: 201 for a new statement, 200 for a repeat. */
export interface StatementImport {
  status: 200 | 201;
  body: StatementImportResult;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function requireBusinessDate(date: string, field = 'date'): string {
  const valid =
    DATE.test(date) && !Number.isNaN(Date.parse(`${date}T00:00:00Z`)) && new Date(`${date}T00:00:00Z`).toISOString().startsWith(date);
  if (!valid) throw new ServiceError('validation-failed', `"${date}" is not a date`, [{ path: field, message: 'a date yyyy-mm-dd' }]);
  return date;
}

/** A statement's agency must be in the principal's scope; outside it, the source does not exist for them. */
async function requireOwnerInScope(ctx: ServiceContext, principal: Principal, source: StatementSource): Promise<string> {
  const owner = await sourceOwner(ctx, source);
  const scope = scopeCondition(principal, sql`${owner}`);
  if (scope) {
    const rows = await queryRows<{ ok: number }>(executor(ctx), sql`SELECT 1 AS ok WHERE ${scope}`);
    if (rows.length === 0) throw sourceOutsideScope(source);
  }
  return owner;
}

function layoutOf(
  ctx: ServiceContext,
  source: StatementSource,
  mapping: ColumnMapping | undefined,
): { layout: StatementLayout; format: string } {
  if (mapping) {
    if (!mapping.amount) {
      throw new ServiceError('validation-failed', 'the mapping must name the amount column', [
        { path: 'mapping.amount', message: 'required' },
      ]);
    }
    return { layout: { kind: 'mapping', mapping }, format: 'mapping' };
  }
  const format =
    source.kind === 'bank'
      ? defaultStatementFormats.bank
      : (ctx.gateways[source.gateway]?.statement ?? defaultStatementFormats[source.gateway]);
  return { layout: { kind: 'format', format }, format: format.id };
}

async function requireDayOpen(ctx: ServiceContext, source: string, date: string, lock: boolean) {
  const query = executor(ctx)
    .select({ status: reconciliations.status })
    .from(reconciliations)
    .where(and(eq(reconciliations.source, source), eq(reconciliations.businessDate, date)));
  // Inside the finishing transaction the day's row is held, so it cannot close under the import.
  const rows = lock ? await query.for('share') : await query;
  if (rows[0]?.status === 'closed') {
    throw new ServiceError('day-closed', `the day ${date} of ${source} is closed: its statement cannot change`, [], { source, date });
  }
}

/**
 * Imports one statement file. Bad lines are kept with their number and reason; a bad file (no
 * header, not UTF-8, not the format it claims, too large) leaves nothing behind. The caller's
 * `ctx.tx` must be unset: batches commit on their own.
 */
export async function importStatement(
  ctx: ServiceContext & { spreadsheets?: Spreadsheets },
  principal: Principal,
  input: ImportStatementInput,
): Promise<StatementImport> {
  if (ctx.tx) throw new Error('importStatement commits its batches itself: call it outside a transaction');
  const source = requireSource(input.source);
  const date = requireBusinessDate(input.date);
  const { layout, format } = layoutOf(ctx, source, input.mapping);
  if (input.format === 'xlsx' && !ctx.spreadsheets) throw xlsxUnsupported();
  const owner = await requireOwnerInScope(ctx, principal, source);
  await requireDayOpen(ctx, source.id, date, false);
  const actor = actorOf(principal);
  const maxBytes = ctx.settings.treasuryDay.statementMaxBytes ?? DEFAULT_STATEMENT_MAX_BYTES;
  const body = hashingBody(input.body, maxBytes, input.format);
  const fingerprintOf = (contentHash: string) =>
    requestFingerprint('POST /v1/statements', { source: source.id, date, mapping: input.mapping ?? null, contentHash });

  // A key used before: the file is only hashed (nothing written), and the first answer replayed.
  if (input.idempotencyKey && (await keyUsed(ctx, idempotencyScope(principal), input.idempotencyKey))) {
    const reader = body.stream.getReader();
    while (!(await reader.read()).done) {}
    const replay = await storedResponse(ctx, idempotencyScope(principal), input.idempotencyKey, fingerprintOf(body.digest().hash));
    return replay as StatementImport;
  }

  // Time-ordered (UUIDv7): a new statement's lines go at the right-hand end of the lines' key
  // (statement_id, line_no) instead of somewhere inside it — a million-line import spent 0.6 s more
  // on a random id's place in the index (BENCHMARKS.md).
  const id = uuidv7();
  await executor(ctx)
    .insert(statements)
    .values({
      id,
      source: source.id,
      businessDate: date,
      agencyCode: owner,
      format: input.mapping ? input.format : format,
      fileName: input.fileName?.slice(0, 255) ?? null,
      // Unique until the file is read to its end and its hash known.
      contentHash: `importing:${id}`,
      mapping: input.mapping ?? null,
      status: 'importing',
      uploadedBy: actor,
    });
  try {
    const counts = await writeLines(ctx, id, fileLines(layout, input.format, body.stream, ctx.spreadsheets), input.onProgress);
    const { hash } = body.digest();
    if (counts.linesTotal === 0) throw new ServiceError('statement-unreadable', 'the file has a header but no lines');
    const outcome = await finish(ctx, principal, {
      id,
      source: source.id,
      date,
      owner,
      hash,
      counts,
      key: input.idempotencyKey,
      fingerprint: fingerprintOf(hash),
    });
    if (outcome.body.id !== id) await discard(ctx, id);
    return outcome;
  } catch (error) {
    await discard(ctx, id);
    if (error instanceof StatementLayoutError) {
      if (error.missing.length > 0) {
        throw new ServiceError(
          'validation-failed',
          error.message,
          error.missing.map((field) => ({ path: `mapping.${field}`, message: 'no such column in the file' })),
        );
      }
      throw new ServiceError('statement-unreadable', error.message);
    }
    throw error;
  }
}

function withoutRepeats<T extends { repeatedTransactions: unknown }>({
  repeatedTransactions: _,
  ...rest
}: T): Omit<T, 'repeatedTransactions'> {
  return rest;
}

/**
 * Reads the file's lines and writes them a batch at a time through a sink: COPY on a server
 * (postgres.js), batched INSERTs elsewhere (PGlite). The next batch is parsed while the previous
 * one is written.
 */
async function writeLines(
  ctx: ServiceContext,
  statementId: string,
  lineBatches: AsyncIterable<StatementLine[]>,
  onProgress: ImportStatementInput['onProgress'],
): Promise<LineCounts> {
  const counts: LineCounts = {
    linesTotal: 0,
    linesImported: 0,
    linesRejected: 0,
    creditTotal: 0,
    debitTotal: 0,
    linesCounted: 0,
    ignoredTotal: 0,
    repeatedTransactions: null,
    rejected: [],
  };
  const repeats = new RepeatFinder();
  const sink = await lineSink(ctx, statementId);
  let batch: StatementLine[] = [];
  let inFlight: Promise<void> | undefined;
  const flush = async () => {
    if (inFlight) await inFlight;
    if (batch.length === 0) return;
    const lines = batch;
    batch = [];
    const written = counts.linesTotal;
    inFlight = sink.write(lines).then(() => onProgress?.({ lines: written }));
  };
  try {
    for await (const read of lineBatches)
      for (const line of read) {
        counts.linesTotal += 1;
        repeats.offer(line.transactionId);
        if (isCountedLine(line)) counts.linesCounted += 1;
        else if (line.error === null) counts.ignoredTotal += line.amount ?? 0;
        if (line.error) {
          counts.linesRejected += 1;
          if (counts.rejected.length < REJECTED_IN_ANSWER) counts.rejected.push({ line: line.lineNo, reason: line.error });
        } else {
          counts.linesImported += 1;
          // A day's totals count money that moved: a gateway's failed or pending line moved none; a
          // payment refunded since was still collected that day (as the matching counts it: countedLine).
          if (line.status === null || line.status === 'paid' || line.status === 'refunded') {
            if (line.direction === 'credit') counts.creditTotal += line.amount!;
            else if (line.direction === 'debit') counts.debitTotal += line.amount!;
          }
        }
        batch.push(line);
        if (batch.length >= LINE_BATCH) await flush();
      }
    await flush();
    if (inFlight) await inFlight;
    await sink.end();
    counts.repeatedTransactions = repeats.result();
  } catch (error) {
    // The write in flight must end before the lines are discarded.
    await inFlight?.catch(() => {});
    await sink.abort();
    throw error;
  }
  return counts;
}

/** The file's lines, a batch at a time: a CSV by its scanner (csv-lines.ts), a workbook row by row. */
function fileLines(
  layout: StatementLayout,
  format: StatementFileFormat,
  bytes: ReadableStream<Uint8Array>,
  spreadsheets: Spreadsheets | undefined,
): AsyncIterable<StatementLine[]> {
  if (format === 'csv') return csvStatementLines(layout, bytes);
  return batches(readStatementLines(layout, workbookRows(bytes, spreadsheets)));
}

async function* batches(lines: AsyncIterable<StatementLine>): AsyncGenerator<StatementLine[]> {
  let batch: StatementLine[] = [];
  for await (const line of lines) {
    batch.push(line);
    if (batch.length === LINE_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * An import still `importing` after this long was cut off (the process stopped mid-upload): a
 * 200 MB file takes minutes, never hours.
 */
const ABANDONED_IMPORT_MS = 6 * 60 * 60 * 1000;

/**
 * The jobs' clean-up of imports cut off by a crash: their `importing` rows (never current, never
 * listed) and whatever lines they had written (none on a server, where the lines are one
 * transaction; the batches so far on PGlite). A statement that became current is never touched.
 */
export async function purgeAbandonedImports(ctx: ServiceContext, olderThanMs = ABANDONED_IMPORT_MS): Promise<{ purged: number }> {
  const before = new Date(ctx.now().getTime() - olderThanMs);
  const abandoned = await executor(ctx)
    .select({ id: statements.id })
    .from(statements)
    .where(and(eq(statements.status, 'importing'), lt(statements.createdAt, before)))
    .limit(100);
  for (const { id } of abandoned) await discard(ctx, id);
  return { purged: abandoned.length };
}

/** Removes an import that did not become a statement (a repeat, a refusal, a broken upload). */
async function discard(ctx: ServiceContext, id: string): Promise<void> {
  await executor(ctx).delete(statementLines).where(eq(statementLines.statementId, id));
  await executor(ctx)
    .delete(statements)
    .where(and(eq(statements.id, id), eq(statements.status, 'importing')));
}

interface Finish {
  id: string;
  source: string;
  date: string;
  owner: string;
  hash: string;
  counts: LineCounts;
  key?: string;
  fingerprint: string;
}

/**
 * The one short transaction that decides what the imported file is. Uploads of the same source
 * and day take turns here (an advisory lock), so two never both become current: the later one
 * replaces the earlier (or is its repeat). The unique indexes stay the last guard.
 */
async function finish(ctx: ServiceContext, principal: Principal, f: Finish): Promise<StatementImport> {
  try {
    return await withTransaction(ctx, async (ctx) => {
      const db = executor(ctx);
      await db.execute(sql`SELECT pg_advisory_xact_lock(${STATEMENT_DAY_LOCK}, hashtext(${`${f.source}|${f.date}`}))`);
      if (f.key) {
        const replay = await storedResponse(ctx, idempotencyScope(principal), f.key, f.fingerprint);
        if (replay) return replay as StatementImport;
      }
      await requireDayOpen(ctx, f.source, f.date, true);
      const [earlier] = await db
        .select()
        .from(statements)
        .where(and(eq(statements.source, f.source), eq(statements.businessDate, f.date), eq(statements.contentHash, f.hash)));
      let answer: StatementImport;
      if (earlier) {
        answer = { status: 200, body: { ...(await resultOf(ctx, earlier)), repeat: true } };
      } else {
        const [current] = await db
          .select({ id: statements.id })
          .from(statements)
          .where(and(eq(statements.source, f.source), eq(statements.businessDate, f.date), eq(statements.status, 'current')))
          .for('update');
        if (current) await db.update(statements).set({ status: 'superseded', supersededBy: f.id }).where(eq(statements.id, current.id));
        const { rejected, ...totals } = f.counts;
        const [row] = await db
          .update(statements)
          .set({ ...totals, status: 'current', contentHash: f.hash, completedAt: ctx.now() })
          .where(eq(statements.id, f.id))
          .returning();
        await appendAudit(ctx, principal, {
          action: current ? 'statement.replace' : 'statement.import',
          resourceType: 'statement',
          resourceId: f.id,
          agencyCode: f.owner,
          before: current ? { statementId: current.id, status: 'current' } : null,
          after: {
            source: f.source,
            date: f.date,
            contentHash: f.hash,
            fileName: row!.fileName,
            // The counts; the suspected repeats (up to 10,000 ids) are the matching's, not the record's.
            ...withoutRepeats(totals),
            ...(current ? { replaced: current.id } : {}),
          },
        });
        answer = {
          status: 201,
          body: { ...baseResult(row!), repeat: false, rejected, ...(current ? { replaced: current.id } : {}) },
        };
      }
      if (f.key) await rememberResponse(ctx, idempotencyScope(principal), f.key, f.fingerprint, answer as never);
      return answer;
    });
  } catch (error) {
    if (pgError(error).code === '23505') {
      // The same key sent twice at the same moment: the first to commit answers both.
      const replay = f.key ? await storedResponse(ctx, idempotencyScope(principal), f.key, f.fingerprint) : null;
      if (replay) return replay as StatementImport;
      throw new ServiceError(
        'concurrent-update',
        'another statement for this source and day was imported at the same moment: send it again',
      );
    }
    throw error;
  }
}

type StatementRow = typeof statements.$inferSelect;

function baseResult(row: StatementRow): Omit<StatementImportResult, 'repeat' | 'rejected'> {
  return {
    id: row.id,
    source: row.source,
    date: row.businessDate,
    status: row.status,
    linesTotal: row.linesTotal,
    linesImported: row.linesImported,
    linesRejected: row.linesRejected,
    rejectedLink: row.linesRejected > 0 ? `/v1/statements/${row.id}/lines?rejected=true` : null,
    creditTotal: row.creditTotal,
    debitTotal: row.debitTotal,
    contentHash: row.contentHash,
  };
}

async function resultOf(ctx: ServiceContext, row: StatementRow): Promise<Omit<StatementImportResult, 'repeat'>> {
  const rejected = await executor(ctx)
    .select({ line: statementLines.lineNo, reason: statementLines.error })
    .from(statementLines)
    .where(and(eq(statementLines.statementId, row.id), isNotNull(statementLines.error)))
    .orderBy(asc(statementLines.lineNo))
    .limit(REJECTED_IN_ANSWER);
  return { ...baseResult(row), rejected: rejected.map((r) => ({ line: r.line, reason: r.reason! })) };
}

// ── Reading statements ──────────────────────────────────────────────────────────────────────

function statementView(row: StatementRow): StatementView {
  return {
    id: row.id,
    source: row.source,
    date: row.businessDate,
    agencyCode: row.agencyCode,
    format: row.format,
    fileName: row.fileName,
    contentHash: row.contentHash,
    mapping: row.mapping ?? null,
    status: row.status,
    linesTotal: row.linesTotal,
    linesImported: row.linesImported,
    linesRejected: row.linesRejected,
    creditTotal: row.creditTotal,
    debitTotal: row.debitTotal,
    supersededBy: row.supersededBy,
    uploadedBy: row.uploadedBy,
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}

const present = (conditions: Array<SQL | undefined | false>) => and(...conditions.filter((c): c is SQL => Boolean(c)));

/** The statements of a source and/or day in the principal's scope, newest first (imports under way left out). */
export async function listStatements(
  ctx: ServiceContext,
  principal: Principal,
  filter: { source?: string; date?: string },
): Promise<StatementView[]> {
  const source = filter.source === undefined ? undefined : requireSource(filter.source, 'query.source').id;
  if (filter.date !== undefined) requireBusinessDate(filter.date, 'query.date');
  const rows = await executor(ctx)
    .select()
    .from(statements)
    .where(
      present([
        scopeCondition(principal, statements.agencyCode),
        ne(statements.status, 'importing'),
        source !== undefined && eq(statements.source, source),
        filter.date !== undefined && eq(statements.businessDate, filter.date),
      ]),
    )
    .orderBy(desc(statements.businessDate), desc(statements.createdAt), desc(statements.id))
    .limit(200);
  return rows.map(statementView);
}

export async function getStatement(ctx: ServiceContext, principal: Principal, id: string): Promise<StatementView> {
  const [row] = await executor(ctx)
    .select()
    .from(statements)
    .where(present([eq(statements.id, id), ne(statements.status, 'importing'), scopeCondition(principal, statements.agencyCode)]));
  if (!row) throw new ServiceError('not-found', `statement ${id} was not found`);
  return statementView(row);
}

export interface StatementLineView {
  line: number;
  transactionId: string | null;
  reference: string | null;
  amount: number | null;
  occurredAt: string | null;
  text: string | null;
  direction: 'credit' | 'debit' | null;
  status: 'paid' | 'failed' | 'refunded' | 'pending' | null;
  error: string | null;
}

const encodeLineCursor = (line: number) => btoa(JSON.stringify({ l: line })).replace(/=+$/, '');
function decodeLineCursor(cursor: string): number {
  try {
    const value = JSON.parse(atob(cursor)) as { l?: unknown };
    if (Number.isInteger(value.l) && (value.l as number) >= 0) return value.l as number;
  } catch {}
  throw new ServiceError('validation-failed', 'the cursor is not one this list gave', [
    { path: 'query.cursor', message: 'unknown cursor' },
  ]);
}

/** A statement's lines in file order, a page at a time (the cursor names the last line given); `rejected` keeps only refused ones. */
export async function listStatementLines(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
  options: { rejected?: boolean; cursor?: string; limit: number },
): Promise<{ items: StatementLineView[]; nextCursor: string | null }> {
  await getStatement(ctx, principal, id);
  const after = options.cursor === undefined ? undefined : decodeLineCursor(options.cursor);
  const rows = await executor(ctx)
    .select()
    .from(statementLines)
    .where(
      present([
        eq(statementLines.statementId, id),
        options.rejected === true && isNotNull(statementLines.error),
        options.rejected === false && sql`${statementLines.error} IS NULL`,
        after !== undefined && gt(statementLines.lineNo, after),
      ]),
    )
    .orderBy(asc(statementLines.lineNo))
    .limit(options.limit + 1);
  const kept = rows.slice(0, options.limit);
  const last = kept[kept.length - 1];
  return {
    items: kept.map((l) => ({
      line: l.lineNo,
      transactionId: l.transactionId,
      reference: l.reference,
      amount: l.amount,
      occurredAt: l.occurredAt?.toISOString() ?? null,
      text: l.text,
      direction: l.direction,
      status: l.status,
      error: l.error,
    })),
    nextCursor: rows.length > options.limit && last ? encodeLineCursor(last.lineNo) : null,
  };
}
