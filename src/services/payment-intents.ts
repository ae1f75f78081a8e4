import { and, asc, eq, inArray, isNull, ne } from 'drizzle-orm';
import { dossiers, intentObligations, obligations, paymentEvents, paymentIntents } from '../db/schema/index.ts';
import { sumVnd } from '../domain/money.ts';
import { newReference } from '../domain/reference.ts';
import type { GatewayId, NextAction, PaymentHandover } from '../gateways/types.ts';
import { applyOutcome, type IntentRow } from './apply-outcome.ts';
import { executor, withTransaction, type ServiceContext } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { claimKey, completeKey, requestFingerprint, waitWhileInProgress, type StoredResponse } from './idempotency.ts';
import { scopeCondition, type Principal } from './principal.ts';

export interface CreateIntentInput {
  dossierCode: string;
  obligationIds?: string[];
  gateway: GatewayId;
  returnUrl: string;
}

export interface PaymentIntentView {
  id: string;
  status: IntentRow['status'];
  amount: number;
  currency: 'VND';
  gateway: string;
  reference: string;
  dossierCode: string;
  obligationIds: string[];
  returnUrl: string;
  expiresAt: string;
  nextAction: NextAction | null;
  createdAt: string;
  updatedAt: string;
  succeededAt: string | null;
  reviewReason: string | null;
}

export function intentView(row: IntentRow, obligationIds: string[]): PaymentIntentView {
  const live = row.status === 'created' || row.status === 'pending';
  return {
    id: row.id,
    status: row.status,
    amount: row.amount,
    currency: 'VND',
    gateway: row.gateway,
    reference: row.reference,
    dossierCode: row.dossierCode,
    obligationIds,
    returnUrl: row.returnUrl,
    expiresAt: row.expiresAt.toISOString(),
    // The next action is only offered while the payer can still act on it.
    nextAction: live ? ((row.nextAction as NextAction | null) ?? null) : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    succeededAt: row.succeededAt?.toISOString() ?? null,
    reviewReason: row.reviewReason,
  };
}

async function obligationIdsOf(ctx: ServiceContext, intentId: string): Promise<string[]> {
  const rows = await executor(ctx)
    .select({ id: intentObligations.obligationId })
    .from(intentObligations)
    .innerJoin(obligations, eq(obligations.id, intentObligations.obligationId))
    .where(eq(intentObligations.intentId, intentId))
    .orderBy(asc(obligations.lineNo));
  return rows.map((r) => r.id);
}

function asciiDescription(dossierCode: string): string {
  // VNPay and others want ASCII without diacritics in order descriptions.
  return `Thanh toan phi le phi ho so ${dossierCode}`.replace(/[^\x20-\x7e]/g, '');
}

/**
 * Creates a payment intent for unpaid obligations of one dossier (all of them by default). The
 * obligations are reserved by one conditional UPDATE, so of two intents racing for the same
 * obligation exactly one wins. The Idempotency-Key claim is made in the same transaction: the
 * same key replays the first answer, whatever happens in between.
 */
