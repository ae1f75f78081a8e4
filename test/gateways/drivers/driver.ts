import { readFileSync } from 'node:fs';
import type { Scope } from 'nock';
import type { GatewayId } from '../../../src/gateways/types.ts';
import type { Harness } from '../../helpers/harness.ts';

/**
 * What the contract suite needs to drive one gateway: how to build its hub, how the gateway
 * talks to it (signed messages, in the gateway's own shapes) and how it answers outbound calls
 * (faked with nock). Each gateway answers the hub in its own words; `Verdict` is the suite's
 * common reading of them.
 */
export type Verdict =
  | 'accepted'
  | 'already-recorded'
  | 'held-for-review'
  | 'refused-signature'
  | 'unknown-reference'
  | 'amount-mismatch'
  | 'unrecognised';

interface Answer {
  status: number;
  body: unknown;
  verdict: Verdict;
}

/** Whom a message is about, as the gateway names it: an intent's reference and the amount it states. */
export interface Payment {
  reference: string;
  amount: number;
}

/** An intent as POST /v1/payment-intents answers it. */
export interface CreatedIntent extends Payment {
  id: string;
  status: string;
  dossierCode: string;
  obligationIds: string[];
  createdAt: string;
  expiresAt: string;
  nextAction: { type: string; url?: string; [extra: string]: unknown } | null;
}

/**
 * - `success`: paid the stated amount, with the gateway's transaction id;
 * - `decline`: the payer declined or the payment failed (gateways that report failures);
 * - `second-credit`: another, later credit for the same reference (VietQR, which has no decline);
 * - `tampered`: a signed success changed after signing.
 */
export type MessageKind = 'success' | 'decline' | 'second-credit' | 'tampered';

export interface GatewayDriver {
  id: GatewayId;
  /** 766 DuocThanhToanTrucTuyen the dossier gets once paid through this gateway. */
  onlinePaymentFlag: 1 | 2;
  /** Whether the gateway can give money back (VietQR and the national platform cannot). */
  refunds: boolean;
  /** A gateway this driver's hub leaves unconfigured. */
  unconfigured: GatewayId;
  /** The message sent after a success in the reordered case. */
  laterMessage: 'decline' | 'second-credit';
  /** The adapter's outbound time limit, as configured here. */
  timeoutMs: number;
  /** A hub with this gateway configured (and listening, where the gateway calls it over HTTP). */
  harness(): Promise<Harness>;
  /** Prepares what an intent creation calls out to (the national platform's init). */
  beforeCreate(h: Harness): void;
  send(h: Harness, payment: Payment, kind: MessageKind): Promise<Answer>;
  /**
   * The payment went through at the gateway and its callback was lost; the gateway's status
   * query will say so. Absent where the gateway has nothing to ask.
   */
  paidAtGateway?(h: Harness, intent: CreatedIntent): Promise<Scope[]>;
  /**
   * The intent's status query will be answered 502, or (with a payment it would report)
   * later than the adapter waits.
   */
  statusQueryFails?(h: Harness, payment: Payment, how: 'http-502' | 'timeout'): Scope;
  /** The hand-over itself calls the gateway: its init answered 502, or later than the adapter waits. */
  initFails?(how: 'http-502' | 'timeout'): Scope;
}

export const fixture = <T = Record<string, unknown>>(gateway: string, name: string): T =>
  JSON.parse(readFileSync(new URL(`../../fixtures/${gateway}/${name}.json`, import.meta.url), 'utf8')) as T;

/** Reads a JSON answer without failing on a body that is not JSON (the verdict then says so). */
export async function readJson(response: Response): Promise<{ status: number; body: any }> {
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

/** The sandbox and VietQR answer in HTTP plus the hub's CallbackResult. */
export function verdictOfResult(status: number, result: unknown): Verdict {
  if (status === 401) return 'refused-signature';
  if (status !== 200) return 'unrecognised';
  switch (result) {
    case 'applied':
      return 'accepted';
    case 'duplicate':
    case 'already_final':
      return 'already-recorded';
    case 'needs_review':
      return 'held-for-review';
    case 'unknown_reference':
      return 'unknown-reference';
    case 'amount_mismatch':
      return 'amount-mismatch';
    default:
      return 'unrecognised';
  }
}

/** The province's collection account, where VietQR and the national platform pay in. */
export const COLLECTION_ACCOUNT = { bankBin: '970415', accountNumber: '113000123456', accountName: 'UBND TINH DONG NAI' };

/**
 * A nock reply that comes only after `ms`: the gateway is silent past the adapter's time limit.
 * (nock 15's `.delay()` holds back only the body, after the headers; an answer that has not
 * begun at all is the plain timeout every runtime's AbortSignal.timeout covers.)
 */
export const answerAfter = (ms: number, status: number, body: unknown) => async (): Promise<[number, unknown]> => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return [status, body];
};
