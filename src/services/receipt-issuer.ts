import { inArray, isNull, sql } from 'drizzle-orm';
import { describeError } from '../db/errors.ts';
import { paymentIntents, receipts } from '../db/schema/index.ts';
import { type NumberedReceipt, numberReceiptRequests } from '../db/statements/issue-receipts.ts';
import { queryRows } from '../db/types.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { emitEvents, receiptEvent } from './outbox.ts';
import { issueOf, signReceipts } from './receipts.ts';

/**
 * The receipt issuer: a payment asks for its receipt (a row of receipt_requests, written by the
 * paying statement), and the issuer numbers what waits in a series in one short transaction,
 * many at a time, in the order asked, dated at issue (db/statements/issue-receipts.ts), tells
 * dossier systems (`receipt.issued`, with the number), and signs after the commit. Payments of
 * one agency thus never queue on its gapless counter: only issuers do, for a batch each.
 *
 * Who starts it once a payment commits (`receiptsDue`): on Node the hub's one ReceiptIssuer (in
 * the background: the IPN is answered without waiting); on Workers the request's `waitUntil`; in
 * scripts and tests, the caller, before it returns. Whatever a crash or a failure leaves waiting
 * is issued at the hub's start, by the jobs' `issue-receipts` sweep, or by the first read of the
 * receipt.
 */

/** Requests numbered per transaction: the counter is held for one batch's statement at most. */
const BATCH = 500;

/** Numbers one batch of the agency's waiting requests, and records their events, in one transaction. */
async function issueBatch(ctx: ServiceContext, agencyCode: string, intentId?: string): Promise<NumberedReceipt[]> {
  return withTransaction(ctx, async (ctx) => {
    const issuedAt = ctx.now();
    const { lookupCode: _unused, ...issue } = issueOf(ctx, issuedAt);
    const numbered = await numberReceiptRequests(executor(ctx), { agencyCode, limit: BATCH, issue, intentId });
    if (numbered.length > 0) {
      await emitEvents(
        ctx,
        numbered.map((r) => receiptEvent(ctx, { ...r, kind: 'original', originalId: null, issuedAt })),
      );
    }
    return numbered;
  });
}

/** Signs the receipts just numbered (a failure leaves them to the jobs' signer). */
async function signIssued(ctx: ServiceContext, ids: string[]): Promise<void> {
  const rows = await executor(ctx)
    .select({ receipt: receipts, reference: paymentIntents.reference })
    .from(receipts)
    .innerJoin(paymentIntents, sql`${paymentIntents.id} = ${receipts.intentId}`)
    .where(sql`${inArray(receipts.id, ids)} AND ${isNull(receipts.signature)}`);
  await signReceipts(ctx, rows);
}

/**
 * Issues every receipt waiting in the agency's series (in every agency's, when none is named),
 * batch after batch, and signs them. Returns how many were numbered.
 */
export async function issueWaitingReceipts(
  ctx: ServiceContext,
  agencyCode?: string,
  /** Given, the batches' signing is handed to it instead of awaited (the background issuer numbers on meanwhile). */
  signingElsewhere?: (signing: Promise<void>) => void,
): Promise<number> {
  const agencies = agencyCode
    ? [agencyCode]
    : (await queryRows<{ agency_code: string }>(executor(ctx), sql`SELECT DISTINCT agency_code FROM receipt_requests`)).map(
        (r) => r.agency_code,
      );
  let issued = 0;
  // A batch is signed while the next is numbered: a number never waits for a signature.
  const signing: Promise<void>[] = [];
  try {
    for (const agency of agencies) {
      for (;;) {
        const batch = await issueBatch(ctx, agency);
        issued += batch.length;
        if (batch.length > 0)
          signing.push(
            signIssued(
              ctx,
              batch.map((r) => r.id),
            ).catch((error: unknown) => ctx.log.warn('receipts left unsigned for the jobs', { error: describeError(error) })),
          );
        if (batch.length < BATCH) break;
      }
    }
  } finally {
    if (signingElsewhere) for (const p of signing) signingElsewhere(p);
    else await Promise.all(signing);
  }
  return issued;
}

