import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import { describeError } from '../db/errors.ts';
import { callbackInbox, paymentIntents, paymentReviews } from '../db/schema/index.ts';
import { answerRepeatedSuccess, storeRepeatedSuccess } from '../db/statements/answer-repeated-success.ts';
import { type InboxAnswer, recordInboxAnswer } from '../db/statements/record-inbox-answer.ts';
import { queryRows } from '../db/types.ts';
import { awaitingPaymentStatuses } from '../domain/payment-states.ts';
import { API_KEY_DIGEST_HEADER, sha256Hex } from '../gateways/hmac.ts';
import type { CallbackResult, CallbackVerification, Gateway, GatewayResponse, InboundMessage } from '../gateways/types.ts';
import { applyOutcome, intentSnapshot, type ReceiptDue } from './apply-outcome.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { findIntentByReference } from './payment-intents.ts';
import { receiptsDue } from './receipt-issuer.ts';

type InboxRow = typeof callbackInbox.$inferSelect;
/** How a message was handled, as its inbox row records it. */
type InboxPatch = Pick<InboxAnswer, 'status' | 'signatureValid' | 'reference' | 'intentId' | 'detail'>;

/** Processing attempts before an inbox message is left to a person (status `failed`). */
const MAX_INBOX_ATTEMPTS = 10;

/** Headers never kept in the inbox: they carry credentials, not gateway facts (and the hub sets the API key's digest itself). */
const DROPPED_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', API_KEY_DIGEST_HEADER]);

/**
 * The headers the inbox keeps of a message. An `Authorization: Apikey <key>` (SePay's API-key
 * mode; the scheme's name is case-insensitive, RFC 9110) is kept as the key's SHA-256 only.
 */
export async function keptHeaders(headers: Headers): Promise<Record<string, string>> {
  const kept: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (!DROPPED_HEADERS.has(name.toLowerCase())) kept[name.toLowerCase()] = value;
  });
  const apiKey = /^apikey\s+(\S+)\s*$/i.exec(headers.get('authorization') ?? '')?.[1];
  if (apiKey) kept[API_KEY_DIGEST_HEADER] = await sha256Hex(apiKey);
  return kept;
}

/** What of a refused message the inbox keeps: its first 2,048 characters (at most 8 KiB), its size and digest, its source. */
const REFUSED_BODY_CHARS = 2048;
const REFUSED_HEADER_CHARS = 256;

export interface Received {
  response: GatewayResponse;
  /** Its signature failed (or it was stale): counted against its source address. */
  refused: boolean;
}

/**
 * Receives one inbound gateway message. Its signature is checked first (no database, nothing
 * changed): a message that verifies is written to the inbox whole and committed before anything
 * else (invariant 2), then applied; if processing fails after the write, the gateway gets its
 * "try again" answer and the inbox job processes the message again. A message whose signature
 * fails changes nothing and is kept only in bounded form (its first 2,048 characters, its size, digest and
 * source address), or not at all once its source is over its limit (`keepRefused: false`), so
 * that nobody can fill the database through the inbox; the retention job deletes them later.
 */
