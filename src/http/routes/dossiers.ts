import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { getDossier, getDvcqgSync, putDossier } from '../../services/dossiers.ts';
import type { AppEnv } from '../env.ts';
import { dossierExample, dossierInputExample, dvcqgSyncExample, NEW_DOSSIER_CODE, registeredDossierExample } from '../examples.ts';
import { DvcqgSyncSchema } from '../indicator-schemas.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, JSON_BODY, SECURED, WRITES } from '../openapi-errors.ts';
import { DossierInputSchema, DossierSchema, dossierCode } from '../schemas.ts';

const params = z.object({ code: dossierCode.openapi({ param: { name: 'code', in: 'path' } }) });
/** Registering names a new dossier, not the demo's example one. */
const newParams = z.object({ code: dossierCode.openapi({ param: { name: 'code', in: 'path' }, example: NEW_DOSSIER_CODE }) });

const putRoute = createRoute({
  method: 'put',
  path: '/v1/dossiers/{code}',
  operationId: 'putDossier',
  tags: ['Dossiers'],
  summary: 'Register or update a dossier and compute its fee obligations',
  description:
    'Obligations come from the fee rules valid on the receipt date (Asia/Ho_Chi_Minh) for the channel. ' +
    'The same body again changes nothing; changing fee inputs after an obligation is paid or held by a live intent is refused (409).',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'admin')] as const,
  request: {
    params: newParams,
    body: { required: true, content: { 'application/json': { schema: DossierInputSchema, example: dossierInputExample } } },
  },
  responses: {
    200: {
      description: 'Updated, or unchanged',
      content: { 'application/json': { schema: DossierSchema, example: registeredDossierExample } },
    },
    201: { description: 'Registered', content: { 'application/json': { schema: DossierSchema, example: registeredDossierExample } } },
    ...errorResponses([
      ...SECURED,
      ...JSON_BODY,
      ...WRITES,
      'not-found',
      'fee-inputs-locked',
      'unknown-agency',
      'dossier-code-out-of-scope',
      'unknown-procedure',
      'fee-input-missing',
      'fee-out-of-range',
    ]),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/dossiers/{code}',
  operationId: 'getDossier',
  tags: ['Dossiers'],
  summary: 'Read a dossier with its obligations',
  description: 'The dossier with its current fee lines (superseded ones left out) and what is still due.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'treasury', 'admin')] as const,
  request: { params },
  responses: {
    200: { description: 'The dossier', content: { 'application/json': { schema: DossierSchema, example: dossierExample } } },
    ...errorResponses([...SECURED, 'not-found']),
  },
});

const syncRoute = createRoute({
  method: 'get',
  path: '/v1/dossiers/{code}/dvcqg-sync',
  operationId: 'getDossierDvcqgSync',
  tags: ['Dossiers', 'Indicators'],
  summary: 'The fields the dossier system synchronises to the national portal for the 766 indicators',
  description:
    'MaHoSo, MaTTHC, KenhThucHien (1 in person, 2 online, 3 postal), every fee line (zero-priced ones included, since the portal leaves a ' +
    'dossier priced all zero out of indicator c) and DuocThanhToanTrucTuyen (0 not paid online, 1 national platform, 2 province gateway).',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'campaign', 'admin')] as const,
  request: { params },
  responses: {
    200: {
      description: 'The synchronised fields',
      content: { 'application/json': { schema: DvcqgSyncSchema, example: dvcqgSyncExample } },
    },
    ...errorResponses([...SECURED, 'not-found']),
  },
});

export function registerDossierRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(putRoute, async (c) => {
    const { code } = c.req.valid('param');
    const body = c.req.valid('json');
    const { dossier, created } = await putDossier(c.get('ctx'), principalOf(c), code, {
      ...body,
      receivedAt: new Date(body.receivedAt),
    });
    return c.json(dossier, created ? 201 : 200);
  });

  app.openapi(getRoute, async (c) => {
    const { code } = c.req.valid('param');
    return c.json(await getDossier(c.get('ctx'), principalOf(c), code), 200);
  });

  app.openapi(syncRoute, async (c) => c.json(await getDvcqgSync(c.get('ctx'), principalOf(c), c.req.valid('param').code), 200));
}
