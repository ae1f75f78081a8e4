import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { onReplica } from '../../services/context.ts';
import { ServiceError } from '../../services/errors.ts';
import { onlinePaymentActions, onlinePaymentBreakdown, onlinePaymentIndicators } from '../../services/indicators.ts';
import type { AppEnv } from '../env.ts';
import { actionsExample, breakdownExample, indicatorsExample } from '../examples.ts';
import { ActionsSchema, BreakdownSchema, IndicatorReportSchema, PeriodQuerySchema, rangeOf } from '../indicator-schemas.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, SECURED } from '../openapi-errors.ts';
import { procedureCode } from '../schemas.ts';

const readers = allow('campaign', 'admin');

const periodDescription =
  'Dossiers count by their receipt date (Asia/Ho_Chi_Minh) in `from`–`to`, or in `period` (month, quarter, half, nine-months, year) of `year` ' +
  "(with `index` for a month, quarter or half). A payment counts on its dossier's receipt date, however late it arrives.";

const indicatorsRoute = createRoute({
  method: 'get',
  path: '/v1/indicators/online-payment',
  operationId: 'onlinePaymentIndicators',
  tags: ['Indicators'],
  summary: "Decision 766's three online-payment indicators of an agency's subtree, with points",
  description: periodDescription,
  security: [{ bearerAuth: [] }],
  middleware: [readers] as const,
  request: { query: PeriodQuerySchema },
  responses: {
    200: { description: 'The indicators', content: { 'application/json': { schema: IndicatorReportSchema, example: indicatorsExample } } },
    ...errorResponses([...SECURED, 'not-found']),
  },
});

const breakdownRoute = createRoute({
  method: 'get',
  path: '/v1/indicators/online-payment/breakdown',
  operationId: 'onlinePaymentBreakdown',
  tags: ['Indicators'],
  summary: 'The same numbers per child unit (each with its subtree) or per fee-bearing procedure',
  description: periodDescription,
  security: [{ bearerAuth: [] }],
  middleware: [readers] as const,
  request: {
    query: PeriodQuerySchema.extend({
      by: z.enum(['agency', 'procedure']).openapi({ example: 'agency' }),
      procedure: procedureCode.optional().openapi({ description: 'With by=agency: count this fee-bearing procedure only' }),
    }),
  },
  responses: {
    200: { description: 'Per unit or procedure', content: { 'application/json': { schema: BreakdownSchema, example: breakdownExample } } },
    ...errorResponses([...SECURED, 'not-found']),
  },
});

const actionsRoute = createRoute({
  method: 'get',
  path: '/v1/indicators/online-payment/actions',
  operationId: 'onlinePaymentActions',
  tags: ['Indicators'],
  summary: 'Where to push: procedures without online payment (a), not integrated (b), units by dossier rate (c)',
  description: `${periodDescription} \`target\`: the dossier rate each unit's \`needed\` is counted to (default: the full-points threshold of c).`,
  security: [{ bearerAuth: [] }],
  middleware: [readers] as const,
  request: {
    query: PeriodQuerySchema.extend({ target: z.coerce.number().min(0).max(1).optional().openapi({ example: 0.7 }) }),
  },
  responses: {
    200: { description: 'The action lists', content: { 'application/json': { schema: ActionsSchema, example: actionsExample } } },
    ...errorResponses([...SECURED, 'not-found']),
  },
});

export function registerIndicatorRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(indicatorsRoute, async (c) => {
    const query = c.req.valid('query');
    return c.json(await onReplica(c.get('ctx'), (ctx) => onlinePaymentIndicators(ctx, principalOf(c), query.agency, rangeOf(query))), 200);
  });
  app.openapi(breakdownRoute, async (c) => {
    const query = c.req.valid('query');
    if (query.procedure !== undefined && query.by !== 'agency') {
      throw new ServiceError('validation-failed', 'procedure narrows a breakdown by agency', [
        { path: 'query.procedure', message: 'only with by=agency' },
      ]);
    }
    return c.json(
      await onReplica(c.get('ctx'), (ctx) =>
        onlinePaymentBreakdown(ctx, principalOf(c), query.agency, rangeOf(query), query.by, query.procedure),
      ),
      200,
    );
  });
  app.openapi(actionsRoute, async (c) => {
    const query = c.req.valid('query');
    return c.json(
      await onReplica(c.get('ctx'), (ctx) => onlinePaymentActions(ctx, principalOf(c), query.agency, rangeOf(query), query.target)),
      200,
    );
  });
}
