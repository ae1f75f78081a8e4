import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import { describeError } from '../db/errors.ts';
import { agencies, dossiers, feeRules, intentObligations, obligations, paymentIntents, procedures } from '../db/schema/index.ts';
import { insertIntent } from '../db/statements/create-intent.ts';
import type { Executor } from '../db/types.ts';
import { groupThousands, sumVnd } from '../domain/money.ts';
import { newReference } from '../domain/reference.ts';
import type { CollectionAccount, Gateway, GatewayId, NextAction, PaymentHandover } from '../gateways/types.ts';
import { applyOutcome, type IntentRow } from './apply-outcome.ts';
import { executor, type ServiceContext } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { idempotencyScope, KEY_LIFETIME_MS, requestFingerprint, type StoredResponse, storedResponse } from './idempotency.ts';
import { actorOf, dossierScopeCondition, type Principal, scopePathFragments } from './principal.ts';

export interface CreateIntentInput {
  dossierCode: string;
  obligationIds?: string[];
  gateway: GatewayId;
  returnUrl: string;
  payer?: { ip?: string; name?: string; idNumber?: string; address?: string };
}

/** Used when neither the portal nor the request says where the payer is. */
const UNKNOWN_PAYER_IP = '127.0.0.1';

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
  /** The gateway's own id of the payment that settled (or is held for review); null before any. */
  gatewayTransactionId: string | null;
  /** Set only when treasury accepted another amount than the one asked: what was taken. */
  receivedAmount: number | null;
}

function intentView(row: IntentRow, obligationIds: string[]): PaymentIntentView {
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
    gatewayTransactionId: row.gatewayTransactionId,
    receivedAmount: row.receivedAmount,
  };
}

