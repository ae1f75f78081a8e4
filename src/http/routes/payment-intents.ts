import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { cancelPaymentIntent, createPaymentIntent, getPaymentIntent } from '../../services/payment-intents.ts';
import { getReceipt } from '../../services/receipts.ts';
import { renderReceiptPage } from '../../web/receipt-page.ts';
import type { AppEnv } from '../env.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { wantsHtml } from '../negotiate.ts';
import {
  conflictError,
  CreateIntentSchema,
  gatewayError,
  idempotencyHeaders,
  PaymentIntentSchema,
  ReceiptSchema,
  requireIdempotencyKey,
  securedErrors,
  unprocessableError,
} from '../schemas.ts';

const idParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

const createIntentRoute = createRoute({
  method: 'post',
  path: '/v1/payment-intents',
  operationId: 'createPaymentIntent',
  tags: ['Payment intents'],
  summary: 'Start paying obligations of a dossier through a gateway',
  description:
    'Idempotent by the Idempotency-Key header: the same key with the same body replays the first answer; with another body, 409. ' +
    'An obligation already paid or held by a live intent: 409.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'admin')] as const,
  request: {
    headers: idempotencyHeaders('portal-7d1c2f'),
    body: { required: true, content: { 'application/json': { schema: CreateIntentSchema } } },
  },
  responses: {
    201: { description: 'Created (or the replay of the first answer)', content: { 'application/json': { schema: PaymentIntentSchema } } },
    ...securedErrors,
    ...conflictError,
    ...unprocessableError,
    ...gatewayError,
  },
});

const getIntentRoute = createRoute({
  method: 'get',
  path: '/v1/payment-intents/{id}',
  operationId: 'getPaymentIntent',
  tags: ['Payment intents'],
  summary: 'Read a payment intent',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'treasury', 'admin')] as const,
  request: { params: idParams },
  responses: {
    200: { description: 'The intent', content: { 'application/json': { schema: PaymentIntentSchema } } },
    ...securedErrors,
  },
});

const cancelIntentRoute = createRoute({
  method: 'post',
  path: '/v1/payment-intents/{id}/cancel',
  operationId: 'cancelPaymentIntent',
  tags: ['Payment intents'],
  summary: 'Cancel a live payment intent and free its obligations',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'admin')] as const,
  request: { params: idParams },
  responses: {
    200: { description: 'Cancelled (cancelling again answers the same)', content: { 'application/json': { schema: PaymentIntentSchema } } },
    ...securedErrors,
    ...conflictError,
  },
});

const receiptRoute = createRoute({
  method: 'get',
  path: '/v1/payment-intents/{id}/receipt',
  operationId: 'getReceipt',
  tags: ['Payment intents'],
  summary: 'The signed receipt of a paid intent (JSON, or printable HTML for Accept: text/html)',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'treasury', 'admin')] as const,
  request: { params: idParams },
  responses: {
    200: {
      description: 'The receipt',
      content: { 'application/json': { schema: ReceiptSchema }, 'text/html': { schema: z.string() } },
    },
    ...securedErrors,
    ...conflictError,
  },
});

/**
 * The caller's address when the portal does not pass the payer's: the platform's client-IP
 * header (Workers) or the first X-Forwarded-For hop. Only informational (a gateway's fraud
 * checks); never used to authorise anything.
 */
function callerIp(headers: Headers): string | undefined {
  const candidate = headers.get('cf-connecting-ip') ?? headers.get('x-forwarded-for')?.split(',')[0]?.trim();
  return candidate && /^[0-9a-fA-F:.]{2,45}$/.test(candidate) ? candidate : undefined;
}

export function registerPaymentIntentRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(createIntentRoute, async (c) => {
    const key = requireIdempotencyKey(c.req.valid('header'));
    const body = c.req.valid('json');
    const response = await createPaymentIntent(c.get('ctx'), principalOf(c), body, key, callerIp(c.req.raw.headers));
    return c.json(response.body as z.infer<typeof PaymentIntentSchema>, response.status as 201);
  });

  app.openapi(getIntentRoute, async (c) => {
    return c.json(await getPaymentIntent(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200);
  });

  app.openapi(cancelIntentRoute, async (c) => {
    return c.json(await cancelPaymentIntent(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200);
  });

  app.openapi(receiptRoute, async (c) => {
    const receipt = await getReceipt(c.get('ctx'), principalOf(c), c.req.valid('param').id);
    if (wantsHtml(c.req.header('accept'), 'json')) {
      return c.html(renderReceiptPage(receipt), 200) as never;
    }
    return c.json(receipt, 200);
  });
}
