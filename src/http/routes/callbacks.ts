import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { type GatewayId, gatewayIds } from '../../gateways/types.ts';
import { keptHeaders, receiveCallback } from '../../services/callbacks.ts';
import { ServiceError } from '../../services/errors.ts';

const gatewayParam = z.object({ gateway: z.enum(gatewayIds).openapi({ param: { name: 'gateway', in: 'path' }, example: 'sandbox' }) });

import type { AppEnv } from '../env.ts';
import { limitBodies } from '../middleware/bodies.ts';
import { clientAddress, type RateLimits } from '../middleware/rate-limits.ts';
import { errorResponses } from '../openapi-errors.ts';
import { problemResponse } from '../problem.ts';

/** The answers are each gateway's own (the sandbox's shown); the hub's own refusals are problems. */
const gatewayAnswer = (example: unknown) => ({ 'application/json': { schema: { type: 'object' as const }, example } });

/**
 * Gateway callbacks: authenticated by the gateway's signature, nothing else (invariant 5).
 * The raw bytes are kept exactly as received, since signatures are computed over them.
 */
export function registerCallbackRoutes(app: OpenAPIHono<AppEnv>, limits?: RateLimits) {
  for (const method of ['post', 'get'] as const) {
    app.openAPIRegistry.registerPath({
      method,
      path: '/v1/callbacks/{gateway}',
      operationId: method === 'post' ? 'gatewayCallback' : 'gatewayCallbackByQuery',
      tags: ['Gateway callbacks'],
      summary:
        method === 'post'
          ? 'A gateway reports a payment (signed body; no bearer token)'
          : 'A gateway reports a payment in query parameters (VNPay IPN style)',
      description:
        "Stored raw in the callback inbox before anything else, verified by the gateway's own signature, then applied once. " +
        'The answer is in the shape the gateway expects (the sandbox: `{ received, result }`).',
      security: [],
      request: {
        params: gatewayParam,
        ...(method === 'post'
          ? {
              body: {
                required: true,
                content: {
                  'application/json': {
                    schema: { type: 'object' as const, description: "The gateway's signed message, kept byte for byte" },
                    example: {
                      type: 'payment.succeeded',
                      reference: 'HPATW51CYHX4',
                      transactionId: 'SBXHPATW51CYHX4',
                      amount: 135000,
                      currency: 'VND',
                      occurredAt: '2026-11-22T03:04:00.000Z',
                    },
                  },
                },
              },
            }
          : {}),
      },
      responses: {
        200: {
          description: 'Received (applied, duplicate, unknown reference, amount mismatch…)',
          content: gatewayAnswer({ received: true, result: 'applied' }),
        },
        400: { description: 'Malformed message', content: gatewayAnswer({ received: false, error: 'malformed' }) },
        401: {
          description: 'Bad signature, or outside the time tolerance',
          content: gatewayAnswer({ received: false, error: 'bad_signature' }),
        },
        503: {
          description: 'Stored but not yet processed; the gateway should deliver again',
          content: gatewayAnswer({ received: false, error: 'try again' }),
        },
        ...errorResponses(['not-found', 'payload-too-large', 'rate-limited', 'internal-error']),
      },
    });
  }

  app.on(
    ['GET', 'POST'],
    '/v1/callbacks/:gateway',
    limitBodies(64 * 1024, () => {
      throw new ServiceError('payload-too-large', 'a gateway callback is at most 64 KiB');
    }),
    async (c) => {
      const id = c.req.param('gateway');
      const gateway = (gatewayIds as readonly string[]).includes(id) ? c.get('ctx').gateways[id as GatewayId] : undefined;
      if (!gateway) throw new ServiceError('not-found', `no gateway "${id}" is configured here`);
      const url = new URL(c.req.url);
      // A source over its limit of refused messages still gets its verified ones through: only a
      // message that fails again is answered 429 (and not kept). Refused ones are kept with their
      // source, so that who floods the inbox can be seen.
      const source = clientAddress(c, limits?.settings.trustProxy ?? false);
      const refusals = limits?.refusedCallbacks;
      const limit = refusals?.check(source);
      const { response, refused } = await receiveCallback(
        c.get('ctx'),
        gateway,
        {
          method: c.req.method,
          url: `${url.pathname}${url.search}`,
          headers: await keptHeaders(c.req.raw.headers),
          rawBody: c.req.method === 'GET' ? '' : await c.req.text(),
        },
        { source, keepRefused: !limit?.over },
      );
      if (refused && refusals) {
        if (refusals.failed(source)) {
          c.get('ctx').log.warn('rate limit: too many refused callback messages from one address', {
            gateway: gateway.id,
            source,
            limitPerMinute: refusals.limit,
          });
        }
        if (limit?.over) {
          const seconds = limit.retryAfterSeconds;
          return problemResponse(c, 'rate-limited', `too many refused callback messages from this address; retry in ${seconds} s`, [], {
            retryAfterSeconds: seconds,
          });
        }
      }
      return new Response(response.body, { status: response.status, headers: { 'content-type': response.contentType } });
    },
  );
}
