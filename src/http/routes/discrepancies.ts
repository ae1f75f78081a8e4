import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { discrepancyClasses, discrepancyResolutions, discrepancyStatuses } from '../../db/schema/treasury-day.ts';
import {
  approveDiscrepancy,
  assignDiscrepancy,
  commentDiscrepancy,
  declineDiscrepancy,
  getDiscrepancy,
  listDiscrepancies,
  resolveDiscrepancy,
} from '../../services/discrepancies.ts';
import type { AppEnv } from '../env.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, IDEMPOTENT, JSON_BODY, SECURED, WRITES } from '../openapi-errors.ts';
import { agencyCode, idempotencyHeaders, isoDate, requireIdempotencyKey } from '../schemas.ts';

const EXAMPLE_DISCREPANCY_ID = '3c9b1e2d-4f5a-4b6c-8d7e-9f0a1b2c3d4e';
export const discrepancyNote = z.string().trim().min(1).max(2000).openapi({ example: 'Đối chiếu sao kê Vietcombank 03/12' });

const DiscrepancySchema = z
  .object({
    id: z.uuid(),
    reconciliationId: z.uuid(),
    source: z.string(),
    businessDate: z.string(),
    agencyCode: z.string(),
    class: z.enum(discrepancyClasses),
    subject: z.string().openapi({ description: 'The money it is about: `txn:<id>`, `ref:<reference>`, `line:<n>` or `intent:<id>`' }),
    status: z.enum(discrepancyStatuses),
    statementId: z.uuid().nullable(),
    lineNo: z.number().int().nullable(),
    intentId: z.uuid().nullable(),
    reviewId: z.uuid().nullable().openapi({ description: 'The payment review about the same money: deciding one resolves the other' }),
    statementAmount: z.number().int().nullable(),
    hubAmount: z.number().int().nullable(),
    amount: z.number().int().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
    assignee: z.string().nullable(),
    flaggedAt: z.string().nullable(),
    flagCount: z.number().int(),
    resolution: z.record(z.string(), z.unknown()).nullable(),
    decidedBy: z.string().nullable(),
    approvedBy: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Discrepancy');

const DiscrepancyDetailSchema = DiscrepancySchema.extend({
  comments: z.array(z.object({ id: z.uuid(), author: z.string(), body: z.string(), createdAt: z.string() })),
  audit: z.array(z.object({ at: z.string(), actor: z.string(), action: z.string(), reason: z.string().nullable(), after: z.unknown() })),
}).openapi('DiscrepancyDetail');

const idParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: 'The discrepancy', example: EXAMPLE_DISCREPANCY_ID }),
});
const tags = ['Reconciliation'];
const security = [{ bearerAuth: [] }];
const detail200 = { description: 'The discrepancy', content: { 'application/json': { schema: DiscrepancyDetailSchema } } };
const jsonBody = <S extends z.ZodType>(schema: S, example: unknown) => ({
  required: true,
  content: { 'application/json': { schema, example } },
});

export const DiscrepancyListQuerySchema = z.object({
  class: z.enum(discrepancyClasses).optional(),
  status: z.enum(discrepancyStatuses).optional(),
  source: z.string().max(60).optional().openapi({ example: 'vnpay' }),
  date: isoDate.optional().openapi({ example: '2026-12-03' }),
  agency: agencyCode.optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const listRoute = createRoute({
  method: 'get',
  path: '/v1/discrepancies',
  operationId: 'listDiscrepancies',
  tags,
  summary: 'The discrepancies in scope, newest first, a page at a time',
  description:
    'Differences between a statement and the hub that a person must explain, filtered by class, status, source, business date and agency; newest first, with a cursor for the next page.',
  security,
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    query: DiscrepancyListQuerySchema,
  },
  responses: {
    200: {
      description: 'A page',
      content: { 'application/json': { schema: z.object({ items: z.array(DiscrepancySchema), nextCursor: z.string().nullable() }) } },
    },
    ...errorResponses([...SECURED]),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/discrepancies/{id}',
  operationId: 'getDiscrepancy',
  tags,
  summary: 'A discrepancy with its comments and audit trail',
  description:
    'The discrepancy with the statement line and hub payment it is about, the linked payment review if any, its comments and its audit trail.',
  security,
  middleware: [allow('treasury', 'admin')] as const,
  request: { params: idParams },
  responses: { 200: detail200, ...errorResponses([...SECURED]) },
});

const commentRoute = createRoute({
  method: 'post',
  path: '/v1/discrepancies/{id}/comments',
  operationId: 'commentDiscrepancy',
  tags,
  summary: 'Comment on a discrepancy',
  description: "Adds a comment to the discrepancy's conversation; comments are kept, never edited, and recorded in the audit log.",
  security,
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    params: idParams,
    body: jsonBody(z.object({ body: discrepancyNote }).strict().openapi('DiscrepancyComment'), { body: 'Đã gọi ngân hàng, chờ xác nhận' }),
  },
  responses: { 201: detail200, ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES]) },
});

