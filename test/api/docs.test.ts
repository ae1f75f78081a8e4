import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_CLIENT_SCRIPT } from '../../src/web/docs-client.ts';
import { createHarness, json, type Harness } from '../helpers/harness.ts';

/**
 * The published contract: /openapi.json describes every API route with its operationId, its
 * bearer security and its problem+json errors; /docs is a self-contained page that reads it.
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
    current = current.$ref.slice(2).split('/').reduce((o: any, k: string) => o?.[k], doc);
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
      expect(deref(unauthorized.content?.['application/problem+json']?.schema), `${key} 401 is a Problem`).toBe(doc.components.schemas.Problem);
    }
  });

  it('declares path parameters for every templated segment and the Idempotency-Key header', () => {
    for (const { key, path, op } of operations(doc)) {
      const declared = (op.parameters ?? []).map(deref).filter((p: any) => p.in === 'path').map((p: any) => p.name).sort();
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

describe('GET /docs', () => {
  let html: string;
  let response: Response;

  beforeAll(async () => {
    response = await h.request('GET', '/docs');
    html = await response.text();
  });

  it('is an HTML page that links the OpenAPI document without JavaScript', () => {
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('href="/openapi.json"');
    expect(html).toContain('<noscript>');
    expect(html).toContain('<h1 id="api-title">Fee-payment hub</h1>');
  });

  it('is self-contained: no external scripts, styles, images or fonts', () => {
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+rel="?stylesheet/i);
    expect(html).not.toMatch(/\b(?:src|href)="(?:https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(\s*['"]?(?:https?:)?\/\//i);
    expect(html).toContain(DOCS_CLIENT_SCRIPT.trim().slice(0, 40));
  });

  it('inlines a client script that parses, cannot end its script element early, and keeps tokens out of localStorage', () => {
    expect(() => new Function(DOCS_CLIENT_SCRIPT)).not.toThrow();
    expect(DOCS_CLIENT_SCRIPT).not.toMatch(/<\/script|<!--/i);
    expect(DOCS_CLIENT_SCRIPT).toContain("fetch(SPEC_URL");
    expect(DOCS_CLIENT_SCRIPT).toContain("'/openapi.json'");
    expect(DOCS_CLIENT_SCRIPT).toContain('sessionStorage');
    expect(DOCS_CLIENT_SCRIPT).not.toContain('localStorage');
    expect(DOCS_CLIENT_SCRIPT).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('is reached from /', async () => {
    const root = await h.request('GET', '/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/docs');
  });
});
