import { sql } from 'drizzle-orm';
import { describeError } from '../db/errors.ts';
import { queryRows } from '../db/types.ts';
import { hmacHex } from '../gateways/hmac.ts';
import { appendAudit } from './audit.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import type { Principal } from './principal.ts';
import { refusedUrl } from './webhook-endpoints.ts';

/**
 * Delivery of the outbox to dossier systems: at least once, in order per (endpoint, dossier).
 *
 * A worker claims the deliveries that are due and at the head of their (endpoint, dossier) queue
 * (no earlier pending delivery of the same dossier to the same endpoint), at most
 * `endpointConcurrency` in flight per endpoint, by setting a lease in one statement (rows locked
 * with SKIP LOCKED, so two workers never claim the same). It POSTs each one signed, with a time
 * limit, and records the attempt when the answer (or the time limit) comes: 2xx succeeded;
 * anything else waits its turn in the retry schedule, then failed. A worker that dies between
 * sending and recording leaves its lease to expire: the delivery is sent again.
 */

export const SIGNATURE_HEADER = 'Hub-Signature';

/** `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`: HMAC-SHA256 of `<t>.<body>` under each current secret (rotation). */
export async function signatureHeader(secrets: readonly string[], unixSeconds: number, body: string): Promise<string> {
  const macs = await Promise.all(secrets.map((secret) => hmacHex('SHA-256', secret, `${unixSeconds}.${body}`)));
  return [`t=${unixSeconds}`, ...macs.map((mac) => `v1=${mac}`)].join(',');
}

export interface ClaimedDelivery {
  id: string;
  leaseId: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  url: string;
  secrets: string[];
  payload: Record<string, unknown>;
  /** Attempts in this round (since created or re-sent by hand), before this one. */
  roundAttempts: number;
}

/** The lease outlives the attempt's time limit, so only a dead worker's deliveries are taken over. */
const leaseMs = (ctx: ServiceContext) => ctx.settings.webhooks.timeoutMs * 2 + 1000;

/** Claims up to `limit` due deliveries at the head of their queues (see above). */
export async function claimDeliveries(ctx: ServiceContext, limit: number): Promise<ClaimedDelivery[]> {
  if (limit <= 0) return [];
  const now = ctx.now();
  const at = now.toISOString();
  const until = new Date(now.getTime() + leaseMs(ctx)).toISOString();
  const { endpointConcurrency } = ctx.settings.webhooks;
  const paused = (
    await queryRows<{ id: string }>(ctx.db, sql`SELECT id FROM webhook_endpoints WHERE NOT active OR deleted_at IS NOT NULL`)
  ).map((r) => r.id);
  const rows = await queryRows<{
    id: string;
    lease_id: string;
    event_id: string;
    event_type: string;
    endpoint_id: string;
    url: string;
    secrets: string[];
    payload: unknown;
    round_attempts: number;
  }>(
    ctx.db,
    sql`
    WITH heads AS (
      SELECT d.id, d.endpoint_id, d.next_attempt_at, d.event_seq
      FROM webhook_deliveries d
      WHERE d.state = 'pending'
        -- A paused endpoint's deliveries wait, without taking the places of others'. The ids are a
        -- constant here, not a join or subquery: the scan stays the pending index in event order,
        -- stopping at the first heads (a join made it scan and sort every pending delivery).
        AND NOT (d.endpoint_id = ANY (${`{${paused.join(',')}}`}::uuid[])) AND d.next_attempt_at <= ${at}::timestamptz
        AND (d.leased_until IS NULL OR d.leased_until <= ${at}::timestamptz)
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                        WHERE e.endpoint_id = d.endpoint_id AND e.dossier_code = d.dossier_code AND e.state = 'pending'
                          AND e.event_seq < d.event_seq)
      ORDER BY d.event_seq
      LIMIT ${limit * 4}
    ), busy AS (
      -- In flight now, per endpoint: counted once per claim (a partial index holds just these rows).
      SELECT x.endpoint_id, count(*) AS n FROM webhook_deliveries x
      WHERE x.state = 'pending' AND x.leased_until IS NOT NULL AND x.leased_until > ${at}::timestamptz
      GROUP BY x.endpoint_id
    ), ranked AS (
      SELECT h.id, h.next_attempt_at, h.event_seq,
             row_number() OVER (PARTITION BY h.endpoint_id ORDER BY h.event_seq) AS n,
             coalesce(busy.n, 0) AS busy
      FROM heads h LEFT JOIN busy ON busy.endpoint_id = h.endpoint_id
    ), chosen AS (
      SELECT d.id FROM webhook_deliveries d JOIN ranked r ON r.id = d.id
      WHERE r.n + r.busy <= ${endpointConcurrency}
        AND EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.id = d.endpoint_id AND w.active AND w.deleted_at IS NULL)
      ORDER BY r.event_seq
      LIMIT ${limit}
      FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries d SET lease_id = gen_random_uuid(), leased_until = ${until}::timestamptz, updated_at = ${at}::timestamptz
    FROM chosen, outbox_events ev, webhook_endpoints w
    WHERE d.id = chosen.id AND ev.id = d.event_id AND w.id = d.endpoint_id
      AND d.state = 'pending' AND (d.leased_until IS NULL OR d.leased_until <= ${at}::timestamptz)
    RETURNING d.id, d.lease_id, d.event_id, ev.type AS event_type, d.endpoint_id, w.url, w.secrets, ev.payload, d.round_attempts`,
  );
  return rows.map((r) => ({
    id: r.id,
    leaseId: r.lease_id,
    eventId: r.event_id,
    eventType: r.event_type,
    endpointId: r.endpoint_id,
    url: r.url,
    secrets: r.secrets,
    payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
    roundAttempts: Number(r.round_attempts),
  }));
}

