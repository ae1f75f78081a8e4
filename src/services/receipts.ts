import { and, eq, isNull } from 'drizzle-orm';
import { paymentIntents, receipts } from '../db/schema/index.ts';
import type { ReceiptLine } from '../db/schema/receipts.ts';
import { executor, type ServiceContext } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { dossierScopeCondition, type Principal } from './principal.ts';

/**
 * Receipt symbols when an agency has none of its own. Circular 78/2021/TT-BTC lets each
 * collecting organisation register its own; these demo values are not official.
 */
export const DEFAULT_FORM_SYMBOL = '01BLP0-001';
export const defaultSeriesSymbol = (issuedDate: string) => `HP-${issuedDate.slice(2, 4)}E`;

/**
 * Receipts are issued by the statement that marks an intent paid (apply-outcome.ts markPaid),
 * numbered under the series' row lock, and signed here once that transaction commits.
 */
export type ReceiptRow = typeof receipts.$inferSelect;

export interface ReceiptView {
  id: string;
  intentId: string;
  reference: string;
  dossierCode: string;
  receiptType: string;
  formSymbol: string;
  seriesSymbol: string;
  number: number;
  /** The number as printed: seven digits, zero-padded. */
  displayNumber: string;
  issuedAt: string;
  issuedDate: string;
  collectingAgency: { code: string; name: string };
  payer: { name: string | null; address: string | null };
  lines: Array<Omit<ReceiptLine, 'obligationId'> & { obligationId: string }>;
  total: number;
  totalInWords: string;
  currency: 'VND';
  gateway: string;
  gatewayTransactionId: string | null;
  signature: string;
  signatureAlgorithm: 'ES256';
  keyId: string;
  verificationKeys: string;
}

const RECEIPT_TYPE = 'Biên lai thu phí, lệ phí';

/** The signed part of a receipt: everything printed on it, in a fixed order. */
function signedPayload(r: Omit<ReceiptRow, 'signature' | 'createdAt'>, reference: string) {
  return {
    receiptId: r.id,
    receiptType: RECEIPT_TYPE,
    formSymbol: r.formSymbol,
    seriesSymbol: r.seriesSymbol,
    number: r.number,
    issuedAt: r.issuedAt.toISOString(),
    issuedDate: r.issuedDate,
    collectingAgency: { code: r.agencyCode, name: r.agencyName },
    payer: { name: r.payerName, address: r.payerAddress },
    dossierCode: r.dossierCode,
    intentId: r.intentId,
    reference,
    lines: r.lines,
    total: r.total,
    totalInWords: r.totalInWords,
    currency: 'VND',
    gateway: r.gateway,
    gatewayTransactionId: r.gatewayTransactionId,
  };
}

/**
 * Signs a receipt that has no signature yet, over exactly what it stores. Idempotent: of two
 * signers (the paying request, a read, the job) the first to write wins, and the others'
 * equally valid signatures are dropped.
 */
export async function signReceipt(ctx: ServiceContext, row: ReceiptRow, reference: string): Promise<ReceiptRow & { signature: string }> {
  if (row.signature) return row as ReceiptRow & { signature: string };
  const signature = await receiptSignature(ctx, row, reference);
  const [updated] = await executor(ctx)
    .update(receipts)
    .set({ signature })
    .where(and(eq(receipts.id, row.id), isNull(receipts.signature)))
    .returning();
  if (updated) return updated as ReceiptRow & { signature: string };
  const [current] = await executor(ctx).select().from(receipts).where(eq(receipts.id, row.id));
  return current as ReceiptRow & { signature: string };
}

/** The signature of a receipt, over exactly what it stores (written by the caller). */
export function receiptSignature(ctx: ServiceContext, row: ReceiptRow, reference: string): Promise<string> {
  return ctx.signer.sign(signedPayload(row, reference));
}

/** The job's part: receipts whose signer was interrupted (a crash just after the commit). */
export async function signPendingReceipts(ctx: ServiceContext, options: { limit?: number } = {}): Promise<number> {
  const pending = await ctx.db
    .select({ receipt: receipts, reference: paymentIntents.reference })
    .from(receipts)
    .innerJoin(paymentIntents, eq(paymentIntents.id, receipts.intentId))
    .where(isNull(receipts.signature))
    .orderBy(receipts.createdAt)
    .limit(options.limit ?? 500);
  for (const { receipt, reference } of pending) await signReceipt(ctx, receipt, reference);
  return pending.length;
}

function receiptView(ctx: ServiceContext, row: ReceiptRow, reference: string): ReceiptView {
  return {
    id: row.id,
    intentId: row.intentId,
    reference,
    dossierCode: row.dossierCode,
    receiptType: RECEIPT_TYPE,
    formSymbol: row.formSymbol,
    seriesSymbol: row.seriesSymbol,
    number: row.number,
    displayNumber: String(row.number).padStart(7, '0'),
    issuedAt: row.issuedAt.toISOString(),
    issuedDate: row.issuedDate,
    collectingAgency: { code: row.agencyCode, name: row.agencyName },
    payer: { name: row.payerName, address: row.payerAddress },
    lines: row.lines,
    total: row.total,
    totalInWords: row.totalInWords,
    currency: 'VND',
    gateway: row.gateway,
    gatewayTransactionId: row.gatewayTransactionId,
    signature: row.signature ?? '',
    signatureAlgorithm: 'ES256',
    keyId: ctx.signer.kid,
    verificationKeys: `${ctx.settings.publicBaseUrl}/.well-known/jwks.json`,
  };
}

export async function getReceipt(ctx: ServiceContext, principal: Principal, intentId: string): Promise<ReceiptView> {
  const scope = dossierScopeCondition(principal, paymentIntents.dossierCode);
  const [intent] = await executor(ctx)
    .select({ id: paymentIntents.id, reference: paymentIntents.reference, status: paymentIntents.status })
    .from(paymentIntents)
    .where(scope ? and(eq(paymentIntents.id, intentId), scope) : eq(paymentIntents.id, intentId));
  if (!intent) throw notFound(`payment intent ${intentId}`);
  const [row] = await executor(ctx).select().from(receipts).where(eq(receipts.intentId, intentId));
  if (!row) {
    throw new ServiceError('receipt-not-issued', `no receipt: the payment intent is ${intent.status}`, [], {
      intentStatus: intent.status,
    });
  }
  return receiptView(ctx, await signReceipt(ctx, row, intent.reference), intent.reference);
}
