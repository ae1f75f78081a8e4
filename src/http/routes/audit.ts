import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { verifyAuditChain } from '../../services/audit.ts';
import { listAuditEntries } from '../../services/treasury-lists.ts';
import type { AppEnv } from '../env.ts';
import { auditPageExample, chainBrokenExample, chainHoldsExample } from '../examples.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, SECURED } from '../openapi-errors.ts';
import { AuditListQuerySchema, AuditPageSchema, ChainVerificationSchema, pageRequest } from '../treasury-schemas.ts';

const listAuditRoute = createRoute({
  method: 'get',
  path: '/v1/audit',
  operationId: 'listAuditEntries',
  tags: ['Audit'],
  summary: 'The audit log: every action of a person on money, newest first',
  description:
    'Who acted, when, what on which resource, the reason given, and the state before and after, with the hash chain that makes an edit evident. ' +
    "Newest first by id (the chain's order); `limit` per page (default 50, at most 200) and the opaque `nextCursor` for the next page. " +
    "Scoped by the agency each row was recorded under; rows of the province as a whole (no agency) are an admin's only.",
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: { query: AuditListQuerySchema },
  responses: {
    200: { description: 'A page of the log', content: { 'application/json': { schema: AuditPageSchema, example: auditPageExample } } },
    ...errorResponses(SECURED),
  },
});

const verificationRoute = createRoute({
  method: 'get',
  path: '/v1/audit/verification',
  operationId: 'verifyAuditChain',
  tags: ['Audit'],
  summary: "Recompute the audit log's hash chain and name the first broken row (admin)",
  description:
    "Every row's hash is recomputed from its content and the previous row's hash, oldest first: an edited row shows as `hash-mismatch`, " +
    'a removed or inserted one as `broken-link` at the row after it. It only reads, so it runs beside the live hub — the way to check an embedded ' +
    'database that `npm run audit -- verify` cannot open while the hub holds it. Answered 200 either way; `ok` says which.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  responses: {
    200: {
      description: 'The result of the check',
      content: {
        'application/json': {
          schema: ChainVerificationSchema,
          examples: {
            holds: { summary: 'The chain holds', value: chainHoldsExample },
            broken: { summary: 'Row 42 was edited', value: chainBrokenExample },
          },
        },
      },
    },
    ...errorResponses(SECURED),
  },
});

export function registerAuditRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(listAuditRoute, async (c) => {
    const q = c.req.valid('query');
    const filter = { resourceType: q.resourceType, resourceId: q.resourceId, actor: q.actor, at: { from: q.from, to: q.to } };
    return c.json(await listAuditEntries(c.get('ctx'), principalOf(c), filter, pageRequest(q)), 200);
  });
  app.openapi(verificationRoute, async (c) => c.json(await verifyAuditChain(c.get('ctx')), 200));
}
