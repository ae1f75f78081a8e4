import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { statementLines, statements } from '../../src/db/schema/index.ts';
import { requireSource, sourceOwner } from '../../src/services/sources.ts';
import type { Harness } from './harness.ts';

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

export async function insertStatement(h: Harness, input: { source: string; date: string; lines: LineInput[] }): Promise<string> {
  const source = requireSource(input.source);
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
