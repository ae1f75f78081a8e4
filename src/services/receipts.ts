import { and, eq, isNull, sql } from 'drizzle-orm';
import { paymentIntents, receipts, refunds } from '../db/schema/index.ts';
import type { ReceiptLine } from '../db/schema/receipts.ts';
import { executor, type ServiceContext } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { dossierScopeCondition, type Principal } from './principal.ts';
import type { ReceiptSigner } from './receipt-signer.ts';
import { RECEIPT_DATA_ID, receiptXml } from './receipt-xml.ts';

/**
 * Receipt symbols (Circular 91/2026/TT-BTC, Appendix II, as reported; configuration): an agency's
 * own, or the configured form symbol and a series of the year's two digits, `T` and the
 * configured letters (`26THP`). An agency's series that starts with two digits carries its year
 * there, so its 2027 receipts print `27…`; the numbering restarts with every year in any case
 * (receipt_series is keyed by year).
 */
export const defaultSeriesSymbol = (issuedDate: string, letters: string) => `${issuedDate.slice(2, 4)}T${letters}`;

/** Crockford's base-32 alphabet: no I, L, O, U to misread. */
const LOOKUP_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A receipt's look-up code (mã tra cứu): 20 characters, 100 random bits, nothing to guess from. */
export function newLookupCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => LOOKUP_ALPHABET[b & 31]).join('');
}

/** A look-up code as a citizen may type it: any case, spaces and dashes between groups. */
function normaliseLookupCode(input: string): string | null {
  if (input.length > 64) return null;
  const code = input.replace(/[\s-]/g, '').toUpperCase();
  return /^[0-9A-Z]{16,32}$/.test(code) ? code : null;
}

/**
 * Receipts are issued by the statement that marks an intent paid (apply-outcome.ts markPaid),
 * numbered under the series' row lock, and signed here once that transaction commits.
 */
export type ReceiptRow = typeof receipts.$inferSelect;

interface ReceiptParty {
  name: string;
  address: string | null;
  taxCode: string | null;
}

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
  /** The collecting organisation (Decree 254/2026 Art. 23): name, address, tax code. */
  collector: ReceiptParty & { code: string };
  /** @deprecated the same as `collector`'s code and name; kept for existing clients. */
  collectingAgency: { code: string; name: string };
  /** The service provider that issued the receipt on the collector's behalf (the hub's operator), with the delegation. */
  issuer: (ReceiptParty & { delegation: string | null }) | null;
  payer: { name: string | null; address: string | null };
  lines: Array<Omit<ReceiptLine, 'obligationId'> & { obligationId: string }>;
  total: number;
  totalInWords: string;
  currency: 'VND';
  gateway: string;
  gatewayTransactionId: string | null;
  lookupCode: string;
  lookupUrl: string;
  /** Money given back since (refunds that succeeded): `none`, `partial` or `full`, with the amount. */
  refunded: { status: 'none' | 'partial' | 'full'; amount: number };
  signature: string;
  signatureAlgorithm: 'ES256';
  keyId: string;
  verificationKeys: string;
}

const RECEIPT_TYPE = 'Biên lai thu phí, lệ phí';

/** The signed part of a receipt: everything printed on it, in a fixed order. */
function signedPayload(r: ReceiptRow, reference: string) {
  return {
    receiptId: r.id,
    receiptType: RECEIPT_TYPE,
    formSymbol: r.formSymbol,
    seriesSymbol: r.seriesSymbol,
    number: r.number,
    issuedAt: r.issuedAt.toISOString(),
    issuedDate: r.issuedDate,
    collector: { code: r.agencyCode, name: r.agencyName, address: r.collectorAddress, taxCode: r.collectorTaxCode },
    issuer: r.issuer,
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
    lookupCode: r.lookupCode,
  };
}

