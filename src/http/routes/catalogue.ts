import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  addFeeRule,
  getProcedure,
  listAgencies,
  listProcedures,
  putProcedure,
  updateAgencySettings,
  updateFeeRule,
} from '../../services/catalogue.ts';
import type { AppEnv } from '../env.ts';
import {
  agenciesExample,
  EXAMPLE_FEE_RULE_ID,
  feeRuleExample,
  feeRuleInputExample,
  procedureExample,
  procedureInputExample,
} from '../examples.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, JSON_BODY, SECURED, WRITES } from '../openapi-errors.ts';
import {
  AgencySchema,
  AgencySettingsInputSchema,
  agencyCode,
  FeeRuleInputSchema,
  FeeRuleSchema,
  ProcedureInputSchema,
  ProcedureSchema,
  procedureCode,
} from '../schemas.ts';

const everyone = allow('portal', 'treasury', 'campaign', 'admin');
const codeParams = z.object({ code: procedureCode.openapi({ param: { name: 'code', in: 'path' } }) });

const listAgenciesRoute = createRoute({
  method: 'get',
  path: '/v1/agencies',
  operationId: 'listAgencies',
  tags: ['Catalogue'],
  summary: 'The agencies of your scope (the whole tree for an admin), parents first',
  description:
    'The subtrees of the agencies in your token, each agency with its parent and depth; closed agencies (merged in the 2025 reorganisation) carry `validTo` and `mergedInto`.',
  security: [{ bearerAuth: [] }],
  middleware: [everyone] as const,
  responses: {
    200: {
      description: 'Agencies',
      content: { 'application/json': { schema: z.object({ items: z.array(AgencySchema) }), example: agenciesExample } },
    },
    ...errorResponses(SECURED),
  },
});

const agencySettingsRoute = createRoute({
  method: 'patch',
  path: '/v1/agencies/{code}',
  operationId: 'updateAgencySettings',
  tags: ['Catalogue'],
  summary: "Set an agency's own settings (admin)",
  description:
    "`issuesCounterReceipts`: whether payments recorded at its counter (POST /v1/dossiers/{code}/offline-payments) get the hub's e-receipt; " +
    "when false the paper receipt's number is kept instead. `address`, `taxCode`: what every receipt of the agency prints as its collecting organisation's (Decree 254/2026/NĐ-CP Art. 23). " +
    '`receiptFormSymbol`, `receiptSeriesSymbol`: its registered symbols (null: the configured defaults, `EBL01` and the year + `T` + letters); a series symbol that starts with two digits carries its year there. ' +
    "`receiptDelegation`: the written delegation under which the hub issues its receipts with the hub's key (printed with the hub's operator as issuer). " +
    'Only the fields given change; each change is audited. Applies to receipts issued from then on: an issued receipt never changes.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: {
    params: z.object({ code: agencyCode.openapi({ param: { name: 'code', in: 'path' }, example: '000.00.15.H19' }) }),
    body: {
      required: true,
      content: { 'application/json': { schema: AgencySettingsInputSchema, example: { issuesCounterReceipts: true } } },
    },
  },
  responses: {
    200: {
      description: 'The agency',
      content: { 'application/json': { schema: AgencySchema, example: { ...agenciesExample.items[1]!, issuesCounterReceipts: true } } },
    },
    ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'not-found']),
  },
});

const listProceduresRoute = createRoute({
  method: 'get',
  path: '/v1/procedures',
  operationId: 'listProcedures',
  tags: ['Catalogue'],
  summary: 'Procedures (TTHC) with their fee rules',
  description:
    'The catalogue, each procedure with every fee rule (past, current and future validity) and whether it is fee-bearing as the national portal counts it.',
  security: [{ bearerAuth: [] }],
  middleware: [everyone] as const,
  request: {
    query: z.object({
      field: z.string().max(200).optional().openapi({ description: 'Only the procedures of this field', example: 'Giấy phép lái xe' }),
    }),
  },
  responses: {
    200: {
      description: 'Procedures',
      content: { 'application/json': { schema: z.object({ items: z.array(ProcedureSchema) }), example: { items: [procedureExample] } } },
    },
    ...errorResponses(SECURED),
  },
});

