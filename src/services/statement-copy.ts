/**
 * Where a statement's lines go (issue 11), in one transaction that first holds the statement
 * (statement-lines-key.ts): on a server, one `COPY statement_lines … FROM STDIN` for the whole
 * file, its rows written in COPY's binary format (copy-binary.ts) a batch at a time with the stream's backpressure
 * — the fastest way into PostgreSQL, and the benchmark's baseline —; on PGlite, one INSERT per
 * batch, each batch its own transaction. An import that fails on a server leaves no line.
 */
import { sql } from 'drizzle-orm';
import { parse as parseUuid } from 'uuid';
import type { StatementLine } from '../gateways/statement-format.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { CopyBinary } from './copy-binary.ts';
import { holdImportingStatement, holdImportingStatementIn } from './statement-lines-key.ts';

export interface RejectedLine {
  line: number;
  reason: string;
}

export interface LineCounts {
  linesTotal: number;
  linesImported: number;
  linesRejected: number;
  creditTotal: number;
  debitTotal: number;
  /** Lines the matching counts (countedLine), and the sum of the valid ones it does not. */
  linesCounted: number;
  ignoredTotal: number;
  /** Transaction ids that may be on more than one line (repeats.ts); null when unknown. */
  repeatedTransactions: string[] | null;
  /** The first rejected lines, by number. */
  rejected: RejectedLine[];
}

/** postgres.js's query, as much of it as this import uses. */
interface Query extends Promise<Array<Record<string, unknown>>> {
  writable(): Promise<CopyStream>;
}
interface CopySql {
  unsafe(query: string, params?: unknown[]): Query;
}
/** postgres.js's client: `begin` gives one connection in one transaction. */
interface CopyServer {
  begin<T>(fn: (sql: CopySql) => Promise<T>): Promise<T>;
}
interface CopyStream {
  readonly writableLength: number;
  write(chunk: Uint8Array | string): boolean;
  end(): void;
  destroy(error?: Error): void;
  once(event: 'drain' | 'finish' | 'close', listener: () => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * A `COPY … FROM STDIN` on the transaction's connection: its stream, and `ended`, which settles
 * when PostgreSQL has taken it all or refused it. postgres.js 3.4 resolves a COPY's query with its
 * stream; an error PostgreSQL sends once the stream has ended (a COPY refused at its end) reaches
 * only the query's `reject` — the promise already settled — and the stream gets no event at all:
 * it is caught here instead, where waiting for the stream alone would wait for ever.
 */
async function openCopyIn(sql: CopySql, text: string): Promise<{ stream: CopyStream; ended: Promise<void> }> {
  const query = sql.unsafe(text);
  const refused = new Promise<never>((_, reject) => {
    const settles = query as unknown as { reject?: (error: Error) => void };
    const original = settles.reject;
    settles.reject = (error) => {
      reject(error);
      original?.(error);
    };
  });
  const stream = await query.writable();
  const ended = Promise.race([
    new Promise<void>((resolve, reject) => {
      stream.once('finish', resolve);
      stream.once('error', reject);
    }),
    refused,
  ]);
  ended.catch(() => {});
  return { stream, ended };
}

export interface LineSink {
  write(lines: StatementLine[]): Promise<void>;
  end(): Promise<void>;
  abort(): Promise<void>;
}

/** postgres.js's client, when the database is a server reached through it (drizzle keeps it as `$client`). */
type CopyClient = CopySql & CopyServer;

function copyClient(ctx: ServiceContext): CopyClient | undefined {
  const client = (ctx.db as unknown as { $client?: unknown }).$client as { unsafe?: unknown; begin?: unknown } | undefined;
  // postgres.js has `unsafe` and `begin`; PGlite has neither.
  return client && typeof client.unsafe === 'function' && typeof client.begin === 'function'
    ? (client as unknown as CopyClient)
    : undefined;
}

/** How much COPY text may wait for PostgreSQL before parsing pauses. */
const COPY_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Where the lines go, in one transaction that first holds the statement (statement-lines-key.ts).
 * On a server: one COPY … FROM STDIN for the whole file, fed a batch at a time with the stream's
 * backpressure (the fastest way into PostgreSQL, and the benchmark's baseline). Elsewhere
 * (PGlite): one INSERT per batch, the batch as one JSON parameter unpacked by json_to_recordset,
 * each batch its own transaction.
 */
export async function lineSink(ctx: ServiceContext, statementId: string): Promise<LineSink> {
  const client = copyClient(ctx);
  if (!client) {
    return {
      write: (lines) =>
        withTransaction(ctx, async (ctx) => {
          await holdImportingStatementIn(ctx, statementId);
          await insertLines(ctx, statementId, lines);
        }),
      end: async () => {},
      abort: async () => {},
    };
  }
  let opened!: (stream: CopyStream) => void;
  let unopened!: (error: Error) => void;
  const ready = new Promise<CopyStream>((resolve, reject) => {
    opened = resolve;
    unopened = reject;
  });
  const committed: Promise<void> = client.begin(async (tx) => {
    await holdImportingStatement(tx, statementId);
    const { stream, ended } = await openCopyIn(
      tx,
      'COPY statement_lines (statement_id, line_no, transaction_id, reference, amount, occurred_at, text, direction, status, error) FROM STDIN (FORMAT binary)',
    );
    opened(stream);
    // Taken whole or refused (openCopyIn hears a refusal at its end too); then the commit.
    await ended;
  });
  committed.catch(unopened);
  const stream = await ready;
  let failure: Error | undefined;
  committed.catch((error: Error) => {
    failure = error;
  });
  const rows = new CopyBinary().header();
  const statement = parseUuid(statementId);
  return {
    async write(lines) {
      if (failure) throw failure;
      for (const l of lines) {
        rows
          .row(10)
          .uuid(statement)
          .int4(l.lineNo)
          .text(l.transactionId)
          .text(l.reference)
          .int8(l.amount)
          .instant(l.occurredAt)
          .text(l.text)
          .text(l.direction)
          .text(l.status)
          .text(l.error);
      }
      const chunk = rows.take();
      stream.write(chunk);
      // Parsing goes on while PostgreSQL takes up to a few MB behind; then it waits for it.
      if (stream.writableLength > COPY_BUFFER_BYTES) {
        await Promise.race([
          new Promise<void>((resolve) => stream.once('drain', resolve)),
          committed.then(() => {
            throw new Error('the COPY ended early');
          }),
        ]);
      }
    },
    async end() {
      stream.write(rows.trailer().take());
      stream.end();
      await committed;
    },
    async abort() {
      stream.destroy(new Error('the statement import was abandoned'));
      await committed.catch(() => {});
    },
  };
}

async function insertLines(ctx: ServiceContext, statementId: string, lines: StatementLine[]): Promise<void> {
  const rows = lines.map((l) => ({
    line_no: l.lineNo,
    transaction_id: l.transactionId,
    reference: l.reference,
    amount: l.amount,
    occurred_at: l.occurredAt?.toISOString() ?? null,
    text: l.text,
    direction: l.direction,
    status: l.status,
    error: l.error,
  }));
  await executor(ctx).execute(sql`
    INSERT INTO statement_lines (statement_id, line_no, transaction_id, reference, amount, occurred_at, text, direction, status, error)
    SELECT ${statementId}::uuid, l.line_no, l.transaction_id, l.reference, l.amount, l.occurred_at, l.text, l.direction, l.status, l.error
    FROM json_to_recordset(${JSON.stringify(rows)}::json)
      AS l(line_no integer, transaction_id text, reference text, amount bigint, occurred_at timestamptz, text text, direction text, status text, error text)`);
}