/** Who signs a receipt: the collector's own key when it was issued without an issuer, the hub's when the hub issued it on the collector's behalf. */
function signerOf(ctx: ServiceContext, row: ReceiptRow): ReceiptSigner {
  if (row.signingKid) {
    const signer = ctx.signer.byKid(row.signingKid);
    if (!signer) throw new Error(`receipt ${row.id} was signed with key ${row.signingKid}, which is no longer configured`);
    return signer;
  }
  if (row.issuer) return ctx.signer.hub;
  const own = ctx.signer.forAgency(row.agencyCode);
  if (own.onBehalf)
    throw new Error(`receipt ${row.id} is to be signed by agency ${row.agencyCode}, which has no key configured (RECEIPT_AGENCY_KEYS)`);
  return own.signer;
}

/**
 * Signs a receipt that has no signature yet, over exactly what it stores: the JWS and the XML
 * with its enveloped signature, written together. Idempotent: of two signers (the paying
 * request, a read, the job) the first to write wins, and the others' equally valid signatures
 * are dropped.
 */
export async function signReceipt(ctx: ServiceContext, row: ReceiptRow, reference: string): Promise<ReceiptRow & { signature: string }> {
  if (row.signature && row.xml) return row as ReceiptRow & { signature: string };
  if (row.signature) {
    // Issued before receipts had their XML (migration 0018): the hub signed it; its XML is signed now, by the same key.
    const xml = await ctx.signer.hub.signXml(receiptXml(row, reference, ctx.settings.publicBaseUrl), RECEIPT_DATA_ID, ['DSCKS', 'TCThu']);
    await executor(ctx)
      .update(receipts)
      .set({ signingKid: row.signingKid ?? ctx.signer.hub.kid, xml })
      .where(and(eq(receipts.id, row.id), isNull(receipts.xml)));
    const [current] = await executor(ctx).select().from(receipts).where(eq(receipts.id, row.id));
    return current as ReceiptRow & { signature: string };
  }
  const { signature, signingKid, xml } = await receiptSignatures(ctx, row, reference);
  const [updated] = await executor(ctx)
    .update(receipts)
    .set({ signature, signingKid, xml })
    .where(and(eq(receipts.id, row.id), isNull(receipts.signature), isNull(receipts.xml)))
    .returning();
  if (updated) return updated as ReceiptRow & { signature: string };
  const [current] = await executor(ctx).select().from(receipts).where(eq(receipts.id, row.id));
  return current as ReceiptRow & { signature: string };
}

export interface ReceiptSignatures {
  receiptId: string;
  /** Compact JWS over the receipt's canonical JSON. */
  signature: string;
  signingKid: string;
  /** The receipt's XML with its enveloped signature. */
  xml: string;
}

/** A receipt's signatures, over exactly what it stores (written by the caller). */
export async function receiptSignatures(ctx: ServiceContext, row: ReceiptRow, reference: string): Promise<ReceiptSignatures> {
  const signer = signerOf(ctx, row);
  const signature = await signer.sign(signedPayload(row, reference));
  const xml = await signer.signXml(receiptXml(row, reference, ctx.settings.publicBaseUrl), RECEIPT_DATA_ID, ['DSCKS', 'TCThu']);
  return { receiptId: row.id, signature, signingKid: signer.kid, xml };
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

const lookupUrlOf = (ctx: ServiceContext, code: string) => `${ctx.settings.publicBaseUrl}/receipts/lookup?code=${code}`;

function receiptView(ctx: ServiceContext, row: ReceiptRow, reference: string, refunded: number): ReceiptView {
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
    collector: { code: row.agencyCode, name: row.agencyName, address: row.collectorAddress, taxCode: row.collectorTaxCode },
    collectingAgency: { code: row.agencyCode, name: row.agencyName },
    issuer: row.issuer,
    payer: { name: row.payerName, address: row.payerAddress },
    lines: row.lines,
    total: row.total,
    totalInWords: row.totalInWords,
    currency: 'VND',
    gateway: row.gateway,
    gatewayTransactionId: row.gatewayTransactionId,
    lookupCode: row.lookupCode,
    lookupUrl: lookupUrlOf(ctx, row.lookupCode),
    refunded: { status: refunded <= 0 ? 'none' : refunded >= row.total ? 'full' : 'partial', amount: refunded },
    signature: row.signature ?? '',
    signatureAlgorithm: 'ES256',
    keyId: row.signingKid ?? '',
    verificationKeys: `${ctx.settings.publicBaseUrl}/.well-known/jwks.json`,
  };
}

