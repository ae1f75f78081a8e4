import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitBodies } from '../../src/http/middleware/bodies.ts';

/**
 * limitBodies over real Node HTTP, where its shortcut matters: a request it can judge by its
 * headers never has its WHATWG Request built, and a streamed one is still counted as it is read.
 */
const LIMIT = 1024;
let server: ServerType;
let port: number;
const built: string[] = [];

beforeAll(async () => {
  const app = new Hono();
  app.onError((error, c) => c.json({ error: error.message }, error.message === 'too large' ? 413 : 500));
  app.use(
    '*',
    limitBodies(LIMIT, () => {
      throw new Error('too large');
    }),
  );
  // Whether the route runs on a request whose Request object was built (a symbol-keyed cache in @hono/node-server).
  app.all('*', async (c) => {
    const cache = Object.getOwnPropertySymbols(c.req.raw).find((s) => s.description === 'requestCache');
    if (cache && (c.req.raw as unknown as Record<symbol, unknown>)[cache]) built.push(c.req.path);
    const text = c.req.method === 'GET' ? '' : await c.req.text();
    return c.json({ read: text.length });
  });
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** One request; `chunks` are written as a chunked body (no content-length), `body` with its length. */
function send(method: string, path: string, options: { body?: string; chunks?: string[] } = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    if (options.body !== undefined) req.end(options.body);
    else if (options.chunks) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else req.end();
  });
}

describe('limitBodies over Node HTTP', () => {
  it('passes a GET without a body, building no Request for it', async () => {
    expect(await send('GET', '/plain')).toEqual({ status: 200, body: '{"read":0}' });
    expect(built).not.toContain('/plain');
  });

  it('judges a declared length by itself: at the limit it is read, one byte over it is 413, GET or POST', async () => {
    expect(await send('POST', '/at-limit', { body: 'x'.repeat(LIMIT) })).toEqual({ status: 200, body: `{"read":${LIMIT}}` });
    expect(built).not.toContain('/at-limit');
    expect((await send('POST', '/over', { body: 'x'.repeat(LIMIT + 1) })).status).toBe(413);
    expect((await send('GET', '/get-over', { body: 'x'.repeat(LIMIT + 1) })).status).toBe(413);
  });

  it('counts a chunked body as it is read: under the limit it passes, over it is 413', async () => {
    expect(await send('POST', '/chunked-small', { chunks: ['abc', 'def'] })).toEqual({ status: 200, body: '{"read":6}' });
    expect((await send('POST', '/chunked-big', { chunks: Array.from({ length: 20 }, () => 'y'.repeat(100)) })).status).toBe(413);
  });
});