const getProcedureRoute = createRoute({
  method: 'get',
  path: '/v1/procedures/{code}',
  operationId: 'getProcedure',
  tags: ['Catalogue'],
  summary: 'One procedure with its fee rules',
  description: 'The procedure by its national code, with all its fee rules.',
  security: [{ bearerAuth: [] }],
  middleware: [everyone] as const,
  request: { params: codeParams },
  responses: {
    200: { description: 'The procedure', content: { 'application/json': { schema: ProcedureSchema, example: procedureExample } } },
    ...errorResponses(SECURED),
  },
});

const putProcedureRoute = createRoute({
  method: 'put',
  path: '/v1/procedures/{code}',
  operationId: 'putProcedure',
  tags: ['Catalogue'],
  summary: 'Create or update a procedure (admin)',
  description: "The procedure's own fields; its fee rules are added and replaced through `/fee-rules`. Answers 201 when the code is new.",
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: {
    params: codeParams,
    body: { required: true, content: { 'application/json': { schema: ProcedureInputSchema, example: procedureInputExample } } },
  },
  responses: {
    200: { description: 'Updated', content: { 'application/json': { schema: ProcedureSchema, example: procedureExample } } },
    201: {
      description: 'Created',
      content: { 'application/json': { schema: ProcedureSchema, example: { ...procedureExample, feeRules: [] } } },
    },
    ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES]),
  },
});

const addFeeRuleRoute = createRoute({
  method: 'post',
  path: '/v1/procedures/{code}/fee-rules',
  operationId: 'addFeeRule',
  tags: ['Catalogue'],
  summary: 'Add a fee rule to a procedure (admin). Rules are retired by ending their validity, never deleted.',
  description:
    'The formula (fixed, per unit with tiers, percentage, table, exempt), adjustments by channel, dates or payer category, the rounding and the legal basis. Dossiers received on or after `validFrom` are priced with it.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: {
    params: codeParams,
    body: { required: true, content: { 'application/json': { schema: FeeRuleInputSchema, example: feeRuleInputExample } } },
  },
  responses: {
    201: { description: 'Added', content: { 'application/json': { schema: FeeRuleSchema, example: feeRuleExample } } },
    ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'not-found']),
  },
});

const updateFeeRuleRoute = createRoute({
  method: 'put',
  path: '/v1/procedures/{code}/fee-rules/{id}',
  operationId: 'updateFeeRule',
  tags: ['Catalogue'],
  summary: 'Replace a fee rule (admin). Obligations already computed keep their amounts.',
  description: 'The whole rule, as when it was added. A dossier registered or updated afterwards is priced with the new rule.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: {
    params: codeParams.extend({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, example: EXAMPLE_FEE_RULE_ID }) }),
    body: { required: true, content: { 'application/json': { schema: FeeRuleInputSchema, example: feeRuleInputExample } } },
  },
  responses: {
    200: { description: 'Updated', content: { 'application/json': { schema: FeeRuleSchema, example: feeRuleExample } } },
    ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'not-found']),
  },
});

export function registerCatalogueRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(listAgenciesRoute, async (c) => c.json({ items: await listAgencies(c.get('ctx'), principalOf(c)) }, 200));
  app.openapi(agencySettingsRoute, async (c) =>
    c.json(await updateAgencySettings(c.get('ctx'), principalOf(c), c.req.valid('param').code, c.req.valid('json')), 200),
  );
  app.openapi(listProceduresRoute, async (c) => c.json({ items: await listProcedures(c.get('ctx'), c.req.valid('query')) }, 200));
  app.openapi(getProcedureRoute, async (c) => c.json(await getProcedure(c.get('ctx'), c.req.valid('param').code), 200));
  app.openapi(putProcedureRoute, async (c) => {
    const { procedure, created } = await putProcedure(c.get('ctx'), c.req.valid('param').code, c.req.valid('json'));
    return c.json(procedure, created ? 201 : 200);
  });
  app.openapi(addFeeRuleRoute, async (c) => c.json(await addFeeRule(c.get('ctx'), c.req.valid('param').code, c.req.valid('json')), 201));
  app.openapi(updateFeeRuleRoute, async (c) => {
    const { code, id } = c.req.valid('param');
    return c.json(await updateFeeRule(c.get('ctx'), code, id, c.req.valid('json')), 200);
  });
}
