import type { OpenAPIHono } from '@hono/zod-openapi';
import { readiness } from '../../services/health.ts';
import type { AppEnv } from '../env.ts';
import { errorResponses } from '../openapi-errors.ts';

/** Liveness, readiness and the public keys receipts are signed with. */
export function registerSystemRoutes(app: OpenAPIHono<AppEnv>) {
  // Plain routes (nothing to validate), documented in the OpenAPI document all the same.
  const registry = app.openAPIRegistry;
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    tags: ['Operations'],
    summary: 'The process is alive',
    description: 'For a liveness probe: answers without touching the database. Public.',
    security: [],
    responses: {
      200: {
        description: 'Alive',
        content: {
          'application/json': { schema: { type: 'object', properties: { status: { type: 'string' } } }, example: { status: 'ok' } },
        },
      },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    tags: ['Operations'],
    summary: 'The database is reachable and every migration is applied',
    description: 'For a readiness probe: counts the applied migrations against the ones this build expects. Public.',
    security: [],
    responses: {
      200: {
        description: 'Ready',
        content: {
          'application/json': {
            schema: { type: 'object' },
            example: { status: 'ready', database: 'reachable', migrations: { applied: 11, expected: 11 } },
          },
        },
      },
      ...errorResponses(['service-unavailable']),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/.well-known/jwks.json',
    operationId: 'receiptKeys',
    tags: ['Operations'],
    summary: 'Public keys that verify receipt signatures and hubResult (JWS ES256)',
    description:
      "The JSON Web Key Set of the receipt signing keys, by `kid`; the hub's own key also signs the `hubResult` a payer's " +
      'browser brings back to the portal (`/v1/returns/{gateway}`). Cached for five minutes. Public.',
    security: [],
    responses: {
      200: {
        description: 'JSON Web Key Set',
        content: {
          'application/json': {
            schema: { type: 'object' },
            example: {
              keys: [
                {
                  kty: 'EC',
                  crv: 'P-256',
                  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
                  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
                  kid: 'Jq3pWc8bX2kS7vN4mR9tY1uZ6aE5dF0gH8iK3lM2nO4',
                  alg: 'ES256',
                  use: 'sig',
                },
              ],
            },
          },
        },
      },
    },
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const migrations = await readiness(c.get('ctx'));
    return c.json({ status: 'ready', database: 'reachable', migrations });
  });

  app.get('/.well-known/jwks.json', (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json(c.get('ctx').signer.jwks());
  });
}
