import { and, eq, sql } from 'drizzle-orm';
import { agencies, dossiers, intentObligations, obligations, paymentIntents, receipts, receiptSeries } from '../db/schema/index.ts';
import type { ReceiptLine } from '../db/schema/receipts.ts';
import { vnDate } from '../domain/dates.ts';
import { sumVnd } from '../domain/money.ts';
import { amountInWords } from '../domain/words.ts';
import { executor, type ServiceContext } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { dossierScopeCondition, type Principal } from './principal.ts';

/**
 * Receipt symbols when an agency has none of its own. Circular 78/2021/TT-BTC lets each
 * collecting organisation register its own; these demo values are not official.
 */
export const DEFAULT_FORM_SYMBOL = '01BLP0-001';
export const defaultSeriesSymbol = (issuedDate: string) => `HP-${issuedDate.slice(2, 4)}E`;

type IntentRow = typeof paymentIntents.$inferSelect;
type ReceiptRow = typeof receipts.$inferSelect;

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

export const RECEIPT_TYPE = 'Biên lai thu phí, lệ phí';

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
 * Issues the receipt of a succeeded intent, inside the transaction that marked it paid. The
 * series counter is incremented under its row lock in that same transaction, so numbers are
 * gapless: a rolled-back payment takes its number back with it.
 */
export async function issueReceipt(ctx: ServiceContext, intent: IntentRow, issuedAt: Date): Promise<ReceiptRow> {
  const db = executor(ctx);
  const [existing] = await db.select().from(receipts).where(eq(receipts.intentId, intent.id));
  if (existing) return existing;

  const [holder] = await db
    .select({
      agencyCode: agencies.code,
      agencyName: agencies.name,
      formSymbol: agencies.receiptFormSymbol,
      seriesSymbol: agencies.receiptSeriesSymbol,
      payerName: dossiers.applicantName,
      payerAddress: dossiers.applicantAddress,
    })
    .from(dossiers)
    .innerJoin(agencies, eq(agencies.code, dossiers.agencyCode))
    .where(eq(dossiers.code, intent.dossierCode));
  if (!holder) throw new Error(`dossier ${intent.dossierCode} of intent ${intent.id} is missing`);

  const lines: ReceiptLine[] = (
    await db
      .select({
        obligationId: obligations.id,
        kind: obligations.kind,
        feeCode: obligations.feeCode,
        name: obligations.name,
        amount: intentObligations.amount,
        lineNo: obligations.lineNo,
      })
      .from(intentObligations)
      .innerJoin(obligations, eq(obligations.id, intentObligations.obligationId))
      .where(eq(intentObligations.intentId, intent.id))
      .orderBy(obligations.lineNo)
  ).map(({ lineNo: _lineNo, ...line }) => line);

  const issuedDate = vnDate(issuedAt);
  const formSymbol = holder.formSymbol ?? DEFAULT_FORM_SYMBOL;
  const seriesSymbol = holder.seriesSymbol ?? defaultSeriesSymbol(issuedDate);
  const [counter] = await db
    .insert(receiptSeries)
    .values({ agencyCode: holder.agencyCode, formSymbol, seriesSymbol, lastNumber: 1 })
    .onConflictDoUpdate({
      target: [receiptSeries.agencyCode, receiptSeries.formSymbol, receiptSeries.seriesSymbol],
      set: { lastNumber: sql`${receiptSeries.lastNumber} + 1` },
    })
    .returning({ number: receiptSeries.lastNumber });

  const total = sumVnd(lines.map((l) => l.amount));
  const row = {
    id: crypto.randomUUID(),
    intentId: intent.id,
    dossierCode: intent.dossierCode,
    agencyCode: holder.agencyCode,
    agencyName: holder.agencyName,
    formSymbol,
    seriesSymbol,
    number: counter!.number,
    issuedAt,
    issuedDate,
    payerName: holder.payerName,
    payerAddress: holder.payerAddress,
    lines,
    total,
    totalInWords: amountInWords(total),
    gateway: intent.gateway,
    gatewayTransactionId: intent.gatewayTransactionId,
  };
  const signature = await ctx.signer.sign(signedPayload(row, intent.reference));
  const [inserted] = await db.insert(receipts).values({ ...row, signature }).returning();
  return inserted!;
}

export function receiptView(ctx: ServiceContext, row: ReceiptRow, reference: string): ReceiptView {
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
    signature: row.signature,
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
  return receiptView(ctx, row, intent.reference);
}
