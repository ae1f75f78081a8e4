import { sql } from 'drizzle-orm';
import { pgError } from '../errors.ts';
import { type Executor, queryRows } from '../types.ts';

export interface NewIntent {
  id: string;
  reference: string;
  dossierCode: string;
  gateway: string;
  amount: number;
  returnUrl: string;
  expiresAt: Date;
  nextAction: Record<string, unknown>;
  gatewayReference: string | null;
  onlinePaymentFlag: number;
  nextPollAt: Date | null;
  /** `role:subject` of the caller: the intent's owner. */
  principal: string;
  createdAt: Date;
  /** The fee lines it pays, all of which must still be unpaid and held by nobody. */
  obligationIds: readonly string[];
  /** The history, in order; each line becomes a payment_events row of source `portal`. */
  events: ReadonlyArray<{ event: string; from: string | null; to: string; detail: Record<string, unknown> }>;
  /** `scope`: the Idempotency-Key's namespace (services/idempotency.ts idempotencyScope). */
  idempotency: { scope: string; key: string; fingerprint: string; expiresAt: Date; response: { status: number; body: unknown } };
}

/**
 * `created`: the intent and everything with it are written. `key_taken`: another request holds
 * the Idempotency-Key (it has committed; replay its answer). `obligation_taken`: a fee line was
 * paid or reserved since the caller read it; nothing is written. `reference_taken`: the random
 * reference collided; nothing is written, try another.
 */
export type CreateIntentResult = 'created' | 'key_taken' | 'obligation_taken' | 'reference_taken';

/**
 * Creates a payment intent in ONE statement: it claims the Idempotency-Key (storing the answer),
 * reserves the fee lines, inserts the intent, its links and its events. Being one statement it
 * is atomic by itself; if any line was taken since the caller's read, hub_abort() undoes the whole
 * statement. Of two intents racing for a line exactly one wins; of concurrent requests with the
 * same key, the later ones wait on the key's unique index and then find it taken.
 */
export async function insertIntent(db: Executor, n: NewIntent): Promise<CreateIntentResult> {
  const ids = sql.join(
    n.obligationIds.map((o) => sql`${o}::uuid`),
    sql`, `,
  );
  const at = n.createdAt.toISOString();
  try {
    const [result] = await queryRows<{ claimed: number }>(
      db,
      sql`
      WITH holder AS (
        -- The dossier first, as putDossier locks it: the same lock order on both paths, so a
        -- change of fee inputs and a new intent wait for each other instead of deadlocking.
        SELECT code FROM dossiers WHERE code = ${n.dossierCode} FOR KEY SHARE
      ), claim AS (
        INSERT INTO idempotency_keys (principal, key, request_fingerprint, status, response_status, response_body, created_at, updated_at, expires_at)
        VALUES (${n.idempotency.scope}, ${n.idempotency.key}, ${n.idempotency.fingerprint}, 'done', ${n.idempotency.response.status},
                ${JSON.stringify(n.idempotency.response.body)}::jsonb, ${at}, ${at}, ${n.idempotency.expiresAt.toISOString()})
        ON CONFLICT DO NOTHING
        RETURNING 1
      ), reserve AS (
        UPDATE obligations SET live_intent_id = ${n.id}::uuid, updated_at = ${at}
        WHERE id IN (${ids}) AND status = 'unpaid' AND live_intent_id IS NULL
          AND EXISTS (SELECT 1 FROM claim) AND EXISTS (SELECT 1 FROM holder)
        RETURNING id, amount
      ), intent AS (
        INSERT INTO payment_intents (id, reference, dossier_code, gateway, amount, currency, status, return_url,
                                     expires_at, next_action, gateway_reference, online_payment_flag, principal, next_poll_at, created_at, updated_at)
        SELECT ${n.id}::uuid, ${n.reference}, ${n.dossierCode}, ${n.gateway}, ${n.amount}, 'VND', 'pending', ${n.returnUrl},
               ${n.expiresAt.toISOString()}, ${JSON.stringify(n.nextAction)}::jsonb, ${n.gatewayReference}, ${n.onlinePaymentFlag}, ${n.principal},
               ${n.nextPollAt?.toISOString() ?? null}::timestamptz, ${at}, ${at}
        WHERE (SELECT count(*) FROM reserve) = ${n.obligationIds.length}
        RETURNING id
      ), links AS (
        INSERT INTO intent_obligations (intent_id, obligation_id, amount)
        SELECT intent.id, reserve.id, reserve.amount FROM intent CROSS JOIN reserve
      ), history AS (
        INSERT INTO payment_events (intent_id, event, from_status, to_status, accepted, source, actor, detail, created_at)
        SELECT intent.id, e.event, e."from", e."to", true, 'portal', ${n.principal}, e.detail, ${at}
        FROM intent CROSS JOIN jsonb_to_recordset(${JSON.stringify(n.events)}::jsonb) AS e(event text, "from" text, "to" text, detail jsonb)
      )
      SELECT (SELECT count(*) FROM claim)::int AS claimed,
             CASE WHEN (SELECT count(*) FROM claim) = 1 AND (SELECT count(*) FROM reserve) <> ${n.obligationIds.length}
                  THEN hub_abort('obligation-unavailable') END AS aborted`,
    );
    return result!.claimed === 1 ? 'created' : 'key_taken';
  } catch (error) {
    const pg = pgError(error);
    if (pg.code === 'P0001' && pg.message === 'obligation-unavailable') return 'obligation_taken';
    if (pg.code === '23505' && pg.constraint === 'payment_intents_reference_idx') return 'reference_taken';
    throw error;
  }
}
