import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { createRefund, decideRefund, getRefund, listRefunds, resolveRefund } from '../../services/refunds.ts';
import { listAllRefunds } from '../../services/treasury-lists.ts';
import type { AppEnv } from '../env.ts';
import {
  createRefundExample,
  EXAMPLE_INTENT_ID,
  EXAMPLE_REFUND_ID,
  refundExample,
  refundPageExample,
  resolvedRefundExample,
  resolveRefundExample,
} from '../examples.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, IDEMPOTENT, JSON_BODY, SECURED, WRITES } from '../openapi-errors.ts';
import { CreateRefundSchema, idempotencyHeaders, RefundSchema, ResolveRefundSchema, requireIdempotencyKey } from '../schemas.ts';
import { createdRangeOf, pageRequest, RefundListQuerySchema, RefundPageSchema } from '../treasury-schemas.ts';

const intentParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: 'The payment intent', example: EXAMPLE_INTENT_ID }),
});
const idParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: 'The refund', example: EXAMPLE_REFUND_ID }),
});

const createRefundRoute = createRoute({
  method: 'post',
  path: '/v1/payment-intents/{id}/refunds',
  operationId: 'createRefund',
  tags: ['Refunds'],
  summary: 'Refund all or part of a paid intent through its gateway',
  description:
    '`expectedRefundable` must equal what the hub computes (paid, less refunded, less refunds still open), else 409. ' +
    "When the intent's refunds, this one included, add up to more than the configured amount, the refund waits for a second treasury user (`awaiting_approval`). " +
    'A gateway that does not answer leaves the refund `submitted`: a job sends it again under the same refund id (which the gateway recognises), ' +
    'and after the last attempt a person resolves it (`POST /v1/refunds/{id}/resolve`). Idempotent by Idempotency-Key.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    params: intentParams,
    headers: idempotencyHeaders('refund-2f7a'),
    body: { required: true, content: { 'application/json': { schema: CreateRefundSchema, example: createRefundExample } } },
  },
  responses: {
    201: {
      description: 'Created (or the replay of the first request, in its current state)',
      content: { 'application/json': { schema: RefundSchema, example: refundExample } },
    },
    ...errorResponses([
      ...SECURED,
      ...JSON_BODY,
      ...IDEMPOTENT,
      ...WRITES,
      'not-found',
      'not-refundable',
      'refundable-changed',
      'refund-too-large',
      'gateway-capability-missing',
    ]),
  },
});

const listRefundsRoute = createRoute({
  method: 'get',
  path: '/v1/payment-intents/{id}/refunds',
  operationId: 'listRefunds',
  tags: ['Refunds'],
  summary: 'The refunds of a payment intent, oldest first',
  description: 'Every refund asked for, whatever became of it (awaiting approval, rejected, submitted, succeeded, failed).',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: { params: intentParams },
  responses: {
    200: {
      description: 'Refunds',
      content: { 'application/json': { schema: z.object({ items: z.array(RefundSchema) }), example: { items: [refundExample] } } },
    },
    ...errorResponses([...SECURED, 'not-found']),
  },
});

const listAllRefundsRoute = createRoute({
  method: 'get',
  path: '/v1/refunds',
  operationId: 'listAllRefunds',
  tags: ['Refunds'],
  summary: "Refunds in the caller's scope, newest first, filtered (those awaiting a second approver, say)",
  description:
    "Every refund of an intent whose dossier is in the caller's agencies' subtrees, through the gateway or recorded as returned by hand. " +
    'Newest first by creation time, then id; `limit` per page (default 50, at most 200) and the opaque `nextCursor` for the next page. ' +
    'Dates are Vietnamese calendar dates (Asia/Ho_Chi_Minh), both ends included.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'treasury', 'admin')] as const,
  request: { query: RefundListQuerySchema },
  responses: {
    200: { description: 'A page of refunds', content: { 'application/json': { schema: RefundPageSchema, example: refundPageExample } } },
    ...errorResponses(SECURED),
  },
});

const getRefundRoute = createRoute({
  method: 'get',
  path: '/v1/refunds/{id}',
  operationId: 'getRefund',
  tags: ['Refunds'],
  summary: 'Read a refund',
  description: 'Its status, who asked for it and who approved it, and how a person closed it if the gateway never answered.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: { params: idParams },
  responses: {
    200: { description: 'The refund', content: { 'application/json': { schema: RefundSchema, example: refundExample } } },
    ...errorResponses([...SECURED, 'not-found']),
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
    description:
      decision === 'approve'
        ? 'Only a refund `awaiting_approval`, by a treasury user other than the one who asked for it (four eyes); the refund is then sent to the gateway.'
        : 'Only a refund `awaiting_approval`, by a treasury user other than the one who asked for it; it becomes `rejected` and its amount may be asked for again.',
    security: [{ bearerAuth: [] }],
    middleware: [allow('treasury', 'admin')] as const,
    request: { params: idParams },
    responses: {
      200: {
        description: 'The refund after the decision',
        content: {
          'application/json': {
            schema: RefundSchema,
            example:
              decision === 'approve'
                ? { ...refundExample, approvedBy: 'treasury:ke-toan-02' }
                : { ...refundExample, status: 'rejected', approvedBy: 'treasury:ke-toan-02', gatewayRefundId: null, completedAt: null },
          },
        },
      },
      ...errorResponses([
        ...SECURED,
        ...WRITES,
        'not-found',
        'approval-not-pending',
        'approver-must-differ',
        ...(decision === 'approve' ? (['gateway-capability-missing'] as const) : []),
      ]),
    },
  });

const resolveRefundRoute = createRoute({
  method: 'post',
  path: '/v1/refunds/{id}/resolve',
  operationId: 'resolveRefund',
  tags: ['Refunds'],
  summary: "Close a submitted refund from the gateway's portal or statement (a treasury user other than the requester)",
  description:
    "For a refund the gateway never confirmed. `succeeded` records the refund as the gateway's confirmation would (the intent becomes " +
    '`partially_refunded` or `refunded`); `failed` frees the amount to be refunded again. Only a `submitted` refund (else 409 `refund-not-open`).',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    params: idParams,
    body: { required: true, content: { 'application/json': { schema: ResolveRefundSchema, example: resolveRefundExample } } },
  },
  responses: {
    200: { description: 'The refund, closed', content: { 'application/json': { schema: RefundSchema, example: resolvedRefundExample } } },
    ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'not-found', 'refund-not-open', 'approver-must-differ', 'invalid-transition']),
  },
});

export function registerRefundRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(createRefundRoute, async (c) => {
    const key = requireIdempotencyKey(c.req.valid('header'));
    const response = await createRefund(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('json'), key);
    return c.json(response.body, 201);
  });
  app.openapi(listRefundsRoute, async (c) =>
    c.json({ items: await listRefunds(c.get('ctx'), principalOf(c), c.req.valid('param').id) }, 200),
  );
  app.openapi(listAllRefundsRoute, async (c) => {
    const q = c.req.valid('query');
    const filter = { ...q, created: createdRangeOf(q) };
    return c.json(await listAllRefunds(c.get('ctx'), principalOf(c), filter, pageRequest(q)), 200);
  });
  app.openapi(getRefundRoute, async (c) => c.json(await getRefund(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200));
  for (const decision of ['approve', 'reject'] as const) {
    app.openapi(decisionRoute(decision), async (c) =>
      c.json(await decideRefund(c.get('ctx'), principalOf(c), c.req.valid('param').id, decision), 200),
    );
  }
  app.openapi(resolveRefundRoute, async (c) =>
    c.json(await resolveRefund(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('json')), 200),
  );
}
