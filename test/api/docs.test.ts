import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import manifest from '../../package.json' with { type: 'json' };
import { httpStatus } from '../../src/http/problem.ts';
import { SCALAR_BUNDLE_PATH, SCALAR_VERSION } from '../../src/http/routes/docs.ts';
import { EXAMPLE_DOSSIER_CODE } from '../../src/http/schemas.ts';
import { installedScalarVersion, scalarBundleFile } from '../../src/node/docs-asset.ts';
import { demoExampleDossier, seedDemo } from '../../src/seed/index.ts';
import type { ErrorCode } from '../../src/services/errors.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';

/**
 * The published contract: /openapi.json describes every API route with its operationId, its
 * security, a description, examples, and every problem+json error it can answer; /docs is
 * Scalar's reference over it, served by the hub with everything it loads.
 */
let h: Harness;
let doc: any;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

const expectedOperations: Record<string, string> = {
  'PUT /v1/dossiers/{code}': 'putDossier',
  'GET /v1/dossiers/{code}': 'getDossier',
  'POST /v1/payment-intents': 'createPaymentIntent',
  'GET /v1/payment-intents/{id}': 'getPaymentIntent',
  'POST /v1/payment-intents/{id}/cancel': 'cancelPaymentIntent',
  'GET /v1/payment-intents/{id}/receipt': 'getReceipt',
  'GET /v1/agencies': 'listAgencies',
  'GET /v1/procedures': 'listProcedures',
  'GET /v1/procedures/{code}': 'getProcedure',
  'PUT /v1/procedures/{code}': 'putProcedure',
  'POST /v1/procedures/{code}/fee-rules': 'addFeeRule',
  'PUT /v1/procedures/{code}/fee-rules/{id}': 'updateFeeRule',
};

function operations(document: any): Array<{ key: string; path: string; method: string; op: any }> {
  return Object.entries<any>(document.paths ?? {}).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => item[m]).map((m) => ({ key: `${m.toUpperCase()} ${path}`, path, method: m, op: item[m] })),
  );
}

const deref = (node: any) => {
  let current = node;
  for (let hops = 0; current?.$ref && hops < 10; hops++) {
    current = current.$ref
      .slice(2)
      .split('/')
      .reduce((o: any, k: string) => o?.[k], doc);
  }
  return current;
};

