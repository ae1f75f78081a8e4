import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../../src/services/principal.ts';
import { createOidcRelyingParty, type OidcSettings } from '../../src/web/oidc.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * The staff sign-in against a real OpenID Connect provider (panva's oidc-provider, the certified
 * one) on a loopback port, driven over real HTTP as a browser would: redirects followed by hand,
 * cookies kept per path, the provider's own login and consent forms submitted.
 */

const started = vi.hoisted(() => [] as Array<{ principal: Principal; options: { via: string; notAfter?: Date } }>);
vi.mock('../../src/web/session.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/web/session.ts')>();
  return {
    ...real,
    startSession: async (...args: Parameters<typeof real.startSession>) => {
      started.push({ principal: args[1], options: args[2] });
      return real.startSession(...args);
    },
  };
});

const CLIENT_ID = 'fee-payment-hub';
const CLIENT_SECRET = 'hub-client-secret-0123456789-abcdefghij';
const H19 = '000.00.00.H19';

/** The province's directory, as the IdP knows it: its own role names, the hub's agencies. */
const accounts: Record<string, Record<string, unknown>> = {
  'ke-toan-01': { name: 'Nguyễn Thị Kế Toán', role: 'ke-toan', agencies: [H19] },
  'quan-tri-01': { name: 'Trần Quản Trị', role: ['offline_access', 'quan-tri'] },
  'khach-01': { name: 'Lê Khách', role: 'khach', agencies: [H19] },
  'lanh-dao-no-unit': { name: 'Phạm Lãnh Đạo', role: 'lanh-dao' },
};

/** A browser's cookie store, enough for one host: name and path, Max-Age=0 deletes. */
class CookieJar {
  private cookies = new Map<string, { name: string; value: string; path: string }>();
  store(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const path = attributes.find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      const expired = attributes.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && new Date(a.slice(8)) < new Date()));
      if (expired) this.cookies.delete(`${name};${path}`);
      else this.cookies.set(`${name};${path}`, { name, value: pair.slice(eq + 1), path });
    }
  }
  header(url: string): string {
    const { pathname } = new URL(url);
    return [...this.cookies.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
  names(): string[] {
    return [...this.cookies.values()].map((c) => c.name);
  }
}

async function send(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as object), cookie: jar.header(url) } });
  jar.store(response);
  return response;
}

/** The provider's dev interaction page: its one form's action and fields. */
function readForm(pageHtml: string, base: string) {
  const action = /<form[^>]*action="([^"]+)"/.exec(pageHtml)?.[1];
  if (!action) throw new Error(`no form on the page: ${pageHtml.slice(0, 300)}`);
  const fields = new URLSearchParams();
  for (const [, name, value] of pageHtml.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields.set(name!, value!);
  return { action: new URL(action.replaceAll('&amp;', '&'), base).href, fields };
}

interface Flow {
  jar: CookieJar;
  /** The hub's redirect to the IdP: the authorization request. */
  authorizationUrl: URL;
  /** Where the IdP sends the browser back (the hub's callback, with code and state or an error). */
  callbackUrl: URL;
}

let idp: { server: Server; issuer: string; provider?: Provider };
let h: Harness;
let hubUrl: string;

/** From the hub's login route, through the IdP's login and consent pages, to the hub's callback URL (not yet followed). */
async function throughIdp(login: string, options: { next?: string; abort?: boolean; jar?: CookieJar } = {}): Promise<Flow> {
  const jar = options.jar ?? new CookieJar();
  const start = await send(
    jar,
    `${hubUrl}/dashboard/oidc/login${options.next === undefined ? '' : `?next=${encodeURIComponent(options.next)}`}`,
  );
  expect(start.status).toBe(302);
  const authorizationUrl = new URL(start.headers.get('location')!);
  let url = authorizationUrl.href;
  for (let step = 0; step < 12; step++) {
    if (url.startsWith(`${hubUrl}/`)) return { jar, authorizationUrl, callbackUrl: new URL(url) };
    const response = await send(jar, url);
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location')!, url).href;
      continue;
    }
    const pageHtml = await response.text();
    expect(response.status, pageHtml.slice(0, 500)).toBe(200);
    const form = readForm(pageHtml, url);
    if (options.abort) {
      const abort = /href="([^"]+\/abort)"/.exec(pageHtml)?.[1];
      url = new URL(abort!, url).href;
      continue;
    }
    if (form.fields.get('prompt') === 'login') {
      form.fields.set('login', login);
      form.fields.set('password', 'any');
    }
    const submitted = await send(jar, form.action, {
      method: 'POST',
      body: form.fields.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(submitted.status, await submitted.clone().text()).toBeGreaterThanOrEqual(300);
    url = new URL(submitted.headers.get('location')!, form.action).href;
  }
  throw new Error('the IdP never sent the browser back');
}

