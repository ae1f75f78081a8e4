import type { PortalPaymentInfo } from '../gateways/types.ts';
import type { ServiceContext } from './context.ts';
import { asciiDescription, collectionAccountFor, readDossierBill } from './payment-intents.ts';
import type { Principal } from './principal.ts';

/** DPTraCuuThanhToanHS: 1 something to pay, 0 nothing (or already paid), -1 error. */
export type PaymentLookup =
  | { error_code: 1; message: PortalPaymentInfo }
  | { error_code: 0; message: 'nothing to pay' | 'already paid' | 'payment in progress' }
  | { error_code: -1; message: string };

/**
 * The portal asks what a dossier still owes, and where the money goes: without the payee
 * account the platform cannot route it. A dossier outside the caller's agencies gets the same
 * answer as one that does not exist, so the answer never tells them apart.
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
  // The answer is in the platform's words and carries the province's enrolment (its partner code).
  const platform = ctx.gateways.dvcqg;
  if (!platform?.describeBill) return { error_code: -1, message: 'the national platform is not configured on this hub' };
  const collectionAccount = await collectionAccountFor(ctx, dossier.agencyPath);
  if (!collectionAccount) {
    return { error_code: -1, message: `agency ${dossier.agencyCode} has no collection account (nor has any agency above it)` };
  }
  return {
    error_code: 1,
    message: platform.describeBill({
      dossierCode: dossier.code,
      procedureCode: dossier.procedureCode,
      procedureName: dossier.procedureName,
      agencyCode: dossier.agencyCode,
      agencyName: dossier.agencyName,
      description: asciiDescription(dossier.code),
      lines: unpaid.map((l) => ({ kind: l.kind, feeCode: l.feeCode, name: l.name, amount: l.amount, budgetAccount: l.budgetAccount })),
      collectionAccount,
      payer: { name: dossier.applicantName ?? undefined, address: dossier.applicantAddress ?? undefined },
      at: ctx.now(),
    }),
  };
}
