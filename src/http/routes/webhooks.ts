import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { eventTypes } from '../../db/schema/outbox.ts';
import { listEvents } from '../../services/outbox.ts';
import { listDeliveries, resendDelivery } from '../../services/webhook-delivery.ts';
import { createEndpoint, deleteEndpoint, getEndpoint, listEndpoints, updateEndpoint } from '../../services/webhook-endpoints.ts';
import type { AppEnv } from '../env.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, IDEMPOTENT, JSON_BODY, SECURED, WRITES } from '../openapi-errors.ts';
import { agencyCode, dossierCode, EXAMPLE_DOSSIER_CODE, idempotencyHeaders, requireIdempotencyKey } from '../schemas.ts';

const EXAMPLE_ENDPOINT_ID = '7d4f3c2b-1a09-4e8d-9c7b-6a5f4e3d2c1b';
const EXAMPLE_DELIVERY_ID = '2b3c4d5e-6f70-4a8b-9c0d-1e2f3a4b5c6d';
const EXAMPLE_EVENT_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

const idParams = (example: string) => z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, example }) });

const EventTypeSchema = z.enum(eventTypes).openapi('EventType');

const secret = z.string().min(24, 'at least 24 characters').max(256);

const EndpointInputSchema = z
  .object({
    url: z.url().max(2000).openapi({
      description: 'https, on a host under WEBHOOK_ALLOWED_HOSTS (http only to a loopback host, outside production)',
      example: 'https://motcua.dongnai.gov.vn/hub-events',
    }),
    agencyCode: agencyCode.openapi({ description: "The agency whose subtree's dossiers the endpoint hears of" }),
    events: z.array(EventTypeSchema).min(1).max(eventTypes.length),
    secrets: z
      .array(secret)
      .min(1)
      .max(5)
      .openapi({ description: 'Signing secrets: every delivery carries one `v1=` per secret (give the new and the old while rotating)' }),
    description: z.string().trim().max(500).nullable().optional(),
    active: z.boolean().optional().openapi({ description: 'false pauses deliveries (they wait, nothing is lost); default true' }),
  })
  .openapi('WebhookEndpointInput');

const EndpointSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    agencyCode: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    active: z.boolean(),
    secretFingerprints: z
      .array(z.string())
      .openapi({ description: 'The first 12 hex digits of each secret’s SHA-256: which secrets are set, never the secrets' }),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('WebhookEndpoint');

const endpointExample: z.infer<typeof EndpointSchema> = {
  id: EXAMPLE_ENDPOINT_ID,
  url: 'https://motcua.dongnai.gov.vn/hub-events',
  agencyCode: '000.00.00.H19',
  events: ['dossier.paid', 'obligation.paid', 'receipt.issued'],
  description: 'Hệ thống một cửa điện tử tỉnh Đồng Nai',
  active: true,
  secretFingerprints: ['3f9a0c1d2e4b'],
  createdBy: 'admin:nguyen.van.a',
  createdAt: '2026-12-05T02:00:00.000Z',
  updatedAt: '2026-12-05T02:00:00.000Z',
};

const AttemptSchema = z.object({
  attemptedAt: z.string(),
  latencyMs: z.number().int(),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  succeeded: z.boolean(),
});

const DeliverySchema = z
  .object({
    id: z.uuid(),
    endpointId: z.uuid(),
    eventId: z.uuid(),
    eventType: z.string(),
    dossierCode: z.string(),
    state: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    attemptLog: z.array(AttemptSchema),
  })
  .openapi('WebhookDelivery');

const deliveryExample: z.infer<typeof DeliverySchema> = {
  id: EXAMPLE_DELIVERY_ID,
  endpointId: EXAMPLE_ENDPOINT_ID,
  eventId: EXAMPLE_EVENT_ID,
  eventType: 'dossier.paid',
  dossierCode: EXAMPLE_DOSSIER_CODE,
  state: 'failed',
  attempts: 8,
  nextAttemptAt: null,
  lastStatus: 503,
  lastError: 'HTTP 503',
  createdAt: '2026-12-03T02:00:00.000Z',
  completedAt: '2026-12-05T01:12:00.000Z',
  attemptLog: [{ attemptedAt: '2026-12-03T02:00:00.000Z', latencyMs: 41, statusCode: 503, error: 'HTTP 503', succeeded: false }],
};

const EventSchema = z
  .object({
    id: z.uuid().openapi({ description: 'The event id: receivers de-duplicate on it (a delivery may come more than once)' }),
    type: EventTypeSchema,
    occurredAt: z.string().openapi({ description: 'When the change was made' }),
    seq: z.number().int().openapi({ description: "Order of the dossier's changes: a later change of a dossier has a larger seq" }),
    dossierCode: z.string(),
    procedureCode: z.string(),
    agencyCode: z.string(),
    gateway: z.string().nullable(),
    amount: z.number().int().nullable().openapi({
      description: "The event's amount in VND: the line, the payment, the refund, the receipt; for dossier.paid all that is paid",
    }),
    DuocThanhToanTrucTuyen: z
      .number()
      .int()
      .openapi({ description: "766 flag of the dossier after the change: 0, 1 national platform, 2 province's gateway" }),
    dossierAmounts: z.object({ due: z.number().int(), paid: z.number().int(), unpaid: z.number().int(), refunded: z.number().int() }),
    data: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'What the change is about: the payment, the fee line, the receipt (series, number, lookupUrl), the review' }),
  })
  .openapi('HubEvent');

