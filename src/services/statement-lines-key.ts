import { sql } from 'drizzle-orm';
import { queryRows } from '../db/types.ts';
import { executor, type ServiceContext } from './context.ts';
import { ServiceError } from './errors.ts';

/*
 * The key of `statement_lines` on the insert side (drizzle/0015): before any line of a statement
 * is written, in the transaction that writes it, its statement row is taken FOR KEY SHARE — as a
 * foreign key would take it, once per import instead of once per line — and must still be
 * importing. A statement discarded or cleaned up meanwhile is refused, and one being written
 * cannot be deleted until its lines are committed (the delete-side check then sees them).
 */

const HOLD = 'SELECT status FROM statements WHERE id = $1::uuid FOR KEY SHARE';

function requireImporting(statementId: string, rows: Array<Record<string, unknown>>) {
  if (rows[0]?.status !== 'importing') {
    throw new ServiceError('conflict', `statement ${statementId} is not being imported: its lines cannot be written`);
  }
}

/** On a postgres.js transaction (`unsafe` runs one parameterised query on its connection). */
export async function holdImportingStatement(
  tx: { unsafe(query: string, params?: unknown[]): Promise<Array<Record<string, unknown>>> },
  statementId: string,
): Promise<void> {
  requireImporting(statementId, await tx.unsafe(HOLD, [statementId]));
}

/** On the context's transaction (drizzle: PGlite or a server). */
export async function holdImportingStatementIn(ctx: ServiceContext, statementId: string): Promise<void> {
  const rows = await queryRows<{ status: string }>(
    executor(ctx),
    sql`SELECT status FROM statements WHERE id = ${statementId}::uuid FOR KEY SHARE`,
  );
  requireImporting(statementId, rows);
}
