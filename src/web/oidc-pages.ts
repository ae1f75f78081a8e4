import { html } from 'hono/html';
import { page } from './layout.ts';

/** Why an OpenID Connect sign-in ended without a session, with the way back to the sign-in page. */
export function renderSignInRefused(title: string, detail: string) {
  return page(
    title,
    html`<h1>${title}</h1>
<p>${detail}</p>
<p><a href="/dashboard">Quay lại trang đăng nhập</a></p>`,
    'p { line-height: 1.5; overflow-wrap: anywhere; } a { color: var(--accent); }',
  );
}
