import { asc, gt, sql } from 'drizzle-orm';
import { auditLog } from '../db/schema/index.ts';
import { canonicalJson } from '../domain/canonical-json.ts';
import { executor, type ServiceContext } from './context.ts';
import { actorOf, type Principal } from './principal.ts';

type AuditRow = typeof auditLog.$inferSelect;

/** The hash before the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** Any number, distinct from the hub's other advisory locks: the one writer of the chain's end at a time. */
const AUDIT_CHAIN_LOCK = 766_0001;

export interface AuditEntry {
  action: string;
  resourceType: string;
  resourceId: string;
  /** The agency whose scope the resource is in (null: the province as a whole). */
  agencyCode: string | null;
  reason?: string | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/** What a row's hash covers: everything in it but its id and its own hash. */
function hashedContent(row: Omit<AuditRow, 'id' | 'hash'>): string {
  return canonicalJson({
    at: row.at,
    actor: row.actor,
    action: row.action,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    agencyCode: row.agencyCode,
    reason: row.reason,
    before: row.before,
    after: row.after,
    prevHash: row.prevHash,
  });
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A JSON value as jsonb will give it back (dates as ISO strings, no undefined). */
const jsonValue = (value: Record<string, unknown> | null | undefined) =>
  value ? (JSON.parse(JSON.stringify(value)) as Record<string, unknown>) : null;

/**
 * Appends one row to the audit log, in the caller's transaction (the one that does what is
 * recorded, so the row exists exactly when the action happened). The chain's end is taken under
 * a transaction-scoped advisory lock, always the last lock a treasury action takes, so two
 * actions never chain onto the same row.
 */
export async function appendAudit(ctx: ServiceContext, principal: Principal | string, entry: AuditEntry): Promise<void> {
  if (!ctx.tx) throw new Error('appendAudit runs inside the transaction of the action it records');
  const db = executor(ctx);
  await db.execute(sql`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
  const [last] = await db.select({ hash: auditLog.hash }).from(auditLog).orderBy(sql`${auditLog.id} DESC`).limit(1);
  const row = {
    at: ctx.now(),
    actor: typeof principal === 'string' ? principal : actorOf(principal),
    action: entry.action,
    resourceType: entry.resourceType,
    resourceId: entry.resourceId,
    agencyCode: entry.agencyCode,
    reason: entry.reason ?? null,
    before: jsonValue(entry.before),
    after: jsonValue(entry.after),
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  await db.insert(auditLog).values({ ...row, hash: await sha256Hex(hashedContent(row)) });
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  /** The first row whose hash or link does not hold, and why. */
  firstBroken: { id: number; reason: 'hash-mismatch' | 'broken-link'; expected: string; found: string } | null;
  lastHash: string;
}

const VERIFY_PAGE = 1000;

/**
 * Recomputes the whole chain, oldest first, a page at a time (memory stays flat however long
 * the log): each row's link must be the previous row's hash, and its hash must be its content's.
 * Reads only, so it runs beside a live hub.
 */
export async function verifyAuditChain(ctx: ServiceContext): Promise<ChainVerification> {
  let previous = GENESIS_HASH;
  let afterId = 0;
  let checked = 0;
  for (;;) {
    const rows = await executor(ctx).select().from(auditLog).where(gt(auditLog.id, afterId)).orderBy(asc(auditLog.id)).limit(VERIFY_PAGE);
    for (const row of rows) {
      if (row.prevHash !== previous) {
        return {
          ok: false,
          checked,
          firstBroken: { id: row.id, reason: 'broken-link', expected: previous, found: row.prevHash },
          lastHash: previous,
        };
      }
      const expected = await sha256Hex(hashedContent(row));
      if (expected !== row.hash) {
        return { ok: false, checked, firstBroken: { id: row.id, reason: 'hash-mismatch', expected, found: row.hash }, lastHash: previous };
      }
      previous = row.hash;
      checked++;
    }
    if (rows.length < VERIFY_PAGE) return { ok: true, checked, firstBroken: null, lastHash: previous };
    afterId = rows[rows.length - 1]!.id;
  }
}