export async function createPaymentIntent(
  ctx: ServiceContext,
  principal: Principal,
  input: CreateIntentInput,
  idempotencyKey: string,
): Promise<StoredResponse> {
  const gateway = ctx.gateways[input.gateway];
  if (!gateway) {
    throw new ServiceError('gateway-not-available', `gateway "${input.gateway}" is not configured on this hub`, [
      { path: 'gateway', message: 'not configured' },
    ]);
  }
  if (!gateway.capabilities.redirect && !gateway.capabilities.qr) {
    throw new ServiceError('gateway-capability-missing', `gateway "${input.gateway}" cannot start a payment`);
  }
  const fingerprint = await requestFingerprint('POST /v1/payment-intents', input);
  const owner = `${principal.role}:${principal.subject}`;

  return waitWhileInProgress(() =>
    withTransaction(ctx, async (ctx) => {
      const db = executor(ctx);
      const claim = await claimKey(ctx, owner, idempotencyKey, fingerprint);
      if (claim.kind === 'replay') return claim.response;

      const scope = scopeCondition(principal, dossiers.agencyCode);
      const [dossier] = await db
        .select({ code: dossiers.code, procedureCode: dossiers.procedureCode, agencyCode: dossiers.agencyCode })
        .from(dossiers)
        .where(scope ? and(eq(dossiers.code, input.dossierCode), scope) : eq(dossiers.code, input.dossierCode));
      if (!dossier) throw notFound(`dossier ${input.dossierCode}`);

      const lines = await db
        .select()
        .from(obligations)
        .where(and(eq(obligations.dossierCode, dossier.code), ne(obligations.status, 'void')))
        .orderBy(asc(obligations.lineNo));
      let chosen;
      if (input.obligationIds) {
        const wanted = [...new Set(input.obligationIds)];
        const unknown = wanted.filter((id) => !lines.some((l) => l.id === id));
        if (unknown.length > 0) {
          throw new ServiceError(
            'validation-failed',
            'some obligations do not belong to this dossier',
            unknown.map((id) => ({ path: 'obligationIds', message: `unknown obligation ${id}` })),
          );
        }
        chosen = lines.filter((l) => wanted.includes(l.id));
        const unavailable = chosen.filter((l) => l.status !== 'unpaid' || l.liveIntentId !== null);
        const waived = unavailable.filter((l) => l.status === 'waived');
        if (waived.length > 0) {
          throw new ServiceError('nothing-to-pay', 'waived obligations have nothing to pay', [], {
            obligationIds: waived.map((l) => l.id),
          });
        }
        if (unavailable.length > 0) {
          throw new ServiceError('obligation-unavailable', 'an obligation is already paid or held by a live payment intent', [], {
            obligationIds: unavailable.map((l) => l.id),
          });
        }
      } else {
        const unpaid = lines.filter((l) => l.status === 'unpaid');
        const held = unpaid.filter((l) => l.liveIntentId !== null);
        if (held.length > 0) {
          throw new ServiceError('obligation-unavailable', 'an unpaid obligation is held by a live payment intent', [], {
            obligationIds: held.map((l) => l.id),
          });
        }
        chosen = unpaid;
      }
      const amount = sumVnd(chosen.map((l) => l.amount));
      if (chosen.length === 0 || amount === 0) throw new ServiceError('nothing-to-pay', 'this dossier has nothing left to pay');

      const now = ctx.now();
      const id = crypto.randomUUID();
      const expiresAt = new Date(now.getTime() + ctx.settings.intentTtlMinutes * 60_000);
      const base = {
        id,
        dossierCode: dossier.code,
        agencyCode: dossier.agencyCode,
        gateway: gateway.id,
        amount,
        currency: 'VND',
        status: 'created' as const,
        returnUrl: input.returnUrl,
        expiresAt,
        onlinePaymentFlag: gateway.onlinePaymentFlag,
        principal: owner,
        createdAt: now,
        updatedAt: now,
      };
      let reference = '';
      for (let attempt = 0; attempt < 5 && !reference; attempt++) {
        const candidate = newReference();
        const inserted = await db
          .insert(paymentIntents)
          .values({ ...base, reference: candidate })
          .onConflictDoNothing({ target: paymentIntents.reference })
          .returning({ reference: paymentIntents.reference });
        if (inserted.length > 0) reference = candidate;
      }
      if (!reference) throw new Error('could not draw a free payment reference');

      const reserved = await db
        .update(obligations)
        .set({ liveIntentId: id, updatedAt: now })
        .where(and(inArray(obligations.id, chosen.map((l) => l.id)), eq(obligations.status, 'unpaid'), isNull(obligations.liveIntentId)))
        .returning({ id: obligations.id });
      if (reserved.length !== chosen.length) {
        // Another intent took one of them since we read it; this transaction rolls back whole.
        throw new ServiceError('obligation-unavailable', 'an obligation was taken by another payment intent', [], {
          obligationIds: chosen.filter((l) => !reserved.some((r) => r.id === l.id)).map((l) => l.id),
        });
      }
      await db.insert(intentObligations).values(chosen.map((l) => ({ intentId: id, obligationId: l.id, amount: l.amount })));
      await db.insert(paymentEvents).values({
        intentId: id,
        event: 'created',
        fromStatus: null,
        toStatus: 'created',
        accepted: true,
        source: 'portal',
        actor: owner,
        detail: { amount, obligationIds: chosen.map((l) => l.id) },
        createdAt: now,
      });

      let handover: PaymentHandover;
      try {
        // The sandbox builds its URL locally (a signature, no I/O), so it runs inside the
        // transaction; an adapter that must call its gateway does so after the commit (issue 3).
        handover = await gateway.createPayment({
          intentId: id,
          reference,
          amount,
          currency: 'VND',
          createdAt: now,
          expiresAt,
          returnUrl: input.returnUrl,
          dossierCode: dossier.code,
          procedureCode: dossier.procedureCode,
          agencyCode: dossier.agencyCode,
          description: asciiDescription(dossier.code),
          lines: chosen.map((l) => ({ kind: l.kind, feeCode: l.feeCode, name: l.name, amount: l.amount })),
        });
      } catch (error) {
        // Rolls back the whole attempt (intent, reservation, key claim): the portal may retry.
        ctx.log.warn('gateway hand-over failed', { gateway: gateway.id, intentId: id, error: String(error) });
        throw new ServiceError('gateway-error', `gateway "${gateway.id}" did not accept the payment request`);
      }
      const [pending] = await db
        .update(paymentIntents)
        .set({
          status: 'pending',
          nextAction: handover.nextAction as Record<string, unknown>,
          gatewayReference: handover.gatewayReference ?? null,
          updatedAt: now,
        })
        .where(eq(paymentIntents.id, id))
        .returning();
      await db.insert(paymentEvents).values({
        intentId: id,
        event: 'handed_over',
        fromStatus: 'created',
        toStatus: 'pending',
        accepted: true,
        source: 'portal',
        actor: owner,
        detail: { gatewayReference: handover.gatewayReference ?? null },
        createdAt: now,
      });
      const response: StoredResponse = { status: 201, body: intentView(pending!, chosen.map((l) => l.id)) };
      await completeKey(ctx, owner, idempotencyKey, response);
      return response;
    }),
  );
}

