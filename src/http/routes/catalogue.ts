import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { addFeeRule, getProcedure, listAgencies, listProcedures, putProcedure, updateFeeRule } from '../../services/catalogue.ts';
import type { AppEnv } from '../env.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import {
  AgencySchema,
  FeeRuleInputSchema,
  FeeRuleSchema,
  ProcedureInputSchema,
  ProcedureSchema,
  procedureCode,
  securedErrors,
} from '../schemas.ts';

const everyone = allow('portal', 'treasury', 'campaign', 'admin');
const codeParams = z.object({ code: procedureCode.openapi({ param: { name: 'code', in: 'path' } }) });

const listAgenciesRoute = createRoute({
  method: 'get',
  path: '/v1/agencies',
  operationId: 'listAgencies',
  tags: ['Catalogue'],
  summary: 'The agencies of your scope (the whole tree for an admin), parents first',
  security: [{ bearerAuth: [] }],
  middleware: [everyone] as const,
  responses: {
    200: { description: 'Agencies', content: { 'application/json': { schema: z.object({ items: z.array(AgencySchema) }) } } },
    ...securedErrors,
  },
});

const listProceduresRoute = createRoute({
  method: 'get',
  path: '/v1/procedures',
  operationId: 'listProcedures',
  tags: ['Catalogue'],
  summary: 'Procedures (TTHC) with their fee rules',
  security: [{ bearerAuth: [] }],
  middleware: [everyone] as const,
  request: { query: z.object({ field: z.string().max(200).optional() }) },
  responses: {
    200: { description: 'Procedures', content: { 'application/json': { schema: z.object({ items: z.array(ProcedureSchema) }) } } },
    ...securedErrors,
  },
});

const getProcedureRoute = createRoute({
  method: 'get',
  path: '/v1/procedures/{code}',
  operationId: 'getProcedure',
  tags: ['Catalogue'],
  summary: 'One procedure with its fee rules',
  security: [{ bearerAuth: [] }],
  middleware: [everyone] as const,
  request: { params: codeParams },
  responses: {
    200: { description: 'The procedure', content: { 'application/json': { schema: ProcedureSchema } } },
    ...securedErrors,
  },
});

const putProcedureRoute = createRoute({
  method: 'put',
  path: '/v1/procedures/{code}',
  operationId: 'putProcedure',
  tags: ['Catalogue'],
  summary: 'Create or update a procedure (admin)',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: { params: codeParams, body: { required: true, content: { 'application/json': { schema: ProcedureInputSchema } } } },
  responses: {
    200: { description: 'Updated', content: { 'application/json': { schema: ProcedureSchema } } },
    201: { description: 'Created', content: { 'application/json': { schema: ProcedureSchema } } },
    ...securedErrors,
  },
});

const addFeeRuleRoute = createRoute({
  method: 'post',
  path: '/v1/procedures/{code}/fee-rules',
  operationId: 'addFeeRule',
  tags: ['Catalogue'],
  summary: 'Add a fee rule to a procedure (admin). Rules are retired by ending their validity, never deleted.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: { params: codeParams, body: { required: true, content: { 'application/json': { schema: FeeRuleInputSchema } } } },
  responses: {
    201: { description: 'Added', content: { 'application/json': { schema: FeeRuleSchema } } },
    ...securedErrors,
  },
});

const updateFeeRuleRoute = createRoute({
  method: 'put',
  path: '/v1/procedures/{code}/fee-rules/{id}',
  operationId: 'updateFeeRule',
  tags: ['Catalogue'],
  summary: 'Replace a fee rule (admin). Obligations already computed keep their amounts.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: {
    params: codeParams.extend({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) }),
    body: { required: true, content: { 'application/json': { schema: FeeRuleInputSchema } } },
  },
  responses: {
    200: { description: 'Updated', content: { 'application/json': { schema: FeeRuleSchema } } },
    ...securedErrors,
  },
});

export function registerCatalogueRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(listAgenciesRoute, async (c) => c.json({ items: await listAgencies(c.get('ctx'), principalOf(c)) }, 200));
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