export async function receiveCallback(
  ctx: ServiceContext,
  gateway: Gateway,
  message: InboundMessage,
  options: { source?: string; keepRefused?: boolean } = {},
): Promise<Received> {
  const receivedAt = ctx.now();
  const received = {
    id: crypto.randomUUID(),
    gateway: gateway.id,
    method: message.method,
    url: message.url,
    headers: message.headers,
    rawBody: message.rawBody,
    receivedAt,
  };
  if (message.rawBody.includes('\u0000')) {
    // A PostgreSQL text column cannot hold NUL, and no gateway sends one: the message is kept
    // (bounded, NULs shown as U+FFFD) and answered as malformed, instead of failing the INSERT.
    const response = await gateway.respond('malformed', message);
    if (options.keepRefused !== false) {
      await ctx.db.insert(callbackInbox).values({
        ...bounded(received),
        rawBody: message.rawBody.slice(0, REFUSED_BODY_CHARS).replaceAll('\u0000', '\ufffd'),
        status: 'rejected',
        result: 'malformed',
        detail: { reason: 'the body contains NUL characters', ...(await sizeOf(message.rawBody, options.source)) },
        responseStatus: response.status,
        responseBody: response.body,
        attempts: 1,
        processedAt: receivedAt,
      });
    }
    return { response, refused: true };
  }
  // A verification that fails to run (not one that says no) is processed the old way: stored
  // whole, then verified again by processInboxMessage, which answers "try again" if it fails.
  const verification = await gateway.verifyCallback(message, receivedAt).catch(() => undefined);
  if (verification && !verification.ok && verification.reason !== 'malformed') {
    const response = await gateway.respond(verification.reason, message);
    if (options.keepRefused !== false) {
      await ctx.db.insert(callbackInbox).values({
        ...bounded(received),
        status: 'rejected',
        signatureValid: 'invalid',
        reference: verification.reference?.slice(0, 64) ?? null,
        result: verification.reason,
        detail: { reason: verification.detail, ...(await sizeOf(message.rawBody, options.source)) },
        responseStatus: response.status,
        responseBody: response.body,
        attempts: 1,
        processedAt: receivedAt,
      });
    }
    return { response, refused: true };
  }
  // A success the hub already applied, delivered again (VNPay repeats its IPN until it reads an
  // answer): stored already answered, in one statement.
  if (verification?.ok && !verification.confirmByQuery && verification.outcome.kind === 'succeeded' && !verification.candidates?.length) {
    const response = await gateway.respond('duplicate', message);
    const answered = await storeRepeatedSuccess(ctx.db, {
      message: received,
      reference: verification.reference,
      amount: verification.outcome.amount,
      transactionId: verification.outcome.transactionId,
      response: { status: response.status, body: response.body },
    });
    if (answered) return { response, refused: false };
  }
  // The row as stored, without reading it back: the columns not given take their defaults.
  const row: InboxRow = {
    ...received,
    status: 'received',
    signatureValid: 'unchecked',
    reference: null,
    intentId: null,
    result: null,
    detail: null,
    responseStatus: null,
    responseBody: null,
    attempts: 0,
    processedAt: null,
  };
  if (verification?.ok && !verification.confirmByQuery) {
    // Verified, with its outcome in hand: stored, applied and answered in ONE transaction, so a
    // payment costs one commit, not three. The gateway hears "received" only once all of it is
    // committed; if anything fails, nothing of it is, and the message is stored and processed
    // the ordinary way below, which records the failure for the jobs to try again.
    const due: ReceiptDue[] = [];
    try {
      const response = await withTransaction(ctx, async (ctx) => {
        await executor(ctx).insert(callbackInbox).values(received);
        return processInboxMessage(ctx, gateway, row, verification, { repeatAsked: true, inTransaction: due });
      });
      for (const agencyCode of new Set(due.map((d) => d.agencyCode))) await receiptsDue(ctx, agencyCode);
      return { response, refused: false };
    } catch (error) {
      ctx.log.warn('callback not applied in one transaction; stored and processed again', {
        gateway: gateway.id,
        inboxId: received.id,
        error: describeError(error),
      });
    }
  }
  await ctx.db.insert(callbackInbox).values(received);
  // Already asked whether it repeats an applied success (just above): not asked again.
  return {
    response: await processInboxMessage(ctx, gateway, row, verification, { repeatAsked: verification?.ok === true }),
    refused: false,
  };
}

/** A refused message's row: its URL, headers and body cut to a bounded size. */
function bounded<T extends { url: string; headers: Record<string, string>; rawBody: string }>(message: T): T {
  return {
    ...message,
    url: message.url.slice(0, REFUSED_BODY_CHARS),
    headers: Object.fromEntries(
      Object.entries(message.headers)
        .slice(0, 32)
        .map(([k, v]) => [k.slice(0, 64), v.slice(0, REFUSED_HEADER_CHARS)]),
    ),
    rawBody: message.rawBody.slice(0, REFUSED_BODY_CHARS),
  };
}

async function sizeOf(rawBody: string, source: string | undefined) {
  const bytes = new TextEncoder().encode(rawBody);
  return {
    bytes: bytes.length,
    truncated: rawBody.length > REFUSED_BODY_CHARS,
    sha256: await sha256Hex(rawBody),
    ...(source ? { source } : {}),
  };
}

