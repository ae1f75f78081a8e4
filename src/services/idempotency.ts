import { and, eq, lt } from 'drizzle-orm';
import { idempotencyKeys } from '../db/schema/index.ts';
import { sha256Hex } from '../gateways/hmac.ts';
import { executor, type ServiceContext } from './context.ts';
import { ServiceError } from './errors.ts';

export interface StoredResponse {
  status: number;
  body: unknown;
}

/** Keys are kept a day, like the gateways' own retry windows. */
const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** A claim older than this was left by a crashed request and may be taken over. */
const ABANDONED_AFTER_MS = 2 * 60 * 1000;
const WAIT_STEP_MS = 25;
const WAIT_LIMIT_MS = 15_000;

export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Canonical JSON (sorted keys): the same body in another key order is the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export async function requestFingerprint(route: string, body: unknown): Promise<string> {
  return sha256Hex(`${route}\n${canonicalJson(body)}`);
}

export type Claim = { kind: 'claimed' } | { kind: 'replay'; response: StoredResponse };

/**
 * Claims `key` for this request inside the caller's transaction, or finds the stored answer of
 * the request that claimed it first. On PostgreSQL a concurrent INSERT of the same key waits for
 * the first transaction to end, so a burst of identical requests collapses onto one; a claim
 * still in progress (a gateway hand-over outside the transaction) is waited for briefly.
 */
export async function claimKey(ctx: ServiceContext, principal: string, key: string, requestHash: string): Promise<Claim> {
  const db = executor(ctx);
  const now = ctx.now();
  const inserted = await db
    .insert(idempotencyKeys)
    .values({
      principal,
      key,
      requestHash,
      status: 'in_progress',
      createdAt: now,
      updatedAt: now,
      expiresAt: new Date(now.getTime() + KEY_LIFETIME_MS),
    })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (inserted.length > 0) return { kind: 'claimed' };

  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key)));
  if (!row) throw new ServiceError('idempotency-key-in-progress', 'the request with this key is still in progress; retry');
  if (row.requestHash !== requestHash) {
    throw new ServiceError('idempotency-key-reused', 'this Idempotency-Key was used with a different request body');
  }
  if (row.status === 'done') return { kind: 'replay', response: { status: row.responseStatus!, body: row.responseBody } };
  if (now.getTime() - row.updatedAt.getTime() > ABANDONED_AFTER_MS) {
    const taken = await db
      .update(idempotencyKeys)
      .set({ updatedAt: now })
      .where(and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key), eq(idempotencyKeys.status, 'in_progress'), lt(idempotencyKeys.updatedAt, new Date(now.getTime() - ABANDONED_AFTER_MS))))
      .returning({ key: idempotencyKeys.key });
    if (taken.length > 0) return { kind: 'claimed' };
  }
  throw new InProgress();
}

export class InProgress extends Error {}

export async function completeKey(ctx: ServiceContext, principal: string, key: string, response: StoredResponse): Promise<void> {
  await executor(ctx)
    .update(idempotencyKeys)
    .set({ status: 'done', responseStatus: response.status, responseBody: response.body, updatedAt: ctx.now() })
    .where(and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key)));
}

/** Runs `attempt` again while another request holds the key, up to a limit. */
export async function waitWhileInProgress<T>(attempt: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof InProgress)) throw error;
      if (Date.now() - started > WAIT_LIMIT_MS) {
        throw new ServiceError('idempotency-key-in-progress', 'the request with this key is still in progress; retry');
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
  }
}

export async function purgeExpiredKeys(ctx: ServiceContext): Promise<number> {
  const deleted = await executor(ctx)
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.expiresAt, ctx.now()))
    .returning({ key: idempotencyKeys.key });
  return deleted.length;
}