/** What the host gives a request to issue receipts in the background (Node: the hub's ReceiptIssuer; Workers: waitUntil). */
export interface ReceiptsInBackground {
  due(agencyCode: string): void;
}

/**
 * Called once the transaction that asked for a receipt has committed (never inside it: the
 * issuer would not see the request yet). In the background where the host has one; else now.
 */
export async function receiptsDue(ctx: ServiceContext, agencyCode: string): Promise<void> {
  if (ctx.receiptsInBackground) {
    ctx.receiptsInBackground.due(agencyCode);
    return;
  }
  try {
    await issueWaitingReceipts(ctx, agencyCode);
  } catch (error) {
    ctx.log.warn('receipts left waiting for the jobs', { agencyCode, error: describeError(error) });
  }
}

/**
 * The Node hub's issuer, one per process: one run per agency at a time; a payment that asks while
 * its agency's run is going makes the run look once more when it ends, so nothing waits for the
 * jobs' sweep, and a burst of payments costs one issue transaction per batch, not one each.
 */
export class ReceiptIssuer implements ReceiptsInBackground {
  private readonly runs = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  /**
   * A run starts this long after the first payment that asks (and a run that ends with more asked
   * looks again after as long): the payments of those milliseconds are numbered in one
   * transaction, instead of one issue transaction per payment when they come one at a time
   * (each costing as many round trips as the payment itself). Well within the second a receipt
   * may take.
   */
  private readonly gatherMs: number;

  constructor(
    private readonly ctx: ServiceContext,
    options: { gatherMs?: number } = {},
  ) {
    this.gatherMs = options.gatherMs ?? 20;
  }
  /** Batches numbered and being signed (idle() waits for them). */
  private readonly signing = new Set<Promise<void>>();
  private readonly track = (signing: Promise<void>) => {
    this.signing.add(signing);
    void signing.finally(() => this.signing.delete(signing));
  };

  due(agencyCode: string): void {
    if (this.runs.has(agencyCode)) {
      this.again.add(agencyCode);
      return;
    }
    const gather = () => new Promise((resolve) => setTimeout(resolve, this.gatherMs));
    const run = (async () => {
      do {
        await gather();
        this.again.delete(agencyCode);
        try {
          await issueWaitingReceipts(this.ctx, agencyCode, this.track);
        } catch (error) {
          // The database may be away: what waits is issued by the next payment, the sweep or a read.
          this.ctx.log.warn('receipts left waiting for the jobs', { agencyCode, error: describeError(error) });
          break;
        }
      } while (this.again.has(agencyCode));
    })().finally(() => this.runs.delete(agencyCode));
    this.runs.set(agencyCode, run);
  }

  /** Settles once no run is going and every batch is signed (shutdown; tests). */
  async idle(): Promise<void> {
    while (this.runs.size > 0 || this.signing.size > 0) await Promise.all([...this.runs.values(), ...this.signing]);
  }
}

/**
 * The intent's receipt, if it is still waiting for its number, is issued now: a read or a refund
 * does not wait for the background. Only that one, so that a refund's transaction (which holds its
 * dossier's events lock) takes no other dossier's. False when none waits.
 */
export async function issueWaitingReceiptOf(ctx: ServiceContext, intentId: string): Promise<boolean> {
  const [waiting] = await queryRows<{ agency_code: string }>(
    executor(ctx),
    sql`SELECT agency_code FROM receipt_requests WHERE intent_id = ${intentId}::uuid`,
  );
  if (!waiting) return false;
  const [issued] = await issueBatch(ctx, waiting.agency_code, intentId);
  if (issued) await signIssued(ctx, [issued.id]);
  return true;
}