beforeAll(async () => {
  h = await createHarness();
  const response = await h.request('GET', '/openapi.json');
  const text = await response.clone().text();
  expect(response.status, `GET /openapi.json answered ${response.status}: ${text.slice(0, 300)}`).toBe(200);
  doc = await json(response);
});
afterAll(() => h?.close());

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1.0 document with title, version and description', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String), description: expect.any(String) });
  });

  it('declares the bearer JWT security scheme', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('has every API operation with its operationId', () => {
    const byKey = Object.fromEntries(operations(doc).map((o) => [o.key, o.op.operationId]));
    for (const [key, operationId] of Object.entries(expectedOperations)) {
      expect(byKey[key], key).toBe(operationId);
    }
    const ids = operations(doc).map((o) => o.op.operationId);
    expect(new Set(ids).size, 'operationIds are unique').toBe(ids.length);
  });

  it('documents every /v1 route the app serves (callbacks aside)', () => {
    const served = new Set(
      h.app.routes
        .filter((r) => r.method !== 'ALL' && r.path.startsWith('/v1/') && !r.path.startsWith('/v1/callbacks/'))
        .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`),
    );
    expect(served.size).toBeGreaterThanOrEqual(Object.keys(expectedOperations).length);
    const documented = new Set(operations(doc).map((o) => o.key));
    expect([...served].filter((key) => !documented.has(key))).toEqual([]);
  });

  it('has the Problem schema (RFC 9457 with a stable code and the request id)', () => {
    const problem = doc.components.schemas.Problem;
    expect(problem).toBeDefined();
    expect(problem.type).toBe('object');
    expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'code', 'detail', 'requestId']));
    expect(problem.properties.code.enum).toContain('unauthenticated');
  });

  it('makes every /v1 operation except callbacks and browser returns require the bearer token and document its 401', () => {
    const secured = operations(doc).filter(
      (o) => o.path.startsWith('/v1/') && !o.path.startsWith('/v1/callbacks/') && !o.path.startsWith('/v1/returns/'),
    );
    expect(secured.length).toBeGreaterThanOrEqual(Object.keys(expectedOperations).length);
    for (const { key, op } of secured) {
      expect(op.security, key).toEqual(expect.arrayContaining([expect.objectContaining({ bearerAuth: [] })]));
      const unauthorized = deref(op.responses?.['401']);
      expect(unauthorized, `${key} documents 401`).toBeDefined();
      expect(deref(unauthorized.content?.['application/problem+json']?.schema), `${key} 401 is a Problem`).toBe(
        doc.components.schemas.Problem,
      );
    }
  });

  it('declares path parameters for every templated segment and the Idempotency-Key header', () => {
    for (const { key, path, op } of operations(doc)) {
      const declared = (op.parameters ?? [])
        .map(deref)
        .filter((p: any) => p.in === 'path')
        .map((p: any) => p.name)
        .sort();
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      expect(declared, key).toEqual(templated);
    }
    const create = doc.paths['/v1/payment-intents'].post;
    const header = create.parameters.map(deref).find((p: any) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
    expect(header).toMatchObject({ required: true });
  });

  it('resolves every $ref it contains', () => {
    const refs: string[] = [];
    const walk = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref' && typeof v === 'string') refs.push(v);
          else walk(v);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(deref({ $ref: ref }), ref).toBeDefined();
  });
});

const PUBLIC = new Set(['/healthz', '/readyz', '/.well-known/jwks.json', '/openapi.json', '/docs', '/receipts/lookup']);
const isPublic = (path: string) => PUBLIC.has(path) || path.startsWith('/v1/callbacks/') || path.startsWith('/v1/returns/');

describe('what each operation says', () => {
  it('declares bearer security for the document, and `security: []` on each public operation', () => {
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    const ops = operations(doc);
    for (const { key, path, op } of ops) {
      if (isPublic(path)) expect(op.security, key).toEqual([]);
      else expect(op.security, key).toEqual([{ bearerAuth: [] }]);
    }
    expect(ops.filter((o) => isPublic(o.path)).map((o) => o.key)).toEqual(
      expect.arrayContaining([
        'GET /healthz',
        'GET /readyz',
        'GET /.well-known/jwks.json',
        'GET /openapi.json',
        'GET /docs',
        'POST /v1/callbacks/{gateway}',
        'GET /v1/returns/vnpay',
      ]),
    );
  });

  it('gives every operation a description, an example answer, and example inputs', () => {
    for (const { key, op } of operations(doc)) {
      expect(op.description?.length, `${key} description`).toBeGreaterThan(20);
      const answers = Object.values<any>(op.responses).flatMap((r) => Object.values<any>(deref(r).content ?? {}));
      expect(
        answers.some((m) => m.example !== undefined || m.examples !== undefined),
        `${key} example answer`,
      ).toBe(true);
      for (const parameter of (op.parameters ?? []).map(deref)) {
        const example = parameter.example ?? parameter.schema?.example ?? deref(parameter.schema)?.example;
        if (parameter.required) expect(example, `${key} parameter ${parameter.name} example`).toBeDefined();
      }
      const body = op.requestBody && deref(op.requestBody);
      if (body) {
        for (const [type, media] of Object.entries<any>(body.content))
          expect(media.example ?? media.examples, `${key} ${type} example request`).toBeDefined();
      }
    }
  });

  it('answers errors as problems whose examples carry their own status, code and request id', () => {
    for (const { key, op } of operations(doc)) {
      for (const [status, response] of Object.entries<any>(op.responses)) {
        const problem = deref(response).content?.['application/problem+json'];
        if (!problem) continue;
        expect(Number(status), key).toBeGreaterThanOrEqual(400);
        const examples = Object.values<any>(problem.examples ?? {});
        expect(examples.length, `${key} ${status} examples`).toBeGreaterThan(0);
        for (const { value } of examples) {
          expect(value, `${key} ${status}`).toMatchObject({
            status: Number(status),
            requestId: expect.any(String),
            detail: expect.any(String),
          });
          expect(httpStatus[value.code as ErrorCode], `${key} ${status} ${value.code}`).toBe(Number(status));
          expect(deref(response).description, `${key} ${status} names ${value.code}`).toContain(`\`${value.code}\``);
        }
      }
    }
  });

  it('declares the headers that go with an answer: Allow on 405, Retry-After on 429 and 503, Idempotent-Replayed on an idempotent success', () => {
    let idempotent = 0;
    for (const { key, op } of operations(doc)) {
      expect(op.responses['405']?.headers?.Allow, `${key} 405 Allow`).toBeDefined();
      expect(op.responses['429']?.headers?.['Retry-After'], `${key} 429 Retry-After`).toBeDefined();
      expect(op.responses['503']?.headers?.['Retry-After'], `${key} 503 Retry-After`).toBeDefined();
      const takesKey = (op.parameters ?? []).some((p: any) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
      if (!takesKey) continue;
      idempotent++;
      for (const [status, response] of Object.entries<any>(op.responses)) {
        if (status.startsWith('2')) expect(response.headers?.['Idempotent-Replayed'], `${key} ${status} Idempotent-Replayed`).toBeDefined();
      }
    }
    expect(idempotent).toBeGreaterThan(5);
  });

  it('declares 400, 401, 403, 404, 429, 503 on every bearer operation, 413 and 415 on those with a body, and only statuses the hub uses', () => {
    // 406: a report asked as XLSX where the host has no spreadsheet writer (Workers). 204: a deleted webhook endpoint.
    // 429: rate limits (failed authentications, writes, refused callbacks, receipt look-ups); 503: the database away.
    const allowed = new Set([
      '200',
      '201',
      '204',
      '400',
      '401',
      '403',
      '404',
      '405',
      '406',
      '409',
      '413',
      '415',
      '422',
      '429',
      '500',
      '502',
      '503',
    ]);
    for (const { key, path, op } of operations(doc)) {
      for (const status of Object.keys(op.responses)) expect(allowed, `${key} ${status}`).toContain(status);
      // Any operation, public ones too: its path asked with another method (405, with Allow), a rate limit, the database away.
      for (const status of ['405', '429', '503']) expect(op.responses[status], `${key} ${status}`).toBeDefined();
      if (isPublic(path)) continue;
      for (const status of ['400', '401', '403', '404', '429', '500', '503'])
        expect(op.responses[status], `${key} ${status}`).toBeDefined();
      const hasBody = op.requestBody !== undefined;
      expect(op.responses['413'] !== undefined, `${key} 413`).toBe(hasBody);
      expect(op.responses['415'] !== undefined, `${key} 415`).toBe(hasBody);
    }
  });
});

