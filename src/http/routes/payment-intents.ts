import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { onReplica } from '../../services/context.ts';
import { cancelPaymentIntent, createPaymentIntent, getPaymentIntent } from '../../services/payment-intents.ts';
import { getReceipt } from '../../services/receipts.ts';
import { listPaymentIntents } from '../../services/treasury-lists.ts';
import type { AppEnv } from '../env.ts';
import {
  cancelledIntentExample,
  createIntentExample,
  EXAMPLE_INTENT_ID,
  paymentIntentExample,
  paymentIntentPageExample,
} from '../examples.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, IDEMPOTENT, JSON_BODY, SECURED, WRITES } from '../openapi-errors.ts';
import { CreateIntentSchema, idempotencyHeaders, PaymentIntentSchema, requireIdempotencyKey } from '../schemas.ts';
import { createdRangeOf, IntentListQuerySchema, PaymentIntentPageSchema, pageRequest } from '../treasury-schemas.ts';
import { RECEIPT_REPRESENTATIONS, receiptContent, receiptResponse } from './receipts.ts';

const idParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, example: EXAMPLE_INTENT_ID }) });

const createIntentRoute = createRoute({
  method: 'post',
  path: '/v1/payment-intents',
  operationId: 'createPaymentIntent',
  tags: ['Payment intents'],
  summary: 'Start paying obligations of a dossier through a gateway',
  description:
    'Idempotent by the Idempotency-Key header: the same key with the same body replays the first answer (with `Idempotent-Replayed: true`); with another body, 409. ' +
    'An obligation already paid or held by a live intent: 409. More than the gateway takes in one payment: 422 `amount-above-gateway-limit`, its limit in `maxAmount`, before the gateway is asked.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'admin')] as const,
  request: {
    headers: idempotencyHeaders('portal-7d1c2f'),
    body: { required: true, content: { 'application/json': { schema: CreateIntentSchema, example: createIntentExample } } },
  },
  responses: {
    201: {
      description: 'Created (or the replay of the first answer)',
      content: { 'application/json': { schema: PaymentIntentSchema, example: paymentIntentExample } },
    },
    ...errorResponses([
      ...SECURED,
      ...JSON_BODY,
      ...IDEMPOTENT,
      ...WRITES,
      'not-found',
      'obligation-unavailable',
      'nothing-to-pay',
      'gateway-not-available',
      'gateway-capability-missing',
      'collection-account-missing',
      'amount-above-gateway-limit',
      'gateway-error',
    ]),
  },
});

const listIntentsRoute = createRoute({
  method: 'get',
  path: '/v1/payment-intents',
  operationId: 'listPaymentIntents',
  tags: ['Payment intents'],
  summary: "Payment intents in the caller's scope, newest first, filtered",
  description:
    "Every intent whose dossier is in the caller's agencies' subtrees (portal, treasury and admin alike), as GET /v1/payment-intents/{id} shows it. " +
    'Newest first by creation time, then id; `limit` per page (default 50, at most 200) and the opaque `nextCursor` for the next page. ' +
    'Dates are Vietnamese calendar dates (Asia/Ho_Chi_Minh), both ends included; `paidFrom`/`paidTo` leave out intents never paid.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'treasury', 'admin')] as const,
  request: { query: IntentListQuerySchema },
  responses: {
    200: {
      description: 'A page of intents',
      content: { 'application/json': { schema: PaymentIntentPageSchema, example: paymentIntentPageExample } },
    },
    ...errorResponses(SECURED),
  },
});

const getIntentRoute = createRoute({
  method: 'get',
  path: '/v1/payment-intents/{id}',
  operationId: 'getPaymentIntent',
  tags: ['Payment intents'],
  summary: 'Read a payment intent',
  description: 'Its status as the hub knows it: callbacks, the poller and people move it; reading never asks the gateway.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'treasury', 'admin')] as const,
  request: { params: idParams },
  responses: {
    200: { description: 'The intent', content: { 'application/json': { schema: PaymentIntentSchema, example: paymentIntentExample } } },
    ...errorResponses([...SECURED, 'not-found']),
  },
});

const cancelIntentRoute = createRoute({
  method: 'post',
  path: '/v1/payment-intents/{id}/cancel',
  operationId: 'cancelPaymentIntent',
  tags: ['Payment intents'],
  summary: 'Cancel a live payment intent and free its obligations',
  description:
    'Only a `created` or `pending` intent; its obligations may then be paid by another. A payment the gateway reports later is kept for review, not lost.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'admin')] as const,
  request: { params: idParams },
  responses: {
    200: {
      description: 'Cancelled (cancelling again answers the same)',
      content: { 'application/json': { schema: PaymentIntentSchema, example: cancelledIntentExample } },
    },
    ...errorResponses([...SECURED, ...WRITES, 'not-found', 'invalid-transition']),
  },
});

const receiptRoute = createRoute({
  method: 'get',
  path: '/v1/payment-intents/{id}/receipt',
  operationId: 'getReceipt',
  tags: ['Payment intents'],
  summary: "The intent's current receipt (JSON, signed XML, or printable HTML)",
  description:
    "The electronic receipt (biên lai điện tử) issued when the intent succeeded: gapless number in its agency's series and year, the collecting organisation " +
    'with its address and tax code, the issuer when the hub issued it on their behalf, lines, total in figures and words, its look-up code, ' +
    `signed as a compact JWS verifiable with /.well-known/jwks.json. ${RECEIPT_REPRESENTATIONS}`,
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'treasury', 'admin')] as const,
  request: { params: idParams },
  responses: {
    200: {
      description: 'The receipt',
      content: receiptContent,
    },
    ...errorResponses([...SECURED, 'not-found', 'receipt-not-issued']),
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

  app.openapi(listIntentsRoute, async (c) => {
    const q = c.req.valid('query');
    const filter = { ...q, created: createdRangeOf(q), paid: { from: q.paidFrom, to: q.paidTo } };
    return c.json(await onReplica(c.get('ctx'), (ctx) => listPaymentIntents(ctx, principalOf(c), filter, pageRequest(q))), 200);
  });

  app.openapi(getIntentRoute, async (c) => {
    return c.json(await getPaymentIntent(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200);
  });

  app.openapi(cancelIntentRoute, async (c) => {
    return c.json(await cancelPaymentIntent(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200);
  });

  app.openapi(receiptRoute, async (c) => {
    return receiptResponse(c, await getReceipt(c.get('ctx'), principalOf(c), c.req.valid('param').id)) as never;
  });
}
