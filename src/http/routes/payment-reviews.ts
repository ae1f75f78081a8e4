import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { getReviewDetail, listReviews, reviewSummary } from '../../services/review-views.ts';
import type { AppEnv } from '../env.ts';
import { EXAMPLE_REVIEW_ID, paymentReviewPageExample, reviewDetailExample, reviewSummaryExample } from '../examples.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, SECURED } from '../openapi-errors.ts';
import {
  createdRangeOf,
  PaymentReviewPageSchema,
  pageRequest,
  ReviewDetailSchema,
  ReviewListQuerySchema,
  ReviewSummaryQuerySchema,
  ReviewSummarySchema,
} from '../treasury-schemas.ts';

const idParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: 'The payment review', example: EXAMPLE_REVIEW_ID }),
});

const listReviewsRoute = createRoute({
  method: 'get',
  path: '/v1/payment-reviews',
  operationId: 'listPaymentReviews',
  tags: ['Payment reviews'],
  summary: "The treasury desk's queue: money the hub could not decide alone, newest first",
  description:
    'Amount mismatches, fraud holds, late and second payments, credits naming no intent, unreadable signed messages, disputed refunds: ' +
    "each in the caller's agencies' subtrees (a review of an intent follows its dossier's agency; one without, the agency owning the account the money reached). " +
    'Newest first by creation time, then id; `limit` per page (default 50, at most 200) and the opaque `nextCursor` for the next page. ' +
    'Dates are Vietnamese calendar dates (Asia/Ho_Chi_Minh), both ends included; an amount range leaves out reviews naming no amount.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: { query: ReviewListQuerySchema },
  responses: {
    200: {
      description: 'A page of reviews',
      content: { 'application/json': { schema: PaymentReviewPageSchema, example: paymentReviewPageExample } },
    },
    ...errorResponses(SECURED),
  },
});

const summaryRoute = createRoute({
  method: 'get',
  path: '/v1/payment-reviews/summary',
  operationId: 'paymentReviewSummary',
  tags: ['Payment reviews'],
  summary: "Counts for the desk's header: reviews per status, per kind and per both, and the money still open",
  description:
    "In the caller's scope (narrowed to an agency's subtree with `agency`). Every status and kind is listed, with 0 where there is none.",
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: { query: ReviewSummaryQuerySchema },
  responses: {
    200: { description: 'The counts', content: { 'application/json': { schema: ReviewSummarySchema, example: reviewSummaryExample } } },
    ...errorResponses(SECURED),
  },
});

const getReviewRoute = createRoute({
  method: 'get',
  path: '/v1/payment-reviews/{id}',
  operationId: 'getPaymentReview',
  tags: ['Payment reviews'],
  summary: 'One case with everything needed to decide it',
  description:
    'The review (what the hub proposes, and any decision and its outcome), its intent, the dossier and the fee lines it holds, ' +
    'the gateway messages behind it exactly as received with their verification result, the intent’s event history, refunds, ' +
    "this review's own audit-log history, and the actions that may be decided now. Outside the caller's scope: 404, as for none.",
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: { params: idParams },
  responses: {
    200: { description: 'The case', content: { 'application/json': { schema: ReviewDetailSchema, example: reviewDetailExample } } },
    ...errorResponses([...SECURED, 'not-found']),
  },
});

export function registerPaymentReviewRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(listReviewsRoute, async (c) => {
    const q = c.req.valid('query');
    const filter = { ...q, created: createdRangeOf(q) };
    return c.json(await listReviews(c.get('ctx'), principalOf(c), filter, pageRequest(q)), 200);
  });
  // Before /{id}: "summary" is not an id.
  app.openapi(summaryRoute, async (c) => c.json(await reviewSummary(c.get('ctx'), principalOf(c), c.req.valid('query')), 200));
  app.openapi(getReviewRoute, async (c) => c.json(await getReviewDetail(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200));
}
