import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { AppEnv, SessionSettings } from '../http/env.ts';
import { wantsHtml } from '../http/negotiate.ts';
import { errorToResponse } from '../http/problem.ts';
import { ServiceError } from '../services/errors.ts';
import { AGENCY_CODE_PATTERN, type Principal, type Role, roles } from '../services/principal.ts';
import { dashboardFailure, dashboardShell, safeNext, signInPage } from './dashboard/shell.ts';

/**
 * Sign-in as a session (issue 10): the token a person pastes (or the province's OpenID Connect
 * sign-in) is verified once and becomes a short-lived cookie, signed with HS256 under
 * SESSION_SECRET, that carries the principal as the token gave it and a CSRF token for the
 * session's forms. The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's
 * page sends it) and scoped to /dashboard (the API never sees it; it takes bearer tokens only).
 * A session lives TTL minutes after its last request, and never beyond the token it came from
 * (nor MAX_SESSION_HOURS). Nothing is stored on the server: signing out clears the cookie, and a
 * copied cookie stays good until it expires, which is why it is short-lived.
 */

export interface WebSession {
  principal: Principal;
  csrf: string;
  expiresAt: Date;
  via: 'token' | 'oidc';
}

const ISSUER = 'fee-payment-hub/dashboard';
const AUDIENCE = 'fee-payment-hub/dashboard-session';
/** However the token was made, a session ends within a working day. */
const MAX_SESSION_HOURS = 12;
const COOKIE_PATH = '/dashboard';

const claimsSchema = z.object({
  sub: z.string().min(1).max(200),
  role: z.enum(roles),
  agencies: z.array(z.string().regex(AGENCY_CODE_PATTERN)).max(500),
  csrf: z.string().min(16).max(100),
  via: z.enum(['token', 'oidc']),
  /** The session's absolute end (seconds): the token's expiry, or the start plus MAX_SESSION_HOURS. */
  end: z.number().int(),
  exp: z.number().int(),
});
type SessionClaims = z.infer<typeof claimsSchema>;

// The HMAC key, imported once per settings object (not per request).
const keys = new WeakMap<SessionSettings, Promise<CryptoKey>>();
function keyOf(settings: SessionSettings): Promise<CryptoKey> {
  let key = keys.get(settings);
  if (!key) {
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(settings.secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    keys.set(settings, key);
  }
  return key;
}

/** The cookie is Secure, and then `__Secure-` prefixed, when the hub is reached over https. */
function cookieOf(c: Context<AppEnv>) {
  const secure = c.get('ctx').settings.publicBaseUrl.startsWith('https:');
  return { name: secure ? '__Secure-hub-session' : 'hub-session', secure };
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

async function writeCookie(c: Context<AppEnv>, claims: Omit<SessionClaims, 'exp'>, now: Date): Promise<WebSession> {
  const settings = c.get('pages').session;
  const exp = Math.min(seconds(now) + settings.ttlMinutes * 60, claims.end);
  const jws = await new SignJWT({ role: claims.role, agencies: claims.agencies, csrf: claims.csrf, via: claims.via, end: claims.end })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(claims.sub)
    .setIssuedAt(seconds(now))
    .setExpirationTime(exp)
    .sign(await keyOf(settings));
  const { name, secure } = cookieOf(c);
  setCookie(c, name, jws, { httpOnly: true, sameSite: 'Strict', path: COOKIE_PATH, secure, maxAge: exp - seconds(now) });
  return sessionOf({ ...claims, exp });
}

function sessionOf(claims: SessionClaims): WebSession {
  return {
    principal: { subject: claims.sub, role: claims.role, agencies: claims.agencies },
    csrf: claims.csrf,
    expiresAt: new Date(claims.exp * 1000),
    via: claims.via,
  };
}

/** The claims of a cookie that verifies now; anything else is no session. */
async function readCookie(c: Context<AppEnv>, now: Date): Promise<SessionClaims | undefined> {
  const value = getCookie(c, cookieOf(c).name);
  if (!value) return undefined;
  try {
    const { payload } = await jwtVerify(value, await keyOf(c.get('pages').session), {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      currentDate: now,
      requiredClaims: ['exp', 'sub'],
    });
    const claims = claimsSchema.safeParse(payload);
    return claims.success && claims.data.exp <= claims.data.end ? claims.data : undefined;
  } catch {
    return undefined;
  }
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_');
}

/** Sets the signed session cookie; the session never outlives `notAfter` (e.g. the pasted token's exp). */
export async function startSession(
  c: Context<AppEnv>,
  principal: Principal,
  options: { via: 'token' | 'oidc'; notAfter?: Date },
): Promise<void> {
  const now = c.get('ctx').now();
  const cap = seconds(now) + MAX_SESSION_HOURS * 3600;
  const end = options.notAfter ? Math.min(seconds(options.notAfter), cap) : cap;
  if (end <= seconds(now)) throw new ServiceError('unauthenticated', 'the token has expired');
  const session = await writeCookie(
    c,
    { sub: principal.subject, role: principal.role, agencies: [...principal.agencies], csrf: randomToken(), via: options.via, end },
    now,
  );
  c.set('session', session);
  c.set('principal', session.principal);
}

/** The session of this request, if its cookie verifies (for pages open to everyone, such as sign-in). */
export async function readSession(c: Context<AppEnv>): Promise<WebSession | undefined> {
  const claims = await readCookie(c, c.get('ctx').now());
  if (!claims) return undefined;
  const session = sessionOf(claims);
  c.set('session', session);
  return session;
}

/** Signs out: the cookie is cleared (the browser forgets it; nothing is kept on the server). */
export function endSession(c: Context<AppEnv>): void {
  const { name, secure } = cookieOf(c);
  deleteCookie(c, name, { path: COOKIE_PATH, secure, httpOnly: true, sameSite: 'Strict' });
}

/**
 * Middleware for pages: requires a valid session whose role is listed; sets c.get('principal') and
 * c.get('session'). A GET without a session redirects (303) to the sign-in page with
 * ?next=<path+query>; a POST without one gets the sign-in page 401; a wrong role gets a 403 page
 * (HTML to browsers, problem+json otherwise). A session past half its life is renewed (sliding),
 * up to its absolute end.
 */
export function requireSession(...allowed: Role[]): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async (c, next) => {
    const now = c.get('ctx').now();
    const claims = await readCookie(c, now);
    if (!claims) return noSession(c);
    let session = sessionOf(claims);
    const ttl = c.get('pages').session.ttlMinutes * 60;
    if (claims.exp - seconds(now) < ttl / 2 && claims.exp < claims.end) session = await writeCookie(c, claims, now);
    c.set('session', session);
    c.set('principal', session.principal);
    if (!allowed.includes(session.principal.role)) {
      return dashboardFailure(
        c,
        new ServiceError('forbidden', `the ${session.principal.role} role may not open this page (${allowed.join(' or ')} only)`),
      );
    }
    await next();
  });
}

