import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import * as client from 'openid-client';
import { missingClaims, type OidcRelyingParty, principalFromClaims, SignInRefused } from '../../web/oidc.ts';
import { renderSignInRefused } from '../../web/oidc-pages.ts';
import { startSession } from '../../web/session.ts';
import type { AppEnv } from '../env.ts';

/**
 * Staff sign-in through the province's identity provider (OpenID Connect, authorization code
 * with PKCE S256, state and nonce): `GET /dashboard/oidc/login?next=` sends the browser to the
 * IdP; `GET /dashboard/oidc/callback` checks what comes back, exchanges the code, validates the
 * ID token (issuer, audience, nonce, expiry: openid-client), maps the claims to a principal and
 * starts the dashboard session. Anything else ends on a page that says why, with no session.
 */

const FLOW_COOKIE = 'oidc_flow';
const FLOW_PATH = '/dashboard/oidc';
/** Time a person has at the IdP (login, second factor) before the flow must start again. */
const FLOW_TTL_SECONDS = 10 * 60;

/** What the callback needs to finish the flow the login route started; one flow per browser. */
interface Flow {
  state: string;
  nonce: string;
  codeVerifier: string;
  next: string;
  /** Unix seconds: the cookie's Max-Age is the browser's to honour, this one is ours. */
  exp: number;
}

/** `next` when it is a path of the dashboard on this origin (never an open redirect), else /dashboard. */
function dashboardPath(next: string | undefined): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/dashboard';
  const base = 'http://hub.invalid';
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return '/dashboard';
  }
  const underDashboard = url.pathname === '/dashboard' || url.pathname.startsWith('/dashboard/');
  if (url.origin !== base || !underDashboard || url.pathname.startsWith(`${FLOW_PATH}/`)) return '/dashboard';
  return `${url.pathname}${url.search}`;
}

function pageHeaders(c: Context<AppEnv>) {
  c.header(
    'content-security-policy',
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  );
  c.header('cache-control', 'no-store');
  c.header('referrer-policy', 'no-referrer');
  c.header('x-content-type-options', 'nosniff');
}

function refusedPage(c: Context<AppEnv>, refusal: SignInRefused) {
  pageHeaders(c);
  return c.html(renderSignInRefused(refusal.title, refusal.detail), refusal.status);
}

const unreachable = () =>
  new SignInRefused(
    503,
    'Không kết nối được máy chủ định danh',
    'Hệ thống tạm thời không kết nối được máy chủ đăng nhập của tỉnh. Vui lòng thử lại sau ít phút, hoặc đăng nhập bằng mã truy cập.',
  );

/** The library's errors, as what the person is told; the details go to the log only. */
function refusalFor(error: unknown): SignInRefused | undefined {
  if (error instanceof SignInRefused) return error;
  if (error instanceof client.AuthorizationResponseError) {
    return error.error === 'access_denied'
      ? new SignInRefused(
          401,
          'Đăng nhập đã bị huỷ',
          'Bạn đã huỷ hoặc từ chối đăng nhập tại máy chủ định danh. Chưa có phiên làm việc nào được mở.',
        )
      : new SignInRefused(
          401,
          'Máy chủ định danh từ chối đăng nhập',
          `Máy chủ định danh trả về lỗi "${error.error}". Vui lòng đăng nhập lại.`,
        );
  }
  if (error instanceof client.ResponseBodyError) {
    return new SignInRefused(401, 'Không hoàn tất được đăng nhập', 'Mã đăng nhập không hợp lệ hoặc đã được dùng. Vui lòng đăng nhập lại.');
  }
  if (error instanceof TypeError || (error instanceof client.ClientError && ['OAUTH_TIMEOUT', 'OAUTH_ABORT'].includes(error.code ?? ''))) {
    return unreachable();
  }
  if (error instanceof client.ClientError) {
    return new SignInRefused(401, 'Không xác thực được danh tính', 'Thông tin đăng nhập nhận được không hợp lệ. Vui lòng đăng nhập lại.');
  }
  return undefined;
}

function parseFlow(value: string | false | undefined, now: Date): Flow | undefined {
  if (!value) return undefined;
  try {
    const flow = JSON.parse(value) as Partial<Flow>;
    const complete = [flow.state, flow.nonce, flow.codeVerifier, flow.next].every((v) => typeof v === 'string');
    return complete && typeof flow.exp === 'number' && flow.exp * 1000 > now.getTime() ? (flow as Flow) : undefined;
  } catch {
    return undefined;
  }
}

