import { expect } from 'vitest';
import type { Harness } from './harness.ts';

/**
 * A browser's part in the dashboard's session, over `h.request`: sign in with a token (the
 * cookie comes back), open pages with the cookie, read a form's CSRF token, post a form.
 */

const FORM = 'application/x-www-form-urlencoded';

/** The cookie's `name=value`, and its whole Set-Cookie line. */
export function sessionCookieOf(response: Response): { cookie: string; line: string } {
  const line = response.headers.getSetCookie().find((l) => /^(__Secure-)?hub-session=/.test(l));
  expect(line, 'a session cookie is set').toBeDefined();
  return { cookie: line!.split(';')[0]!, line: line! };
}

/** Signs in with a pasted token; the session cookie, ready for a Cookie header. */
export async function signIn(h: Harness, token: string): Promise<string> {
  const response = await postForm(h, '/dashboard/session', { token });
  expect(response.status, await response.clone().text()).toBe(303);
  return sessionCookieOf(response).cookie;
}

/** A GET as a browser sends it: HTML first, with the cookie. */
export function openPage(h: Harness, path: string, cookie?: string, headers: Record<string, string> = {}) {
  return h.request('GET', path, { headers: { accept: 'text/html', ...(cookie ? { cookie } : {}), ...headers } });
}

/** A form POST as a browser sends it (urlencoded, HTML first), with the cookie if any. */
export function postForm(h: Harness, path: string, fields: Record<string, string>, cookie?: string, headers: Record<string, string> = {}) {
  return h.request('POST', path, {
    rawBody: new URLSearchParams(fields).toString(),
    headers: { 'content-type': FORM, accept: 'text/html', ...(cookie ? { cookie } : {}), ...headers },
  });
}

/** The CSRF token of a page's forms. */
export function csrfOf(page: string): string {
  const match = page.match(/<input type="hidden" name="csrf" value="([^"]+)">/);
  expect(match, 'the page has a CSRF field').not.toBeNull();
  return match![1]!;
}