/** What was given back of an intent's money: its refunds that succeeded. */
async function refundedAmount(ctx: ServiceContext, intentId: string): Promise<number> {
  const [row] = await executor(ctx)
    .select({ amount: sql<string>`coalesce(sum(${refunds.amount}), 0)` })
    .from(refunds)
    .where(and(eq(refunds.intentId, intentId), eq(refunds.status, 'succeeded')));
  return Number(row?.amount ?? 0);
}

/** A receipt as stored, signed (signing it now if its signer was interrupted), with its refunds. */
export interface SignedReceipt {
  row: ReceiptRow & { signature: string };
  view: ReceiptView;
}

async function signedReceipt(ctx: ServiceContext, row: ReceiptRow, reference: string): Promise<SignedReceipt> {
  const signed = await signReceipt(ctx, row, reference);
  return { row: signed, view: receiptView(ctx, signed, reference, await refundedAmount(ctx, row.intentId)) };
}

/** The current receipt of a paid intent. */
export async function getReceipt(ctx: ServiceContext, principal: Principal, intentId: string): Promise<SignedReceipt> {
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
  return signedReceipt(ctx, row, intent.reference);
}

/** Any receipt by its id, within the caller's scope. */
export async function getReceiptById(ctx: ServiceContext, principal: Principal, id: string): Promise<SignedReceipt> {
  const scope = dossierScopeCondition(principal, receipts.dossierCode);
  const [found] = await executor(ctx)
    .select({ receipt: receipts, reference: paymentIntents.reference })
    .from(receipts)
    .innerJoin(paymentIntents, eq(paymentIntents.id, receipts.intentId))
    .where(scope ? and(eq(receipts.id, id), scope) : eq(receipts.id, id));
  if (!found) throw notFound(`receipt ${id}`);
  return signedReceipt(ctx, found.receipt, found.reference);
}

/**
 * The public look-up (no token): the receipt whose look-up code this is, with whether its
 * signature verifies against the hub's published keys. An unknown code is not found, the same
 * for a code that never existed and one mistyped.
 */
export async function lookupReceipt(ctx: ServiceContext, input: string): Promise<SignedReceipt & { verified: boolean }> {
  const code = normaliseLookupCode(input);
  if (!code) {
    throw new ServiceError('validation-failed', 'a look-up code is 16 to 32 letters and digits, as printed on the receipt', [
      { path: 'code', message: 'not a look-up code' },
    ]);
  }
  const [found] = await executor(ctx)
    .select({ receipt: receipts, reference: paymentIntents.reference })
    .from(receipts)
    .innerJoin(paymentIntents, eq(paymentIntents.id, receipts.intentId))
    .where(eq(receipts.lookupCode, code));
  if (!found) throw notFound('receipt with this look-up code');
  const signed = await signedReceipt(ctx, found.receipt, found.reference);
  return { ...signed, verified: await verifies(ctx, signed.row, found.reference) };
}

/** JSON with every object's keys sorted: the same text for the same data, whatever order a database kept its keys in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The receipt's JWS verifies with the key it names and says exactly what the receipt stores. */
async function verifies(ctx: ServiceContext, row: ReceiptRow & { signature: string }, reference: string): Promise<boolean> {
  const signer = row.signingKid ? ctx.signer.byKid(row.signingKid) : undefined;
  if (!signer) return false;
  try {
    const payload = await signer.verify(row.signature);
    return canonicalJson(payload) === canonicalJson(signedPayload(row, reference));
  } catch {
    return false;
  }
}