/**
 * What the middleware answers, sent to every bearer operation: each status must be one the
 * operation declares (a document that leaves one out would fail here).
 */
describe('the declared error statuses, against the hub', () => {
  const fill = (path: string, params: any[]) =>
    path.replace(/\{([^}]+)\}/g, (_, name) => {
      const p = params.find((q) => q.name === name);
      return encodeURIComponent(String(p?.example ?? p?.schema?.example ?? deref(p?.schema)?.example ?? 'x'));
    });

  it('401 without a token, 403 for a refused role, 400 for ill-formed query text, 415 and 413 for bodies', async () => {
    const wrongRole: Record<string, string> = {};
    for (const role of ['portal', 'treasury', 'campaign'] as const) wrongRole[role] = await mintToken({ role });
    let checked = 0;
    let refusals = 0;
    for (const { key, path, method, op } of operations(doc)) {
      if (isPublic(path)) continue;
      const url = fill(path, (op.parameters ?? []).map(deref));
      const declared = (status: number) => expect(Object.keys(op.responses), `${key} answered ${status}`).toContain(String(status));

      const anonymous = await h.request(method.toUpperCase(), url, { body: op.requestBody ? {} : undefined });
      expect(anonymous.status, key).toBe(401);
      declared(401);

      for (const token of Object.values(wrongRole)) {
        const r = await h.request(method.toUpperCase(), url, { token, body: op.requestBody ? {} : undefined });
        if (r.status === 403) refusals++;
        declared(r.status);
      }

      const admin = await mintToken({ role: 'admin' });
      const illFormed = await h.request(method.toUpperCase(), `${url}?note=%00`, { token: admin, body: op.requestBody ? {} : undefined });
      expect(illFormed.status, key).toBe(400);
      if (op.requestBody) {
        const text = await h.request(method.toUpperCase(), url, {
          token: admin,
          rawBody: 'x',
          headers: { 'content-type': 'text/plain', 'idempotency-key': 'k-415' },
        });
        expect(text.status, key).toBe(415);
        declared(415);
        // A statement upload streams and has its own limit (STATEMENT_MAX_BYTES, test/api/statements.test.ts).
        if (key === 'POST /v1/statements') {
          declared(413);
          checked++;
          continue;
        }
        const huge = await h.request(method.toUpperCase(), url, {
          token: admin,
          rawBody: `"${'x'.repeat(1024 * 1024)}"`,
          headers: { 'content-type': 'application/json', 'idempotency-key': 'k-413' },
        });
        expect(huge.status, key).toBe(413);
        declared(413);
      }
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(Object.keys(expectedOperations).length);
    expect(refusals, 'wrong roles refused').toBeGreaterThan(checked);
  }, 60_000);

  it('405 with Allow naming the methods of the path, for a method it does not take', async () => {
    const admin = await mintToken({ role: 'admin' });
    let checked = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      const methods = HTTP_METHODS.filter((m) => item[m]);
      const other = (['patch', 'delete', 'put', 'post'] as const).find((m) => !item[m]);
      if (!other) continue;
      const url = fill(path, (item[methods[0]!].parameters ?? []).map(deref));
      const response = await h.request(other.toUpperCase(), url, { token: isPublic(path) ? undefined : admin });
      const key = `${other.toUpperCase()} ${path}`;
      expect(response.status, key).toBe(405);
      expect(response.headers.get('content-type'), key).toBe('application/problem+json');
      expect(response.headers.get('allow')?.split(', '), key).toEqual(expect.arrayContaining(methods.map((m) => m.toUpperCase())));
      expect(response.headers.get('allow'), key).not.toContain(other.toUpperCase());
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(Object.keys(expectedOperations).length);
  }, 60_000);
});

