import { and, asc, eq, isNull, ne, sql } from 'drizzle-orm';
import { describeError } from '../db/errors.ts';
import { paymentIntents, receipts, refunds } from '../db/schema/index.ts';
import type { ReceiptKind, ReceiptLine } from '../db/schema/receipts.ts';
import { issueCorrectionReceipt, type ReceiptIssue } from '../db/statements/mark-paid.ts';
import { lockDossierEvents } from '../db/statements/record-events.ts';
import { canonicalJson } from '../domain/canonical-json.ts';
import { vnDate } from '../domain/dates.ts';
import { allocateProportionally, groupThousands } from '../domain/money.ts';
import { amountInWords } from '../domain/words.ts';
import { appendAudit } from './audit.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { emitEvents, receiptEvent } from './outbox.ts';
import { dossierScopeCondition, type Principal } from './principal.ts';
import { issueWaitingReceiptOf } from './receipt-issuer.ts';
import type { ReceiptSigner, ReceiptSigningJob } from './receipt-signer.ts';
import { RECEIPT_DATA_ID, receiptXml } from './receipt-xml.ts';

/**
 * Receipt symbols (Circular 91/2026/TT-BTC, Appendix II, as reported; configuration): an agency's
 * own, or the configured form symbol and a series of the year's two digits, `T` and the
 * configured letters (`26THP`). An agency's series that starts with two digits carries its year
 * there, so its 2027 receipts print `27…`; the numbering restarts with every year in any case
 * (receipt_series is keyed by year).
 */
const defaultSeriesSymbol = (issuedDate: string, letters: string) => `${issuedDate.slice(2, 4)}T${letters}`;

/** A receipt issued now: its date, a fresh look-up code, and the hub's receipt settings. */
export function issueOf(ctx: ServiceContext, now: Date): ReceiptIssue {
  const issuedDate = vnDate(now);
  return {
    issuedAt: now,
    issuedDate,
    defaultFormSymbol: ctx.settings.receipts.formSymbol,
    defaultSeriesSymbol: defaultSeriesSymbol(issuedDate, ctx.settings.receipts.seriesLetters),
    lookupCode: newLookupCode(),
    operator: ctx.settings.receipts.operator,
    ownKeyAgencies: ctx.signer.ownKeyAgencies,
  };
}

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
 * A payment asks for its receipt in the statement that marks it paid (apply-outcome.ts markPaid);
 * the receipt issuer (receipt-issuer.ts) numbers it under the series' row lock, and it is signed
 * here once that numbering commits.
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
  /** `original`, or a correction of another receipt: `adjusting` (a refund) or `replacing` (a wrong receipt issued again). */
  kind: ReceiptKind;
  /** Why a correction was issued. */
  reason: string | null;
  /** The receipt a correction corrects. */
  original: ReceiptSummary | null;
  /** The receipts that corrected this one since, oldest first (a replaced receipt is no longer the intent's current one). */
  corrections: Array<ReceiptSummary & { kind: ReceiptKind }>;
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

/** Another receipt as one refers to it: its symbols, number and date, and where the citizen looks it up. */
interface ReceiptSummary {
  id: string;
  formSymbol: string;
  seriesSymbol: string;
  number: number;
  issuedDate: string;
  lookupUrl: string;
}

const RECEIPT_TYPE = 'Biên lai thu phí, lệ phí';
/** What each kind of receipt is called on it. */
const RECEIPT_TITLES: Record<ReceiptKind, string> = {
  original: RECEIPT_TYPE,
  adjusting: 'Biên lai điều chỉnh',
  replacing: 'Biên lai thay thế',
};

