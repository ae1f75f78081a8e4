import { and, asc, eq, ne } from 'drizzle-orm';
import { agencies, dossiers, obligations, procedures } from '../db/schema/index.ts';
import { sumVnd } from '../domain/money.ts';
import { feeLines } from '../gateways/dvcqg/protocol.ts';
import { executor, type ServiceContext } from './context.ts';
import { scopeCondition, type Principal } from './principal.ts';

/** The bill the portal shows before sending the citizen to the national platform. */
export interface PayableBill {
  MaHoSo: string;
  MaTTHC: string;
  TenTTHC: string;
  MaDonVi: string;
  TenDonVi: string;
  /** Integer VND as a string, as in the platform's own messages. */
  SoTien: string;
  PhiLePhi: ReturnType<typeof feeLines>;
}

/** DPTraCuuThanhToanHS: 1 something to pay, 0 nothing (or already paid), -1 error. */
export type PaymentLookup =
  | { error_code: 1; message: PayableBill }
  | { error_code: 0; message: 'nothing to pay' | 'already paid' | 'payment in progress' }
  | { error_code: -1; message: string };

/**
 * The portal asks what a dossier still owes. A dossier outside the caller's agencies gets the
 * same answer as one that does not exist, so the answer never tells them apart.
 */
export async function lookupDossierPayment(ctx: ServiceContext, principal: Principal, dossierCode: string): Promise<PaymentLookup> {
  const scope = scopeCondition(principal, dossiers.agencyCode);
  const rows = await executor(ctx)
    .select({
      procedureCode: dossiers.procedureCode,
      procedureName: procedures.name,
      agencyCode: dossiers.agencyCode,
      agencyName: agencies.name,
      obligation: obligations,
    })
    .from(dossiers)
    .innerJoin(procedures, eq(procedures.code, dossiers.procedureCode))
    .innerJoin(agencies, eq(agencies.code, dossiers.agencyCode))
    .leftJoin(obligations, and(eq(obligations.dossierCode, dossiers.code), ne(obligations.status, 'void')))
    .where(scope ? and(eq(dossiers.code, dossierCode), scope) : eq(dossiers.code, dossierCode))
    .orderBy(asc(obligations.lineNo));
  const first = rows[0];
  if (!first) return { error_code: -1, message: `dossier ${dossierCode} was not found` };

  const lines = rows.flatMap((r) => (r.obligation ? [r.obligation] : []));
  const owed = lines.filter((l) => l.status === 'unpaid' && l.amount > 0);
  // A line held by a live intent is being paid through another channel right now: offering it
  // here would let the citizen pay it twice. It is offered again if that payment fails or expires.
  const unpaid = owed.filter((l) => l.liveIntentId === null);
  if (unpaid.length === 0) {
    const message = owed.length > 0 ? 'payment in progress' : lines.some((l) => l.status === 'paid') ? 'already paid' : 'nothing to pay';
    return { error_code: 0, message };
  }
  return {
    error_code: 1,
    message: {
      MaHoSo: dossierCode,
      MaTTHC: first.procedureCode,
      TenTTHC: first.procedureName,
      MaDonVi: first.agencyCode,
      TenDonVi: first.agencyName,
      SoTien: String(sumVnd(unpaid.map((l) => l.amount))),
      PhiLePhi: feeLines(unpaid),
    },
  };
}
