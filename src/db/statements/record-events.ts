import { sql } from 'drizzle-orm';
import type { EventType } from '../schema/outbox.ts';
import { type Executor, queryRows } from '../types.ts';

/** Distinct from the hub's other advisory locks (audit 766_0001): a dossier's events, one writer at a time. */
const OUTBOX_DOSSIER_LOCK = 766_0013;

/**
 * Takes a dossier's events lock ahead of the statement that writes them: for a writer that must
 * lock a row (a receipt) that a writer holding this lock may also want next.
 */
export async function lockDossierEvents(db: Executor, dossierCode: string): Promise<void> {
  await db.execute(sql`SELECT pg_advisory_xact_lock(${OUTBOX_DOSSIER_LOCK}, hashtext(${dossierCode}))`);
}

/** Takes several dossiers' events locks, in the order recordEvents takes them (by code), in one statement. */
export async function lockDossiersEvents(db: Executor, dossierCodes: readonly string[]): Promise<void> {
  if (dossierCodes.length === 0) return;
  await db.execute(sql`
    SELECT count(pg_advisory_xact_lock(${OUTBOX_DOSSIER_LOCK}, hashtext(code)))
    FROM (SELECT DISTINCT code FROM jsonb_array_elements_text(${JSON.stringify(dossierCodes)}::jsonb) AS code ORDER BY 1) dossier_codes`);
}

/** An event as its cause knows it; the dossier's own facts are added by the statement. */
export interface NewEvent {
  id: string;
  type: EventType;
  dossierCode: string;
  occurredAt: Date;
  gateway: string | null;
  /** The event's own amount (a fee line, a payment, a refund, a receipt), integer VND; for dossier.paid the statement sums what is paid. */
  amount: number | null;
  data: Record<string, unknown>;
}

/**
 * Writes events with the change that causes them, in the caller's transaction, in ONE statement:
 * the event rows (each payload completed with its dossier's procedure, agency, 766 flag and
 * amounts as they are in this transaction, after the change) and one delivery per endpoint
 * subscribed to its type in an agency above the dossier's.
 *
 * A dossier's events take a transaction-scoped lock on the dossier before their sequence numbers,
 * so the numbers of one dossier's events are in commit order: its deliveries go out in that order
 * (an event of a later transaction can never be visible while an earlier one of the same dossier
 * is not). Callers write events before the audit row, whose lock is always the last one taken.
 */
export async function recordEvents(db: Executor, events: readonly NewEvent[], at: Date): Promise<number> {
  if (events.length === 0) return 0;
  const input = events.map((e, ord) => ({
    ord,
    id: e.id,
    type: e.type,
    dossier_code: e.dossierCode,
    occurred_at: e.occurredAt.toISOString(),
    base: { id: e.id, type: e.type, occurredAt: e.occurredAt.toISOString(), gateway: e.gateway, amount: e.amount, data: e.data },
  }));
  const [row] = await queryRows<{ deliveries: number }>(
    db,
    sql`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
        AS x(ord integer, id uuid, type text, dossier_code text, occurred_at timestamptz, base jsonb)
    ), locks AS (
      SELECT count(pg_advisory_xact_lock(${OUTBOX_DOSSIER_LOCK}, hashtext(code))) AS taken
      FROM (SELECT DISTINCT dossier_code AS code FROM input ORDER BY 1) dossier_codes
    ), events AS (
      INSERT INTO outbox_events (id, type, dossier_code, agency_code, occurred_at, payload)
      SELECT i.id, i.type, d.code, d.agency_code, i.occurred_at,
             i.base || jsonb_build_object(
               'dossierCode', d.code, 'procedureCode', d.procedure_code, 'agencyCode', d.agency_code,
               'DuocThanhToanTrucTuyen', d.online_payment_flag,
               'amount', CASE WHEN i.type = 'dossier.paid' THEN to_jsonb(sums.paid) ELSE i.base -> 'amount' END,
               'dossierAmounts', jsonb_build_object('due', sums.due, 'paid', sums.paid, 'unpaid', sums.unpaid, 'refunded', sums.refunded))
      FROM input i
      CROSS JOIN locks
      JOIN dossiers d ON d.code = i.dossier_code
      CROSS JOIN LATERAL (
        SELECT coalesce(sum(o.amount) FILTER (WHERE o.status IN ('unpaid', 'paid', 'refunded')), 0)::bigint AS due,
               coalesce(sum(o.amount) FILTER (WHERE o.status = 'paid'), 0)::bigint AS paid,
               coalesce(sum(o.amount) FILTER (WHERE o.status = 'unpaid'), 0)::bigint AS unpaid,
               coalesce(sum(o.amount) FILTER (WHERE o.status = 'refunded'), 0)::bigint AS refunded
        FROM obligations o WHERE o.dossier_code = d.code
      ) sums
      WHERE locks.taken >= 0
      ORDER BY i.ord
      RETURNING id, seq, type, dossier_code, agency_code
    ), deliveries AS (
      INSERT INTO webhook_deliveries (id, event_id, event_seq, endpoint_id, dossier_code, next_attempt_at, created_at, updated_at)
      SELECT gen_random_uuid(), e.id, e.seq, w.id, e.dossier_code, ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz,
             ${at.toISOString()}::timestamptz
      FROM events e
      JOIN agencies a ON a.code = e.agency_code
      JOIN webhook_endpoints w ON w.deleted_at IS NULL AND w.active AND e.type = ANY (w.events)
                               AND strpos(a.path, '/' || w.agency_code || '/') > 0
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM deliveries)::int AS deliveries`,
  );
  return Number(row?.deliveries ?? 0);
}
