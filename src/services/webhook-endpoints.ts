import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { pgError } from '../db/errors.ts';
import { agencies, type EventType, webhookEndpoints } from '../db/schema/index.ts';
import { appendAudit } from './audit.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { idempotencyScope, rememberResponse, requestFingerprint, storedResponse } from './idempotency.ts';
import { actorOf, type Principal } from './principal.ts';

/** How deliveries to dossier systems are made (configuration: WEBHOOK_*, EVENT_RETENTION_DAYS). */
export interface WebhookSettings {
  /** Domains an endpoint's host must be or be under (lower case). */
  allowedHosts: string[];
  /** Loopback receivers (development): outside production only. */
  allowLoopback: boolean;
  /** Seconds after each failed attempt; one attempt more than there are entries, then failed. */
  retrySchedule: number[];
  timeoutMs: number;
  /** In flight at once, per worker and per endpoint. */
  concurrency: number;
  endpointConcurrency: number;
  /** How often an idle Node worker looks for work. */
  pollMs: number;
  retentionDays: number;
}

type EndpointRow = typeof webhookEndpoints.$inferSelect;

export interface EndpointInput {
  url: string;
  agencyCode: string;
  events: EventType[];
  secrets: string[];
  description?: string | null;
  active?: boolean;
}

/** What an admin sees of an endpoint: never its secrets, only how many there are and a fingerprint of each. */
export interface EndpointView {
  id: string;
  url: string;
  agencyCode: string;
  events: string[];
  description: string | null;
  active: boolean;
  secretFingerprints: string[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Why a receiver URL may not be called, or null when it may: https to a host under one of the
 * allowed domains; http (or https) to a loopback host only outside production. Checked when an
 * endpoint is registered or changed, and again before every delivery (the configuration may have
 * changed since).
 */
export function refusedUrl(settings: WebhookSettings, url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (parsed.username || parsed.password) return 'a URL with credentials in it is refused: sign requests with the secrets instead';
  if (parsed.hash) return 'a URL with a #fragment is refused';
  const host = parsed.hostname.toLowerCase();
  if (LOOPBACK.test(host)) {
    if (!settings.allowLoopback) return `a loopback host (${host}) is allowed only outside production`;
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? null : 'only http(s) URLs';
  }
  if (parsed.protocol !== 'https:') return 'must be https:// (plain http only for a loopback receiver in development)';
  const allowed = settings.allowedHosts.some((domain) => host === domain || host.endsWith(`.${domain}`));
  if (!allowed) {
    return settings.allowedHosts.length === 0
      ? `host ${host} is not allowed: WEBHOOK_ALLOWED_HOSTS is empty`
      : `host ${host} is not under WEBHOOK_ALLOWED_HOSTS (${settings.allowedHosts.join(', ')})`;
  }
  return null;
}

async function fingerprint(secret: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret)));
  return Array.from(digest.slice(0, 6), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function endpointView(row: EndpointRow): Promise<EndpointView> {
  return {
    id: row.id,
    url: row.url,
    agencyCode: row.agencyCode,
    events: row.events,
    description: row.description,
    active: row.active,
    secretFingerprints: await Promise.all(row.secrets.map(fingerprint)),
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The audit's picture of an endpoint: the secrets by fingerprint only. */
const audited = async (row: EndpointRow) => {
  const { secretFingerprints, url, agencyCode, events, description, active } = await endpointView(row);
  return { url, agencyCode, events, description, active, secretFingerprints };
};

function checkUrl(ctx: ServiceContext, url: string): void {
  const refused = refusedUrl(ctx.settings.webhooks, url);
  if (refused) throw new ServiceError('validation-failed', `url: ${refused}`, [{ path: 'url', message: refused }]);
}

async function checkAgency(ctx: ServiceContext, code: string): Promise<void> {
  const [agency] = await executor(ctx).select({ code: agencies.code }).from(agencies).where(eq(agencies.code, code));
  if (!agency)
    throw new ServiceError('unknown-agency', `agency ${code} does not exist`, [{ path: 'agencyCode', message: 'unknown agency' }]);
}

async function findEndpoint(ctx: ServiceContext, id: string, lock = false): Promise<EndpointRow> {
  const query = executor(ctx)
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), isNull(webhookEndpoints.deletedAt)));
  const [row] = lock ? await query.for('update') : await query;
  if (!row) throw notFound(`webhook endpoint ${id}`);
  return row;
}

/**
 * An admin registers a dossier system's endpoint for an agency's subtree (audited). The same
 * Idempotency-Key and body replay the first answer: a retried registration never makes a second
 * endpoint (which would deliver every event twice).
 */