const assignRoute = createRoute({
  method: 'patch',
  path: '/v1/discrepancies/{id}',
  operationId: 'assignDiscrepancy',
  tags,
  summary: 'Give a discrepancy to a colleague (null: to nobody)',
  description:
    'Gives the discrepancy to a colleague (or takes it back with null); recorded in the audit log. A resolved discrepancy cannot be reassigned (409).',
  security,
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    params: idParams,
    body: jsonBody(
      z
        .object({ assignee: z.string().trim().min(1).max(200).nullable() })
        .strict()
        .openapi('DiscrepancyAssignment'),
      { assignee: 'treasury:ke-toan-binh' },
    ),
  },
  responses: { 200: detail200, ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'discrepancy-not-open']) },
});

export const ResolutionSchema = z
  .object({
    resolution: z.enum(discrepancyResolutions),
    note: discrepancyNote,
    intentId: z.uuid().optional().openapi({ description: 'matched_manually: the intent the money belongs to' }),
    lineId: z.string().max(60).optional().openapi({
      description: 'matched_manually: the statement line, `<statementId>:<lineNo>`',
      example: '0b6a4c1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b:17',
    }),
    evidence: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'refund of a linked review outside the gateway: the transfer reference' }),
  })
  .strict()
  .openapi('DiscrepancyResolution');

const resolveRoute = createRoute({
  method: 'post',
  path: '/v1/discrepancies/{id}/resolution',
  operationId: 'resolveDiscrepancy',
  tags,
  summary: 'Resolve a discrepancy',
  description:
    'write_off and matched_manually above REVIEW_APPROVAL_THRESHOLD_VND wait `awaiting_approval` for another treasury user. A discrepancy linked to an open payment review ' +
    'is decided as that review (matched_manually = accept or assign, refund = refund, bank_error = reject; no write-off) and follows it. ' +
    '409 `discrepancy-not-open` when someone else resolved it first. Idempotent by Idempotency-Key.',
  security,
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    params: idParams,
    headers: idempotencyHeaders('resolve-7c1a'),
    body: jsonBody(ResolutionSchema, { resolution: 'write_off', note: 'Phí ngân hàng thu nhầm, đã xác nhận' }),
  },
  responses: {
    200: detail200,
    ...errorResponses([
      ...SECURED,
      ...JSON_BODY,
      ...IDEMPOTENT,
      ...WRITES,
      'discrepancy-not-open',
      'review-action-not-allowed',
      'obligation-unavailable',
    ]),
  },
});

const approvalRoute = (step: 'approve' | 'decline') =>
  createRoute({
    method: 'post',
    path: `/v1/discrepancies/{id}/${step}`,
    operationId: step === 'approve' ? 'approveDiscrepancy' : 'declineDiscrepancy',
    tags,
    summary:
      step === 'approve' ? 'Approve a resolution awaiting approval (another treasury user)' : 'Decline a resolution awaiting approval',
    description:
      step === 'approve'
        ? 'Four eyes: a treasury user other than the one who decided approves the write-off or manual match, which is then carried out and the discrepancy resolved; audited.'
        : 'Four eyes: a treasury user other than the one who decided refuses the proposed resolution, with a note; the discrepancy is open again; audited.',
    security,
    middleware: [allow('treasury', 'admin')] as const,
    request: {
      params: idParams,
      body: {
        required: step === 'decline',
        content: {
          'application/json': {
            schema: z.object({ note: step === 'decline' ? discrepancyNote : discrepancyNote.optional() }).strict(),
            example: { note: 'Đã kiểm tra' },
          },
        },
      },
    },
    responses: { 200: detail200, ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'approval-not-pending', 'approver-must-differ']) },
  });

export function registerDiscrepancyRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(listRoute, async (c) => {
    const { cursor, limit, ...filter } = c.req.valid('query');
    return c.json(await listDiscrepancies(c.get('ctx'), principalOf(c), filter, { cursor, limit }), 200);
  });
  app.openapi(getRoute, async (c) => c.json(await getDiscrepancy(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200));
  app.openapi(commentRoute, async (c) =>
    c.json(await commentDiscrepancy(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('json').body), 201),
  );
  app.openapi(assignRoute, async (c) =>
    c.json(await assignDiscrepancy(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('json').assignee), 200),
  );
  app.openapi(resolveRoute, async (c) => {
    const key = requireIdempotencyKey(c.req.valid('header'));
    return c.json(await resolveDiscrepancy(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('json'), key), 200);
  });
  app.openapi(approvalRoute('approve'), async (c) =>
    c.json(await approveDiscrepancy(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('json')?.note), 200),
  );
  app.openapi(approvalRoute('decline'), async (c) =>
    c.json(await declineDiscrepancy(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('json').note ?? ''), 200),
  );
}
