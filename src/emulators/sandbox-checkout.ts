import { eq, like, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { z } from 'zod';
import type { Executor } from '../db/types.ts';
import { deliver, type EmulatorDeps, emulatorForm, emulatorJson, formFields } from './common.ts';
import { renderCheckoutMessage, renderCheckoutPage } from './pages.ts';
import {
  checkoutLinkSchema,
  checkoutVerifies,
  checkSignatureHeader,
  refundRequestSchema,
  SIGNATURE_HEADER,
  signatureHeader,
} from './protocol/sandbox.ts';
import { gmt7 } from './protocol/time.ts';
import { sandboxRefunds, sandboxTransactions } from './schema.ts';
import { badStatementDate, csv, decidedOnDay, statementDay, statementDownload } from './statement-files.ts';

/**
 * The payer's choice on the sandbox's checkout, in its ledger: one per reference (a second click
 * replays the first). The demo's seed records its seeded payments through it too (the Node entry
 * passes it in), so the sandbox's settlement file tells the seeded days as the hub does.
 */
export function recordSandboxChoice(db: Executor, choice: { reference: string; amount: number; paid: boolean; at: Date }) {
  return db
    .insert(sandboxTransactions)
    .values({
      reference: choice.reference,
      transactionId: `SBX${choice.reference}`,
      amount: choice.amount,
      status: choice.paid ? 'succeeded' : 'declined',
      createdAt: choice.at,
    })
    .onConflictDoNothing();
}

export interface SandboxCheckoutDeps extends EmulatorDeps {
  /** The sandbox gateway's secrets, as the hub is configured with them: the first signs, all verify. */
  secrets: readonly string[];
  toleranceSeconds: number;
}

/**
 * The gateway side of the sandbox, hosted by the Node hub: a checkout page where the payer chooses
 * "pay" or "decline", the signed callback it then delivers over real HTTP, and a status and refund
 * API. It keeps its own ledger (sandbox_transactions) and never touches the hub's payment tables.
 */
export function createSandboxCheckout(deps: SandboxCheckoutDeps) {
  const app = new Hono();
  const [secret] = deps.secrets;
  if (!secret) throw new Error('the sandbox needs a secret');
  // The merchant's callback URL, as a merchant registers it with a real gateway.
  const callbackUrl = `${deps.publicBaseUrl}/v1/callbacks/sandbox`;

  function verifiedParams(reference: string, raw: Record<string, string>) {
    const parsed = checkoutLinkSchema.safeParse(raw);
    return parsed.success && checkoutVerifies(deps.secrets, reference, raw) ? parsed.data : null;
  }

  /** The signed callback, delivered again while the hub does not answer or answers 5xx. */
  function notify(body: Record<string, unknown>) {
    const payload = JSON.stringify(body);
    return deliver(
      deps,
      'sandbox',
      (signal) =>
        deps.fetch(callbackUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: signatureHeader(secret!, Math.floor(deps.now().getTime() / 1000), payload),
          },
          body: payload,
          signal,
        }),
      (status) => status < 500,
    );
  }

  app.get('/sandbox/checkout/:reference', async (c) => {
    const reference = c.req.param('reference');
    const params = verifiedParams(reference, c.req.query());
    if (!params) return c.html(renderCheckoutMessage('Liên kết không hợp lệ', 'Liên kết thanh toán bị sửa đổi hoặc không đầy đủ.'), 400);
    const [done] = await deps.db.select().from(sandboxTransactions).where(eq(sandboxTransactions.reference, reference));
    if (done) {
      return c.html(
        renderCheckoutMessage(
          'Giao dịch đã xử lý',
          done.status === 'succeeded' ? 'Giao dịch đã được thanh toán.' : 'Giao dịch đã bị từ chối.',
          params.returnUrl,
        ),
      );
    }
    if (params.expiresAt * 1000 < deps.now().getTime()) {
      return c.html(
        renderCheckoutMessage('Giao dịch hết hạn', 'Thời hạn thanh toán đã qua. Vui lòng tạo giao dịch mới.', params.returnUrl),
        410,
      );
    }
    const hidden = { ...c.req.query() };
    return c.html(
      renderCheckoutPage({
        reference,
        amount: params.amount,
        description: params.description,
        expiresAt: new Date(params.expiresAt * 1000),
        hidden,
      }),
    );
  });

  app.post('/sandbox/checkout/:reference', emulatorForm(), async (c) => {
    const reference = c.req.param('reference');
    const { choice, ...signed } = await formFields(c.req);
    const params = verifiedParams(reference, signed);
    if (!params || (choice !== 'pay' && choice !== 'decline')) {
      return c.html(renderCheckoutMessage('Yêu cầu không hợp lệ', 'Không thể xác nhận giao dịch này.'), 400);
    }
    if (params.expiresAt * 1000 < deps.now().getTime()) {
      return c.html(renderCheckoutMessage('Giao dịch hết hạn', 'Thời hạn thanh toán đã qua.', params.returnUrl), 410);
    }
    const now = deps.now();
    // One decision per reference, like a real gateway: a second click replays the first.
    await recordSandboxChoice(deps.db, { reference, amount: params.amount, paid: choice === 'pay', at: now });
    const [txn] = await deps.db.select().from(sandboxTransactions).where(eq(sandboxTransactions.reference, reference));
    await notify({
      type: txn!.status === 'succeeded' ? 'payment.succeeded' : 'payment.declined',
      reference,
      transactionId: txn!.transactionId,
      amount: txn!.amount,
      currency: 'VND',
      occurredAt: txn!.createdAt.toISOString(),
    });
    const target = new URL(params.returnUrl);
    target.searchParams.set('reference', reference);
    target.searchParams.set('status', txn!.status === 'succeeded' ? 'succeeded' : 'failed');
    return c.redirect(target.toString(), 303);
  });

  app.get('/sandbox/api/payments/:reference', async (c) => {
    const reference = c.req.param('reference');
    const path = `/sandbox/api/payments/${encodeURIComponent(reference)}`;
    const check = checkSignatureHeader(deps.secrets, c.req.header(SIGNATURE_HEADER), `GET ${path}`, deps.now(), deps.toleranceSeconds);
    if (check !== 'valid') return c.json({ error: check }, 401);
    const [txn] = await deps.db.select().from(sandboxTransactions).where(eq(sandboxTransactions.reference, reference));
    if (!txn) return c.json({ reference, status: 'not_found' });
    return c.json({
      reference,
      status: txn.status,
      amount: txn.amount,
      transactionId: txn.transactionId,
      occurredAt: txn.createdAt.toISOString(),
    });
  });

  /**
   * Refunds, as a gateway's API makes them: signed, idempotent by the merchant's refund id, and
   * never more than was paid in all. The ledger row is the refund; the answer only reports it.
   */
  app.post('/sandbox/api/payments/:reference/refunds', emulatorJson(), async (c) => {
    const reference = c.req.param('reference');
    const raw = await c.req.text();
    const path = `/sandbox/api/payments/${encodeURIComponent(reference)}/refunds`;
    const check = checkSignatureHeader(
      deps.secrets,
      c.req.header(SIGNATURE_HEADER),
      `POST ${path}\n${raw}`,
      deps.now(),
      deps.toleranceSeconds,
    );
    if (check !== 'valid') return c.json({ error: check }, 401);
    let body: z.infer<typeof refundRequestSchema>;
    try {
      body = refundRequestSchema.parse(JSON.parse(raw));
    } catch {
      return c.json({ error: 'malformed' }, 400);
    }
    const answer = await deps.db.transaction(async (tx) => {
      const [txn] = await tx.select().from(sandboxTransactions).where(eq(sandboxTransactions.reference, reference)).for('update');
      if (txn?.status !== 'succeeded') return { status: 409 as const, body: { error: 'not_paid' } };
      const [earlier] = await tx.select().from(sandboxRefunds).where(eq(sandboxRefunds.refundId, body.refundId));
      if (earlier) return { status: 200 as const, body: { refundId: earlier.refundId, status: 'succeeded', amount: earlier.amount } };
      const [{ refunded } = { refunded: '0' }] = await tx
        .select({ refunded: sql<string>`coalesce(sum(${sandboxRefunds.amount}), 0)` })
        .from(sandboxRefunds)
        .where(eq(sandboxRefunds.reference, reference));
      if (Number(refunded) + body.amount > txn.amount) return { status: 409 as const, body: { error: 'exceeds_payment' } };
      await tx.insert(sandboxRefunds).values({ refundId: body.refundId, reference, amount: body.amount, createdAt: deps.now() });
      return { status: 200 as const, body: { refundId: body.refundId, status: 'succeeded', amount: body.amount } };
    });
    return c.json(answer.body, answer.status);
  });

  /**
   * The sandbox's settlement file: every payment decided on that Vietnamese day, in its own API's
   * words (`succeeded`, `declined`, and `refunded` for a payment refunded since), times in ISO 8601
   * with Vietnam's offset. The sandbox's rows are those its checkout made (`SBX` ids).
   */
  app.get('/sandbox/statement', async (c) => {
    const day = statementDay(c.req.query('date'), deps.now());
    if (!day) return badStatementDate(c);
    const rows = await decidedOnDay(deps.db, day, like(sandboxTransactions.transactionId, 'SBX%'));
    const header = ['transaction_id', 'reference', 'amount', 'paid_at', 'status'];
    const lines = rows.map((row) => [
      row.transactionId,
      row.reference,
      row.amount,
      isoInVietnam(row.at),
      row.status === 'declined' ? 'declined' : Number(row.refunded) > 0 ? 'refunded' : 'succeeded',
    ]);
    return statementDownload(c, `sandbox-${day.date}.csv`, csv([header, ...lines], { separator: ',', lineEnd: '\n', bom: false }));
  });

  return app;
}

/** `2026-12-03T09:00:00+07:00`: the instant on Vietnam's wall clock, offset written out. */
function isoInVietnam(at: Date): string {
  const t = gmt7(at);
  return `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}+07:00`;
}