export async function createEndpoint(
  ctx: ServiceContext,
  principal: Principal,
  input: EndpointInput,
  idempotencyKey: string,
): Promise<EndpointView> {
  checkUrl(ctx, input.url);
  const owner = actorOf(principal);
  const fingerprintOf = requestFingerprint('POST /v1/webhook-endpoints', input);
  const replayOrCreate = () =>
    withTransaction(ctx, async (ctx) => {
      const stored = await storedResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprintOf);
      if (stored) return (stored.body as { id: string }).id;
      await checkAgency(ctx, input.agencyCode);
      const now = ctx.now();
      const [row] = await executor(ctx)
        .insert(webhookEndpoints)
        .values({
          id: crypto.randomUUID(),
          url: input.url,
          agencyCode: input.agencyCode,
          events: [...new Set(input.events)],
          secrets: input.secrets,
          description: input.description ?? null,
          active: input.active ?? true,
          createdBy: owner,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      await rememberResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprintOf, { status: 201, body: { id: row!.id } });
      await appendAudit(ctx, principal, {
        action: 'webhook_endpoint.create',
        resourceType: 'webhook_endpoint',
        resourceId: row!.id,
        agencyCode: row!.agencyCode,
        before: null,
        after: await audited(row!),
      });
      return row!.id;
    });
  const id = await replayOrCreate().catch(async (error: unknown) => {
    // The same key at the same moment: whichever committed first owns it.
    if (pgError(error).code !== '23505') throw error;
    const stored = await storedResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprintOf);
    if (!stored) throw error;
    return (stored.body as { id: string }).id;
  });
  return getEndpoint(ctx, id);
}

/** Changes what is given; the secrets, when given, replace the list (rotation: give the new and the old). */
export async function updateEndpoint(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
  input: Partial<EndpointInput>,
): Promise<EndpointView> {
  if (input.url !== undefined) checkUrl(ctx, input.url);
  return withTransaction(ctx, async (ctx) => {
    const before = await findEndpoint(ctx, id, true);
    if (input.agencyCode !== undefined) await checkAgency(ctx, input.agencyCode);
    const [row] = await executor(ctx)
      .update(webhookEndpoints)
      .set({
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.agencyCode !== undefined ? { agencyCode: input.agencyCode } : {}),
        ...(input.events !== undefined ? { events: [...new Set(input.events)] } : {}),
        ...(input.secrets !== undefined ? { secrets: input.secrets } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.active !== undefined ? { active: input.active } : {}),
        updatedAt: ctx.now(),
      })
      .where(eq(webhookEndpoints.id, id))
      .returning();
    await appendAudit(ctx, principal, {
      action: 'webhook_endpoint.update',
      resourceType: 'webhook_endpoint',
      resourceId: id,
      agencyCode: row!.agencyCode,
      before: await audited(before),
      after: await audited(row!),
    });
    return endpointView(row!);
  });
}

/**
 * Deletes an endpoint: it is kept, marked deleted, for its deliveries' history; what it still had
 * to deliver is not sent (marked failed, with the reason).
 */
export async function deleteEndpoint(ctx: ServiceContext, principal: Principal, id: string): Promise<void> {
  await withTransaction(ctx, async (ctx) => {
    const before = await findEndpoint(ctx, id, true);
    const now = ctx.now();
    await executor(ctx).update(webhookEndpoints).set({ deletedAt: now, active: false, updatedAt: now }).where(eq(webhookEndpoints.id, id));
    await executor(ctx).execute(sql`
      UPDATE webhook_deliveries SET state = 'failed', last_error = 'the endpoint was deleted', lease_id = NULL, leased_until = NULL,
             completed_at = ${now.toISOString()}::timestamptz, updated_at = ${now.toISOString()}::timestamptz
      WHERE endpoint_id = ${id}::uuid AND state = 'pending'`);
    await appendAudit(ctx, principal, {
      action: 'webhook_endpoint.delete',
      resourceType: 'webhook_endpoint',
      resourceId: id,
      agencyCode: before.agencyCode,
      before: await audited(before),
      after: null,
    });
  });
}

export async function getEndpoint(ctx: ServiceContext, id: string): Promise<EndpointView> {
  return endpointView(await findEndpoint(ctx, id));
}

export async function listEndpoints(ctx: ServiceContext): Promise<EndpointView[]> {
  const rows = await executor(ctx)
    .select()
    .from(webhookEndpoints)
    .where(isNull(webhookEndpoints.deletedAt))
    .orderBy(desc(webhookEndpoints.createdAt));
  return Promise.all(rows.map(endpointView));
}