async function processInboxMessage(
  ctx: ServiceContext,
  gateway: Gateway,
  row: InboxRow,
  verified?: CallbackVerification,
  /**
   * repeatAsked: the message was already checked against an applied success. inTransaction: the
   * caller's transaction holds it all, so a failure is thrown (the transaction is lost anyway),
   * and the receipts this payment asked for are handed to the caller for after its commit.
   */
  options: { repeatAsked?: boolean; inTransaction?: ReceiptDue[] } = {},
): Promise<GatewayResponse> {
  const message: InboundMessage = { method: row.method, url: row.url, headers: row.headers, rawBody: row.rawBody };
  let result: CallbackResult;
  let patch: InboxPatch;
  /** Known once verified: kept on the row even when processing then fails, to find it by. */
  let verifiedReference: string | null = null;
  try {
    const verification = verified ?? (await gateway.verifyCallback(message, row.receivedAt));
    if (!verification.ok) {
      result = verification.reason;
      if (verification.reason === 'malformed') {
        await keepForPerson(ctx, gateway, {
          kind: 'unreadable_message',
          key: await messageKey(row),
          amount: null,
          reason: `a message signed by ${gateway.id} could not be read: ${verification.detail}`,
          detail: { inboxId: row.id },
        });
      }
      patch = {
        status: 'rejected',
        signatureValid: verification.reason === 'malformed' ? 'valid' : 'invalid',
        reference: verification.reference ?? null,
        intentId: null,
        detail: { reason: verification.detail },
      };
    } else {
      const repeated =
        verification.confirmByQuery || options.repeatAsked ? null : await answerRepeated(ctx, gateway, row, message, verification);
      if (repeated) return repeated;
      const reference = await resolveReference(ctx, gateway, verification);
      verifiedReference = reference;
      const outcome = verification.confirmByQuery ? await confirmedOutcome(ctx, gateway, reference) : verification.outcome;
      const applied = outcome
        ? await applyOutcome(ctx, { gateway: gateway.id, reference, outcome, source: 'callback', inboxId: row.id })
        : ({ result: 'unknown_reference' } as const);
      if (options.inTransaction && applied.result === 'applied' && applied.receiptDue) options.inTransaction.push(applied.receiptDue);
      result = applied.result === 'unknown_reference' ? 'unknown_reference' : applied.answer;
      if (applied.result === 'unknown_reference' && verification.outcome.kind === 'succeeded') {
        const { amount, transactionId } = verification.outcome;
        await keepForPerson(ctx, gateway, {
          kind: 'unmatched_credit',
          // A hint (unsigned result) names no transaction the hub can trust: keyed by the message.
          key: verification.confirmByQuery ? await messageKey(row) : transactionId,
          amount,
          payeeAccount: verification.outcome.payeeAccount,
          reason: reference
            ? `a verified payment of ${amount} VND names no known intent (${reference})`
            : `a verified payment of ${amount} VND names no intent`,
          detail: { inboxId: row.id, reference },
        });
      }
      patch = {
        status: 'processed',
        signatureValid: 'valid',
        reference,
        intentId: 'intent' in applied ? applied.intent.id : null,
        detail: {
          outcome: verification.outcome.kind,
          ...(verification.confirmByQuery ? { confirmedByQuery: outcome?.kind ?? null } : {}),
          ...('event' in applied ? { event: applied.event } : {}),
        },
      };
    }
  } catch (error) {
    if (options.inTransaction) throw error;
    ctx.log.error('callback processing failed', { gateway: gateway.id, inboxId: row.id, error: describeError(error) });
    const response = await gateway.respond('error', message);
    await ctx.db
      .update(callbackInbox)
      .set({
        attempts: sql`${callbackInbox.attempts} + 1`,
        // After so many tries it is a person's job: kept as `failed`, out of the retry loop.
        status: row.attempts + 1 >= MAX_INBOX_ATTEMPTS ? 'failed' : 'received',
        result: 'error',
        reference: verifiedReference,
        detail: { error: describeError(error) },
        responseStatus: response.status,
        responseBody: response.body,
      })
      .where(eq(callbackInbox.id, row.id));
    return response;
  }
  if (options.inTransaction) return recordAnswer(ctx, gateway, row, message, result, patch);
  try {
    return await recordAnswer(ctx, gateway, row, message, result, patch);
  } catch (error) {
    // The outcome is applied (or refused) and committed; only the inbox's record failed. The row
    // stays `received`, so the jobs process it again (a repeat changes nothing), and the gateway
    // is told to try again.
    ctx.log.error('callback answer not recorded', { gateway: gateway.id, inboxId: row.id, error: describeError(error) });
    return gateway.respond('error', message);
  }
}

