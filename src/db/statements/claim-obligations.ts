import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../types.ts';

/**
 * Re-reserves a given-up intent's fee lines for its late payment (or a person's acceptance), in
 * one statement, if every one is still unpaid and held by nobody else; otherwise none is taken. The lines are locked as they are
 * counted, so a racing intent cannot take one between the count and the claim.
 */
export async function claimObligations(db: Executor, input: { intentId: string; at: Date }): Promise<boolean> {
  const [row] = await queryRows<{ links: number; claimed: number }>(
    db,
    sql`
    WITH links AS (
      SELECT obligation_id FROM intent_obligations WHERE intent_id = ${input.intentId}::uuid
    ), free AS (
      SELECT id FROM obligations
      WHERE id IN (SELECT obligation_id FROM links) AND status = 'unpaid'
        AND (live_intent_id IS NULL OR live_intent_id = ${input.intentId}::uuid)
      FOR NO KEY UPDATE
    ), claimed AS (
      UPDATE obligations SET live_intent_id = ${input.intentId}::uuid, updated_at = ${input.at.toISOString()}::timestamptz
      WHERE id IN (SELECT id FROM free) AND (SELECT count(*) FROM free) = (SELECT count(*) FROM links)
      RETURNING id
    )
    SELECT (SELECT count(*) FROM links)::int AS links, (SELECT count(*) FROM claimed)::int AS claimed`,
  );
  return row !== undefined && row.links > 0 && row.claimed === row.links;
}
