import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { gatewayIds, type GatewayId } from '../../gateways/types.ts';
import { keptHeaders, receiveCallback } from '../../services/callbacks.ts';
import { ServiceError } from '../../services/errors.ts';
import type { AppEnv } from '../env.ts';

/**
 * Gateway callbacks: authenticated by the gateway's signature, nothing else (invariant 5).
 * The raw bytes are kept exactly as received, since signatures are computed over them.
 */
export function registerCallbackRoutes(app: Hono<AppEnv>) {
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
