import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { idempotencyKey } from './factories.ts';
import type { Harness } from './harness.ts';
import { expectJson } from './problems.ts';

/** One request as a receiver got it: headers, the raw body, the body parsed, when. */
export interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, any>;
  at: number;
}

/** What a receiver answers: a status code, or 'hang' (never answers). */
type Answer = number | 'hang';

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Decides each answer (default 200); may be replaced during a test. */
  answer: (request: Received) => Answer;
  close(): Promise<void>;
}

/** A real HTTP receiver on loopback (node:http), recording every request. */
export async function startReceiver(answer: (request: Received) => Answer = () => 200): Promise<Receiver> {
  const hanging = new Set<ServerResponse>();
  const receiver: Receiver = { url: '', port: 0, received: [], answer, close: async () => {} };
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
    });
    req.on('end', () => {
      let body: Record<string, any> = {};
      try {
        body = JSON.parse(raw);
      } catch {}
      const request: Received = { headers: req.headers, raw, body, at: Date.now() };
      receiver.received.push(request);
      const status = receiver.answer(request);
      if (status === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'receiver error');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hub-events`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** A loopback port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `t=<unix>,v1=<hex>[,v1=…]`, parsed. */
export function parseSignature(header: string): { t: number; v1: string[] } {
  const parts = header.split(',').map((p) => p.split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  return { t, v1: parts.filter(([k]) => k === 'v1').map(([, v]) => v!) };
}

/** Verifies one `v1` of a Hub-Signature against a secret, independently of the hub's code (node:crypto). */
export function signedWith(header: string, raw: string, secret: string): boolean {
  const { t, v1 } = parseSignature(header);
  const expected = createHmac('sha256', secret).update(`${t}.${raw}`).digest();
  return v1.some((hex) => {
    const given = Buffer.from(hex, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export interface EndpointBody {
  url: string;
  agencyCode: string;
  events: string[];
  secrets: string[];
  description?: string;
}

export const registerEndpoint = (h: Pick<Harness, 'request'>, token: string, body: EndpointBody, key = idempotencyKey()) =>
  h.request('POST', '/v1/webhook-endpoints', { token, body, headers: { 'idempotency-key': key } });

/** Registers an endpoint (201) and returns its view. */
export async function endpointFor(
  h: Pick<Harness, 'request'>,
  token: string,
  body: EndpointBody,
): Promise<{ id: string; secretFingerprints: string[] }> {
  return expectJson(await registerEndpoint(h, token, body), 201);
}

/** Waits until `check` holds (polling), failing after `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