/** The views of several intents, their obligations read in one query (a list page, a review's case). */
export async function intentViews(ctx: ServiceContext, rows: IntentRow[]): Promise<PaymentIntentView[]> {
  if (rows.length === 0) return [];
  const links = await executor(ctx)
    .select({ intentId: intentObligations.intentId, id: intentObligations.obligationId })
    .from(intentObligations)
    .innerJoin(obligations, eq(obligations.id, intentObligations.obligationId))
    .where(
      inArray(
        intentObligations.intentId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(obligations.lineNo));
  return rows.map((row) =>
    intentView(
      row,
      links.filter((l) => l.intentId === row.id).map((l) => l.id),
    ),
  );
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

/** The payment's description: what a gateway shows the payer and the national platform's NoiDungThanhToan. */
export function asciiDescription(dossierCode: string): string {
  // VNPay and others want ASCII without diacritics in order descriptions.
  return `Thanh toan phi le phi ho so ${dossierCode}`.replace(/[^\x20-\x7e]/g, '');
}

/**
 * Creates a payment intent for unpaid obligations of one dossier (all of them by default).
 *
 * Two round trips: one read to choose the obligations and compute the amount (the sandbox's
 * hand-over is a local signature, so it happens here too), then ONE statement
 * (db/statements/create-intent.ts) that claims the Idempotency-Key, reserves the obligations,
 * inserts the intent, its links and its events, and stores the answer. Of two intents racing
 * for an obligation exactly one wins; of concurrent requests with the same key, the later ones
 * wait on the key's unique index and then replay the stored answer.
 */
export async function createPaymentIntent(
  ctx: ServiceContext,
  principal: Principal,
  input: CreateIntentInput,
  idempotencyKey: string,
  callerIp?: string,
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
  const fingerprint = requestFingerprint('POST /v1/payment-intents', input);
  const owner = actorOf(principal);
  const keyScope = idempotencyScope(principal);
  const replay = async () => {
    const stored = await storedResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint);
    // Replayed only to a caller who may still see the intent: the same subject can hold tokens
    // of different scopes.
    if (stored && isIntentBody(stored.body)) await findIntent(ctx, principal, stored.body.id);
    return stored;
  };

  let plan: Awaited<ReturnType<typeof planIntent>>;
  try {
    plan = await planIntent(ctx, principal, input, gateway);
  } catch (error) {
    // A retry of a request that succeeded finds its obligations held by its own intent: it
    // gets the first answer, not a conflict.
    if (error instanceof ServiceError && error.code !== 'not-found') {
      const stored = await replay();
      if (stored) return stored;
    }
    throw error;
  }
  const { dossier, chosen, amount } = plan;
  const obligationIds = chosen.map((l) => l.id);

  for (let attempt = 0; ; attempt++) {
    const now = ctx.now();
    const id = crypto.randomUUID();
    const reference = newReference();
    const expiresAt = new Date(now.getTime() + ctx.settings.intentTtlMinutes * 60_000);
    let handover: PaymentHandover;
    try {
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
        procedureName: dossier.procedureName,
        agencyCode: dossier.agencyCode,
        agencyName: dossier.agencyName,
        description: asciiDescription(dossier.code),
        lines: chosen.map((l) => ({ kind: l.kind, feeCode: l.feeCode, name: l.name, amount: l.amount, budgetAccount: l.budgetAccount })),
        payer: {
          ip: input.payer?.ip ?? callerIp ?? UNKNOWN_PAYER_IP,
          name: input.payer?.name ?? dossier.applicantName ?? undefined,
          idNumber: input.payer?.idNumber,
          address: input.payer?.address ?? dossier.applicantAddress ?? undefined,
        },
        collectionAccount: plan.collectionAccount,
      });
    } catch (error) {
      // Nothing is written: the payer never saw a next action, so no money can follow it. A
      // remote gateway that did register the request only ever reports it under a reference
      // the hub does not know, which is recorded, never applied.
      ctx.log.warn('gateway hand-over failed', { gateway: gateway.id, error: describeError(error) });
      throw new ServiceError('gateway-error', `gateway "${gateway.id}" did not accept the payment request`);
    }
    const row: IntentRow = {
      id,
      reference,
      dossierCode: dossier.code,
      gateway: gateway.id,
      amount,
      currency: 'VND',
      status: 'pending',
      returnUrl: input.returnUrl,
      expiresAt,
      nextAction: handover.nextAction as Record<string, unknown>,
      gatewayReference: handover.gatewayReference ?? null,
      gatewayTransactionId: null,
      onlinePaymentFlag: gateway.onlinePaymentFlag,
      succeededAt: null,
      refundedAmount: 0,
      receivedAmount: null,
      reviewReason: null,
      principal: owner,
      pollAttempts: 0,
      nextPollAt: gateway.queryStatus && gateway.polling ? new Date(now.getTime() + gateway.polling.startDelaySeconds * 1000) : null,
      createdAt: now,
      updatedAt: now,
    };
    const response: StoredResponse = { status: 201, body: intentView(row, obligationIds) };
    const written = await insertIntent(executor(ctx), {
      ...row,
      nextAction: row.nextAction!,
      principal: owner,
      obligationIds,
      events: [
        { event: 'created', from: null, to: 'created', detail: { amount, obligationIds } },
        { event: 'handed_over', from: 'created', to: 'pending', detail: { gatewayReference: row.gatewayReference } },
      ],
      idempotency: { scope: keyScope, key: idempotencyKey, fingerprint, expiresAt: new Date(now.getTime() + KEY_LIFETIME_MS), response },
    });
    switch (written) {
      case 'created':
        return response;
      case 'key_taken': {
        // The key was taken by a request that has since committed: replay its answer.
        const stored = await replay();
        if (stored) return stored;
        throw new Error('idempotency key conflicted but no stored answer was found');
      }
      case 'obligation_taken':
        throw new ServiceError('obligation-unavailable', 'an obligation was taken by another payment intent', [], { obligationIds });
      case 'reference_taken':
        // A reference collision (50 random bits) is retried with a new one.
        if (attempt < 3) continue;
        throw new Error('four random references in a row were taken');
    }
  }
}

