import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { and, eq, gt, lt, or } from 'drizzle-orm';
import { idempotencyKeys } from '../db/schema/index.ts';
import { executor, type ServiceContext } from './context.ts';
import { ServiceError } from './errors.ts';
import { actorOf, type Principal } from './principal.ts';

export interface StoredResponse {
  status: number;
  body: unknown;
}

/** Keys are kept a day, like the gateways' own retry windows. */
export const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;

/**
 * Whose keys these are: the token's issuer, the principal (role and subject) and its agency scope.
 * A subject alone collides across portals (two issuers, or one portal's token per agency, may
 * use the same subject name). Stored as `<SHA-256 of issuer and agencies, hex>/<role>:<subject>`:
 * bounded whatever the token lists (500 agencies would not fit a key of the index), still
 * readable, and never equal to a key stored before this scope (`<role>:<subject>`, which starts
 * with a role name, never with 64 hex digits and a slash).
 */
export type IdempotencyScope = string & { readonly __idempotencyScope: true };

const encoder = new TextEncoder();
const SCOPE_DIGEST_LENGTH = 64;

export function idempotencyScope(principal: Principal): IdempotencyScope {
  const agencies = [...new Set(principal.agencies)].sort();
  const vouched = bytesToHex(sha256(encoder.encode(JSON.stringify([principal.issuer ?? null, agencies]))));
  return `${vouched}/${actorOf(principal)}` as IdempotencyScope;
}

/**
 * The name keys were stored under before they had a scope (`<role>:<subject>`): such a key,
 * while it lives (a day), still answers its retries, as it did when it was stored — a request
 * sent before an upgrade and retried after it must not be carried out twice.
 */
const legacyOwner = (scope: IdempotencyScope) => scope.slice(SCOPE_DIGEST_LENGTH + 1);

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
  principal: IdempotencyScope,
  key: string,
  fingerprint: string,
): Promise<StoredResponse | null> {
  const rows = await executor(ctx)
    .select()
    .from(idempotencyKeys)
    .where(ownedKey(ctx, principal, key));
  // The scoped key first; an unscoped one only when there is none.
  const row = rows.find((r) => r.principal === principal) ?? rows[0];
  if (!row) return null;
  if (row.requestFingerprint !== fingerprint) {
    throw new ServiceError('idempotency-key-reused', 'this Idempotency-Key was used with a different request body');
  }
  // Every caller answers with the stored answer once it has one (app.ts adds Idempotent-Replayed).
  if (ctx.replay) ctx.replay.replayed = true;
  return { status: row.responseStatus!, body: row.responseBody };
}

/** The rows of `key` that are the principal's: its scoped one, and one stored before scopes that still lives. */
function ownedKey(ctx: ServiceContext, principal: IdempotencyScope, key: string) {
  return and(
    eq(idempotencyKeys.key, key),
    or(
      eq(idempotencyKeys.principal, principal),
      and(eq(idempotencyKeys.principal, legacyOwner(principal)), gt(idempotencyKeys.expiresAt, ctx.now())),
    ),
  );
}

/** Whether the principal used `key` already (to skip reading a request it will only replay). */
export async function keyUsed(ctx: ServiceContext, principal: IdempotencyScope, key: string): Promise<boolean> {
  const rows = await executor(ctx)
    .select({ key: idempotencyKeys.key })
    .from(idempotencyKeys)
    .where(ownedKey(ctx, principal, key))
    .limit(1);
  return rows.length > 0;
}

/**
 * Records the answer for a key, in the caller's transaction (the one that did the work), so the
 * key exists exactly when the work was done. A concurrent first use of the same key fails this
 * INSERT (23505): the caller then compares itself with the winner through `storedResponse`.
 */
export async function rememberResponse(
  ctx: ServiceContext,
  principal: IdempotencyScope,
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
