import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { campaignProgress, createCampaign, getCampaign, listCampaigns, updateCampaign } from '../../services/campaigns.ts';
import { onReplica } from '../../services/context.ts';
import { exportResponse, exportSheets } from '../../web/campaign-export.ts';
import type { AppEnv } from '../env.ts';
import { campaignExample, campaignInputExample, campaignProgressExample, EXAMPLE_CAMPAIGN_ID } from '../examples.ts';
import { CampaignInputSchema, CampaignProgressSchema, CampaignSchema } from '../indicator-schemas.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, IDEMPOTENT, JSON_BODY, SECURED, WRITES } from '../openapi-errors.ts';
import { agencyCode, idempotencyHeaders, requireIdempotencyKey } from '../schemas.ts';

const readers = allow('campaign', 'admin');

/** The units sheet as CSV (rates as fractions; a BOM first, for spreadsheet programs). */
const CSV_EXAMPLE =
  '\uFEFFMã đơn vị,Đơn vị,c cơ sở: tỷ lệ,c hiện tại: tử số,c hiện tại: mẫu số,c hiện tại: tỷ lệ,Thay đổi,Còn cách mục tiêu,Hồ sơ TTTT cần thêm,a hiện tại: tỷ lệ,Điểm\r\n' +
  '000.00.25.H19,Sở Tài chính tỉnh Đồng Nai,0.6667,2,2,1,0.3333,-0.3,0,1,8.15\r\n';
const idParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, example: EXAMPLE_CAMPAIGN_ID }) });

const createCampaignRoute = createRoute({
  method: 'post',
  path: '/v1/campaigns',
  operationId: 'createCampaign',
  tags: ['Campaigns'],
  summary: 'Start tracking a campaign to raise the online-payment indicators of a subtree (admin)',
  description:
    'Targets are rates (0–1). The baseline defaults to the same number of days just before the start, and must end before it. Idempotent by Idempotency-Key.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: {
    headers: idempotencyHeaders('campaign-2026-11'),
    body: { required: true, content: { 'application/json': { schema: CampaignInputSchema, example: campaignInputExample } } },
  },
  responses: {
    201: {
      description: 'Created (or the replay of the first request)',
      content: { 'application/json': { schema: CampaignSchema, example: campaignExample } },
    },
    ...errorResponses([...SECURED, ...JSON_BODY, ...IDEMPOTENT, ...WRITES, 'unknown-agency']),
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
  request: {
    params: idParams,
    body: { required: true, content: { 'application/json': { schema: CampaignInputSchema, example: campaignInputExample } } },
  },
  responses: {
    200: {
      description: 'The campaign as it now is',
      content: { 'application/json': { schema: CampaignSchema, example: campaignExample } },
    },
    ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'not-found', 'unknown-agency']),
  },
});

const listCampaignsRoute = createRoute({
  method: 'get',
  path: '/v1/campaigns',
  operationId: 'listCampaigns',
  tags: ['Campaigns'],
  summary: 'The campaigns of agencies in your scope, latest start first',
  description: 'Every campaign whose agency lies in the subtrees of your token (all for an admin), scheduled, running or ended.',
  security: [{ bearerAuth: [] }],
  middleware: [readers] as const,
  responses: {
    200: {
      description: 'Campaigns',
      content: { 'application/json': { schema: z.object({ items: z.array(CampaignSchema) }), example: { items: [campaignExample] } } },
    },
    ...errorResponses(SECURED),
  },
});

const getCampaignRoute = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}',
  operationId: 'getCampaign',
  tags: ['Campaigns'],
  summary: 'Read a campaign',
  description: 'Its definition: agency, dates, baseline and targets. Where it stands is `/progress`.',
  security: [{ bearerAuth: [] }],
  middleware: [readers] as const,
  request: { params: idParams },
  responses: {
    200: { description: 'The campaign', content: { 'application/json': { schema: CampaignSchema, example: campaignExample } } },
    ...errorResponses([...SECURED, 'not-found']),
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
    "`projection`: the cumulative counts grown by their last 7 days' pace to the end date. `leaderboard`: the child units, best dossier rate first.",
  security: [{ bearerAuth: [] }],
  middleware: [readers] as const,
  request: {
    params: idParams,
    query: z.object({
      agency: agencyCode.optional().openapi({ description: "A unit of the campaign's subtree (default: the campaign's agency)" }),
    }),
  },
  responses: {
    200: { description: 'Progress', content: { 'application/json': { schema: CampaignProgressSchema, example: campaignProgressExample } } },
    ...errorResponses([...SECURED, 'not-found']),
  },
});

const exportRoute = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/export',
  operationId: 'exportCampaign',
  tags: ['Campaigns'],
  summary: "The campaign's weekly report: every table as an XLSX workbook, or one as CSV",
  description:
    'The tables of `/progress` (units, procedures, daily series, targets) for the weekly report to the province, in Vietnamese headings; `format=csv` gives the one `sheet` asked for ' +
    '(UTF-8 with a byte-order mark, ISO dates, rates as fractions). XLSX has real dates and rates as numbers shown as percentages; a host without a spreadsheet writer (Workers) answers it 406.',
  security: [{ bearerAuth: [] }],
  middleware: [readers] as const,
  request: {
    params: idParams,
    query: z.object({
      agency: agencyCode.optional().openapi({ description: "A unit of the campaign's subtree (default: the campaign's agency)" }),
      format: z.enum(['csv', 'xlsx']).openapi({ example: 'xlsx' }),
      sheet: z.enum(exportSheets).default('units').openapi({ description: 'The table a CSV holds (XLSX holds them all)' }),
    }),
  },
  responses: {
    200: {
      description: 'The report',
      content: {
        'text/csv': { schema: z.string(), example: CSV_EXAMPLE },
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
          schema: z.string().openapi({ format: 'binary' }),
          example: '(an XLSX workbook)',
        },
      },
    },
    ...errorResponses([...SECURED, 'not-found', 'not-acceptable']),
  },
});

export function registerCampaignRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(createCampaignRoute, async (c) => {
    const key = requireIdempotencyKey(c.req.valid('header'));
    return c.json(await createCampaign(c.get('ctx'), principalOf(c), c.req.valid('json'), key), 201);
  });
  app.openapi(updateCampaignRoute, async (c) =>
    c.json(await updateCampaign(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(listCampaignsRoute, async (c) => c.json({ items: await listCampaigns(c.get('ctx'), principalOf(c)) }, 200));
  app.openapi(getCampaignRoute, async (c) => c.json(await getCampaign(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200));
  app.openapi(progressRoute, async (c) =>
    c.json(
      await onReplica(c.get('ctx'), (ctx) => campaignProgress(ctx, principalOf(c), c.req.valid('param').id, c.req.valid('query').agency)),
      200,
    ),
  );
  app.openapi(exportRoute, async (c) => {
    const { format, sheet, agency } = c.req.valid('query');
    const progress = await onReplica(c.get('ctx'), (ctx) => campaignProgress(ctx, principalOf(c), c.req.valid('param').id, agency));
    return (await exportResponse(c, c.get('ctx').spreadsheets, progress, format, sheet)) as never;
  });
}
