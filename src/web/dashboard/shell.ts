import type { Context } from 'hono';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { cspNonce } from '../../http/csp.ts';
import type { AppEnv } from '../../http/env.ts';
import { wantsHtml } from '../../http/negotiate.ts';
import { errorToResponse, statusOf } from '../../http/problem.ts';
import { ServiceError } from '../../services/errors.ts';
import type { Role } from '../../services/principal.ts';
import { page } from '../layout.ts';
import { csrfField } from '../session.ts';

/**
 * The frame of every /dashboard page: the security headers, the top navigation by role (campaigns,
 * the treasury's desk, who is signed in, signing out) and the styles the desks share. Pages are
 * server-rendered and work without JavaScript; at 390 px the navigation wraps and wide tables
 * scroll inside their `.scroll` box instead of the page.
 */

type Content = HtmlEscapedString | Promise<HtmlEscapedString>;
type Status = 200 | 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 500;

export interface ShellOptions {
  title: string;
  body: Content;
  /** The section of the navigation this page belongs to. */
  active?: 'campaigns' | 'treasury' | 'webhooks';
  status?: Status;
  /** An inline script, allowed by this page's nonce. */
  script?: string;
  extraCss?: string;
}

const CSS = `
  body { font-family: system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif; background: #eef1f4; padding: 0 0 2rem; }
  main { max-width: 74rem; padding: 1.5rem 2rem; }
  h1 { text-transform: none; text-align: left; font-size: 1.5rem; }
  h2 { font-size: 1.15rem; margin: 1.8rem 0 0.6rem; border-bottom: 2px solid var(--accent); padding-bottom: 0.2rem; }
  a { color: var(--accent); }
  nav.top { background: #0b3d6b; color: #fff; margin: -1.5rem -2rem 1rem; }
  nav.top ul { list-style: none; margin: 0; padding: 0.4rem 1rem; display: flex; flex-wrap: wrap; align-items: center; gap: 0.3rem 1.2rem; }
  nav.top a { color: #fff; text-decoration: none; padding: 0.35rem 0; display: inline-block; }
  nav.top a[aria-current="page"] { border-bottom: 3px solid #f0b400; font-weight: 600; }
  nav.top .brand { font-weight: 700; margin-right: 0.6rem; }
  nav.top .who { margin-left: auto; display: flex; align-items: center; gap: 0.4rem 0.8rem; font-size: 0.9rem; overflow-wrap: anywhere; }
  nav.top form { margin: 0; }
  nav.top button { padding: 0.3rem 0.8rem; background: transparent; color: #fff; border: 1px solid #fff; white-space: nowrap; }
  .bar { display: flex; justify-content: space-between; align-items: center; gap: 0.6rem 1rem; flex-wrap: wrap; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 1rem; margin: 1rem 0; }
  .card { border: 1px solid var(--line); border-radius: 6px; padding: 0.9rem 1rem; background: #fafbfc; }
  .card h3 { font-size: 0.95rem; margin: 0 0 0.5rem; font-weight: 600; }
  .card .rate { font-size: 2rem; font-weight: 700; color: var(--accent); font-variant-numeric: tabular-nums; }
  .card dl { display: grid; grid-template-columns: auto auto; gap: 0.15rem 0.8rem; margin: 0.5rem 0 0; font-size: 0.9rem; }
  .card dt { color: var(--muted); } .card dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
  .total { font-size: 1.1rem; } .total strong { font-size: 1.4rem; color: var(--accent); }
  .good { color: #1d6b2f; } .bad { color: var(--danger); }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .scroll { overflow-x: auto; }
  .leaderboard td.unit { min-width: 12rem; }
  a:focus-visible, button:focus-visible, select:focus-visible, input:focus-visible, textarea:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
  .lists { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(20rem, 100%), 1fr)); gap: 1rem; }
  .lists li { margin-bottom: 0.3rem; }
  .legend { font-size: 0.85rem; color: var(--muted); }
  textarea { width: 100%; font-family: monospace; font-size: 0.85rem; }
  .error { border: 1px solid var(--danger); color: var(--danger); padding: 0.6rem 0.8rem; border-radius: 4px; }
  .notice { border: 1px solid #1d6b2f; color: #1d6b2f; padding: 0.6rem 0.8rem; border-radius: 4px; }
  nav.crumbs { margin: 0.3rem 0 0.8rem; }
  a.button, button.secondary { display: inline-block; padding: 0.5rem 1rem; border: 1px solid var(--accent); border-radius: 4px; background: #fff; color: var(--accent); text-decoration: none; font: inherit; cursor: pointer; }
  form.fields label { display: block; font-weight: 600; margin: 0.9rem 0 0.2rem; }
  form.fields input, form.fields select { font: inherit; padding: 0.45rem 0.5rem; width: 100%; max-width: 32rem; border: 1px solid var(--line); border-radius: 4px; }
  form.fields input[aria-invalid="true"], form.fields select[aria-invalid="true"] { border-color: var(--danger); }
  form.fields .hint { font-size: 0.85rem; color: var(--muted); margin: 0.2rem 0 0; }
  form.fields .field-error { color: var(--danger); font-size: 0.9rem; margin: 0.2rem 0 0; }
  form.fields fieldset { border: 1px solid var(--line); border-radius: 4px; margin: 1rem 0; max-width: 34rem; }
  @media (max-width: 40rem) {
    main { padding: 1rem 0.9rem; border-left: 0; border-right: 0; }
    nav.top { margin: -1rem -0.9rem 1rem; }
    h1 { font-size: 1.25rem; }
    nav.top .who { margin-left: 0; flex-basis: 100%; justify-content: space-between; }
  }
`;

