import type { OpenAPIHono } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import type { Context } from 'hono';
import manifest from '../../../package.json' with { type: 'json' };
import { cspNonce } from '../csp.ts';
import type { AppEnv, DocsDeps } from '../env.ts';
import { errorResponses } from '../openapi-errors.ts';

/**
 * `/docs`: the interactive API reference, Scalar's (a maintained library) rendered by its Hono
 * integration over /openapi.json. The hub serves Scalar's browser bundle itself: the demo runs
 * offline, and a reference that phones a CDN (or Scalar's fonts, telemetry and AI agent) leaks
 * who reads it. On Node the bundle is read from node_modules (`deps.docs.bundle`); on Workers it
 * is a static asset (`npm run build:assets`, `[assets]` in wrangler.toml), never in the Worker.
 */

/** Pinned exactly in package.json; it names the asset, so the asset can be cached for good. */
export const SCALAR_VERSION: string = manifest.dependencies['@scalar/api-reference'];
export const SCALAR_BUNDLE_PATH = `/docs/assets/scalar-api-reference-${SCALAR_VERSION}.js`;
/** A year, and `immutable`: a new Scalar version is a new path. */
export const SCALAR_BUNDLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * Only the hub itself: Scalar's bundle and its inline start (with the nonce), /openapi.json and
 * the "try it" requests (connect-src). Scalar injects its styles at run time, hence
 * 'unsafe-inline' for styles (a nonce there would turn 'unsafe-inline' off).
 */
function securityHeaders(c: Context<AppEnv>, nonce: string) {
  c.header(
    'content-security-policy',
    `default-src 'none'; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'`,
  );
  c.header('referrer-policy', 'no-referrer');
  c.header('x-content-type-options', 'nosniff');
  c.header('cache-control', 'no-store');
}

export function registerDocsRoutes(app: OpenAPIHono<AppEnv>, options: { title: string; docs?: DocsDeps }) {
  const registry = app.openAPIRegistry;
  registry.registerPath({
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    tags: ['Operations'],
    summary: 'This document: OpenAPI 3.1, generated from the request and response schemas',
    description: 'What /docs renders, and what any OpenAPI tool reads. Public.',
    security: [],
    responses: {
      200: {
        description: 'The OpenAPI document',
        content: {
          'application/json': {
            schema: { type: 'object' },
            example: { openapi: '3.1.0', info: { title: options.title, version: '0.1.0' }, paths: {} },
          },
        },
      },
      ...errorResponses(['internal-error']),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/docs',
    operationId: 'apiReference',
    tags: ['Operations'],
    summary: 'The interactive API reference (Scalar), served by the hub with no outside requests',
    description:
      'A page for people: every operation with its schemas and examples, and "Test Request" panels that call this hub with a bearer token. Public.',
    security: [],
    responses: {
      200: { description: 'The reference page', content: { 'text/html': { schema: { type: 'string' }, example: '<!doctype html>…' } } },
      ...errorResponses(['internal-error']),
    },
  });

  const reference = {
    url: '/openapi.json',
    cdn: SCALAR_BUNDLE_PATH,
    pageTitle: `${options.title} — API reference`,
    // Nothing from outside: no web fonts, no telemetry, no AI agent, no developer toolbar.
    withDefaultFonts: false,
    telemetry: false,
    agent: { disabled: true },
    showDeveloperTools: 'never',
    documentDownloadType: 'json',
    showOperationId: true,
    authentication: { preferredSecurityScheme: 'bearerAuth' },
  } as const;

  app.get('/docs', (c, next) => {
    const nonce = cspNonce();
    securityHeaders(c, nonce);
    return Scalar<AppEnv>({ ...reference, nonce })(c, next);
  });

  // On Workers the static asset answers before the Worker runs; without a reader, a 404.
  const bundle = options.docs?.bundle;
  if (bundle) {
    app.get(SCALAR_BUNDLE_PATH, async (c) => {
      return c.body(await bundle(), 200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': SCALAR_BUNDLE_CACHE_CONTROL,
        'x-content-type-options': 'nosniff',
      });
    });
  }

  app.get('/', (c) => c.redirect('/docs'));
}
