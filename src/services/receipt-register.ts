import { and, asc, eq, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { agencies, receipts } from '../db/schema/index.ts';
import type { ReceiptKind } from '../db/schema/receipts.ts';
import { reportAgency } from './collections-report.ts';
import { executor, type ServiceContext } from './context.ts';
import { type Principal, scopeCondition } from './principal.ts';

/**
 * The day's receipt register: every receipt the collecting organisations of the caller's scope
 * issued on one date (Asia/Ho_Chi_Minh) — originals and corrections — in series order, with the
 * data an organisation sends the tax authority the same day (Decree 254/2026: the symbols,
 * number, date, collector and its tax code, issuer, payer, amount, and the receipt a correction
 * refers to). Amounts are integer đồng; an adjustment's total is negative. The day's `total`
 * is what was receipted net: originals and adjustments (a replacement restates the money of the
 * receipt it replaces, so it is listed but not added again).
 */
interface ReceiptRegisterRow {
  issuedDate: string;
  issuedAt: string;
  collectorCode: string;
  collectorName: string;
  collectorTaxCode: string | null;
  formSymbol: string;
  seriesSymbol: string;
  number: number;
  kind: ReceiptKind;
  /** For a correction: the receipt it corrects, as `series/number` of its form. */
  corrects: { formSymbol: string; seriesSymbol: string; number: number; issuedDate: string } | null;
  reason: string | null;
  /** The service provider that issued it on the collector's behalf; null when the collector signed it. */
  issuerName: string | null;
  payerName: string | null;
  dossierCode: string;
  channel: string;
  gatewayTransactionId: string | null;
  lines: number;
  total: number;
  lookupCode: string;
  signed: boolean;
}

export interface ReceiptRegister {
  date: string;
  agency: { code: string; name: string } | null;
  generatedAt: string;
  rows: ReceiptRegisterRow[];
  totals: { receipts: number; originals: number; adjusting: number; replacing: number; total: number };
}

export async function receiptRegister(
  ctx: ServiceContext,
  principal: Principal,
  query: { date: string; agency?: string },
): Promise<ReceiptRegister> {
  const agency = await reportAgency(ctx, principal, query.agency);
  const original = alias(receipts, 'original');
  const filters = [eq(receipts.issuedDate, query.date)];
  const scope = scopeCondition(principal, receipts.agencyCode);
  if (scope) filters.push(scope);
  if (agency) filters.push(sql`strpos(${agencies.path}, ${`/${agency.code}/`}) > 0`);
  const found = await executor(ctx)
    .select({
      receipt: receipts,
      original: {
        formSymbol: original.formSymbol,
        seriesSymbol: original.seriesSymbol,
        number: original.number,
        issuedDate: original.issuedDate,
      },
    })
    .from(receipts)
    .innerJoin(agencies, eq(agencies.code, receipts.agencyCode))
    .leftJoin(original, eq(original.id, receipts.originalId))
    .where(and(...filters))
    .orderBy(asc(receipts.agencyCode), asc(receipts.formSymbol), asc(receipts.seriesSymbol), asc(receipts.number));
  const rows = found.map(
    ({ receipt: r, original: o }): ReceiptRegisterRow => ({
      issuedDate: r.issuedDate,
      issuedAt: r.issuedAt.toISOString(),
      collectorCode: r.agencyCode,
      collectorName: r.agencyName,
      collectorTaxCode: r.collectorTaxCode,
      formSymbol: r.formSymbol,
      seriesSymbol: r.seriesSymbol,
      number: r.number,
      kind: r.kind,
      corrects:
        r.originalId && o ? { formSymbol: o.formSymbol, seriesSymbol: o.seriesSymbol, number: o.number, issuedDate: o.issuedDate } : null,
      reason: r.reason,
      issuerName: r.issuer?.name ?? null,
      payerName: r.payerName,
      dossierCode: r.dossierCode,
      channel: r.gateway,
      gatewayTransactionId: r.gatewayTransactionId,
      lines: r.lines.length,
      total: r.total,
      lookupCode: r.lookupCode,
      signed: r.signature !== null && r.xml !== null,
    }),
  );
  const count = (kind: ReceiptKind) => rows.filter((r) => r.kind === kind).length;
  return {
    date: query.date,
    agency,
    generatedAt: ctx.now().toISOString(),
    rows,
    totals: {
      receipts: rows.length,
      originals: count('original'),
      adjusting: count('adjusting'),
      replacing: count('replacing'),
      total: rows.reduce((sum, r) => (r.kind === 'replacing' ? sum : sum + r.total), 0),
    },
  };
}