export function registerOidcRoutes(app: OpenAPIHono<AppEnv>, rp: OidcRelyingParty) {
  const { settings } = rp;
  const secure = new URL(settings.redirectUri).protocol === 'https:';

  app.get(`${FLOW_PATH}/login`, async (c) => {
    const ctx = c.get('ctx');
    let config: client.Configuration;
    try {
      config = await rp.configuration();
    } catch (error) {
      ctx.log.warn('oidc discovery failed', { issuer: settings.issuer, error: String(error) });
      return refusedPage(c, unreachable());
    }
    const flow: Flow = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
      next: dashboardPath(c.req.query('next')),
      exp: Math.floor(ctx.now().getTime() / 1000) + FLOW_TTL_SECONDS,
    };
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: settings.redirectUri,
      scope: settings.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    // SameSite=Lax, not Strict: the IdP sends the browser back with a top-level GET from its own
    // site, and a Strict cookie is not sent on such a cross-site navigation, so the callback would
    // never see it. Lax is sent on top-level GETs only; the cookie holds nothing that acts on
    // its own (state, nonce and the PKCE verifier of one flow, single use, ten minutes).
    await setSignedCookie(c, FLOW_COOKIE, JSON.stringify(flow), await rp.flowCookieKey(), {
      path: FLOW_PATH,
      httpOnly: true,
      sameSite: 'Lax',
      secure,
      maxAge: FLOW_TTL_SECONDS,
    });
    c.header('cache-control', 'no-store');
    return c.redirect(authorizationUrl.href, 302);
  });

  app.get(`${FLOW_PATH}/callback`, async (c) => {
    const ctx = c.get('ctx');
    const flow = parseFlow(await getSignedCookie(c, await rp.flowCookieKey(), FLOW_COOKIE), ctx.now());
    // Single use, whatever happens next.
    deleteCookie(c, FLOW_COOKIE, { path: FLOW_PATH, httpOnly: true, sameSite: 'Lax', secure });
    const query = new URL(c.req.url).searchParams;
    try {
      if (!flow) {
        throw new SignInRefused(
          400,
          'Phiên đăng nhập đã hết hạn',
          'Lượt đăng nhập này đã quá thời gian hoặc không bắt đầu từ trình duyệt này. Vui lòng đăng nhập lại.',
        );
      }
      if (query.get('state') !== flow.state) {
        ctx.log.warn('oidc callback state mismatch', { hasState: query.has('state') });
        throw new SignInRefused(
          400,
          'Yêu cầu đăng nhập không hợp lệ',
          'Phản hồi đăng nhập không khớp với lượt đăng nhập đã bắt đầu trên trình duyệt này. Vui lòng đăng nhập lại.',
        );
      }
      const config = await rp.configuration();
      // The registered redirect URI with the IdP's parameters: behind a proxy the request's own
      // URL may differ, and the token request must name exactly the registered one.
      const currentUrl = new URL(settings.redirectUri);
      for (const [name, value] of query) currentUrl.searchParams.append(name, value);
      const tokens = await client.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims()!;
      let claims: Record<string, unknown> = idToken;
      // Many IdPs (oidc-provider among them) put scope claims in userinfo, not in the ID token.
      if (missingClaims(settings, idToken).length > 0 && config.serverMetadata().userinfo_endpoint) {
        const userinfo = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
        claims = { ...userinfo, ...idToken };
      }
      const principal = principalFromClaims(settings, claims);
      // The session's own lifetime, not the ID token's: an IdP may issue five-minute ID tokens,
      // which say how long the token may be presented, not how long a person may work.
      await startSession(c, principal, { via: 'oidc' });
      ctx.log.info('oidc sign-in', { subject: principal.subject, role: principal.role, agencies: principal.agencies });
      c.header('cache-control', 'no-store');
      return c.redirect(flow.next, 303);
    } catch (error) {
      const refusal = refusalFor(error);
      if (!refusal) throw error;
      if (!(error instanceof SignInRefused)) {
        ctx.log.warn('oidc sign-in failed', {
          error: error instanceof Error ? error.name : 'unknown',
          code: error instanceof client.ClientError ? error.code : undefined,
          message: error instanceof Error ? error.message : String(error),
        });
      } else if (error.status === 403) {
        ctx.log.warn('oidc sign-in refused', { title: error.title });
      }
      return refusedPage(c, refusal);
    }
  });
}