/**
 * The bill's query, built once per database: on create-intent's path drizzle's select builder
 * spent about a fifth of the hub's main thread assembling this same SQL text for every request
 * (the bench's profile). With its two values as placeholders it is built at the first call,
 * prepared by the driver, and only executed after that; inside a transaction (a caller's) it is
 * built as before, with the same text.
 */
function dossierBillQuery(executor: Executor) {
  // The scope as values, so the text never varies with it: null for an admin, else the principal's
  // roots as `/code/` path fragments (JSON: both drivers pass it as one text value).
  const roots = sql.placeholder('roots');
  return executor
    .select({
      code: dossiers.code,
      procedureCode: dossiers.procedureCode,
      procedureName: procedures.name,
      agencyCode: dossiers.agencyCode,
      agencyName: agencies.name,
      agencyPath: agencies.path,
      applicantName: dossiers.applicantName,
      applicantAddress: dossiers.applicantAddress,
      obligation: obligations,
      // The state-budget account of the line's fee rule, for the national platform's receipt block.
      budgetAccount: feeRules.budgetAccount,
    })
    .from(dossiers)
    .innerJoin(procedures, eq(procedures.code, dossiers.procedureCode))
    .innerJoin(agencies, eq(agencies.code, dossiers.agencyCode))
    .leftJoin(obligations, and(eq(obligations.dossierCode, dossiers.code), ne(obligations.status, 'void')))
    .leftJoin(feeRules, eq(feeRules.id, obligations.feeRuleId))
    .where(
      and(
        eq(dossiers.code, sql.placeholder('code')),
        sql`(${roots}::jsonb IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(${roots}::jsonb) AS root(fragment) WHERE strpos(${agencies.path}, root.fragment) > 0))`,
      ),
    )
    .orderBy(asc(obligations.lineNo));
}
const preparedBills = new WeakMap<Executor, ReturnType<ReturnType<typeof dossierBillQuery>['prepare']>>();

/**
 * A dossier in the caller's scope with its (non-void) fee lines, line order, and what a bill
 * names: procedure, collecting agency, applicant. Undefined outside scope or unknown alike.
 */
export async function readDossierBill(ctx: ServiceContext, principal: Principal, dossierCode: string) {
  const fragments = scopePathFragments(principal);
  const values = { code: dossierCode, roots: fragments && JSON.stringify(fragments) };
  let rows: Awaited<ReturnType<ReturnType<typeof dossierBillQuery>['execute']>>;
  if (ctx.tx) rows = await dossierBillQuery(ctx.tx).execute(values);
  else {
    let prepared = preparedBills.get(ctx.db);
    if (!prepared) {
      prepared = dossierBillQuery(ctx.db).prepare('dossier_bill');
      preparedBills.set(ctx.db, prepared);
    }
    rows = await prepared.execute(values);
  }
  const first = rows[0];
  if (!first) return undefined;
  const { obligation: _, budgetAccount: __, ...dossier } = first;
  return { dossier, lines: rows.flatMap((r) => (r.obligation ? [{ ...r.obligation, budgetAccount: r.budgetAccount }] : [])) };
}