async function recordAnswer(
  ctx: ServiceContext,
  gateway: Gateway,
  row: InboxRow,
  message: InboundMessage,
  result: CallbackResult,
  patch: InboxPatch,
): Promise<GatewayResponse> {
  const response = await gateway.respond(result, message);
  await recordInboxAnswer(executor(ctx), {
    inboxId: row.id,
    ...patch,
    result,
    response: { status: response.status, body: response.body },
    at: ctx.now(),
  });
  return response;
}

/**
 * What the gateway itself says of an intent whose callback was only a hint (its signature does
 * not cover the outcome). Undefined when no intent has that reference. A gateway that cannot
 * tell yet (pending, unknown) makes this an error: the gateway delivers again, and the poller
 * is told to ask soon, so the payment is settled either way.
 */
async function confirmedOutcome(ctx: ServiceContext, gateway: Gateway, reference: string) {
  const intent = await findIntentByReference(ctx, gateway.id, reference);
  if (!intent) return undefined;
  if (!gateway.queryStatus) throw new Error(`gateway ${gateway.id} sent an unsigned outcome and cannot be asked`);
  const answer = await gateway.queryStatus(intentSnapshot(intent));
  if (answer.kind === 'outcome') return answer.outcome;
  await ctx.db
    .update(paymentIntents)
    .set({ nextPollAt: ctx.now() })
    .where(and(eq(paymentIntents.id, intent.id), inArray(paymentIntents.status, [...awaitingPaymentStatuses])));
  throw new Error(`the callback's outcome is unsigned and ${gateway.id} answers "${answer.kind}" when asked`);
}

/**
 * A repeated success (VNPay retries its IPN until it reads an answer) is answered by one
 * statement when the intent already holds exactly this payment; anything else takes the
 * ordinary path.
 */
async function answerRepeated(
  ctx: ServiceContext,
  gateway: Gateway,
  row: InboxRow,
  message: InboundMessage,
  verification: Extract<CallbackVerification, { ok: true }>,
): Promise<GatewayResponse | null> {
  const { outcome } = verification;
  if (outcome.kind !== 'succeeded' || verification.candidates?.length) return null;
  const response = await gateway.respond('duplicate', message);
  const answered = await answerRepeatedSuccess(ctx.db, {
    inboxId: row.id,
    gateway: gateway.id,
    reference: verification.reference,
    amount: outcome.amount,
    transactionId: outcome.transactionId,
    response: { status: response.status, body: response.body },
    at: ctx.now(),
  });
  return answered ? response : null;
}

/**
 * The reference a verified message pays: the adapter's own, or, when it found several in free
 * text (a bank transfer's description), the first that names an intent of this gateway.
 */
async function resolveReference(ctx: ServiceContext, gateway: Gateway, verification: Extract<CallbackVerification, { ok: true }>) {
  const candidates = [verification.reference, ...(verification.candidates ?? [])].filter((c, i, all) => c && all.indexOf(c) === i);
  if (candidates.length <= 1) return verification.reference;
  const found = await executor(ctx)
    .select({ reference: paymentIntents.reference })
    .from(paymentIntents)
    .where(and(eq(paymentIntents.gateway, gateway.id), inArray(paymentIntents.reference, candidates)));
  const known = new Set(found.map((r) => r.reference));
  return candidates.find((c) => known.has(c)) ?? verification.reference;
}

/**
 * Money the hub cannot tie to an intent is kept for a person, once per (gateway, key): a
 * gateway repeating itself opens nothing new. Two kinds: a verified payment that names no known
 * intent (`unmatched_credit`, keyed by its transaction), and a message whose signature holds but
 * which the hub cannot read (`unreadable_message`, keyed by the message itself).
 */