interface AttemptResult {
  attemptedAt: Date;
  latencyMs: number;
  statusCode: number | null;
  error: string | null;
  succeeded: boolean;
}

/** POSTs one delivery, signed; never throws: a refusal, an error or the time limit is the attempt's result. */
async function sendDelivery(ctx: ServiceContext, delivery: ClaimedDelivery): Promise<AttemptResult> {
  const attemptedAt = ctx.now();
  const started = Date.now();
  const result = (statusCode: number | null, error: string | null): AttemptResult => ({
    attemptedAt,
    latencyMs: Date.now() - started,
    statusCode,
    error,
    succeeded: error === null && statusCode !== null && statusCode >= 200 && statusCode < 300,
  });
  // The configuration may have changed since the endpoint was registered.
  const refused = refusedUrl(ctx.settings.webhooks, delivery.url);
  if (refused) return result(null, `not sent: ${refused}`);
  const body = JSON.stringify(delivery.payload);
  const t = Math.floor(attemptedAt.getTime() / 1000);
  try {
    const response = await ctx.fetch(delivery.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'fee-payment-hub-webhooks/1',
        [SIGNATURE_HEADER]: await signatureHeader(delivery.secrets, t, body),
        'Hub-Event-Id': delivery.eventId,
        'Hub-Event-Type': delivery.eventType,
        'Hub-Delivery-Id': delivery.id,
      },
      body,
      // A redirect is not followed: the receiver is the URL registered, and a 3xx is a failed attempt.
      redirect: 'manual',
      signal: AbortSignal.timeout(ctx.settings.webhooks.timeoutMs),
    });
    const text = await response.text().catch(() => '');
    if (response.status >= 200 && response.status < 300) return result(response.status, null);
    return result(response.status, `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'TimeoutError') return result(null, `no answer within ${ctx.settings.webhooks.timeoutMs} ms`);
    // fetch says only "fetch failed": why (refused, no such host, reset) is in its cause.
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : null;
    return result(null, `${describeError(error)}${why ? ` (${why})` : ''}`.slice(0, 300));
  }
}

/** The wait after the `round`-th failed attempt, with ±10 % jitter (receivers coming back are not hit all at once); null: no more. */
function retryDelayMs(schedule: readonly number[], round: number, random = Math.random): number | null {
  const seconds = schedule[round - 1];
  if (seconds === undefined) return null;
  return Math.round(seconds * 1000 * (0.9 + 0.2 * random()));
}

/**
 * Records an attempt and what follows from it, under the claim's lease: a worker whose lease
 * was taken over (it ran past its time) records the attempt, but the delivery is the new
 * holder's to settle.
 */
async function recordAttempt(ctx: ServiceContext, delivery: ClaimedDelivery, attempt: AttemptResult): Promise<DeliveryOutcome> {
  const now = ctx.now();
  const round = delivery.roundAttempts + 1;
  const delay = attempt.succeeded ? null : retryDelayMs(ctx.settings.webhooks.retrySchedule, round);
  const state = attempt.succeeded ? 'succeeded' : delay === null ? 'failed' : 'pending';
  const next = new Date(now.getTime() + (delay ?? 0)).toISOString();
  await ctx.db.execute(sql`
    WITH attempt AS (
      INSERT INTO webhook_attempts (delivery_id, attempted_at, latency_ms, status_code, error, succeeded)
      VALUES (${delivery.id}::uuid, ${attempt.attemptedAt.toISOString()}::timestamptz, ${attempt.latencyMs}, ${attempt.statusCode}::integer,
              ${attempt.error}, ${attempt.succeeded})
    )
    UPDATE webhook_deliveries
    SET attempts = attempts + 1, round_attempts = round_attempts + 1, state = ${state}, next_attempt_at = ${next}::timestamptz,
        lease_id = NULL, leased_until = NULL, last_status = ${attempt.statusCode}::integer, last_error = ${attempt.error},
        completed_at = CASE WHEN ${state} = 'pending' THEN NULL ELSE ${now.toISOString()}::timestamptz END,
        updated_at = ${now.toISOString()}::timestamptz
    WHERE id = ${delivery.id}::uuid AND lease_id = ${delivery.leaseId}::uuid AND state = 'pending'`);
  return state;
}

export type DeliveryOutcome = 'succeeded' | 'failed' | 'pending';

/** Sends and records one claimed delivery. */
export async function deliver(ctx: ServiceContext, delivery: ClaimedDelivery): Promise<DeliveryOutcome> {
  const attempt = await sendDelivery(ctx, delivery);
  const outcome = await recordAttempt(ctx, delivery, attempt);
  if (outcome === 'failed') {
    ctx.log.warn('webhook delivery failed for good', {
      deliveryId: delivery.id,
      eventId: delivery.eventId,
      url: delivery.url,
      error: attempt.error,
    });
  }
  return outcome;
}

/**
 * An admin sends a delivery again (a failed one, or a pending one now rather than at its next
 * turn): a new round of the retry schedule, recorded in the audit log.
 */
export async function resendDelivery(ctx: ServiceContext, principal: Principal, id: string): Promise<DeliveryView> {
  await withTransaction(ctx, async (ctx) => {
    const [row] = await queryRows<{ state: string; endpoint_id: string; agency_code: string; deleted: boolean }>(
      executor(ctx),
      sql`SELECT d.state, d.endpoint_id, w.agency_code, w.deleted_at IS NOT NULL AS deleted
          FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.id = ${id}::uuid FOR UPDATE OF d`,
    );
    if (!row) throw notFound(`webhook delivery ${id}`);
    if (row.deleted) throw new ServiceError('conflict', 'the endpoint of this delivery was deleted');
    if (row.state === 'succeeded') throw new ServiceError('conflict', 'this delivery succeeded: the receiver has the event');
    const now = ctx.now().toISOString();
    await executor(ctx).execute(sql`
      UPDATE webhook_deliveries SET state = 'pending', round_attempts = 0, next_attempt_at = ${now}::timestamptz, lease_id = NULL,
             leased_until = NULL, completed_at = NULL, updated_at = ${now}::timestamptz
      WHERE id = ${id}::uuid`);
    await appendAudit(ctx, principal, {
      action: 'webhook_delivery.resend',
      resourceType: 'webhook_delivery',
      resourceId: id,
      agencyCode: row.agency_code,
      before: { state: row.state },
      after: { state: 'pending' },
    });
  });
  return getDelivery(ctx, id);
}

export interface AttemptView {
  attemptedAt: string;
  latencyMs: number;
  statusCode: number | null;
  error: string | null;
  succeeded: boolean;
}

export interface DeliveryView {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  dossierCode: string;
  state: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  completedAt: string | null;
  attemptLog: AttemptView[];
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  type: string;
  dossier_code: string;
  state: DeliveryView['state'];
  attempts: number;
  next_attempt_at: string | Date;
  last_status: number | null;
  last_error: string | null;
  created_at: string | Date;
  completed_at: string | Date | null;
  attempt_log: unknown;
}

const iso = (value: string | Date) => new Date(value).toISOString();

function deliveryView(row: DeliveryRow): DeliveryView {
  const log = (typeof row.attempt_log === 'string' ? JSON.parse(row.attempt_log) : row.attempt_log) as AttemptView[] | null;
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.type,
    dossierCode: row.dossier_code,
    state: row.state,
    attempts: Number(row.attempts),
    nextAttemptAt: row.state === 'pending' ? iso(row.next_attempt_at) : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: iso(row.created_at),
    completedAt: row.completed_at === null ? null : iso(row.completed_at),
    attemptLog: (log ?? []).map((a) => ({ ...a, attemptedAt: iso(a.attemptedAt) })),
  };
}

const deliveryColumns = sql`
  d.id, d.endpoint_id, d.event_id, ev.type, d.dossier_code, d.state, d.attempts, d.next_attempt_at, d.last_status, d.last_error,
  d.created_at, d.completed_at,
  (SELECT coalesce(json_agg(json_build_object('attemptedAt', a.attempted_at, 'latencyMs', a.latency_ms, 'statusCode', a.status_code,
                                             'error', a.error, 'succeeded', a.succeeded) ORDER BY a.attempted_at, a.id), '[]'::json)
   FROM webhook_attempts a WHERE a.delivery_id = d.id) AS attempt_log`;

export async function getDelivery(ctx: ServiceContext, id: string): Promise<DeliveryView> {
  const [row] = await queryRows<DeliveryRow>(
    executor(ctx),
    sql`SELECT ${deliveryColumns} FROM webhook_deliveries d JOIN outbox_events ev ON ev.id = d.event_id WHERE d.id = ${id}::uuid`,
  );
  if (!row) throw notFound(`webhook delivery ${id}`);
  return deliveryView(row);
}

/** An endpoint's recent deliveries, newest first, each with its attempts; `state` narrows them (failed ones for a person to look at). */
export async function listDeliveries(
  ctx: ServiceContext,
  filter: { endpointId?: string; state?: DeliveryView['state']; limit?: number },
): Promise<DeliveryView[]> {
  const conditions = [
    filter.endpointId ? sql`d.endpoint_id = ${filter.endpointId}::uuid` : sql`true`,
    filter.state ? sql`d.state = ${filter.state}` : sql`true`,
  ];
  const rows = await queryRows<DeliveryRow>(
    executor(ctx),
    sql`SELECT ${deliveryColumns} FROM webhook_deliveries d JOIN outbox_events ev ON ev.id = d.event_id
        WHERE ${sql.join(conditions, sql` AND `)}
        ORDER BY d.created_at DESC, d.event_seq DESC LIMIT ${Math.min(Math.max(filter.limit ?? 50, 1), 500)}`,
  );
  return rows.map(deliveryView);
}
