import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { offlineMethods } from '../../db/schema/treasury-day.ts';
import { recordOfflinePayment } from '../../services/offline-payments.ts';
import type { AppEnv } from '../env.ts';
import { paymentIntentExample } from '../examples.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, IDEMPOTENT, JSON_BODY, SECURED, WRITES } from '../openapi-errors.ts';
import { dossierCode, idempotencyHeaders, PaymentIntentSchema, requireIdempotencyKey } from '../schemas.ts';

const params = z.object({ code: dossierCode.openapi({ param: { name: 'code', in: 'path' } }) });

const OfflinePaymentInputSchema = z
  .object({
    lines: z
      .array(z.union([z.uuid(), z.number().int().min(1).max(50)]))
      .min(1)
      .max(100)
      .openapi({ description: "The fee lines paid: obligation ids, or line numbers (`lineNo`) as the dossier's `obligations` list them" }),
    method: z.enum(offlineMethods).openapi({ description: 'cash, a POS card, or a bank transfer the counter saw arrive' }),
    collector: z.string().trim().min(1).max(200).openapi({ description: 'Who took the money (name or staff id)' }),
    paperReceiptNumber: z.string().trim().min(1).max(50).optional().openapi({
      description: 'The paper receipt handed to the citizen, if any (kept when the agency issues no e-receipt for counter payments)',
    }),
    collectedAt: z.iso.datetime({ offset: true }).optional().openapi({
      description: 'When the money was taken (default: now); its date in Asia/Ho_Chi_Minh is the business day it is collected on',
    }),
  })
  .openapi('OfflinePaymentInput');

const OfflinePaymentSchema = z
  .object({
    intent: PaymentIntentSchema.openapi({ description: 'The `counter` channel intent, succeeded' }),
    method: z.enum(offlineMethods),
    collector: z.string(),
    paperReceiptNumber: z.string().nullable(),
    collectedAt: z.string(),
    recordedBy: z.string().openapi({ description: 'The principal who recorded it (`role:subject`)' }),
    receipt: z
      .object({ formSymbol: z.string(), seriesSymbol: z.string(), number: z.number().int() })
      .nullable()
      .openapi({ description: "The e-receipt the hub issued, or null when the agency's counter hands out paper receipts only" }),
  })
  .openapi('OfflinePayment');

const example: z.infer<typeof OfflinePaymentSchema> = {
  intent: {
    ...paymentIntentExample,
    status: 'succeeded',
    gateway: 'counter',
    returnUrl: '',
    nextAction: null,
    succeededAt: '2026-11-22T02:45:00.000Z',
    gatewayTransactionId: 'counter-HPATW51CYHX4',
    updatedAt: '2026-11-22T03:00:00.000Z',
  },
  method: 'cash',
  collector: 'Nguyễn Thị Lan',
  paperReceiptNumber: '0001234',
  collectedAt: '2026-11-22T02:45:00.000Z',
  recordedBy: 'portal:mot-cua-tran-bien',
  receipt: null,
};

const recordRoute = createRoute({
  method: 'post',
  path: '/v1/dossiers/{code}/offline-payments',
  operationId: 'recordOfflinePayment',
  tags: ['Dossiers'],
  summary: 'Record fee lines paid at the counter (cash, POS, bank transfer)',
  description:
    'A payment of the `counter` channel, succeeded at once: the lines become paid, the dossier is never counted as paid online (766 flag 0), ' +
    "an e-receipt is issued when the agency's `issuesCounterReceipts` says so (otherwise the paper receipt's number is kept), and the money enters the day's collections. " +
    'Idempotent by the Idempotency-Key header. A line already paid or held by a live intent: 409 `obligation-unavailable`, nothing written. ' +
    'Refunding counter money is done by hand at the counter, not through the hub.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'treasury', 'admin')] as const,
  request: {
    params,
    headers: idempotencyHeaders('mot-cua-2026-11-22-0042'),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: OfflinePaymentInputSchema,
          example: { lines: [1], method: 'cash', collector: 'Nguyễn Thị Lan', paperReceiptNumber: '0001234' },
        },
      },
    },
  },
  responses: {
    201: {
      description: 'Recorded (or the replay of the first answer)',
      content: { 'application/json': { schema: OfflinePaymentSchema, example } },
    },
    ...errorResponses([...SECURED, ...JSON_BODY, ...IDEMPOTENT, ...WRITES, 'not-found', 'obligation-unavailable', 'nothing-to-pay']),
  },
});

export function registerOfflinePaymentRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(recordRoute, async (c) => {
    const key = requireIdempotencyKey(c.req.valid('header'));
    const { code } = c.req.valid('param');
    const result = await recordOfflinePayment(c.get('ctx'), principalOf(c), code, c.req.valid('json'), key);
    return c.json(result.body, result.status as 201);
  });
}