async function page(response: Response) {
  return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
}

function hubSessionCookies(response: Response) {
  return response.headers.getSetCookie().filter((line) => !line.startsWith('oidc_flow='));
}

beforeAll(async () => {
  // The IdP's port first (its issuer names it), then the hub (the client's redirect URI names it).
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  idp = { server, issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  h = await createHarness({
    oidc: ({ baseUrl }): OidcSettings => ({
      issuer: idp.issuer,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUri: `${baseUrl}/dashboard/oidc/callback`,
      scopes: 'openid profile',
      roleClaim: 'role',
      roleMap: { 'ke-toan': 'treasury', 'lanh-dao': 'campaign', 'quan-tri': 'admin' },
      agenciesClaim: 'agencies',
      subjectClaim: 'sub',
    }),
  });
  hubUrl = await h.listen();
  const provider = new Provider(idp.issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${hubUrl}/dashboard/oidc/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    // role and agencies come with the profile scope (so, by default, through userinfo).
    claims: { openid: ['sub'], profile: ['name', 'role', 'agencies'] },
    findAccount: (_ctx, id) => (accounts[id] ? { accountId: id, claims: () => ({ sub: id, ...accounts[id] }) } : undefined),
    cookies: { keys: ['oidc-test-cookie-key-0123456789'] },
    features: { devInteractions: { enabled: true } },
  });
  idp.provider = provider;
  server.on('request', provider.callback());
});

afterAll(async () => {
  await new Promise<void>((resolve) => idp?.server.close(() => resolve()));
  await h?.close();
});

beforeEach(() => {
  started.length = 0;
  h.clock.now = null;
});

