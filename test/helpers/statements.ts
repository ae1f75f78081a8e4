import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import { statementLines, statements } from '../../src/db/schema/index.ts';
import { queryRows } from '../../src/db/types.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { isCountedLine } from '../../src/services/day-payments.ts';
import { RepeatFinder } from '../../src/services/repeats.ts';
import { requireSource, sourceOwner } from '../../src/services/sources.ts';
import { AGENCIES } from './factories.ts';
import type { Harness } from './harness.ts';

/** The collecting accounts of the test tree: commune A's and commune B's. */
export const ACCOUNTS = { communeA: '0071000123456', communeB: '0071000999999' } as const;

export async function giveAccounts(ctx: ServiceContext) {
  await upsertAgency(ctx, {
    code: AGENCIES.communeA,
    name: 'UBND phường Trấn Biên',
    level: 'commune',
    parentCode: AGENCIES.province,
    accountNumber: ACCOUNTS.communeA,
  });
  await upsertAgency(ctx, {
    code: AGENCIES.communeB,
    name: 'UBND xã Long Thành',
    level: 'commune',
    parentCode: AGENCIES.province,
    accountNumber: ACCOUNTS.communeB,
  });
}

export const statementFixture = async (name: string) =>
  new Uint8Array(await readFile(new URL(`../fixtures/statements/${name}`, import.meta.url)));

export interface UploadFile {
  name: string;
  bytes: Uint8Array;
  type?: string;
}

const BOUNDARY = '----hub-statement-test-7d1c';

/** A multipart/form-data body: the text fields in the order given, then the file (if any). */
export function multipart(fields: Record<string, string | undefined>, file?: UploadFile): { body: Uint8Array; contentType: string } {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    parts.push(enc.encode(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  if (file) {
    parts.push(
      enc.encode(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: ${file.type ?? 'text/csv'}\r\n\r\n`,
      ),
    );
    parts.push(file.bytes);
    parts.push(enc.encode('\r\n'));
  }
  parts.push(enc.encode(`--${BOUNDARY}--\r\n`));
  const body = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    body.set(p, at);
    at += p.byteLength;
  }
  return { body, contentType: `multipart/form-data; boundary=${BOUNDARY}` };
}

export function uploadStatement(
  h: Harness,
  token: string,
  fields: { source?: string; date?: string; mapping?: string },
  file?: UploadFile,
  key: string | null = `stmt-${crypto.randomUUID()}`,
) {
  const { body, contentType } = multipart(fields, file);
  return h.request('POST', '/v1/statements', {
    token,
    rawBody: body,
    headers: { 'content-type': contentType, ...(key ? { 'idempotency-key': key } : {}) },
  });
}

/** How many statements and lines the database holds (to show a refusal wrote nothing). */
export async function statementCounts(h: Harness): Promise<{ statements: number; lines: number }> {
  const rows = await queryRows<{ statements: number; lines: number }>(
    h.db.db,
    sql`SELECT (SELECT count(*) FROM statements)::int AS statements, (SELECT count(*) FROM statement_lines)::int AS lines`,
  );
  return { statements: Number(rows[0]!.statements), lines: Number(rows[0]!.lines) };
}

/**
 * A statement written straight into the tables, as the import would leave it (status `current`,
 * lines numbered from 2 after a header line, `error` null for a valid line), until the import
 * lands. A statement already current for the source and day is superseded first, as a corrected
 * file does.
 */
export interface LineInput {
  transactionId?: string | null;
  reference?: string | null;
  amount?: number | null;
  occurredAt?: Date | null;
  text?: string | null;
  direction?: 'credit' | 'debit' | null;
  status?: 'paid' | 'failed' | 'refunded' | 'pending' | null;
  error?: string | null;
}

export async function insertStatement(
  h: Harness,
  input: {
    source: string;
    date: string;
    lines: LineInput[];
    /** Leave out what the import keeps for the matching (statements.lines_counted …), as a statement imported before it did. */
    withoutFacts?: boolean;
  },
): Promise<string> {
  const source = requireSource(input.source);
  const asLine = (l: LineInput) => ({
    error: l.error ?? null,
    amount: l.amount ?? null,
    direction: l.direction ?? 'credit',
    status: l.status ?? null,
  });
  const repeats = new RepeatFinder();
  for (const l of input.lines) repeats.offer(l.transactionId ?? null);
  const facts = input.withoutFacts
    ? {}
    : {
        linesCounted: input.lines.filter((l) => isCountedLine(asLine(l))).length,
        ignoredTotal: input.lines.filter((l) => !l.error && !isCountedLine(asLine(l))).reduce((total, l) => total + (l.amount ?? 0), 0),
        repeatedTransactions: repeats.result(),
      };
  const agencyCode = await sourceOwner(h.ctx, source);
  const id = randomUUID();
  const valid = input.lines.filter((l) => !l.error);
  const sum = (direction: 'credit' | 'debit') =>
    valid.filter((l) => (l.direction ?? 'credit') === direction).reduce((total, l) => total + (l.amount ?? 0), 0);
  await h.db.db.transaction(async (tx) => {
    await tx.execute(sql`UPDATE statements SET status = 'superseded', superseded_by = ${id}::uuid
                         WHERE source = ${source.id} AND business_date = ${input.date}::date AND status = 'current'`);
    await tx.insert(statements).values({
      id,
      source: source.id,
      businessDate: input.date,
      agencyCode,
      format: 'csv',
      contentHash: randomUUID().replace(/-/g, ''),
      status: 'current',
      linesTotal: input.lines.length,
      linesImported: valid.length,
      linesRejected: input.lines.length - valid.length,
      creditTotal: sum('credit'),
      debitTotal: sum('debit'),
      uploadedBy: 'treasury:test',
      completedAt: new Date(),
      ...facts,
    });
    if (input.lines.length > 0) {
      await tx.insert(statementLines).values(
        input.lines.map((l, i) => ({
          statementId: id,
          lineNo: i + 2,
          transactionId: l.transactionId ?? null,
          reference: l.reference ?? null,
          amount: l.amount ?? null,
          occurredAt: l.occurredAt ?? null,
          text: l.text ?? null,
          direction: l.direction ?? 'credit',
          status: l.status ?? null,
          error: l.error ?? null,
        })),
      );
    }
  });
  return id;
}