const eventExample: z.infer<typeof EventSchema> = {
  id: EXAMPLE_EVENT_ID,
  type: 'dossier.paid',
  occurredAt: '2026-12-05T02:15:00.000Z',
  seq: 1042,
  dossierCode: EXAMPLE_DOSSIER_CODE,
  procedureCode: '3.000347',
  agencyCode: '000.01.15.H19',
  gateway: 'vnpay',
  amount: 135000,
  DuocThanhToanTrucTuyen: 2,
  dossierAmounts: { due: 135000, paid: 135000, unpaid: 0, refunded: 0 },
  data: { intentId: '5b1d7e0a-3c2f-4d6e-8a9b-0c1d2e3f4a5b', reference: 'HPATW51CYHX4', status: 'succeeded', paymentAmount: 135000 },
};

const admins = allow('admin');

const createEndpointRoute = createRoute({
  method: 'post',
  path: '/v1/webhook-endpoints',
  operationId: 'createWebhookEndpoint',
  tags: ['Events'],
  summary: "Register a dossier system's endpoint for an agency's subtree (admin)",
  description:
    'Every event of the chosen types about a dossier of the subtree is POSTed to the URL, signed (`Hub-Signature: t=<unix time>,v1=<hex>`, ' +
    'HMAC-SHA256 of `<t>.<raw body>` under each secret), retried on failure, in order per dossier. The host is checked against ' +
    'WEBHOOK_ALLOWED_HOSTS now and before every delivery. Idempotent by Idempotency-Key. Audited.',
  security: [{ bearerAuth: [] }],
  middleware: [admins] as const,
  request: {
    headers: idempotencyHeaders('register-motcua-2026-12'),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: EndpointInputSchema,
          example: {
            url: 'https://motcua.dongnai.gov.vn/hub-events',
            agencyCode: '000.00.00.H19',
            events: ['dossier.paid', 'obligation.paid', 'receipt.issued'],
            secrets: ['whsec-2026-12-a-long-random-secret-0123456789'],
          },
        },
      },
    },
  },
  responses: {
    201: {
      description: 'Registered (or the replay of the first request)',
      content: { 'application/json': { schema: EndpointSchema, example: endpointExample } },
    },
    ...errorResponses([...SECURED, ...JSON_BODY, ...IDEMPOTENT, ...WRITES, 'unknown-agency']),
  },
});

const listEndpointsRoute = createRoute({
  method: 'get',
  path: '/v1/webhook-endpoints',
  operationId: 'listWebhookEndpoints',
  tags: ['Events'],
  summary: 'The registered endpoints (admin)',
  description: 'Every endpoint not deleted, newest first; secrets only as fingerprints.',
  security: [{ bearerAuth: [] }],
  middleware: [admins] as const,
  responses: {
    200: {
      description: 'Newest first',
      content: { 'application/json': { schema: z.object({ data: z.array(EndpointSchema) }), example: { data: [endpointExample] } } },
    },
    ...errorResponses([...SECURED]),
  },
});

const getEndpointRoute = createRoute({
  method: 'get',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'getWebhookEndpoint',
  tags: ['Events'],
  summary: 'One endpoint (admin)',
  description: 'The endpoint as registered and last changed; secrets only as fingerprints. 404 once deleted.',
  security: [{ bearerAuth: [] }],
  middleware: [admins] as const,
  request: { params: idParams(EXAMPLE_ENDPOINT_ID) },
  responses: {
    200: { description: 'The endpoint', content: { 'application/json': { schema: EndpointSchema, example: endpointExample } } },
    ...errorResponses([...SECURED]),
  },
});

const updateEndpointRoute = createRoute({
  method: 'patch',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'updateWebhookEndpoint',
  tags: ['Events'],
  summary: 'Change an endpoint: URL, agency, events, secrets (rotation), pause (admin)',
  description: 'Only the fields given change; `secrets` replaces the list. Audited (secrets by fingerprint only).',
  security: [{ bearerAuth: [] }],
  middleware: [admins] as const,
  request: {
    params: idParams(EXAMPLE_ENDPOINT_ID),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: EndpointInputSchema.partial().openapi('WebhookEndpointChange'),
          example: { secrets: ['whsec-2026-12-b-the-new-secret-0123456789', 'whsec-2026-12-a-long-random-secret-0123456789'] },
        },
      },
    },
  },
  responses: {
    200: {
      description: 'The endpoint as it now is',
      content: { 'application/json': { schema: EndpointSchema, example: endpointExample } },
    },
    ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'unknown-agency']),
  },
});