describe('OpenID Connect sign-in for staff', () => {
  it('signs a treasury person in through the IdP with PKCE, state and nonce, mapping role and agencies, then goes where they were headed', async () => {
    const flow = await throughIdp('ke-toan-01', { next: '/dashboard/treasury/reviews?kind=amount_mismatch' });
    const request = flow.authorizationUrl.searchParams;
    expect(`${flow.authorizationUrl.origin}/`).toBe(new URL(idp.issuer).href);
    expect(request.get('response_type')).toBe('code');
    expect(request.get('client_id')).toBe(CLIENT_ID);
    expect(request.get('redirect_uri')).toBe(`${hubUrl}/dashboard/oidc/callback`);
    expect(request.get('scope')).toBe('openid profile');
    expect(request.get('code_challenge_method')).toBe('S256');
    expect(request.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(request.get('state')).toBeTruthy();
    expect(request.get('nonce')).toBeTruthy();
    expect(flow.callbackUrl.searchParams.get('code')).toBeTruthy();

    const callback = await send(flow.jar, flow.callbackUrl.href);
    expect(callback.status, await callback.clone().text()).toBe(303);
    expect(callback.headers.get('location')).toBe('/dashboard/treasury/reviews?kind=amount_mismatch');
    expect(started).toEqual([{ principal: { subject: 'ke-toan-01', role: 'treasury', agencies: [H19] }, options: { via: 'oidc' } }]);
    // The session cookie the dashboard reads, and the flow cookie gone (single use).
    const session = hubSessionCookies(callback);
    expect(session).toHaveLength(1);
    expect(session[0]).toMatch(/HttpOnly/i);
    expect(session[0]).toMatch(/SameSite=Strict/i);
    expect(session[0]).toMatch(/Path=\/dashboard(;|$)/i);
    expect(flow.jar.names()).not.toContain('oidc_flow');
    expect(h.logs.some((l) => l.msg === 'oidc sign-in' && l.role === 'treasury')).toBe(true);
    // The session opens the page the person was going to, as the IdP's person.
    const desk = await h.request('GET', '/dashboard/treasury/reviews?kind=amount_mismatch', {
      headers: { accept: 'text/html', cookie: session[0]!.split(';')[0]! },
    });
    expect(desk.status).toBe(200);
    expect(await desk.text()).toContain('ke-toan-01');

    // The same callback again (a replayed code, no flow cookie any more): refused, no second session.
    const replay = await page(await send(flow.jar, flow.callbackUrl.href));
    expect(replay.status).toBe(400);
    expect(replay.text).toContain('Phiên đăng nhập đã hết hạn');
    expect(started).toHaveLength(1);
  });

  it('keeps the flow in a short-lived, signed, HttpOnly, SameSite=Lax cookie scoped to the OIDC routes', async () => {
    const start = await fetch(`${hubUrl}/dashboard/oidc/login`, { redirect: 'manual' });
    const [cookie, ...others] = start.headers.getSetCookie();
    expect(others).toEqual([]);
    expect(cookie).toMatch(/^oidc_flow=/);
    expect(cookie).toMatch(/Max-Age=600/);
    expect(cookie).toMatch(/Path=\/dashboard\/oidc(;|$)/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
  });

  it('maps an admin from one of several role values, with no agency needed', async () => {
    const flow = await throughIdp('quan-tri-01');
    const callback = await send(flow.jar, flow.callbackUrl.href);
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/dashboard');
    expect(started.map((s) => s.principal)).toEqual([{ subject: 'quan-tri-01', role: 'admin', agencies: [] }]);
  });

  it('refuses a callback whose state is not the one this browser started with', async () => {
    const flow = await throughIdp('ke-toan-01');
    flow.callbackUrl.searchParams.set('state', 'someone-elses-state');
    const refused = await page(await send(flow.jar, flow.callbackUrl.href));
    expect(refused.status).toBe(400);
    expect(refused.type).toMatch(/^text\/html/);
    expect(refused.text).toContain('Yêu cầu đăng nhập không hợp lệ');
    expect(started).toEqual([]);

    // And a callback from a browser that never started a flow (a forged link): refused too.
    const fresh = await throughIdp('ke-toan-01');
    const forged = await page(await send(new CookieJar(), fresh.callbackUrl.href));
    expect(forged.status).toBe(400);
    expect(started).toEqual([]);
  });

  it('refuses a person whose role maps to no hub role, and a non-admin without agencies, with a page and no session', async () => {
    const unmapped = await throughIdp('khach-01');
    const noRole = await send(unmapped.jar, unmapped.callbackUrl.href);
    expect(hubSessionCookies(noRole)).toEqual([]);
    const noRolePage = await page(noRole);
    expect(noRolePage.status).toBe(403);
    expect(noRolePage.text).toContain('Tài khoản chưa được phân quyền');
    expect(noRolePage.text).toContain('khach-01');

    const withoutUnit = await throughIdp('lanh-dao-no-unit');
    const noUnit = await page(await send(withoutUnit.jar, withoutUnit.callbackUrl.href));
    expect(noUnit.status).toBe(403);
    expect(noUnit.text).toContain('chưa được gán đơn vị');
    expect(started).toEqual([]);
  });

  it('says so when the person cancels at the IdP (access_denied)', async () => {
    const flow = await throughIdp('ke-toan-01', { abort: true });
    expect(flow.callbackUrl.searchParams.get('error')).toBe('access_denied');
    const cancelled = await page(await send(flow.jar, flow.callbackUrl.href));
    expect(cancelled.status).toBe(401);
    expect(cancelled.text).toContain('Đăng nhập đã bị huỷ');
    expect(started).toEqual([]);
  });

  it('refuses a flow older than ten minutes', async () => {
    const flow = await throughIdp('ke-toan-01');
    h.clock.now = new Date(Date.now() + 11 * 60_000);
    const expired = await page(await send(flow.jar, flow.callbackUrl.href));
    expect(expired.status).toBe(400);
    expect(expired.text).toContain('Phiên đăng nhập đã hết hạn');
    expect(started).toEqual([]);
  });

  it('goes back only to a dashboard path of this hub, never elsewhere', async () => {
    for (const next of [
      'https://evil.example/dashboard',
      '//evil.example/dashboard',
      '/\\evil.example',
      '/v1/audit',
      '/dashboard/oidc/login',
    ]) {
      const flow = await throughIdp('ke-toan-01', { next });
      const callback = await send(flow.jar, flow.callbackUrl.href);
      expect(callback.headers.get('location'), next).toBe('/dashboard');
    }
  });

  it('tries discovery again after the IdP could not be reached', async () => {
    let down = true;
    const rp = createOidcRelyingParty(h.deps.oidc!.settings, (input, init) =>
      down ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init),
    );
    await expect(rp.configuration()).rejects.toThrow();
    down = false;
    const config = await rp.configuration();
    expect(config.serverMetadata().issuer).toBe(idp.issuer);
    expect(await rp.configuration()).toBe(config);
  });

  it('answers the sign-in page with a 503 page when the IdP is down', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = await createHarness({ oidc: () => ({ ...h.deps.oidc!.settings, issuer }) });
    try {
      const response = await down.request('GET', '/dashboard/oidc/login');
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('Không kết nối được máy chủ định danh');
      expect(response.headers.getSetCookie()).toEqual([]);
    } finally {
      await down.close();
    }
  });

  it('has no OIDC routes when it is not configured', async () => {
    const plain = await createHarness({ sandbox: false });
    try {
      expect((await plain.request('GET', '/dashboard/oidc/login')).status).toBe(404);
      expect(plain.deps.oidcEnabled).toBe(false);
    } finally {
      await plain.close();
    }
  });
});
