import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { createRefund, decideRefund, getRefund, listRefunds, resolveRefund } from '../../services/refunds.ts';
import type { AppEnv } from '../env.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import {
  conflictError,
  CreateRefundSchema,
  idempotencyHeaders,
  RefundSchema,
  requireIdempotencyKey,
  ResolveRefundSchema,
  securedErrors,
  unprocessableError,
} from '../schemas.ts';

const idParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

const createRefundRoute = createRoute({
  method: 'post',
  path: '/v1/payment-intents/{id}/refunds',
  operationId: 'createRefund',
  tags: ['Refunds'],
  summary: 'Refund all or part of a paid intent through its gateway',
  description:
    '`expectedRefundable` must equal what the hub computes (paid, less refunded, less refunds still open), else 409. ' +
    'When the intent\'s refunds, this one included, add up to more than the configured amount, the refund waits for a second treasury user (`awaiting_approval`). ' +
    'A gateway that does not answer leaves the refund `submitted`: a job sends it again under the same refund id (which the gateway recognises), ' +
    'and after the last attempt a person resolves it (`POST /v1/refunds/{id}/resolve`). Idempotent by Idempotency-Key.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    params: idParams,
    headers: idempotencyHeaders('refund-2f7a'),
    body: { required: true, content: { 'application/json': { schema: CreateRefundSchema } } },
  },
  responses: {
    201: { description: 'Created (or the replay of the first request, in its current state)', content: { 'application/json': { schema: RefundSchema } } },
    ...securedErrors,
    ...conflictError,
    ...unprocessableError,
  },
});

const listRefundsRoute = createRoute({
  method: 'get',
  path: '/v1/payment-intents/{id}/refunds',
  operationId: 'listRefunds',
  tags: ['Refunds'],
  summary: 'The refunds of a payment intent, oldest first',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: { params: idParams },
  responses: {
    200: { description: 'Refunds', content: { 'application/json': { schema: z.object({ items: z.array(RefundSchema) }) } } },
    ...securedErrors,
  },
});

const getRefundRoute = createRoute({
  method: 'get',
  path: '/v1/refunds/{id}',
  operationId: 'getRefund',
  tags: ['Refunds'],
  summary: 'Read a refund',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: { params: idParams },
  responses: {
    200: { description: 'The refund', content: { 'application/json': { schema: RefundSchema } } },
    ...securedErrors,
  },
});

const decisionRoute = (decision: 'approve' | 'reject') =>
  createRoute({
    method: 'post',
    path: `/v1/refunds/{id}/${decision}`,
    operationId: decision === 'approve' ? 'approveRefund' : 'rejectRefund',
    tags: ['Refunds'],
    summary:
      decision === 'approve'
        ? 'Approve a refund above the threshold and send it (a treasury user other than the requester)'
        : 'Refuse a refund awaiting approval',
    security: [{ bearerAuth: [] }],
    middleware: [allow('treasury', 'admin')] as const,
    request: { params: idParams },
    responses: {
      200: { description: 'The refund after the decision', content: { 'application/json': { schema: RefundSchema } } },
      ...securedErrors,
      ...conflictError,
      ...unprocessableError,
    },
  });

const resolveRefundRoute = createRoute({
  method: 'post',
  path: '/v1/refunds/{id}/resolve',
  operationId: 'resolveRefund',
  tags: ['Refunds'],
  summary: 'Close a submitted refund from the gateway\'s portal or statement (a treasury user other than the requester)',
  description:
    'For a refund the gateway never confirmed. `succeeded` records the refund as the gateway\'s confirmation would (the intent becomes ' +
    '`partially_refunded` or `refunded`); `failed` frees the amount to be refunded again. Only a `submitted` refund (else 409 `refund-not-open`).',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    params: idParams,
    body: { required: true, content: { 'application/json': { schema: ResolveRefundSchema } } },
  },
  responses: {
    200: { description: 'The refund, closed', content: { 'application/json': { schema: RefundSchema } } },
    ...securedErrors,
    ...conflictError,
  },
});

export function registerRefundRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(createRefundRoute, async (c) => {
    const key = requireIdempotencyKey(c.req.valid('header'));
    const response = await createRefund(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('json'), key);
    return c.json(response.body, 201);
  });
  app.openapi(listRefundsRoute, async (c) => c.json({ items: await listRefunds(c.get('ctx'), principalOf(c), c.req.valid('param').id) }, 200));
  app.openapi(getRefundRoute, async (c) => c.json(await getRefund(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200));
  for (const decision of ['approve', 'reject'] as const) {
    app.openapi(decisionRoute(decision), async (c) => c.json(await decideRefund(c.get('ctx'), principalOf(c), c.req.valid('param').id, decision), 200));
  }
  app.openapi(resolveRefundRoute, async (c) => c.json(await resolveRefund(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('json')), 200));
}