describe('GET /docs', () => {
  let html: string;
  let response: Response;

  beforeAll(async () => {
    response = await h.request('GET', '/docs');
    html = await response.text();
  });

  it("is Scalar's reference over /openapi.json, loading its bundle from the hub", () => {
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<title>Fee-payment hub — API reference</title>');
    expect(html).toContain(`<script src="${SCALAR_BUNDLE_PATH}"`);
    expect(html).toContain('Scalar.createApiReference');
    expect(html).toContain('"url": "/openapi.json"');
    // Nothing from outside: no CDN, and Scalar's fonts, telemetry and agent turned off.
    expect(html).not.toMatch(/\b(?:src|href)="(?:https?:)?\/\//i);
    expect(html).not.toContain('cdn.jsdelivr.net');
    expect(html).toContain('"withDefaultFonts": false');
    expect(html).toContain('"telemetry": false');
  });

  it('runs under a Content-Security-Policy that allows only the hub and its own nonce', () => {
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]!);
    expect(scripts.length).toBe(2);
    for (const attributes of scripts) expect(attributes).toContain(`nonce="${nonce}"`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('gives each page its own nonce', async () => {
    const again = (await h.request('GET', '/docs')).headers.get('content-security-policy');
    expect(again).not.toBe(response.headers.get('content-security-policy'));
  });

  it("serves Scalar's bundle, the version package.json pins, cached for good", async () => {
    expect(manifest.dependencies['@scalar/api-reference']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await installedScalarVersion()).toBe(SCALAR_VERSION);
    const bundle = await h.request('GET', SCALAR_BUNDLE_PATH);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(bundle.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const bytes = new Uint8Array(await bundle.arrayBuffer());
    expect(Buffer.from(bytes).equals(await readFile(scalarBundleFile())), "the bytes of node_modules' bundle").toBe(true);
    expect(bytes.length).toBeGreaterThan(1_000_000);
    await expect(h.request('GET', '/docs/assets/scalar-api-reference-0.0.1.js').then((r) => r.status)).resolves.toBe(404);
  });

  it('is reached from /', async () => {
    const root = await h.request('GET', '/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/docs');
  });
});

describe('the examples in the embedded demo', () => {
  let demo: Harness;
  afterAll(() => demo?.close());

  it('name a dossier of the demo data, which the fixed example is not', async () => {
    demo = await createHarness({ exampleDossier: true });
    const fixed = await json(await demo.request('GET', '/openapi.json'));
    expect(JSON.stringify(fixed)).toContain(EXAMPLE_DOSSIER_CODE); // nothing in the database yet

    await seedDemo(demo.ctx, { now: new Date('2026-11-22T10:00:00+07:00'), dossiers: 12 });
    const code = await demoExampleDossier(demo.ctx);
    expect(code).toMatch(/^000\.\d{2}\.\d{2}\.H19-\d{6}-\d{4}$/);
    expect(code).not.toBe(EXAMPLE_DOSSIER_CODE);
    const live = await json(await demo.request('GET', '/openapi.json'));
    const text = JSON.stringify(live);
    expect(text).not.toContain(EXAMPLE_DOSSIER_CODE);
    const getDossier = live.paths['/v1/dossiers/{code}'].get.parameters.find((p: any) => p.name === 'code');
    expect(getDossier.schema.example ?? getDossier.example).toBe(code);
    expect(live.paths['/v1/payment-intents'].post.requestBody.content['application/json'].example.dossierCode).toBe(code);
    const admin = await mintToken({ role: 'admin' });
    expect((await demo.request('GET', `/v1/dossiers/${code}`, { token: admin })).status).toBe(200);
  });
});