/** The signed part of a receipt: everything printed on it, in a fixed order. */
function signedPayload(r: ReceiptRow, reference: string, original: ReceiptRow | null) {
  return {
    receiptId: r.id,
    receiptType: RECEIPT_TITLES[r.kind],
    kind: r.kind,
    original: original && {
      id: original.id,
      formSymbol: original.formSymbol,
      seriesSymbol: original.seriesSymbol,
      number: original.number,
      issuedDate: original.issuedDate,
    },
    reason: r.reason,
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
    const xml = await ctx.signer.hub.signXml(receiptXml(row, reference, ctx.settings.publicBaseUrl, null), RECEIPT_DATA_ID, [
      'DSCKS',
      'TCThu',
    ]);
    await executor(ctx)
      .update(receipts)
      .set({ signingKid: row.signingKid ?? ctx.signer.hub.kid, xml })
      .where(and(eq(receipts.id, row.id), isNull(receipts.xml)));
    const [current] = await executor(ctx).select().from(receipts).where(eq(receipts.id, row.id));
    return current as ReceiptRow & { signature: string };
  }
  const [signed] = await signaturesOf(ctx, [{ receipt: row, reference }]);
  if (!signed) throw new Error(`receipt ${row.id} could not be signed`);
  const [updated] = await executor(ctx)
    .update(receipts)
    .set({ signature: signed.signature, signingKid: signed.signingKid, xml: signed.xml })
    .where(and(eq(receipts.id, row.id), isNull(receipts.signature), isNull(receipts.xml)))
    .returning();
  if (updated) return updated as ReceiptRow & { signature: string };
  const [current] = await executor(ctx).select().from(receipts).where(eq(receipts.id, row.id));
  return current as ReceiptRow & { signature: string };
}

interface ReceiptSignatures {
  receiptId: string;
  /** Compact JWS over the receipt's canonical JSON. */
  signature: string;
  signingKid: string;
  /** The receipt's XML with its enveloped signature. */
  xml: string;
}

/**
 * Receipts' signatures, over exactly what each stores (written by the caller): all signed by one
 * call of the signers (on the Node hub, its worker threads). A receipt that cannot be signed is
 * logged and left out: the jobs sign it later.
 */
async function signaturesOf(
  ctx: ServiceContext,
  rows: ReadonlyArray<{ receipt: ReceiptRow; reference: string }>,
): Promise<ReceiptSignatures[]> {
  const jobs: Array<{ receipt: ReceiptRow; job: ReceiptSigningJob }> = [];
  for (const { receipt, reference } of rows) {
    try {
      const signer = signerOf(ctx, receipt);
      const original = await originalOf(ctx, receipt);
      jobs.push({
        receipt,
        job: {
          kid: signer.kid,
          payload: signedPayload(receipt, reference, original),
          xml: {
            document: receiptXml(receipt, reference, ctx.settings.publicBaseUrl, original),
            dataId: RECEIPT_DATA_ID,
            into: ['DSCKS', 'TCThu'],
          },
        },
      });
    } catch (error) {
      ctx.log.warn('receipt left unsigned for the jobs', { receiptId: receipt.id, error: describeError(error) });
    }
  }
  if (jobs.length === 0) return [];
  const results = await ctx.signer.signJobs(jobs.map((j) => j.job));
  return jobs.flatMap(({ receipt, job }, k) => {
    const result = results[k];
    if (!result || 'error' in result) {
      ctx.log.warn('receipt left unsigned for the jobs', { receiptId: receipt.id, error: result?.error ?? 'no answer from the signer' });
      return [];
    }
    return [{ receiptId: receipt.id, signature: result.signature, signingKid: job.kid, xml: result.xml }];
  });
}

/**
 * Signs many receipts at once (the issuer's batch): signed by one call of the signers, then
 * written in ONE statement, each only where its receipt has none yet. A receipt that cannot be
 * signed is left to the jobs, the others are written.
 */
export async function signReceipts(ctx: ServiceContext, rows: Array<{ receipt: ReceiptRow; reference: string }>): Promise<number> {
  const written = await signaturesOf(
    ctx,
    rows.filter((r) => !r.receipt.signature && !r.receipt.xml),
  );
  if (written.length === 0) return 0;
  await executor(ctx).execute(sql`
    UPDATE receipts r SET signature = s.signature, signing_kid = s.kid, xml = s.xml
    FROM jsonb_to_recordset(${JSON.stringify(written.map((w) => ({ id: w.receiptId, signature: w.signature, kid: w.signingKid, xml: w.xml })))}::jsonb)
      AS s(id uuid, signature text, kid text, xml text)
    WHERE r.id = s.id AND r.signature IS NULL AND r.xml IS NULL`);
  return written.length;
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
  await signReceipts(ctx, pending);
  return pending.length;
}

const lookupUrlOf = (ctx: ServiceContext, code: string) => `${ctx.settings.publicBaseUrl}/receipts/lookup?code=${code}`;

/** The receipt a correction corrects; null for an original. */
async function originalOf(ctx: ServiceContext, row: ReceiptRow): Promise<ReceiptRow | null> {
  if (!row.originalId) return null;
  const [original] = await executor(ctx).select().from(receipts).where(eq(receipts.id, row.originalId));
  return original ?? null;
}

