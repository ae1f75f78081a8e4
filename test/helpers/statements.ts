import { readFile } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../src/db/types.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import type { ServiceContext } from '../../src/services/context.ts';
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
