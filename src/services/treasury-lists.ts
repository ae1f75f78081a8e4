import { type AnyColumn, and, desc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { auditLog, paymentIntents, type RefundStatus, refunds } from '../db/schema/index.ts';
import { addDays, vnDayStart } from '../domain/dates.ts';
import type { IntentStatus } from '../domain/payment-states.ts';
import type { IntentRow } from './apply-outcome.ts';
import { executor, type ServiceContext } from './context.ts';
import { ServiceError } from './errors.ts';
import { intentViews, type PaymentIntentView } from './payment-intents.ts';
import { dossierScopeCondition, type Principal, scopeCondition } from './principal.ts';
import { type RefundView, refundView } from './refunds.ts';

/**
 * The treasury desk's lists (payment intents, refunds, the audit log): filtered, scoped, newest
 * first, a page at a time. A page ends with an opaque cursor naming its last row; the next page
 * is what comes strictly after it, so rows written meanwhile never shift a page (no duplicates,
 * no gaps), unlike an offset.
 */

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last. */
  nextCursor: string | null;
}

export interface PageRequest {
  cursor?: string;
  /** 1–200 (the route's schema says so). */
  limit: number;
}

/** A Vietnamese calendar-date range (YYYY-MM-DD, both ends inclusive), either end open. */
export interface DateRange {
  from?: string;
  to?: string;
}

/** Where a newest-first list stopped: the row's creation instant to the microsecond, and its id. */
interface Position {
  t: string;
  id: string;
}

const POSITION_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const encodeCursor = (value: object) => btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function decodeCursor<T>(cursor: string, valid: (value: Record<string, unknown>) => boolean): T {
  let value: unknown;
  try {
    value = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || !valid(value as Record<string, unknown>)) {
    throw new ServiceError('validation-failed', 'the cursor is not one this list gave', [
      { path: 'query.cursor', message: 'unknown cursor' },
    ]);
  }
  return value as T;
}

/**
 * A row's position as text, to the microsecond: a JavaScript Date keeps milliseconds only, and a
 * cursor rounded to them would skip or repeat rows created in the same millisecond.
 */
