import { eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { deliver, type EmulatorDeps, emulatorForm, emulatorJson, formFields, parseJsonObject, randomDigits, withQuery } from './common.ts';
import { renderEmulatorMessage, renderVnpayPayment } from './pages.ts';
import { fromGmt7, gmt7 } from './protocol/time.ts';
import {
  checkSignedQuery,
  pipeHash,
  pipeVerifies,
  QUERYDR_ANSWER_FIELDS,
  QUERYDR_REQUEST_FIELDS,
  REFUND_ANSWER_FIELDS,
  REFUND_FULL,
  REFUND_PARTIAL,
  REFUND_REQUEST_FIELDS,
  VNP_VERSION,
  vndOf,
  vnpSignedQuery,
} from './protocol/vnpay.ts';
import { sandboxRefunds, sandboxTransactions } from './schema.ts';
import { badStatementDate, csv, decidedOnDay, statementDay, statementDownload, vnDateTime, vnMoney } from './statement-files.ts';

/**
 * VNPay 2.1.0's test environment, hosted by the hub for the offline demo (shared/domain/gateways.md
 * §1): the payment page at `/sandbox/vnpay/paymentv2/vpcpay.html`, the IPN it then sends and the
 * signed browser return, and the querydr/refund API at `/sandbox/vnpay/merchant_webapi/api/transaction`.
 * It signs with the merchant's hash secret (the first; any verifies), as VNPay does.
 */
export interface VnpayEmulatorDeps extends EmulatorDeps {
  config: VnpayEmulatorSettings;
}

/** The merchant's enrolment, as VNPay holds it: the same values the hub's gateway is configured with. */
export interface VnpayEmulatorSettings {
  tmnCode: string;
  /** The first signs, every one verifies (rotation). */
  secrets: readonly string[];
  /** How the merchant percent-encodes the signed query (VNPAY_ENCODING). */
  encoding: 'php' | 'form';
  /** Where the merchant sends payers: the emulator is mounted only when it is here. */
  paymentUrl: string;
}

const CHANNEL = 'CỔNG THANH TOÁN VNPAY';
/** The bank the emulated payer's card belongs to (VNPay's test card is NCB's). */
const PAYER_BANK = 'NCB';

/** VNPay's transaction numbers are 8 digits; the ledger's other channels' ids are not. */
const isVnpayTransaction = (transactionId: string) => /^\d{8}$/.test(transactionId);

type Choice = 'pay' | 'cancel' | 'fraud';
const STATUS_OF: Record<Choice, 'succeeded' | 'declined' | 'suspected_fraud'> = {
  pay: 'succeeded',
  cancel: 'declined',
  fraud: 'suspected_fraud',
};

/** What VNPay reports for each ledger status: vnp_ResponseCode and vnp_TransactionStatus. */
const CODES = {
  succeeded: { response: '00', status: '00' },
  declined: { response: '24', status: '02' },
  suspected_fraud: { response: '07', status: '07' },
} as const;

interface Payment {
  params: Record<string, string>;
  reference: string;
  amount: number;
  expiresAt: Date;
}

type Checked = { ok: true; payment: Payment } | { ok: false; title: string; message: string };

export function createVnpayEmulator(deps: VnpayEmulatorDeps) {
  const app = new Hono();
  const { tmnCode, secrets, encoding } = deps.config;
  const [secret] = secrets;
  if (!secret) throw new Error('the VNPay emulator needs the merchant hash secret');
  const ipnUrl = `${deps.publicBaseUrl}/v1/callbacks/vnpay`;
  /** Request ids seen, for VNPay's 94 (in memory: the emulator is a demo; refunds are also in the ledger). */
  const seenRequests = new Set<string>();
  const firstTime = (requestId: string) => {
    if (seenRequests.has(requestId)) return false;
    seenRequests.add(requestId);
    if (seenRequests.size > 10_000) seenRequests.delete(seenRequests.values().next().value!);
    return true;
  };

  function checkPayment(query: URLSearchParams): Checked {
    const { valid, params } = checkSignedQuery(query, secrets, encoding);
    if (!valid)
      return {
        ok: false,
        title: 'Sai chữ ký',
        message: 'Giao dịch không thành công do: sai chữ ký (vnp_SecureHash) hoặc liên kết đã bị sửa đổi.',
      };
    if (params.vnp_TmnCode !== tmnCode)
      return { ok: false, title: 'Website chưa được phê duyệt', message: 'Mã website (vnp_TmnCode) không hợp lệ.' };
    const amount = vndOf(params.vnp_Amount);
    const expiresAt = fromGmt7(params.vnp_ExpireDate);
    const returnUrl = URL.canParse(params.vnp_ReturnUrl ?? '') ? new URL(params.vnp_ReturnUrl!) : null;
    if (
      params.vnp_Version !== VNP_VERSION ||
      params.vnp_Command !== 'pay' ||
      params.vnp_CurrCode !== 'VND' ||
      !params.vnp_TxnRef ||
      !amount ||
      !expiresAt ||
      !fromGmt7(params.vnp_CreateDate) ||
      !returnUrl ||
      !/^https?:$/.test(returnUrl.protocol)
    ) {
      return { ok: false, title: 'Dữ liệu không hợp lệ', message: 'Dữ liệu gửi sang không đúng định dạng.' };
    }
    return { ok: true, payment: { params, reference: params.vnp_TxnRef, amount, expiresAt } };
  }

  const findTransaction = async (reference: string) => {
    const [row] = await deps.db.select().from(sandboxTransactions).where(eq(sandboxTransactions.reference, reference));
    return row && isVnpayTransaction(row.transactionId) ? row : undefined;
  };
  type Transaction = NonNullable<Awaited<ReturnType<typeof findTransaction>>>;

  /** The IPN and return parameters of a decided payment, signed, as a query string. */
  function resultQuery(txn: Transaction, payment: Payment): string {
    const codes = CODES[txn.status as keyof typeof CODES];
    const debited = txn.status !== 'declined';
    const params: Record<string, string> = {
      vnp_Amount: String(txn.amount * 100),
      // A cancelled payment never reached a bank: VNPay reports its own QR page and number 0.
      vnp_BankCode: debited ? PAYER_BANK : 'VNPAY',
      ...(debited ? { vnp_BankTranNo: `VNP${txn.transactionId}` } : {}),
      vnp_CardType: debited ? 'ATM' : 'QRCODE',
      vnp_OrderInfo: payment.params.vnp_OrderInfo ?? '',
      vnp_PayDate: gmt7(txn.createdAt),
      vnp_ResponseCode: codes.response,
      vnp_TmnCode: tmnCode,
      vnp_TransactionNo: debited ? txn.transactionId : '0',
      vnp_TransactionStatus: codes.status,
      vnp_TxnRef: txn.reference,
    };
    return vnpSignedQuery(params, secret!, encoding);
  }

  app.get('/sandbox/vnpay/paymentv2/vpcpay.html', async (c) => {
    const checked = checkPayment(new URL(c.req.url).searchParams);
    if (!checked.ok) return c.html(renderEmulatorMessage(CHANNEL, checked.title, checked.message), 400);
    const { payment } = checked;
    const done = await findTransaction(payment.reference);
    if (done && done.status !== 'pending') {
      const back = withQuery(payment.params.vnp_ReturnUrl!, resultQuery(done, payment));
      return c.html(
        renderEmulatorMessage(CHANNEL, 'Giao dịch đã được xử lý', 'Giao dịch này đã được thực hiện trước đó.', {
          href: back,
          text: 'Quay lại website',
        }),
      );
    }
    if (payment.expiresAt.getTime() < deps.now().getTime()) {
      return c.html(
        renderEmulatorMessage(
          CHANNEL,
          'Giao dịch hết hạn',
          'Giao dịch đã quá thời gian chờ thanh toán. Quý khách vui lòng thực hiện lại giao dịch.',
        ),
        410,
      );
    }
    // The payer has reached VNPay: querydr now finds the transaction, not yet completed (01).
    await deps.db
      .insert(sandboxTransactions)
      .values({
        reference: payment.reference,
        transactionId: randomDigits(8),
        amount: payment.amount,
        status: 'pending',
        createdAt: deps.now(),
      })
      .onConflictDoNothing();
    const hidden = Object.fromEntries([...new URL(c.req.url).searchParams].filter(([k]) => k.startsWith('vnp_')));
    return c.html(
      renderVnpayPayment({
        tmnCode,
        reference: payment.reference,
        amount: payment.amount,
        orderInfo: payment.params.vnp_OrderInfo ?? '',
        expiresAt: payment.expiresAt,
        hidden,
      }),
    );
  });

  app.post('/sandbox/vnpay/paymentv2/vpcpay.html', emulatorForm(), async (c) => {
    const { choice, ...form } = await formFields(c.req);
    const checked = checkPayment(new URLSearchParams(Object.entries(form).filter(([k]) => k.startsWith('vnp_'))));
    if (!checked.ok) return c.html(renderEmulatorMessage(CHANNEL, checked.title, checked.message), 400);
    if (choice !== 'pay' && choice !== 'cancel' && choice !== 'fraud') {
      return c.html(renderEmulatorMessage(CHANNEL, 'Yêu cầu không hợp lệ', 'Không rõ lựa chọn của khách hàng.'), 400);
    }
    const { payment } = checked;
    if (payment.expiresAt.getTime() < deps.now().getTime()) {
      return c.html(renderEmulatorMessage(CHANNEL, 'Giao dịch hết hạn', 'Giao dịch đã quá thời gian chờ thanh toán.'), 410);
    }
    // One decision per transaction: a second click replays the first.
    await deps.db
      .insert(sandboxTransactions)
      .values({
        reference: payment.reference,
        transactionId: randomDigits(8),
        amount: payment.amount,
        status: STATUS_OF[choice],
        createdAt: deps.now(),
      })
      .onConflictDoUpdate({
        target: sandboxTransactions.reference,
        set: { status: STATUS_OF[choice], createdAt: deps.now() },
        setWhere: sql`${sandboxTransactions.status} = 'pending' and ${sandboxTransactions.transactionId} ~ '^[0-9]{8}$'`,
      });
    const txn = await findTransaction(payment.reference);
    if (!txn || txn.status === 'pending') {
      return c.html(renderEmulatorMessage(CHANNEL, 'Giao dịch không hợp lệ', 'Mã giao dịch này đã được dùng cho một giao dịch khác.'), 409);
    }
    const query = resultQuery(txn, payment);
    // VNPay calls the merchant's IPN again while it gets no proper answer (non-JSON, 5xx, 99).
    await deliver(
      deps,
      'vnpay',
      (signal) => deps.fetch(withQuery(ipnUrl, query), { method: 'GET', headers: { accept: 'application/json' }, signal }),
      (status, body) => {
        const code = parseJsonObject(body)?.RspCode;
        return status === 200 && typeof code === 'string' && code !== '99';
      },
    );
    return c.redirect(withQuery(payment.params.vnp_ReturnUrl!, query), 303);
  });

  /**
   * The merchant portal's daily transaction file ("Tra cứu giao dịch" → export): every payment
   * decided on that Vietnamese day, paid or not, in VND (the portal's unit, not the wire's ×100),
   * with its status as the portal words it today (a paid one refunded since reads "Đã hoàn tiền").
   * A fraud hold (07) is left out: VNPay has not settled it, and the portal's word for it is not
   * known (shared/domain/gateways.md).
   */
  app.get('/sandbox/vnpay/statement', async (c) => {
    const day = statementDay(c.req.query('date'), deps.now());
    if (!day) return badStatementDate(c);
    const rows = await decidedOnDay(deps.db, day, sql`${sandboxTransactions.transactionId} ~ '^[0-9]{8}$'`);
    const header = ['STT', 'Mã GD VNPAY', 'Mã GD merchant', 'Số tiền', 'Thời gian thanh toán', 'Ngân hàng', 'Trạng thái'];
    const lines = rows.map((row, i) => [
      i + 1,
      row.transactionId,
      row.reference,
      vnMoney(row.amount),
      vnDateTime(row.at),
      row.status === 'succeeded' ? PAYER_BANK : 'VNPAY',
      row.status === 'declined' ? 'Thất bại' : Number(row.refunded) > 0 ? 'Đã hoàn tiền' : 'Thành công',
    ]);
    const file = csv([header, ...lines], { separator: ',', lineEnd: '\r\n', bom: true });
    return statementDownload(c, `VNPAY_${tmnCode}_${day.date.replaceAll('-', '')}.csv`, file);
  });

  app.post('/sandbox/vnpay/merchant_webapi/api/transaction', emulatorJson(), async (c) => {
    const body = parseJsonObject(await c.req.text());
    const command = body?.vnp_Command;
    if (body && command === 'querydr') return c.json(await querydr(body));
    if (body && command === 'refund') return c.json(await refund(body));
    return c.json(
      await answer(QUERYDR_ANSWER_FIELDS, { vnp_Command: String(command ?? ''), vnp_ResponseCode: '99', vnp_Message: 'Invalid request' }),
    );
  });

  /** An answer with every field of its hash present ('' when there is nothing to say), signed. */
  function answer(fields: readonly string[], values: Record<string, string>) {
    const body: Record<string, string> = {
      ...Object.fromEntries(fields.map((field) => [field, ''])),
      vnp_ResponseId: crypto.randomUUID().replace(/-/g, ''),
      ...values,
      vnp_TmnCode: tmnCode,
    };
    return { ...body, vnp_SecureHash: pipeHash(body, fields, secret!) };
  }

  /** Checks common to both commands; a failure is answered with its code. */
  function checkRequest(body: Record<string, unknown>, fields: readonly string[]): { code: string; message: string } | null {
    if (!pipeVerifies(body, fields, secrets)) return { code: '97', message: 'Invalid Checksum' };
    if (body.vnp_TmnCode !== tmnCode) return { code: '99', message: 'Merchant is not valid' };
    if (typeof body.vnp_RequestId !== 'string' || !/^[A-Za-z0-9]{1,32}$/.test(body.vnp_RequestId) || typeof body.vnp_TxnRef !== 'string') {
      return { code: '99', message: 'Invalid data format' };
    }
    return null;
  }

  async function querydr(body: Record<string, unknown>) {
    const base = { vnp_Command: 'querydr', vnp_TxnRef: typeof body.vnp_TxnRef === 'string' ? body.vnp_TxnRef : '' };
    const failed = checkRequest(body, QUERYDR_REQUEST_FIELDS);
    if (failed) return answer(QUERYDR_ANSWER_FIELDS, { ...base, vnp_ResponseCode: failed.code, vnp_Message: failed.message });
    if (!firstTime(body.vnp_RequestId as string))
      return answer(QUERYDR_ANSWER_FIELDS, { ...base, vnp_ResponseCode: '94', vnp_Message: 'Duplicate request' });
    const txn = await findTransaction(base.vnp_TxnRef);
    if (!txn) return answer(QUERYDR_ANSWER_FIELDS, { ...base, vnp_ResponseCode: '91', vnp_Message: 'Khong tim thay giao dich yeu cau' });
    const decided = txn.status === 'pending' ? null : CODES[txn.status as keyof typeof CODES];
    const debited = decided !== null && txn.status !== 'declined';
    return answer(QUERYDR_ANSWER_FIELDS, {
      ...base,
      vnp_ResponseCode: '00',
      vnp_Message: 'QueryDR Success',
      vnp_Amount: String(txn.amount * 100),
      // The order text is not kept in the ledger; VNPay would repeat the payment's.
      vnp_OrderInfo: '',
      vnp_BankCode: debited ? PAYER_BANK : '',
      vnp_PayDate: decided ? gmt7(txn.createdAt) : '',
      vnp_TransactionNo: debited ? txn.transactionId : '0',
      vnp_TransactionType: '01',
      // 01: the payer is on the payment page and has not finished.
      vnp_TransactionStatus: decided ? decided.status : '01',
    });
  }

  async function refund(body: Record<string, unknown>) {
    const base = { vnp_Command: 'refund', vnp_TxnRef: typeof body.vnp_TxnRef === 'string' ? body.vnp_TxnRef : '' };
    const refuseWith = (code: string, message: string) =>
      answer(REFUND_ANSWER_FIELDS, { ...base, vnp_ResponseCode: code, vnp_Message: message });
    const failed = checkRequest(body, REFUND_REQUEST_FIELDS);
    if (failed) return refuseWith(failed.code, failed.message);
    const requestId = body.vnp_RequestId as string;
    if (!firstTime(requestId)) return refuseWith('94', 'Yeu cau bi trung lap');
    const type = body.vnp_TransactionType;
    const amount = vndOf(typeof body.vnp_Amount === 'string' ? body.vnp_Amount : undefined);
    if ((type !== REFUND_FULL && type !== REFUND_PARTIAL) || !amount || typeof body.vnp_CreateBy !== 'string' || !body.vnp_CreateBy) {
      return refuseWith('99', 'Invalid data format');
    }
    const now = deps.now();
    const outcome = await deps.db.transaction(async (tx) => {
      const [txn] = await tx.select().from(sandboxTransactions).where(eq(sandboxTransactions.reference, base.vnp_TxnRef)).for('update');
      if (!txn || !isVnpayTransaction(txn.transactionId))
        return { code: '91', message: 'Khong tim thay giao dich yeu cau hoan tra' } as const;
      if (body.vnp_TransactionNo !== undefined && body.vnp_TransactionNo !== '' && body.vnp_TransactionNo !== txn.transactionId) {
        return { code: '91', message: 'Khong tim thay giao dich yeu cau hoan tra' } as const;
      }
      const [earlier] = await tx.select().from(sandboxRefunds).where(eq(sandboxRefunds.refundId, requestId));
      if (earlier) return { code: '94', message: 'Yeu cau bi trung lap' } as const;
      if (txn.status !== 'succeeded')
        return { code: '95', message: 'Giao dich nay khong thanh cong ben VNPAY. VNPAY tu choi xu ly yeu cau' } as const;
      const [{ refunded } = { refunded: '0' }] = await tx
        .select({ refunded: sql<string>`coalesce(sum(${sandboxRefunds.amount}), 0)` })
        .from(sandboxRefunds)
        .where(eq(sandboxRefunds.reference, txn.reference));
      const refundable = txn.amount - Number(refunded);
      // Full (02) returns all that is left; partial (03) any part of it; never more than was paid.
      if (amount > refundable || (type === REFUND_FULL && amount !== refundable)) {
        return { code: '99', message: `So tien hoan khong hop le: con co the hoan ${refundable} VND` } as const;
      }
      await tx.insert(sandboxRefunds).values({ refundId: requestId, reference: txn.reference, amount, createdAt: now });
      return { code: '00', message: 'Refund success' } as const;
    });
    if (outcome.code !== '00') return refuseWith(outcome.code, outcome.message);
    return answer(REFUND_ANSWER_FIELDS, {
      ...base,
      vnp_ResponseCode: '00',
      vnp_Message: outcome.message,
      vnp_Amount: String(amount * 100),
      vnp_OrderInfo: typeof body.vnp_OrderInfo === 'string' ? body.vnp_OrderInfo : '',
      vnp_BankCode: PAYER_BANK,
      vnp_PayDate: gmt7(now),
      // The refund is a VNPay transaction of its own.
      vnp_TransactionNo: randomDigits(8),
      vnp_TransactionType: type,
      // 05: VNPay is processing the refund, as its test environment answers.
      vnp_TransactionStatus: '05',
    });
  }

  return app;
}
