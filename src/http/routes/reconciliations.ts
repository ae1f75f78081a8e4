import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { matchClasses, matchRules } from '../../db/schema/treasury-day.ts';
import { runReconciliation } from '../../services/reconciliation.ts';
import { closeDay, listReconciliations, reconciliationView, threeWay } from '../../services/reconciliation-days.ts';
import type { AppEnv } from '../env.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, JSON_BODY, SECURED, WRITES } from '../openapi-errors.ts';
import { agencyCode, isoDate } from '../schemas.ts';

const EXAMPLE_RECONCILIATION_ID = '6f1d2c3b-8a4e-4f5a-9b7c-1d2e3f4a5b6c';

const sourceField = z
  .string()
  .min(1)
  .max(60)
  .openapi({ description: 'A gateway id (`vnpay`, `dvcqg`, `sandbox`) or `bank:<account number>`', example: 'vnpay' });

const totalsSchema = z.object({ count: z.number().int(), amount: z.number().int() }).openapi('CountAndAmount');

const DayTotalsSchema = z
  .object({
    statement: totalsSchema,
    hub: totalsSchema,
    matched: totalsSchema,
    differences: z.record(z.string(), totalsSchema),
    adjustments: totalsSchema.openapi({ description: 'Late money for earlier closed days booked on this one' }),
  })
  .openapi('DayTotals');

const ReconciliationSchema = z
  .object({
    id: z.uuid(),
    source: z.string(),
    date: z.string().openapi({ description: 'Business date (Asia/Ho_Chi_Minh)', example: '2026-12-03' }),
    agencyCode: z.string(),
    status: z.enum(['open', 'closed']),
    statementId: z.uuid().nullable(),
    runs: z.number().int(),
    lastRunAt: z.string().nullable(),
    lastRunBy: z.string().nullable(),
    summary: z.record(z.string(), totalsSchema).openapi({
      description: `Per class of the last run (${matchClasses.join(', ')}), plus \`healed\` (lost callbacks the statement proved) and \`ignored\` (debits, failed or pending lines: not money in)`,
    }),
    open: z.object({ discrepancies: z.number().int(), reviews: z.number().int() }),
    totals: DayTotalsSchema.nullable().openapi({ description: 'Recorded when the day was closed' }),
    closedBy: z.string().nullable(),
    closedAt: z.string().nullable(),
  })
  .openapi('Reconciliation');

const RunResultSchema = ReconciliationSchema.extend({
  healed: z.array(
    z.object({
      intentId: z.uuid(),
      reference: z.string(),
      lineNo: z.number().int(),
      result: z
        .string()
        .openapi({ description: "applyOutcome's answer: `applied` (paid), `amount_mismatch` or `needs_review` (a review opened)" }),
      statusBefore: z.string(),
      statusAfter: z.string(),
    }),
  ),
  resolved: z.object({ rematch: z.number().int(), laterStatement: z.number().int() }),
  flagged: z.number().int(),
}).openapi('ReconciliationRun');

const example = {
  id: EXAMPLE_RECONCILIATION_ID,
  source: 'vnpay',
  date: '2026-12-03',
  agencyCode: '000.00.00.H19',
  status: 'open' as const,
  statementId: '0b6a4c1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b',
  runs: 1,
  lastRunAt: '2026-12-03T11:00:00.000Z',
  lastRunBy: 'treasury:ke-toan-01',
  summary: {
    matched: { count: 412, amount: 55_620_000 },
    missing_in_hub: { count: 1, amount: 135_000 },
    healed: { count: 1, amount: 135_000 },
  },
  open: { discrepancies: 1, reviews: 0 },
  totals: null,
  closedBy: null,
  closedAt: null,
};

const runRoute = createRoute({
  method: 'post',
  path: '/v1/reconciliations',
  operationId: 'runReconciliation',
  tags: ['Reconciliation'],
  summary: "Match a source's statement of a day against the hub",
  description:
    `Matches the current statement of (source, date) against the hub's payments of that day, by rule: ${matchRules.slice(0, 4).join(', ')}. ` +
    'Every counted statement line and every hub payment of the day ends in exactly one class; every class but `matched` is a discrepancy. ' +
    'A line proving a lost callback is applied (listed in `healed`). Idempotent: a re-run replaces the items, finds the same discrepancies and resolves those no longer found. ' +
    '409 `no-statement` without a current statement, `day-closed` once the day is closed.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.object({ source: sourceField, date: isoDate }).strict().openapi('ReconciliationRunInput'),
          example: { source: 'vnpay', date: '2026-12-03' },
        },
      },
    },
  },
  responses: {
    200: { description: 'The day after this run', content: { 'application/json': { schema: RunResultSchema } } },
    ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'unknown-source', 'no-statement', 'day-closed']),
  },
});