/**
 * Headers of every page for people: a nonce-only script policy, nothing cached, and no referrer
 * beyond the hub itself (same-origin, not no-referrer: under no-referrer a browser sends a form's
 * Origin as "null", and the forms' CSRF check reads it).
 */
function pageHeaders(c: Context<AppEnv>): string {
  const nonce = cspNonce();
  c.header(
    'content-security-policy',
    `default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; script-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  );
  c.header('cache-control', 'no-store');
  c.header('referrer-policy', 'same-origin');
  c.header('x-content-type-options', 'nosniff');
  return nonce;
}

const roleNames: Record<Role, string> = {
  admin: 'quản trị',
  campaign: 'theo dõi chiến dịch',
  treasury: 'kho bạc',
  portal: 'cổng dịch vụ công',
};

function topNav(c: Context<AppEnv>, active: ShellOptions['active']) {
  const session = c.get('session');
  if (!session) return html`<nav class="top" aria-label="Điều hướng"><ul><li class="brand">Cổng thu phí, lệ phí</li></ul></nav>`;
  const { role, subject } = session.principal;
  const link = (section: NonNullable<ShellOptions['active']>, href: string, text: string) =>
    html`<li><a href="${href}" ${active === section ? raw('aria-current="page"') : ''}>${text}</a></li>`;
  return html`<nav class="top" aria-label="Điều hướng"><ul>
    <li class="brand">Cổng thu phí, lệ phí</li>
    ${role === 'campaign' || role === 'admin' ? link('campaigns', '/dashboard/campaigns', 'Chiến dịch') : ''}
    ${role === 'treasury' || role === 'admin' ? link('treasury', '/dashboard/treasury', 'Kho bạc / Thủ quỹ') : ''}
    ${role === 'admin' ? link('webhooks', '/dashboard/webhooks', 'Webhook') : ''}
    <li class="who"><span data-testid="signed-in">${subject} (${roleNames[role]})</span>
      <form method="post" action="/dashboard/signout">${csrfField(c)}<button type="submit">Đăng xuất</button></form></li>
  </ul></nav>`;
}

/** A whole /dashboard page as the answer, with its headers. */
export function dashboardShell(c: Context<AppEnv>, options: ShellOptions): Response | Promise<Response> {
  const nonce = pageHeaders(c);
  const head = html`<meta name="referrer" content="same-origin">${
    options.script ? html`<script nonce="${nonce}">${raw(options.script)}</script>` : ''
  }`;
  const body = html`${topNav(c, options.active)}${options.body}`;
  return c.html(page(options.title, body, CSS + (options.extraCss ?? ''), head), options.status ?? 200);
}

const errorTitles: Partial<Record<ServiceError['code'], string>> = {
  'validation-failed': 'Yêu cầu không hợp lệ',
  forbidden: 'Không có quyền',
  'not-found': 'Không tìm thấy',
};

/**
 * An error as a page (for a browser) or as problem+json (for anything else). A refused token
 * or a lost session is the sign-in page again.
 */
export function dashboardFailure(c: Context<AppEnv>, error: unknown): Response | Promise<Response> {
  if (!wantsHtml(c.req.header('accept'), 'html')) return errorToResponse(c, error);
  if (error instanceof ServiceError) {
    if (error.code === 'unauthenticated') {
      return signInPage(c, { error: 'Mã truy cập không hợp lệ hoặc đã hết hạn. Vui lòng đăng nhập lại.', status: 401 });
    }
    const title = errorTitles[error.code] ?? 'Không thực hiện được';
    const detail = error.fields.length
      ? `${error.message} (${error.fields.map((f) => `${f.path}: ${f.message}`).join('; ')})`
      : error.message;
    return errorPage(c, title, detail, statusOf(error.code) as Status);
  }
  const response = errorToResponse(c, error); // logged there, message never shown
  return errorPage(c, 'Lỗi hệ thống', 'Hệ thống gặp lỗi; vui lòng thử lại hoặc báo cho quản trị viên.', response.status as 500);
}

function errorPage(c: Context<AppEnv>, title: string, message: string, status: Status) {
  return dashboardShell(c, {
    title,
    status,
    body: html`<h1>${title}</h1><p class="error" role="alert">${message}</p><p><a href="/dashboard">Về trang đầu</a></p>`,
  });
}

/** A posted form's fields (application/x-www-form-urlencoded or multipart), or a clear 415 / 400. */
export async function readForm(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) {
    throw new ServiceError('unsupported-media-type', 'send the form (application/x-www-form-urlencoded)');
  }
  try {
    return await c.req.parseBody();
  } catch {
    // A multipart body that does not parse (no boundary, cut short): the browser never sends one.
    throw new ServiceError('validation-failed', 'the form cannot be read', [{ path: 'form', message: 'not a well-formed form body' }]);
  }
}

/** Where `next` may lead after signing in: a path of the dashboard on this origin, nothing else. */
export function safeNext(next: unknown): string | undefined {
  if (typeof next !== 'string' || next.length > 2000) return undefined;
  // Under /dashboard (so never //host), visible ASCII only (a URL's path and query are), no backslash (/\host).
  if (!/^\/dashboard(?:[/?#]|$)/.test(next) || !/^[\x21-\x7e]+$/.test(next) || next.includes('\\')) return undefined;
  const url = new URL(next, 'http://hub.invalid');
  if (url.origin !== 'http://hub.invalid' || !url.pathname.startsWith('/dashboard')) return undefined;
  return `${url.pathname}${url.search}`;
}

/**
 * The sign-in page: paste a token (and, where the province's identity provider is configured,
 * sign in with its account). `next` is where the session goes once started.
 */
export function signInPage(c: Context<AppEnv>, options: { error?: string; next?: string; status?: 200 | 400 | 401 | 403 } = {}) {
  const next = safeNext(options.next);
  const oidc = c.get('pages').oidcEnabled;
  return dashboardShell(c, {
    title: 'Đăng nhập — Cổng thu phí, lệ phí',
    status: options.status,
    body: html`<h1>Đăng nhập</h1>
  <p>Bảng theo dõi thanh toán trực tuyến (Quyết định 766/QĐ-TTg) và bàn làm việc của kho bạc.</p>
  ${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
  ${
    oidc
      ? html`<p><a class="button" id="oidc-login" href="/dashboard/oidc/login${next ? `?next=${encodeURIComponent(next)}` : ''}">Đăng nhập bằng tài khoản của tỉnh</a></p>
  <p class="muted">Hoặc dán mã truy cập:</p>`
      : ''
  }
  <form id="login" method="post" action="/dashboard/session">
    ${next ? html`<input type="hidden" name="next" value="${next}">` : ''}
    <p><label for="token">Mã truy cập (JWT của vai trò <em>campaign</em>, <em>treasury</em> hoặc <em>admin</em>)</label></p>
    <textarea id="token" name="token" rows="5" required autocomplete="off" spellcheck="false"></textarea>
    <p class="muted">Mã chỉ dùng để mở phiên làm việc; trình duyệt giữ phiên trong một cookie ngắn hạn, không giữ mã.</p>
    <p><button class="primary" type="submit">Đăng nhập</button></p>
  </form>`,
  });
}
