import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { getReviewDetail } from '../../services/review-views.ts';
import { approveReview, decideReview, declineReview } from '../../services/reviews.ts';
import type { AppEnv } from '../env.ts';
import { EXAMPLE_REVIEW_ID, reviewDetailExample } from '../examples.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, IDEMPOTENT, JSON_BODY, SECURED, WRITES } from '../openapi-errors.ts';
import { idempotencyHeaders, requireIdempotencyKey } from '../schemas.ts';
import { ReviewDecisionInputSchema as DecisionSchema, reviewNote as note, ReviewDetailSchema } from '../treasury-schemas.ts';

const idParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: 'The payment review', example: EXAMPLE_REVIEW_ID }),
});

const decisionRoute = createRoute({
  method: 'post',
  path: '/v1/payment-reviews/{id}/decision',
  operationId: 'decidePaymentReview',
  tags: ['Payment reviews'],
  summary: 'Decide a review: accept, refund, assign or reject the money',
  description:
    'Ends an `open` review: `resolved` at once, or `awaiting_approval` when it moves more than REVIEW_APPROVAL_THRESHOLD_VND (accept, assign, refund), ' +
    'until another treasury user approves or declines it. An intent in `needs_review` whose money this is moves along a named transition ' +
    '(`review_resolved_succeeded`, `_failed`, `_refunded`) and its fee lines are paid or freed; money beside an intent (a second payment) is recorded as kept, ' +
    'refunded or never received without moving it. 409 `review-not-open` when someone else decided first. Idempotent by Idempotency-Key.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    params: idParams,
    headers: idempotencyHeaders('decide-4b1e'),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: DecisionSchema,
          example: { action: 'accept', amount: 100000, note: 'Đối chiếu sao kê Vietcombank 03/12: đã nhận 100.000 đ, chấp nhận' },
        },
      },
    },
  },
  responses: {
    200: {
      description: 'The review after the decision',
      content: { 'application/json': { schema: ReviewDetailSchema, example: reviewDetailExample } },
    },
    ...errorResponses([
      ...SECURED,
      ...JSON_BODY,
      ...IDEMPOTENT,
      ...WRITES,
      'not-found',
      'review-not-open',
      'review-action-not-allowed',
      'obligation-unavailable',
    ]),
  },
});

const ApproveSchema = z.object({ note: note.optional() }).strict().openapi('ReviewApproval');
const DeclineSchema = z.object({ note }).strict().openapi('ReviewDecline');

const approvalRoute = <S extends typeof ApproveSchema | typeof DeclineSchema>(step: 'approve' | 'decline', schema: S) =>
  createRoute({
    method: 'post',
    path: `/v1/payment-reviews/{id}/${step}`,
    operationId: step === 'approve' ? 'approvePaymentReview' : 'declinePaymentReview',
    tags: ['Payment reviews'],
    summary: step === 'approve' ? 'Approve a decision awaiting approval (another treasury user)' : 'Decline a decision awaiting approval',
    description:
      step === 'approve'
        ? 'Only a review `awaiting_approval`, by a treasury user other than the one who decided (four eyes): the decision is carried out now and the review is `resolved`.'
        : 'Only a review `awaiting_approval`, by a treasury user other than the one who decided: the review is `open` again, with the decline and its note in its history.',
    security: [{ bearerAuth: [] }],
    middleware: [allow('treasury', 'admin')] as const,
    request: {
      params: idParams,
      body: {
        required: step === 'decline',
        content: {
          'application/json': {
            schema,
            example: { note: step === 'approve' ? 'Đã kiểm tra sao kê' : 'Chưa đủ chứng từ: cần sao kê ngày 03/12' },
          },
        },
      },
    },
    responses: {
      200: {
        description: 'The review after this step',
        content: { 'application/json': { schema: ReviewDetailSchema, example: reviewDetailExample } },
      },
      ...errorResponses([
        ...SECURED,
        ...JSON_BODY,
        ...WRITES,
        'not-found',
        'approval-not-pending',
        'approver-must-differ',
        ...(step === 'approve' ? (['obligation-unavailable', 'review-action-not-allowed'] as const) : []),
      ]),
    },
  });

export function registerReviewDecisionRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(decisionRoute, async (c) => {
    const key = requireIdempotencyKey(c.req.valid('header'));
    const { id } = c.req.valid('param');
    await decideReview(c.get('ctx'), principalOf(c), id, c.req.valid('json'), key);
    return c.json(await getReviewDetail(c.get('ctx'), principalOf(c), id), 200);
  });
  app.openapi(approvalRoute('approve', ApproveSchema), async (c) => {
    const { id } = c.req.valid('param');
    await approveReview(c.get('ctx'), principalOf(c), id, c.req.valid('json')?.note);
    return c.json(await getReviewDetail(c.get('ctx'), principalOf(c), id), 200);
  });
  app.openapi(approvalRoute('decline', DeclineSchema), async (c) => {
    const { id } = c.req.valid('param');
    await declineReview(c.get('ctx'), principalOf(c), id, c.req.valid('json').note);
    return c.json(await getReviewDetail(c.get('ctx'), principalOf(c), id), 200);
  });
}
