import { and, eq, lt } from 'drizzle-orm';
import { idempotencyKeys } from '../db/schema/index.ts';
import { executor, type ServiceContext } from './context.ts';
import { ServiceError } from './errors.ts';

export interface StoredResponse {
  status: number;
  body: unknown;
}

/** Keys are kept a day, like the gateways' own retry windows. */
export const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;

export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Canonical JSON (sorted keys): the same body in another key order is the same request. */
function canonicalJson(value: unknown): string {
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

/** What identifies a request for its key: the route and the body, canonical. */
export function requestFingerprint(route: string, body: unknown): string {
  return `${route}\n${canonicalJson(body)}`;
}

/**
 * The stored answer for a key, if the key was used before: the same request replays it, another
 * request with the same key is refused. The key itself is written by the statement that does the
 * work (see payment-intents.ts), so it exists exactly when the work was done.
 */
export async function storedResponse(
  ctx: ServiceContext,
  principal: string,
  key: string,
  fingerprint: string,
): Promise<StoredResponse | null> {
  const [row] = await executor(ctx)
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key)));
  if (!row) return null;
  if (row.requestFingerprint !== fingerprint) {
    throw new ServiceError('idempotency-key-reused', 'this Idempotency-Key was used with a different request body');
  }
  return { status: row.responseStatus!, body: row.responseBody };
}

/**
 * Records the answer for a key, in the caller's transaction (the one that did the work), so the
 * key exists exactly when the work was done. A concurrent first use of the same key fails this
 * INSERT (23505): the caller then compares itself with the winner through `storedResponse`.
 */
export async function rememberResponse(
  ctx: ServiceContext,
  principal: string,
  key: string,
  fingerprint: string,
  response: StoredResponse,
): Promise<void> {
  const now = ctx.now();
  await executor(ctx)
    .insert(idempotencyKeys)
    .values({
      principal,
      key,
      requestFingerprint: fingerprint,
      status: 'done',
      responseStatus: response.status,
      responseBody: response.body,
      createdAt: now,
      updatedAt: now,
      expiresAt: new Date(now.getTime() + KEY_LIFETIME_MS),
    });
}

export async function purgeExpiredKeys(ctx: ServiceContext): Promise<number> {
  const deleted = await executor(ctx)
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.expiresAt, ctx.now()))
    .returning({ key: idempotencyKeys.key });
  return deleted.length;
}
