import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { queryRows } from '../../src/db/types.ts';
import { signatureHeader } from '../../src/gateways/sandbox/protocol.ts';
import { clientAddress } from '../../src/http/middleware/rate-limits.ts';
import { purgeRefusedCallbacks } from '../../src/services/callbacks.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken, SANDBOX_SECRETS } from '../helpers/harness.ts';
import { sandboxEvent } from '../helpers/sandbox.ts';
import { postForm } from '../helpers/session.ts';

/**
 * Rate limits and the bounded inbox (issue 14): before them, one client wrote 134 MB of unsigned
 * callbacks in 2.7 s (each stored whole, up to 64 KiB, never purged), and nothing answered 429.
 * Sources are told apart by `cf-connecting-ip` here (app.request has no socket).
 */
const LIMITS = { writesPerMinute: 3, failedAuthPerMinute: 2, receiptLookupsPerMinute: 2, badCallbacksPerMinute: 3, trustProxy: false };

let h: Harness;
let portal: string;
let procedure: string;
beforeAll(async () => {
  h = await createHarness({ rateLimits: LIMITS });
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h?.close());

const from = (address: string) => ({ 'cf-connecting-ip': address });

async function expectLimited(res: Response) {
  expect(res.status).toBe(429);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  expect((await json(res)).code).toBe('rate-limited');
}

async function sandboxCallback(address: string, body: Record<string, unknown> | string, secret = 'a-key-the-hub-does-not-know-0123456789') {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return h.request('POST', '/v1/callbacks/sandbox', {
    rawBody: raw,
    headers: {
      ...from(address),
      'content-type': 'application/json',
      'sandbox-signature': await signatureHeader(secret, Math.floor(Date.now() / 1000), raw),
    },
  });
}

const inboxCount = async () => (await queryRows<{ n: number }>(h.db.db, sql`SELECT count(*)::int AS n FROM callback_inbox`))[0]!.n;

describe('callback messages whose signature fails', () => {
  it('are kept bounded, limited per source, and a verified message from a limited source still pays', async () => {
    // Writes by this principal are limited too (3 a minute): a second token for the set-up.
    const setup = await mintToken({ role: 'portal', agencies: [AGENCIES.province], subject: 'callback-setup' });
    const dossier = await registerDossier(h, setup, procedure);
    const intent = await json(await createIntent(h, setup, dossier.code));
    const big = `{"type":"payment.succeeded","reference":"${intent.reference}","padding":"${'x'.repeat(60 * 1024)}"}`;
    const before = await inboxCount();
    for (let i = 0; i < LIMITS.badCallbacksPerMinute; i++) expect((await sandboxCallback('198.51.100.7', big)).status).toBe(401);
    const kept = await queryRows<{
      raw_body: string;
      detail: { bytes: number; truncated: boolean; source: string; sha256: string };
      status: string;
    }>(h.db.db, sql`SELECT raw_body, detail, status FROM callback_inbox ORDER BY received_at DESC LIMIT 3`);
    expect(await inboxCount()).toBe(before + 3);
    for (const row of kept) {
      expect(row.status).toBe('rejected');
      expect(row.raw_body.length).toBeLessThanOrEqual(2048);
      expect(row.detail).toMatchObject({ bytes: big.length, truncated: true, source: '198.51.100.7' });
      expect(row.detail.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    // Over the limit: 429, and nothing more is stored.
    await expectLimited(await sandboxCallback('198.51.100.7', big));
    expect(await inboxCount()).toBe(before + 3);
    // The operator is told who floods, once per window.
    const warnings = h.logs.filter((l) => l.msg === 'rate limit: too many refused callback messages from one address');
    expect(warnings).toEqual([expect.objectContaining({ source: '198.51.100.7', gateway: 'sandbox', limitPerMinute: 3 })]);
    // Another source is not limited.
    expect((await sandboxCallback('203.0.113.9', '{"type":"x"}')).status).toBe(401);
    // The gateway's own message from the limited source is verified and applied: never limited.
    expect((await sandboxCallback('198.51.100.7', sandboxEvent(intent), SANDBOX_SECRETS[0])).status).toBe(200);
    const paid = await json(await h.request('GET', `/v1/payment-intents/${intent.id}`, { token: setup }));
    expect(paid.status).toBe('succeeded');
  });

  it('are purged after the retention period; signed messages are kept', async () => {
    expect((await sandboxCallback('192.0.2.44', '{"type":"old"}')).status).toBe(401);
    await h.db.db.execute(sql`UPDATE callback_inbox SET received_at = received_at - interval '31 days'`);
    const [before] = await queryRows<{ refused: number; signed: number }>(
      h.db.db,
      sql`SELECT count(*) FILTER (WHERE signature_valid <> 'valid')::int AS refused, count(*) FILTER (WHERE signature_valid = 'valid')::int AS signed FROM callback_inbox`,
    );
    expect(before!.refused).toBeGreaterThan(0);
    expect(before!.signed).toBeGreaterThan(0);
    expect(await purgeRefusedCallbacks(h.ctx, { batch: 2 })).toBe(before!.refused);
    const [after] = await queryRows<{ refused: number; signed: number }>(
      h.db.db,
      sql`SELECT count(*) FILTER (WHERE signature_valid <> 'valid')::int AS refused, count(*) FILTER (WHERE signature_valid = 'valid')::int AS signed FROM callback_inbox`,
    );
    expect(after).toEqual({ refused: 0, signed: before!.signed });
  });
});

describe('failed sign-ins on the dashboard', () => {
  it('count as failed authentications: the address is refused even a good token once over the limit', async () => {
    const address = from('198.51.100.60');
    const treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province] });
    expect((await postForm(h, '/dashboard/session', { token: 'not.a.jwt' }, undefined, address)).status).toBe(401);
    expect((await postForm(h, '/dashboard/session', { token: 'not.a.jwt' }, undefined, address)).status).toBe(401);
    await expectLimited(await postForm(h, '/dashboard/session', { token: treasury }, undefined, address));
    // Another address signs in.
    expect((await postForm(h, '/dashboard/session', { token: treasury }, undefined, from('198.51.100.61'))).status).toBe(303);
  });
});