const summaryOf = (ctx: ServiceContext, r: ReceiptRow): ReceiptSummary => ({
  id: r.id,
  formSymbol: r.formSymbol,
  seriesSymbol: r.seriesSymbol,
  number: r.number,
  issuedDate: r.issuedDate,
  lookupUrl: lookupUrlOf(ctx, r.lookupCode),
});

interface Related {
  refunded: number;
  original: ReceiptRow | null;
  corrections: ReceiptRow[];
}

function receiptView(ctx: ServiceContext, row: ReceiptRow, reference: string, related: Related): ReceiptView {
  const { refunded } = related;
  const paid = row.kind === 'adjusting' ? (related.original?.total ?? 0) : row.total;
  return {
    id: row.id,
    intentId: row.intentId,
    reference,
    dossierCode: row.dossierCode,
    receiptType: RECEIPT_TITLES[row.kind],
    kind: row.kind,
    reason: row.reason,
    original: related.original && summaryOf(ctx, related.original),
    corrections: related.corrections.map((c) => ({ ...summaryOf(ctx, c), kind: c.kind })),
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
    // Of the payment's money: an adjusting receipt's own total is the refund, not what was paid.
    refunded: { status: refunded <= 0 ? 'none' : refunded >= paid ? 'full' : 'partial', amount: refunded },
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
  const corrections = await executor(ctx).select().from(receipts).where(eq(receipts.originalId, row.id)).orderBy(asc(receipts.createdAt));
  const related = { refunded: await refundedAmount(ctx, row.intentId), original: await originalOf(ctx, row), corrections };
  return { row: signed, view: receiptView(ctx, signed, reference, related) };
}

/**
 * The intent's current receipt: its original, or the receipt that replaced it last (an
 * adjusting receipt never is: it goes with the receipt it adjusts).
 */
const currentOfIntent = (intentId: string) =>
  and(
    eq(receipts.intentId, intentId),
    ne(receipts.kind, 'adjusting'),
    sql`NOT EXISTS (SELECT 1 FROM receipts x WHERE x.original_id = ${receipts.id} AND x.kind = 'replacing')`,
  );

/** The current receipt of a paid intent. */
export async function getReceipt(ctx: ServiceContext, principal: Principal, intentId: string): Promise<SignedReceipt> {
  const scope = dossierScopeCondition(principal, paymentIntents.dossierCode);
  const [intent] = await executor(ctx)
    .select({ id: paymentIntents.id, reference: paymentIntents.reference, status: paymentIntents.status })
    .from(paymentIntents)
    .where(scope ? and(eq(paymentIntents.id, intentId), scope) : eq(paymentIntents.id, intentId));
  if (!intent) throw notFound(`payment intent ${intentId}`);
  let [row] = await executor(ctx).select().from(receipts).where(currentOfIntent(intentId));
  if (!row && (await issueWaitingReceiptOf(ctx, intentId)))
    [row] = await executor(ctx).select().from(receipts).where(currentOfIntent(intentId));
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

/** The receipt's JWS verifies with the key it names and says exactly what the receipt stores. */
async function verifies(ctx: ServiceContext, row: ReceiptRow & { signature: string }, reference: string): Promise<boolean> {
  const signer = row.signingKid ? ctx.signer.byKid(row.signingKid) : undefined;
  if (!signer) return false;
  try {
    const payload = await signer.verify(row.signature);
    return canonicalJson(payload) === canonicalJson(signedPayload(row, reference, await originalOf(ctx, row)));
  } catch {
    return false;
  }
}

/**
 * A refund of an intent's money that succeeded is an adjusting receipt of the intent's current
 * receipt (Circular 91/2026: never an edit): the money given back, as negative amounts over the
 * fee lines in proportion to what each still holds after earlier adjustments. Runs in the
 * refund's transaction; null when the payment had no e-receipt (a counter's paper receipt).
 */
export async function adjustForRefund(
  ctx: ServiceContext,
  refund: { id: string; intentId: string; amount: number },
): Promise<ReceiptRow | null> {
  const db = executor(ctx);
  // A refund right after the payment: its receipt may still wait for its number.
  await issueWaitingReceiptOf(ctx, refund.intentId);
  const [current] = await db.select().from(receipts).where(currentOfIntent(refund.intentId)).for('update');
  if (!current) return null;
  const earlier = await db
    .select({ lines: receipts.lines })
    .from(receipts)
    .where(and(eq(receipts.intentId, refund.intentId), eq(receipts.kind, 'adjusting')));
  const taken = new Map<string, number>();
  for (const line of earlier.flatMap((r) => r.lines)) taken.set(line.obligationId, (taken.get(line.obligationId) ?? 0) + line.amount);
  const holds = current.lines.map((l) => Math.max(0, l.amount + (taken.get(l.obligationId) ?? 0)));
  const parts = allocateProportionally(refund.amount, holds);
  const lines = current.lines.map((l, i) => ({ ...l, amount: -parts[i]! })).filter((l) => l.amount !== 0);
  const issue = issueOf(ctx, ctx.now());
  const id = crypto.randomUUID();
  await issueCorrectionReceipt(db, {
    ...issue,
    id,
    originalId: current.id,
    kind: 'adjusting',
    reason: `Hoàn trả ${groupThousands(refund.amount)} đồng cho người nộp (hoàn tiền ${refund.id})`,
    lines,
    total: -refund.amount,
    totalInWords: amountInWords(refund.amount),
    payerName: current.payerName,
    payerAddress: current.payerAddress,
  });
  const [row] = await db.select().from(receipts).where(eq(receipts.id, id));
  await emitEvents(ctx, [receiptEvent(ctx, row!)]);
  return row!;
}

/**
 * A wrong receipt (the payer's name or address as printed) is replaced, never edited: a new
 * receipt with the same fee lines and total, the corrected payer, its own number in the series
 * printed now, referring to the one it replaces — which stays, and shows it was replaced. A
 * receipt is replaced once (the replacement can be replaced in turn); each replacement is audited.
 */
export async function replaceReceipt(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
  input: { payer: { name: string; address: string | null }; reason: string },
): Promise<SignedReceipt> {
  const replaced = await withTransaction(ctx, async (ctx) => {
    const db = executor(ctx);
    const scope = dossierScopeCondition(principal, receipts.dossierCode);
    // The dossier's events lock before the receipt's row, in the order a refund takes them
    // (its events, then its adjusting receipt): the two never wait on each other in a circle.
    const [dossier] = await db.select({ code: receipts.dossierCode }).from(receipts).where(eq(receipts.id, id));
    if (dossier) await lockDossierEvents(db, dossier.code);
    const [found] = await db
      .select({ receipt: receipts, reference: paymentIntents.reference })
      .from(receipts)
      .innerJoin(paymentIntents, eq(paymentIntents.id, receipts.intentId))
      .where(scope ? and(eq(receipts.id, id), scope) : eq(receipts.id, id))
      .for('update', { of: receipts });
    if (!found) throw notFound(`receipt ${id}`);
    const original = found.receipt;
    if (original.kind === 'adjusting') {
      throw new ServiceError(
        'conflict',
        'an adjusting receipt is not replaced: the receipt it adjusts is, or another adjustment is issued',
      );
    }
    const [already] = await db
      .select({ id: receipts.id })
      .from(receipts)
      .where(and(eq(receipts.originalId, id), eq(receipts.kind, 'replacing')));
    if (already) {
      throw new ServiceError('conflict', `receipt ${id} was already replaced by receipt ${already.id}`, [], { replacedBy: already.id });
    }
    const newId = crypto.randomUUID();
    await issueCorrectionReceipt(db, {
      ...issueOf(ctx, ctx.now()),
      id: newId,
      originalId: id,
      kind: 'replacing',
      reason: input.reason,
      lines: original.lines,
      total: original.total,
      totalInWords: original.totalInWords,
      payerName: input.payer.name,
      payerAddress: input.payer.address,
    });
    const [row] = await db.select().from(receipts).where(eq(receipts.id, newId));
    await emitEvents(ctx, [receiptEvent(ctx, row!)]);
    await appendAudit(ctx, principal, {
      action: 'receipt.replaced',
      resourceType: 'receipt',
      resourceId: id,
      agencyCode: original.agencyCode,
      reason: input.reason,
      before: { receiptId: id, payer: { name: original.payerName, address: original.payerAddress } },
      after: { receiptId: newId, payer: input.payer },
    });
    return { row: row!, reference: found.reference };
  });
  return signedReceipt(ctx, replaced.row, replaced.reference);
}
