import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { campaignProgress, createCampaign, getCampaign, listCampaigns, updateCampaign } from '../../services/campaigns.ts';
import { exportResponse, exportSheets } from '../../web/campaign-export.ts';
import type { AppEnv } from '../env.ts';
import { CampaignInputSchema, CampaignProgressSchema, CampaignSchema } from '../indicator-schemas.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { agencyCode, idempotencyHeaders, requireIdempotencyKey, securedErrors, unprocessableError } from '../schemas.ts';

const readers = allow('campaign', 'admin');
const idParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

const createCampaignRoute = createRoute({
  method: 'post',
  path: '/v1/campaigns',
  operationId: 'createCampaign',
  tags: ['Campaigns'],
  summary: 'Start tracking a campaign to raise the online-payment indicators of a subtree (admin)',
  description: 'Targets are rates (0–1). The baseline defaults to the same number of days just before the start, and must end before it. Idempotent by Idempotency-Key.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: {
    headers: idempotencyHeaders('campaign-2026-11'),
    body: { required: true, content: { 'application/json': { schema: CampaignInputSchema } } },
  },
  responses: {
    201: { description: 'Created (or the replay of the first request)', content: { 'application/json': { schema: CampaignSchema } } },
    ...securedErrors,
    ...unprocessableError,
  },
});

const updateCampaignRoute = createRoute({
  method: 'put',
  path: '/v1/campaigns/{id}',
  operationId: 'updateCampaign',
  tags: ['Campaigns'],
  summary: "Replace a campaign's definition: name, agency, days, targets, baseline (admin)",
  description: 'The same body as at creation. Progress is computed at each request, so it follows at once.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: { params: idParams, body: { required: true, content: { 'application/json': { schema: CampaignInputSchema } } } },
  responses: {
    200: { description: 'The campaign as it now is', content: { 'application/json': { schema: CampaignSchema } } },
    ...securedErrors,
    ...unprocessableError,
  },
});

const listCampaignsRoute = createRoute({
  method: 'get',
  path: '/v1/campaigns',
  operationId: 'listCampaigns',
  tags: ['Campaigns'],
  summary: 'The campaigns of agencies in your scope, latest start first',
  security: [{ bearerAuth: [] }],
  middleware: [readers] as const,
  responses: {
    200: { description: 'Campaigns', content: { 'application/json': { schema: z.object({ items: z.array(CampaignSchema) }) } } },
    ...securedErrors,
  },
});

const getCampaignRoute = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}',
  operationId: 'getCampaign',
  tags: ['Campaigns'],
  summary: 'Read a campaign',
  security: [{ bearerAuth: [] }],
  middleware: [readers] as const,
  request: { params: idParams },
  responses: {
    200: { description: 'The campaign', content: { 'application/json': { schema: CampaignSchema } } },
    ...securedErrors,
  },
});

const progressRoute = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/progress',
  operationId: 'campaignProgress',
  tags: ['Campaigns'],
  summary: 'Where the campaign stands: baseline, daily series, targets, projection, leaderboard, action lists',
  description:
    'Computed from the daily roll-ups at each request. `series`: each day since the start, cumulative and of the day alone. ' +
    '`projection`: the cumulative counts grown by their last 7 days\' pace to the end date. `leaderboard`: the child units, best dossier rate first.',
  security: [{ bearerAuth: [] }],
  middleware: [readers] as const,
  request: { params: idParams, query: z.object({ agency: agencyCode.optional().openapi({ description: "A unit of the campaign's subtree (default: the campaign's agency)" }) }) },
  responses: {
    200: { description: 'Progress', content: { 'application/json': { schema: CampaignProgressSchema } } },
    ...securedErrors,
  },
});

const exportRoute = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/export',
  operationId: 'exportCampaign',
  tags: ['Campaigns'],
  summary: "The campaign's weekly report: every table as an XLSX workbook, or one as CSV",
  security: [{ bearerAuth: [] }],
  middleware: [readers] as const,
  request: {
    params: idParams,
    query: z.object({
      agency: agencyCode.optional().openapi({ description: "A unit of the campaign's subtree (default: the campaign's agency)" }),
      format: z.enum(['csv', 'xlsx']),
      sheet: z.enum(exportSheets).default('units').openapi({ description: 'The table a CSV holds (XLSX holds them all)' }),
    }),
  },
  responses: {
    200: {
      description: 'The report',
      content: {
        'text/csv': { schema: z.string() },
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: z.string().openapi({ format: 'binary' }) },
      },
    },
    ...securedErrors,
  },
});

export function registerCampaignRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(createCampaignRoute, async (c) => {
    const key = requireIdempotencyKey(c.req.valid('header'));
    return c.json(await createCampaign(c.get('ctx'), principalOf(c), c.req.valid('json'), key), 201);
  });
  app.openapi(updateCampaignRoute, async (c) => c.json(await updateCampaign(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('json')), 200));
  app.openapi(listCampaignsRoute, async (c) => c.json({ items: await listCampaigns(c.get('ctx'), principalOf(c)) }, 200));
  app.openapi(getCampaignRoute, async (c) => c.json(await getCampaign(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200));
  app.openapi(progressRoute, async (c) =>
    c.json(await campaignProgress(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('query').agency), 200),
  );
  app.openapi(exportRoute, async (c) => {
    const { format, sheet, agency } = c.req.valid('query');
    const progress = await campaignProgress(c.get('ctx'), principalOf(c), c.req.valid('param').id, agency);
    return exportResponse(c, progress, format, sheet) as never;
  });
}
