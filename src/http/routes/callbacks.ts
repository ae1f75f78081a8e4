import type { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { gatewayIds, type GatewayId } from '../../gateways/types.ts';
import { keptHeaders, receiveCallback } from '../../services/callbacks.ts';
import { ServiceError } from '../../services/errors.ts';
import { z } from '@hono/zod-openapi';

const gatewayParam = z.object({ gateway: z.enum(gatewayIds).openapi({ param: { name: 'gateway', in: 'path' } }) });
import type { AppEnv } from '../env.ts';

/**
 * Gateway callbacks: authenticated by the gateway's signature, nothing else (invariant 5).
 * The raw bytes are kept exactly as received, since signatures are computed over them.
 */
export function registerCallbackRoutes(app: OpenAPIHono<AppEnv>) {
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
        'Stored raw in the callback inbox before anything else, verified by the gateway\'s own signature, then applied once. ' +
        'The answer is in the shape the gateway expects (the sandbox: `{ received, result }`).',
      request: { params: gatewayParam },
      responses: {
        200: { description: 'Received (applied, duplicate, unknown reference, amount mismatch…)' },
        400: { description: 'Malformed message' },
        401: { description: 'Bad signature, or outside the time tolerance' },
        404: { description: 'No such gateway configured' },
        503: { description: 'Stored but not yet processed; the gateway should deliver again' },
      },
    });
  }

  app.on(
    ['GET', 'POST'],
    '/v1/callbacks/:gateway',
    bodyLimit({
      maxSize: 64 * 1024,
      onError: () => {
        throw new ServiceError('payload-too-large', 'a gateway callback is at most 64 KiB');
      },
    }),
    async (c) => {
      const id = c.req.param('gateway');
      const gateway = (gatewayIds as readonly string[]).includes(id) ? c.get('ctx').gateways[id as GatewayId] : undefined;
      if (!gateway) throw new ServiceError('not-found', `no gateway "${id}" is configured here`);
      const url = new URL(c.req.url);
      const response = await receiveCallback(c.get('ctx'), gateway, {
        method: c.req.method,
        url: `${url.pathname}${url.search}`,
        headers: keptHeaders(c.req.raw.headers),
        rawBody: c.req.method === 'GET' ? '' : await c.req.text(),
      });
      return new Response(response.body, { status: response.status, headers: { 'content-type': response.contentType } });
    },
  );
}
