/**
 * Bank credit notifications, one small parser per layout. A VietQR transfer has no gateway of
 * its own: the receiving bank (or a service reading the account, such as SePay) reports the
 * credit, each in its own JSON. Every parser yields the same `BankCredit`, or says why the
 * message is not a credit the hub can take. Pure: no Node built-ins.
 */
import { z } from 'zod';
import { parseJsonObject } from '../json.ts';

const notificationFormats = ['standard', 'sepay'] as const;
export type NotificationFormat = (typeof notificationFormats)[number];

/** One credit on a collection account, as the bank reported it. Amounts are integer VND. */
interface BankCredit {
  /** The account credited: should be the intent's collection account. */
  accountNumber: string;
  amount: number;
  /** The reporter's own id of the transaction: a second delivery carries the same one. */
  transactionId: string;
  time: Date;
  /** Every free text of the credit, where the payer's transfer text is to be found. */
  texts: string[];
  /** Other facts of the layout worth keeping beside the payment (bank name, bank reference). */
  extra: Record<string, unknown>;
}

export type ParsedNotification = { ok: true; credit: BankCredit } | { ok: false; detail: string };

/** A positive whole number of VND: a fraction or a zero is no transfer a VietQR code asked for. */
const vndAmount = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** Ids come as strings or as integers depending on the bank; either way they are kept as text. */
const transactionId = z.union([z.string().trim().min(1).max(100), z.number().int().nonnegative()]).transform(String);

/** The hub's own layout: `{ accountNumber, amount, transactionId, time, description }`. */
const standardSchema = z.object({
  accountNumber: z.string().trim().min(1).max(40),
  amount: vndAmount,
  transactionId,
  time: z.iso.datetime({ offset: true }),
  description: z.string().max(1000),
});

/**
 * SePay's webhook (developer.sepay.vn, "SePay Webhooks"): `transferType` is 'in' or 'out',
 * `transactionDate` is 'YYYY-MM-DD HH:mm:ss' in Vietnam time, `content` is the transfer text,
 * `description` the bank's whole message, `code` the payment code SePay recognised (if any), `id`
 * SePay's transaction id (its documented key against duplicates), `referenceCode` the bank's.
 */
const sepaySchema = z.object({
  id: transactionId,
  gateway: z.string().nullish(),
  transactionDate: z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
  accountNumber: z.string().trim().min(1).max(40),
  subAccount: z.string().nullish(),
  code: z.string().nullish(),
  content: z.string().max(1000).nullish(),
  description: z.string().max(2000).nullish(),
  transferType: z.enum(['in', 'out']),
  transferAmount: z.number(),
  accumulated: z.number().nullish(),
  referenceCode: z.string().nullish(),
});

/** A Vietnam wall-clock time (UTC+7, no daylight saving) as an instant; undefined when not a real date. */
function vnWallClock(text: string): Date | undefined {
  const instant = new Date(`${text.replace(' ', 'T')}+07:00`);
  if (Number.isNaN(instant.getTime())) return undefined;
  // Rejects dates the parser would roll over (30 February).
  const back = new Date(instant.getTime() + 7 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
  return back === text ? instant : undefined;
}

function parseStandard(body: unknown): ParsedNotification {
  const parsed = standardSchema.safeParse(body);
  if (!parsed.success) return { ok: false, detail: `not a credit notification: ${describeIssues(parsed.error)}` };
  const n = parsed.data;
  return {
    ok: true,
    credit: {
      accountNumber: n.accountNumber,
      amount: n.amount,
      transactionId: n.transactionId,
      time: new Date(n.time),
      texts: [n.description],
      extra: {},
    },
  };
}

function parseSepay(body: unknown): ParsedNotification {
  const parsed = sepaySchema.safeParse(body);
  if (!parsed.success) return { ok: false, detail: `not a SePay webhook: ${describeIssues(parsed.error)}` };
  const n = parsed.data;
  if (n.transferType !== 'in') return { ok: false, detail: 'a debit (transferType "out") pays nothing' };
  const amount = vndAmount.safeParse(n.transferAmount);
  if (!amount.success) return { ok: false, detail: `transferAmount ${n.transferAmount} is not a positive whole number of VND` };
  const time = vnWallClock(n.transactionDate);
  if (!time) return { ok: false, detail: `transactionDate ${n.transactionDate} is not a date` };
  return {
    ok: true,
    credit: {
      accountNumber: n.accountNumber,
      amount: amount.data,
      transactionId: n.id,
      time,
      // The transfer text first; the bank's whole message and SePay's own code as fall-backs.
      texts: [n.content, n.description, n.code].filter((t): t is string => Boolean(t)),
      extra: { bank: n.gateway ?? null, bankReference: n.referenceCode ?? null, subAccount: n.subAccount ?? null },
    },
  };
}

const parsers: Record<NotificationFormat, (body: unknown) => ParsedNotification> = {
  standard: parseStandard,
  sepay: parseSepay,
};

/** Reads a notification's raw body in the configured layout. */
export function parseNotification(format: NotificationFormat, rawBody: string): ParsedNotification {
  const body = parseJsonObject(rawBody);
  if (!body) return { ok: false, detail: 'the body is not a JSON object' };
  return parsers[format](body);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
    .join('; ');
}