/** Reads the dossier (in scope) and its obligations, and chooses what this intent pays. */
async function planIntent(ctx: ServiceContext, principal: Principal, input: CreateIntentInput, gateway: Gateway) {
  const bill = await readDossierBill(ctx, principal, input.dossierCode);
  if (!bill) throw notFound(`dossier ${input.dossierCode}`);
  const { dossier, lines } = bill;

  let chosen: typeof lines;
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
    const waived = chosen.filter((l) => l.status === 'waived');
    if (waived.length > 0) {
      throw new ServiceError('nothing-to-pay', 'waived obligations have nothing to pay', [], { obligationIds: waived.map((l) => l.id) });
    }
    const unavailable = chosen.filter((l) => l.status !== 'unpaid' || l.liveIntentId !== null);
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
  if (amount > gateway.maxAmount) {
    // Refused before the gateway is asked: it would refuse the payment (VNPay's vnp_Amount has 12
    // digits) or the payer's bank the transfer. Fewer obligations per intent, or another gateway.
    throw new ServiceError(
      'amount-above-gateway-limit',
      `gateway "${gateway.id}" takes at most ${gateway.maxAmount} VND in one payment, and these obligations come to ${amount} VND`,
      [
        {
          path: 'gateway',
          message: `at most ${gateway.maxAmount} VND in one payment`,
          messageVi: `tối đa ${groupThousands(gateway.maxAmount)} đ mỗi lần thanh toán`,
        },
      ],
      { gateway: gateway.id, maxAmount: gateway.maxAmount, amount },
    );
  }
  const collectionAccount = gateway.needsCollectionAccount ? await collectionAccountFor(ctx, dossier.agencyPath) : undefined;
  if (gateway.needsCollectionAccount && !collectionAccount) {
    throw new ServiceError(
      'collection-account-missing',
      `agency ${dossier.agencyCode} has no collection account in the catalogue (nor has any agency above it), so "${gateway.id}" cannot be used`,
      [{ path: 'gateway', message: 'no collection account' }],
    );
  }
  return { dossier, chosen, amount, collectionAccount };
}

/** The account fees are paid into: the agency's own, else the nearest one above it. */
export async function collectionAccountFor(ctx: ServiceContext, agencyPath: string): Promise<CollectionAccount | undefined> {
  const [row] = await executor(ctx)
    .select({ bankBin: agencies.bankBin, accountNumber: agencies.accountNumber, accountName: agencies.accountName })
    .from(agencies)
    .where(
      and(
        sql`strpos(${agencyPath}, '/' || ${agencies.code} || '/') > 0`,
        sql`${agencies.bankBin} IS NOT NULL AND ${agencies.accountNumber} IS NOT NULL AND ${agencies.accountName} IS NOT NULL`,
      ),
    )
    .orderBy(sql`${agencies.depth} DESC`)
    .limit(1);
  return row ? { bankBin: row.bankBin!, accountNumber: row.accountNumber!, accountName: row.accountName! } : undefined;
}

const isIntentBody = (body: unknown): body is { id: string } =>
  typeof body === 'object' && body !== null && typeof (body as { id?: unknown }).id === 'string';

async function findIntent(ctx: ServiceContext, principal: Principal, id: string): Promise<IntentRow> {
  const scope = dossierScopeCondition(principal, paymentIntents.dossierCode);
  const [row] = await executor(ctx)
    .select()
    .from(paymentIntents)
    .where(scope ? and(eq(paymentIntents.id, id), scope) : eq(paymentIntents.id, id));
  if (!row) throw notFound(`payment intent ${id}`);
  return row;
}

/**
 * An intent as its gateway names it, for a page whose link the gateway signed (the payer's
 * browser coming back): the signature authenticates the link, so no principal is involved.
 */
export async function findIntentByReference(ctx: ServiceContext, gateway: GatewayId, reference: string): Promise<IntentRow | undefined> {
  const [row] = await executor(ctx)
    .select()
    .from(paymentIntents)
    .where(and(eq(paymentIntents.gateway, gateway), eq(paymentIntents.reference, reference)));
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
    actor: actorOf(principal),
  });
  if (result.result === 'already_final') {
    throw new ServiceError('invalid-transition', `a ${result.intent.status} payment intent cannot be cancelled`, [], {
      intentStatus: result.intent.status,
    });
  }
  if (result.result === 'unknown_reference') throw notFound(`payment intent ${id}`);
  return intentView(result.intent, await obligationIdsOf(ctx, id));
}