function noSession(c: Context<AppEnv>) {
  const url = new URL(c.req.url);
  const here = `${url.pathname}${url.search}`;
  const html = wantsHtml(c.req.header('accept'), 'html');
  if (!html) return errorToResponse(c, new ServiceError('unauthenticated', 'sign in at /dashboard first (no valid session)'));
  if (c.req.method === 'GET' || c.req.method === 'HEAD') {
    if (c.req.header('sec-fetch-site') === 'cross-site') {
      // A link from another site (a mail, a chat): the browser withholds a SameSite=Strict cookie on
      // that navigation only. Loading the page again from this origin sends it, if there is one.
      return dashboardShell(c, { title: 'Đang mở trang…', body: reopen(here) });
    }
    c.header('cache-control', 'no-store');
    // Only a `next` the sign-in page follows (safeNext: at most 2000 characters): a page asked with
    // an endless query must not make a Location header too large for clients and proxies to read.
    const next = safeNext(here);
    return c.redirect(next ? `/dashboard?next=${encodeURIComponent(next)}` : '/dashboard', 303);
  }
  return signInPage(c, { error: 'Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.', status: 401 });
}

const reopen = (here: string) =>
  html`<meta http-equiv="refresh" content="0; url=${here}"><h1>Đang mở trang…</h1><p><a href="${here}">Mở trang</a></p>`;

/** The hidden CSRF input for a form of this session. */
export function csrfField(c: Context<AppEnv>): HtmlEscapedString {
  const session = c.get('session');
  return html`<input type="hidden" name="csrf" value="${session?.csrf ?? ''}">` as HtmlEscapedString;
}

/**
 * Whether a state-changing request comes from this hub's own pages, as far as the browser says:
 * an Origin header, when sent, must be the hub's; Sec-Fetch-Site, when sent, same-origin (or none,
 * a person's own navigation). Protects the sign-in form too, which has no session to hold a token.
 */
export function checkSameOrigin(c: Context<AppEnv>): void {
  const origin = c.req.header('origin');
  const site = c.req.header('sec-fetch-site');
  const own = [new URL(c.get('ctx').settings.publicBaseUrl).origin, new URL(c.req.url).origin];
  // "null" is an origin the browser would not name (a privacy setting, a sandboxed frame): then only
  // Sec-Fetch-Site can vouch for the request.
  const originOk = origin === undefined || own.includes(origin) || (origin === 'null' && site === 'same-origin');
  if (!originOk) {
    throw new ServiceError('forbidden', `a form of this hub must be sent from its own pages (Origin ${origin.slice(0, 100)})`);
  }
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new ServiceError('forbidden', `a form of this hub must be sent from its own pages (Sec-Fetch-Site ${site.slice(0, 30)})`);
  }
}

/** Checks a POSTed form's `csrf` field (and Origin / Sec-Fetch-Site when sent) against the session; throws ServiceError('forbidden', ...) otherwise. */
export function checkCsrf(c: Context<AppEnv>, form: Record<string, unknown>): void {
  checkSameOrigin(c);
  const expected = c.get('session')?.csrf;
  const given = form.csrf;
  if (!expected || typeof given !== 'string' || !sameString(given, expected)) {
    throw new ServiceError('forbidden', 'the form has expired or did not come from this session; open the page again');
  }
}

/** Compares without stopping at the first difference (the length is no secret). */
function sameString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