async function keepForPerson(
  ctx: ServiceContext,
  gateway: Gateway,
  review: {
    kind: 'unmatched_credit' | 'unreadable_message';
    key: string;
    amount: number | null;
    /** The account the money reached, when the message names one: its agency owns the case. */
    payeeAccount?: string;
    reason: string;
    detail: Record<string, unknown>;
  },
) {
  const account = (review.payeeAccount ?? '').replace(/[\s.-]/g, '');
  await executor(ctx)
    .insert(paymentReviews)
    .values({
      id: crypto.randomUUID(),
      intentId: null,
      gateway: gateway.id,
      kind: review.kind,
      gatewayTransactionId: review.key,
      amount: review.amount,
      proposedAction: 'decide',
      reason: review.reason.slice(0, 500),
      detail: { ...review.detail, ...(review.payeeAccount ? { payeeAccount: review.payeeAccount } : {}) },
      // Whose case it is: the agency that owns the collecting account, else the province root.
      agencyCode: sql`coalesce(
        (SELECT a.code FROM agencies a WHERE ${account} <> '' AND regexp_replace(a.account_number, '[\s.-]', '', 'g') = ${account} ORDER BY a.code LIMIT 1),
        (SELECT a.code FROM agencies a WHERE a.parent_code IS NULL ORDER BY a.code LIMIT 1))`,
      createdAt: ctx.now(),
    })
    .onConflictDoNothing();
}

/** A message's identity across deliveries: SHA-256 of what the gateway sent. */
async function messageKey(row: Pick<InboxRow, 'method' | 'url' | 'rawBody'>): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${row.method} ${row.url}\n${row.rawBody}`));
  return `message:${Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Deletes refused messages (a signature that failed, a stale or unreadable unsigned body) older
 * than INBOX_REJECTED_RETENTION_DAYS, in batches. A message signed by its gateway is never
 * deleted here: it is the evidence of a payment (or of one a person must look at).
 */
export async function purgeRefusedCallbacks(ctx: ServiceContext, options: { batch?: number } = {}): Promise<number> {
  const cutoff = new Date(ctx.now().getTime() - ctx.settings.inbox.rejectedRetentionDays * 86_400_000);
  const batch = options.batch ?? 5_000;
  let deleted = 0;
  for (;;) {
    const rows = await queryRows<{ n: number }>(
      ctx.db,
      sql`WITH gone AS (
            DELETE FROM callback_inbox WHERE id IN (
              SELECT id FROM callback_inbox
              WHERE status = 'rejected' AND signature_valid <> 'valid' AND intent_id IS NULL AND received_at < ${cutoff.toISOString()}
              LIMIT ${batch})
            RETURNING 1)
          SELECT count(*)::int AS n FROM gone`,
    );
    const n = rows[0]?.n ?? 0;
    deleted += n;
    if (n < batch) return deleted;
  }
}

/**
 * Re-processes inbox messages left `received` (the process died between storing and applying
 * them). Only messages older than `olderThanMs` are taken, so a request still being handled is
 * not raced; applying the same outcome twice changes nothing anyway.
 */
export async function reprocessInbox(ctx: ServiceContext, options: { olderThanMs?: number; limit?: number } = {}) {
  const cutoff = new Date(ctx.now().getTime() - (options.olderThanMs ?? 60_000));
  const rows = await ctx.db
    .select()
    .from(callbackInbox)
    .where(and(eq(callbackInbox.status, 'received'), lt(callbackInbox.receivedAt, cutoff)))
    .orderBy(asc(callbackInbox.receivedAt))
    .limit(options.limit ?? 500);
  let processed = 0;
  for (const row of rows) {
    const gateway = ctx.gateways[row.gateway as keyof typeof ctx.gateways];
    if (!gateway) {
      // Cannot be verified here any more; kept for a person, out of the retry loop.
      await ctx.db
        .update(callbackInbox)
        .set({ status: 'failed', result: 'error', detail: { error: `gateway ${row.gateway} is not configured` } })
        .where(eq(callbackInbox.id, row.id));
      continue;
    }
    try {
      await processInboxMessage(ctx, gateway, row);
      processed++;
    } catch (error) {
      // One message that cannot be processed now must not hold back the rest of the batch.
      ctx.log.error('inbox message not re-processed', { gateway: row.gateway, inboxId: row.id, error: describeError(error) });
    }
  }
  return { found: rows.length, processed };
}
