import { sumVnd } from '../domain/money.ts';
import { feeLines } from '../gateways/dvcqg/protocol.ts';
import type { ServiceContext } from './context.ts';
import { readDossierBill } from './payment-intents.ts';
import type { Principal } from './principal.ts';

/** The bill the portal shows before sending the citizen to the national platform. */
interface PayableBill {
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
  const bill = await readDossierBill(ctx, principal, dossierCode);
  if (!bill) return { error_code: -1, message: `dossier ${dossierCode} was not found` };
  const { dossier, lines } = bill;
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
      MaTTHC: dossier.procedureCode,
      TenTTHC: dossier.procedureName,
      MaDonVi: dossier.agencyCode,
      TenDonVi: dossier.agencyName,
      SoTien: String(sumVnd(unpaid.map((l) => l.amount))),
      PhiLePhi: feeLines(unpaid),
    },
  };
}