export const positionOf = (createdAt: AnyColumn) => sql<string>`to_char(${createdAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** "Strictly after the cursor" in (createdAt DESC, id DESC) order; undefined on the first page. */
export function afterCursor(cursor: string | undefined, createdAt: AnyColumn, id: AnyColumn): SQL | undefined {
  if (cursor === undefined) return undefined;
  const p = decodeCursor<Position>(
    cursor,
    (v) => typeof v.t === 'string' && POSITION_INSTANT.test(v.t) && typeof v.id === 'string' && UUID.test(v.id),
  );
  return sql`(${createdAt}, ${id}) < (${p.t}::timestamptz, ${p.id}::uuid)`;
}

/** Cuts the `limit + 1` rows read into a page: the extra row only says there is a next one. */
export function cutPage<R extends { position: string; id: string }>(rows: R[], limit: number): { kept: R[]; nextCursor: string | null } {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return { kept, nextCursor: rows.length > limit && last ? encodeCursor({ t: last.position, id: last.id }) : null };
}

/** The conditions given, without the filters left out. */
export const present = (conditions: Array<SQL | undefined | false | ''>) => and(...conditions.filter((c): c is SQL => Boolean(c)));

/** The conditions "instant within these Vietnamese dates"; a range that ends before it starts is refused. */
export function dateRange(column: AnyColumn, range: DateRange, field: { from: string; to: string }): SQL[] {
  if (range.from !== undefined && range.to !== undefined && range.to < range.from) {
    throw new ServiceError('validation-failed', `${field.to} is before ${field.from}`, [
      { path: `query.${field.to}`, message: `before ${field.from}` },
    ]);
  }
  return [
    ...(range.from !== undefined ? [gte(column, vnDayStart(range.from))] : []),
    ...(range.to !== undefined ? [lt(column, vnDayStart(addDays(range.to, 1)))] : []),
  ];
}

/**
 * A filter by agency is the scope of someone rooted at that agency: the same subtree rule, the
 * same SQL, so a filter can never disagree with what scope means. It narrows the caller's own
 * scope, never widens it.
 */
export const rootedAt = (agency: string): Principal => ({ subject: 'filter', role: 'treasury', agencies: [agency] });

// ── Payment intents ─────────────────────────────────────────────────────────────────────

export interface IntentFilter {
  status?: IntentStatus;
  gateway?: string;
  agency?: string;
  dossier?: string;
  reference?: string;
  created: DateRange;
  paid: DateRange;
}

export async function listPaymentIntents(
  ctx: ServiceContext,
  principal: Principal,
  filter: IntentFilter,
  page: PageRequest,
): Promise<Page<PaymentIntentView>> {
  const conditions = [
    dossierScopeCondition(principal, paymentIntents.dossierCode),
    filter.status && eq(paymentIntents.status, filter.status),
    filter.gateway && eq(paymentIntents.gateway, filter.gateway),
    filter.agency && dossierScopeCondition(rootedAt(filter.agency), paymentIntents.dossierCode),
    filter.dossier && eq(paymentIntents.dossierCode, filter.dossier),
    // References are upper-case; one read from a bank statement by a person may not be.
    filter.reference && eq(paymentIntents.reference, filter.reference.toUpperCase()),
    ...dateRange(paymentIntents.createdAt, filter.created, { from: 'createdFrom', to: 'createdTo' }),
    ...dateRange(paymentIntents.succeededAt, filter.paid, { from: 'paidFrom', to: 'paidTo' }),
    afterCursor(page.cursor, paymentIntents.createdAt, paymentIntents.id),
  ];
  const rows = await executor(ctx)
    .select({ intent: paymentIntents, position: positionOf(paymentIntents.createdAt) })
    .from(paymentIntents)
    .where(present(conditions))
    .orderBy(desc(paymentIntents.createdAt), desc(paymentIntents.id))
    .limit(page.limit + 1);
  const { kept, nextCursor } = cutPage(
    rows.map((r) => ({ ...r, id: r.intent.id })),
    page.limit,
  );
  return {
    items: await intentViews(
      ctx,
      kept.map((r) => r.intent as IntentRow),
    ),
    nextCursor,
  };
}

// ── Refunds ─────────────────────────────────────────────────────────────────────────────

export interface RefundFilter {
  status?: RefundStatus;
  gateway?: string;
  agency?: string;
  intent?: string;
  review?: string;
  method?: 'gateway' | 'manual';
  created: DateRange;
}

export async function listAllRefunds(
  ctx: ServiceContext,
  principal: Principal,
  filter: RefundFilter,
  page: PageRequest,
): Promise<Page<RefundView>> {
  const conditions = [
    dossierScopeCondition(principal, paymentIntents.dossierCode),
    filter.status && eq(refunds.status, filter.status),
    filter.gateway && eq(paymentIntents.gateway, filter.gateway),
    filter.agency && dossierScopeCondition(rootedAt(filter.agency), paymentIntents.dossierCode),
    filter.intent && eq(refunds.intentId, filter.intent),
    filter.review && eq(refunds.reviewId, filter.review),
    filter.method && eq(refunds.method, filter.method),
    ...dateRange(refunds.createdAt, filter.created, { from: 'createdFrom', to: 'createdTo' }),
    afterCursor(page.cursor, refunds.createdAt, refunds.id),
  ];
  const rows = await executor(ctx)
    .select({ refund: refunds, position: positionOf(refunds.createdAt) })
    .from(refunds)
    .innerJoin(paymentIntents, eq(paymentIntents.id, refunds.intentId))
    .where(present(conditions))
    .orderBy(desc(refunds.createdAt), desc(refunds.id))
    .limit(page.limit + 1);
  const { kept, nextCursor } = cutPage(
    rows.map((r) => ({ ...r, id: r.refund.id })),
    page.limit,
  );
  return { items: kept.map((r) => refundView(r.refund)), nextCursor };
}

/** The references and gateways of intents (in scope) that a page of refunds names, in one query. */
export async function intentLabels(ctx: ServiceContext, principal: Principal, ids: string[]) {
  if (ids.length === 0) return new Map<string, { reference: string; gateway: string }>();
  const rows = await executor(ctx)
    .select({ id: paymentIntents.id, reference: paymentIntents.reference, gateway: paymentIntents.gateway })
    .from(paymentIntents)
    .where(present([inArray(paymentIntents.id, ids), dossierScopeCondition(principal, paymentIntents.dossierCode)]));
  return new Map(rows.map((r) => [r.id, { reference: r.reference, gateway: r.gateway }]));
}

// ── The audit log ───────────────────────────────────────────────────────────────────────

type AuditRow = typeof auditLog.$inferSelect;

export interface AuditEntryView {
  id: number;
  at: string;
  actor: string;
  action: string;
  resourceType: string;
  resourceId: string;
  agencyCode: string | null;
  reason: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
}

export function auditEntryView(row: AuditRow): AuditEntryView {
  return { ...row, at: row.at.toISOString() };
}

export interface AuditFilter {
  resourceType?: string;
  resourceId?: string;
  actor?: string;
  at: DateRange;
}

/**
 * The audit log, newest first (by id, which is the chain's order). Scoped by the agency each row
 * was recorded under; a row of the province as a whole (no agency) is an admin's only.
 */
export async function listAuditEntries(
  ctx: ServiceContext,
  principal: Principal,
  filter: AuditFilter,
  page: PageRequest,
): Promise<Page<AuditEntryView>> {
  const after = page.cursor
    ? decodeCursor<{ id: number }>(page.cursor, (v) => Number.isSafeInteger(v.id) && (v.id as number) > 0)
    : undefined;
  const conditions = [
    scopeCondition(principal, auditLog.agencyCode),
    filter.resourceType && eq(auditLog.resourceType, filter.resourceType),
    filter.resourceId && eq(auditLog.resourceId, filter.resourceId),
    filter.actor && eq(auditLog.actor, filter.actor),
    ...dateRange(auditLog.at, filter.at, { from: 'from', to: 'to' }),
    after && lt(auditLog.id, after.id),
  ];
  const rows = await executor(ctx)
    .select()
    .from(auditLog)
    .where(present(conditions))
    .orderBy(desc(auditLog.id))
    .limit(page.limit + 1);
  const kept = rows.slice(0, page.limit);
  const last = kept[kept.length - 1];
  return { items: kept.map(auditEntryView), nextCursor: rows.length > page.limit && last ? encodeCursor({ id: last.id }) : null };
}