async function findIntent(ctx: ServiceContext, principal: Principal, id: string): Promise<IntentRow> {
  const scope = scopeCondition(principal, paymentIntents.agencyCode);
  const [row] = await executor(ctx)
    .select()
    .from(paymentIntents)
    .where(scope ? and(eq(paymentIntents.id, id), scope) : eq(paymentIntents.id, id));
  if (!row) throw notFound(`payment intent ${id}`);
  return row;
}

export async function getPaymentIntent(ctx: ServiceContext, principal: Principal, id: string): Promise<PaymentIntentView> {
  const row = await findIntent(ctx, principal, id);
  return intentView(row, await obligationIdsOf(ctx, id));
}

/** Cancels a live intent and frees its obligations; cancelling a cancelled intent is a no-op. */
export async function cancelPaymentIntent(ctx: ServiceContext, principal: Principal, id: string): Promise<PaymentIntentView> {
  await findIntent(ctx, principal, id);
  const result = await applyOutcome(ctx, {
    intentId: id,
    outcome: { kind: 'cancelled', reason: 'cancelled by the portal' },
    source: 'portal',
    actor: `${principal.role}:${principal.subject}`,
  });
  if (result.result === 'already_final' || result.result === 'amount_mismatch') {
    throw new ServiceError('invalid-transition', `a ${result.intent.status} payment intent cannot be cancelled`, [], {
      intentStatus: result.intent.status,
    });
  }
  if (result.result === 'unknown_reference') throw notFound(`payment intent ${id}`);
  return intentView(result.intent, await obligationIdsOf(ctx, id));
}