const idParams = z.object({
  id: z
    .uuid()
    .openapi({ param: { name: 'id', in: 'path' }, description: 'The reconciliation (source and day)', example: EXAMPLE_RECONCILIATION_ID }),
});

const listRoute = createRoute({
  method: 'get',
  path: '/v1/reconciliations',
  operationId: 'listReconciliations',
  tags: ['Reconciliation'],
  summary: 'The reconciled days in scope, newest first (100 at most)',
  description:
    "The days of a source or date in the caller's scope, each with its last run per class, what is still open (discrepancies, payment reviews) and its totals once closed.",
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    query: z.object({
      source: sourceField.optional(),
      date: isoDate.optional().openapi({ example: '2026-12-03' }),
      agency: agencyCode.optional().openapi({ description: "Only this agency's subtree (within the caller's own scope)" }),
    }),
  },
  responses: {
    200: {
      description: 'The days',
      content: { 'application/json': { schema: z.object({ items: z.array(ReconciliationSchema) }), example: { items: [example] } } },
    },
    ...errorResponses([...SECURED, 'unknown-source']),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/reconciliations/{id}',
  operationId: 'getReconciliation',
  tags: ['Reconciliation'],
  summary: 'A day: its last run per class, what is open, its totals once closed',
  description:
    "One source and business day: the last run's count and amount per class, the lost callbacks it healed, the open discrepancies and payment reviews, and the totals recorded when it was closed.",
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: { params: idParams },
  responses: {
    200: { description: 'The day', content: { 'application/json': { schema: ReconciliationSchema, example } } },
    ...errorResponses([...SECURED]),
  },
});

const closeRoute = createRoute({
  method: 'post',
  path: '/v1/reconciliations/{id}/close',
  operationId: 'closeReconciliation',
  tags: ['Reconciliation'],
  summary: 'Close the day',
  description:
    'Only when the day was matched against its current statement after the last of its payments arrived, and no discrepancy and no payment review of it is open (409 `day-not-clean` with the counts). ' +
    'Records the totals; a closed day never changes: money for it that arrives later is booked as an adjustment on the next open day.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: { params: idParams },
  responses: {
    200: { description: 'The closed day', content: { 'application/json': { schema: ReconciliationSchema } } },
    ...errorResponses([...SECURED, ...WRITES, 'day-not-clean', 'day-closed']),
  },
});

const ThreeWaySchema = z
  .object({
    date: z.string(),
    source: z.string(),
    agencyCode: z.string(),
    hub: totalsSchema,
    statement: totalsSchema.nullable(),
    bank: z.object({ account: z.string(), count: z.number().int(), amount: z.number().int() }).nullable(),
    differences: z.object({ statementMinusHub: z.number().int().nullable(), bankMinusStatement: z.number().int().nullable() }),
  })
  .openapi('ThreeWayRow');

const threeWayRoute = createRoute({
  method: 'get',
  path: '/v1/reports/three-way',
  operationId: 'threeWayReport',
  tags: ['Reconciliation'],
  summary: "Per source of a day: the hub's total, the statement's, and the bank credits of the settlement account",
  description:
    "One source, or every source in scope (optionally under one agency). The bank column is the current statement of the gateway's settlement account (configuration) that day.",
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    query: z.object({
      date: isoDate.openapi({ example: '2026-12-03' }),
      source: sourceField.optional(),
      agency: agencyCode.optional().openapi({ description: "Only sources owned in this agency's subtree" }),
    }),
  },
  responses: {
    200: { description: 'One row per source', content: { 'application/json': { schema: z.object({ items: z.array(ThreeWaySchema) }) } } },
    ...errorResponses([...SECURED, 'unknown-source']),
  },
});

export function registerReconciliationRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(runRoute, async (c) => c.json(await runReconciliation(c.get('ctx'), principalOf(c), c.req.valid('json')), 200));
  app.openapi(listRoute, async (c) =>
    c.json({ items: await listReconciliations(c.get('ctx'), principalOf(c), c.req.valid('query')) }, 200),
  );
  app.openapi(getRoute, async (c) => c.json(await reconciliationView(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200));
  app.openapi(closeRoute, async (c) => c.json(await closeDay(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200));
  app.openapi(threeWayRoute, async (c) => c.json({ items: await threeWay(c.get('ctx'), principalOf(c), c.req.valid('query')) }, 200));
}
