import type { Config } from '../config.ts';
import { describeError, isConnectionError } from '../db/errors.ts';
import type { Database, Executor, Transaction } from '../db/types.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { Logger } from '../logger.ts';
import type { ReceiptsInBackground } from './receipt-issuer.ts';
import type { ReceiptSigners } from './receipt-signer.ts';
import type { Spreadsheets } from './spreadsheets.ts';

/** The settings services read; a subset of the configuration so tests can build it directly. */
export type ServiceSettings = Pick<
  Config,
  | 'publicBaseUrl'
  | 'intentTtlMinutes'
  | 'expiryUnknownGraceMinutes'
  | 'refundApprovalThreshold'
  | 'reviewApprovalThreshold'
  | 'dossierLimits'
  | 'treasuryDay'
  | 'indicators'
  | 'collectionForms'
  | 'receipts'
  | 'webhooks'
  | 'inbox'
>;

/**
 * Everything a service verb needs, built per request (or per job run): no module-level I/O
 * singletons, as Workers requires.
 */
export interface ServiceContext {
  db: Database;
  /**
   * A replica for reports (DATABASE_READ_URL), made the `db` of a report's context by `onReplica`;
   * undefined: reports read the primary.
   */
  replica?: Database;
  /** Set by `onReplica` while `db` is the replica: read only (nothing is refreshed or written). */
  readingReplica?: true;
  /** Set inside `withTransaction`: nested verbs reuse it instead of opening another. */
  tx?: Transaction;
  settings: ServiceSettings;
  gateways: GatewayRegistry;
  signer: ReceiptSigners;
  log: Logger;
  /** The host's spreadsheet writer (Node); undefined on Workers. */
  spreadsheets?: Spreadsheets;
  now: () => Date;
  fetch: typeof fetch;
  /**
   * Set per request by the HTTP edge: `storedResponse` marks it when the answer is the replay of
   * an earlier request's (same Idempotency-Key), and the edge then says so (`Idempotent-Replayed`).
   */
  replay?: { replayed: boolean };
  /**
   * Where a committed payment's receipt is issued without the caller waiting (services/receipt-issuer.ts):
   * the Node hub's issuer, or the Workers request's waitUntil. Unset: the caller issues it before it returns.
   */
  receiptsInBackground?: ReceiptsInBackground;
}

export function executor(ctx: ServiceContext): Executor {
  return ctx.tx ?? ctx.db;
}

/**
 * Runs a report (`fn` only reads) on the replica when there is one: its `db` is the replica and
 * `readingReplica` is set, so that what a report would otherwise refresh on the way (a campaign's
 * summary) is left to the primary's jobs. A replica that cannot be reached is not an outage: the
 * report is read again from the primary. Nothing that decides money reads here; a replica may be
 * behind the primary by its replay lag (README: DATABASE_READ_URL).
 */
export async function onReplica<T>(ctx: ServiceContext, fn: (ctx: ServiceContext) => Promise<T>): Promise<T> {
  if (!ctx.replica || ctx.tx) return fn(ctx);
  try {
    return await fn({ ...ctx, db: ctx.replica, readingReplica: true });
  } catch (error) {
    if (!isConnectionError(error)) throw error;
    ctx.log.warn('replica unreachable: the report is read from the primary', { error: describeError(error) });
    return fn(ctx);
  }
}

/**
 * Runs `fn` in a transaction, reusing the caller's if there is one. Inside, every query must go
 * through `executor(ctx)`: PGlite has one connection, and a query outside the open transaction
 * would wait for it forever.
 */
export async function withTransaction<T>(ctx: ServiceContext, fn: (ctx: ServiceContext) => Promise<T>): Promise<T> {
  if (ctx.tx) return fn(ctx);
  return ctx.db.transaction(async (tx) => fn({ ...ctx, tx }));
}