const deleteEndpointRoute = createRoute({
  method: 'delete',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'deleteWebhookEndpoint',
  tags: ['Events'],
  summary: 'Delete an endpoint (admin)',
  description: 'Nothing more is sent to it; what was still pending is marked failed. Its deliveries stay on record. Audited.',
  security: [{ bearerAuth: [] }],
  middleware: [admins] as const,
  request: { params: idParams(EXAMPLE_ENDPOINT_ID) },
  responses: { 204: { description: 'Deleted' }, ...errorResponses([...SECURED, ...WRITES]) },
});

const listDeliveriesRoute = createRoute({
  method: 'get',
  path: '/v1/webhook-endpoints/{id}/deliveries',
  operationId: 'listWebhookDeliveries',
  tags: ['Events'],
  summary: "An endpoint's recent deliveries and every attempt (admin)",
  description:
    'Newest first, each with its attempts (time, status code, latency, error); `state=failed` lists those a person should re-send.',
  security: [{ bearerAuth: [] }],
  middleware: [admins] as const,
  request: {
    params: idParams(EXAMPLE_ENDPOINT_ID),
    query: z.object({
      state: z.enum(['pending', 'succeeded', 'failed']).optional(),
      limit: z.coerce.number().int().min(1).max(500).optional(),
    }),
  },
  responses: {
    200: {
      description: 'Newest first',
      content: { 'application/json': { schema: z.object({ data: z.array(DeliverySchema) }), example: { data: [deliveryExample] } } },
    },
    ...errorResponses([...SECURED]),
  },
});

const resendRoute = createRoute({
  method: 'post',
  path: '/v1/webhook-deliveries/{id}/resend',
  operationId: 'resendWebhookDelivery',
  tags: ['Events'],
  summary: 'Send a delivery again now: a failed one, or a pending one before its turn (admin)',
  description: 'A new round of the retry schedule; 409 for a delivery that succeeded. Audited.',
  security: [{ bearerAuth: [] }],
  middleware: [admins] as const,
  request: { params: idParams(EXAMPLE_DELIVERY_ID) },
  responses: {
    200: {
      description: 'The delivery, pending again',
      content: { 'application/json': { schema: DeliverySchema, example: { ...deliveryExample, state: 'pending' as const } } },
    },
    ...errorResponses([...SECURED, ...WRITES, 'conflict']),
  },
});

const eventsRoute = createRoute({
  method: 'get',
  path: '/v1/events',
  operationId: 'listEvents',
  tags: ['Events'],
  summary: 'Catch up on events: what a dossier system missed, page by page',
  description:
    'The events of the caller’s agencies of the last EVENT_RETENTION_DAYS (30) days, in commit-safe order: follow `next` (as `since`) until `data` is empty, ' +
    'and every event comes exactly once across the pages; an event is served once its transaction and every one before it have ended. ' +
    'The same events a webhook delivers, with the same ids: de-duplicate on `id`.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'treasury', 'admin')] as const,
  request: {
    query: z.object({
      since: z.string().max(64).optional().openapi({ description: 'The `next` of the previous page' }),
      dossier: dossierCode.optional(),
      type: EventTypeSchema.optional(),
      limit: z.coerce.number().int().min(1).max(1000).optional().openapi({ description: 'Default 100' }),
    }),
  },
  responses: {
    200: {
      description: 'A page of events and the cursor of the next',
      content: {
        'application/json': {
          schema: z.object({ data: z.array(EventSchema), next: z.string() }).openapi('EventPage'),
          example: { data: [eventExample], next: 'MTIzNDU2LjEwNDI' },
        },
      },
    },
    ...errorResponses([...SECURED]),
  },
});

export function registerWebhookRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(createEndpointRoute, async (c) => {
    const key = requireIdempotencyKey(c.req.valid('header'));
    return c.json(await createEndpoint(c.get('ctx'), principalOf(c), c.req.valid('json'), key), 201);
  });
  app.openapi(listEndpointsRoute, async (c) => c.json({ data: await listEndpoints(c.get('ctx')) }, 200));
  app.openapi(getEndpointRoute, async (c) => c.json(await getEndpoint(c.get('ctx'), c.req.valid('param').id), 200));
  app.openapi(updateEndpointRoute, async (c) =>
    c.json(await updateEndpoint(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(deleteEndpointRoute, async (c) => {
    await deleteEndpoint(c.get('ctx'), principalOf(c), c.req.valid('param').id);
    return c.body(null, 204);
  });
  app.openapi(listDeliveriesRoute, async (c) => {
    const { id } = c.req.valid('param');
    await getEndpoint(c.get('ctx'), id);
    return c.json({ data: await listDeliveries(c.get('ctx'), { endpointId: id, ...c.req.valid('query') }) }, 200);
  });
  app.openapi(resendRoute, async (c) => c.json(await resendDelivery(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200));
  app.openapi(eventsRoute, async (c) => c.json((await listEvents(c.get('ctx'), principalOf(c), c.req.valid('query'))) as never, 200));
}