describe('failed authentication', () => {
  it('refuses an address after too many failures, before even looking at its token', async () => {
    const bad = { token: 'not.a.jwt', headers: from('198.51.100.20') };
    expect((await h.request('GET', '/v1/agencies', bad)).status).toBe(401);
    expect((await h.request('GET', '/v1/agencies', bad)).status).toBe(401);
    await expectLimited(await h.request('GET', '/v1/agencies', { token: portal, headers: from('198.51.100.20') }));
    // Successes do not count: another address with a good token is served, again and again.
    for (let i = 0; i < 5; i++)
      expect((await h.request('GET', '/v1/agencies', { token: portal, headers: from('198.51.100.21') })).status).toBe(200);
  });

  it('counts failures only: many good requests in flight at once are never refused', async () => {
    const address = from('198.51.100.22');
    expect((await h.request('GET', '/v1/agencies', { token: 'not.a.jwt', headers: address })).status).toBe(401);
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => h.request('GET', '/v1/agencies', { token: portal, headers: address })),
    );
    expect(burst.map((r) => r.status)).toEqual(Array(10).fill(200));
    // A missing token is a failure too: the second one reaches the limit.
    expect((await h.request('GET', '/v1/agencies', { token: null, headers: address })).status).toBe(401);
    await expectLimited(await h.request('GET', '/v1/agencies', { token: portal, headers: address }));
  });

  it("takes the socket's address on Node, never a header a client could change", async () => {
    // What @hono/node-server passes as the request's env (the Node entry serves app.fetch).
    const node = { incoming: { socket: { remoteAddress: '10.1.2.3' } } };
    const ask = (token: string, spoofed: string) =>
      h.app.request('/v1/agencies', { headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': spoofed } }, node);
    expect((await ask('not.a.jwt', '192.0.2.1')).status).toBe(401);
    expect((await ask('not.a.jwt', '192.0.2.2')).status).toBe(401);
    await expectLimited(await ask(portal, '192.0.2.3'));
  });
});

describe('the source address', () => {
  const app = new Hono().get('/', (c) => c.text(clientAddress(c, true)));
  const node = { incoming: { socket: { remoteAddress: '10.1.2.3' } } };

  it('behind a trusted proxy (TRUST_PROXY), is the right-most X-Forwarded-For entry, the one the proxy added', async () => {
    const res = await app.request('/', { headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.5' } }, node);
    expect(await res.text()).toBe('203.0.113.5');
    // Without the header, the socket's.
    expect(await (await app.request('/', {}, node)).text()).toBe('10.1.2.3');
  });

  it('is not taken from X-Forwarded-For unless TRUST_PROXY says so', async () => {
    const plain = new Hono().get('/', (c) => c.text(clientAddress(c, false)));
    expect(await (await plain.request('/', { headers: { 'x-forwarded-for': '6.6.6.6' } }, node)).text()).toBe('10.1.2.3');
    // Workers: Cloudflare's header (there is no socket).
    expect(await (await plain.request('/', { headers: { 'cf-connecting-ip': '2001:db8::1' } })).text()).toBe('2001:db8::1');
  });
});

describe('writes', () => {
  it('are limited per principal; reads are not, and another principal is not', async () => {
    const writer = await mintToken({ role: 'portal', agencies: [AGENCIES.province], subject: 'busy-portal' });
    for (let i = 0; i < LIMITS.writesPerMinute; i++) await registerDossier(h, writer, procedure);
    const res = await h.request('PUT', '/v1/dossiers/000.21.32.H19-261120-0999', {
      token: writer,
      body: { procedureCode: procedure, agencyCode: AGENCIES.communeA, channel: 'online', receivedAt: '2026-11-20T09:30:00+07:00' },
    });
    await expectLimited(res);
    expect((await h.request('GET', '/v1/agencies', { token: writer })).status).toBe(200);
    // Another principal writes on.
    const other = await mintToken({ role: 'portal', agencies: [AGENCIES.province], subject: 'quiet-portal' });
    await registerDossier(h, other, procedure);
  });
});

describe('the public receipt look-up', () => {
  it('is limited per address', async () => {
    const ask = (address: string) =>
      h.request('GET', '/receipts/lookup?code=ZZZZZZZZZZZZZZZZZZZZ', {
        token: null,
        headers: { ...from(address), accept: 'application/json' },
      });
    expect((await ask('198.51.100.30')).status).toBe(404);
    expect((await ask('198.51.100.30')).status).toBe(404);
    await expectLimited(await ask('198.51.100.30'));
    expect((await ask('198.51.100.31')).status).toBe(404);
  });
});

describe('settings', () => {
  it('have defaults a portal at its peak stays under, and 0 turns a limit off', () => {
    expect(parseConfig({}).rateLimits).toEqual({
      writesPerMinute: 6000,
      failedAuthPerMinute: 60,
      receiptLookupsPerMinute: 120,
      badCallbacksPerMinute: 60,
      trustProxy: false,
    });
    expect(parseConfig({}).inbox).toEqual({ rejectedRetentionDays: 30 });
    const set = parseConfig({ RATE_LIMIT_WRITES_PER_MINUTE: '0', TRUST_PROXY: 'true', INBOX_REJECTED_RETENTION_DAYS: '7' });
    expect(set.rateLimits).toMatchObject({ writesPerMinute: 0, trustProxy: true });
    expect(set.inbox.rejectedRetentionDays).toBe(7);
    expect(() => parseConfig({ RATE_LIMIT_BAD_CALLBACKS_PER_MINUTE: '-1' })).toThrow(/RATE_LIMIT_BAD_CALLBACKS_PER_MINUTE/);
  });

  it('at 0, limit nothing', async () => {
    const off = await createHarness({
      rateLimits: { writesPerMinute: 0, failedAuthPerMinute: 0, receiptLookupsPerMinute: 0, badCallbacksPerMinute: 0, trustProxy: false },
    });
    try {
      await seedAgencyTree(off.ctx);
      const token = await mintToken({ role: 'portal', agencies: [AGENCIES.province], subject: 'unlimited-portal' });
      const code = await createProcedure(off.ctx);
      for (let i = 0; i < 4; i++) await registerDossier(off, token, code);
      for (let i = 0; i < 4; i++) {
        expect((await off.request('GET', '/v1/agencies', { token: 'not.a.jwt', headers: from('198.51.100.50') })).status).toBe(401);
        const lookup = await off.request('GET', '/receipts/lookup?code=ZZZZZZZZZZZZZZZZZZZZ', {
          token: null,
          headers: { ...from('198.51.100.50'), accept: 'application/json' },
        });
        expect(lookup.status).toBe(404);
        const raw = '{"type":"x"}';
        const callback = await off.request('POST', '/v1/callbacks/sandbox', {
          rawBody: raw,
          headers: { ...from('198.51.100.50'), 'content-type': 'application/json', 'sandbox-signature': 't=1,v1=00' },
        });
        expect(callback.status).toBe(401);
      }
      // Refused messages are still kept (bounded), with their source.
      const [kept] = await queryRows<{ n: number }>(
        off.db.db,
        sql`SELECT count(*)::int AS n FROM callback_inbox WHERE detail->>'source' = '198.51.100.50' AND status = 'rejected'`,
      );
      expect(kept!.n).toBe(4);
    } finally {
      await off.close();
    }
  });
});
