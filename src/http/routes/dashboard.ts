import type { OpenAPIHono } from '@hono/zod-openapi';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import { ServiceError } from '../../services/errors.ts';
import type { Role } from '../../services/principal.ts';
import { dashboardFailure, readForm, safeNext, signInPage } from '../../web/dashboard/shell.ts';
import { checkCsrf, checkSameOrigin, endSession, readSession, startSession } from '../../web/session.ts';
import type { AppEnv } from '../env.ts';
import type { TokenVerifier } from '../middleware/auth.ts';
import { limitBodies } from '../middleware/bodies.ts';
import { wantsHtml } from '../negotiate.ts';
import { zodIssues } from '../problem.ts';
import { registerCampaignPages } from './dashboard-campaigns.ts';
import { registerTreasuryDayPages } from './treasury-day-pages.ts';
import { registerTreasuryPages } from './treasury-pages.ts';

/**
 * The pages for people under /dashboard: signing in (a pasted token becomes a session cookie,
 * src/web/session.ts), signing out, and the campaign pages (dashboard-campaigns.ts). Every answer,
 * errors included, is HTML to a browser; a client that does not accept HTML gets problem+json.
 * The token is read once, from the sign-in form's body, and never put in a page, a URL or the
 * cookie (the cookie holds what the verified token said, signed by the hub).
 */

/** Where each role lands after signing in. */
const HOME: Partial<Record<Role, string>> = {
  campaign: '/dashboard/campaigns',
  admin: '/dashboard/campaigns',
  treasury: '/dashboard/treasury',
};

const SignInSchema = z
  .object({
    token: z.string().trim().min(1, 'paste your access token').max(8000),
    next: z.string().max(2000).optional(),
  })
  .strip();

export function registerDashboardRoutes(app: OpenAPIHono<AppEnv>, verify: TokenVerifier) {
  const limit = limitBodies(64 * 1024, () => {
    throw new ServiceError('payload-too-large', 'the dashboard form is at most 64 KiB');
  });
  app.use('/dashboard', limit);
  // A statement upload streams with its own limit (STATEMENT_MAX_BYTES, the import's): never buffered.
  app.use('/dashboard/*', (c, next) =>
    c.req.method === 'POST' && c.req.path === '/dashboard/treasury/statements' ? next() : limit(c, next),
  );

  app.get('/dashboard', async (c) => {
    const next = c.req.query('next');
    const session = await readSession(c);
    const home = session && HOME[session.principal.role];
    if (home) return c.redirect(safeNext(next) ?? home, 303);
    return signInPage(c, { next });
  });

  app.post('/dashboard/session', async (c) => {
    let next: string | undefined;
    try {
      const body = await readForm(c);
      next = typeof body.next === 'string' ? body.next : undefined;
      // No session yet, so no CSRF token: a sign-in posted from another site's page is refused by its
      // Origin / Sec-Fetch-Site (login CSRF), as every browser of the last years sends them.
      checkSameOrigin(c);
      const form = SignInSchema.safeParse(body);
      if (!form.success) throw new ServiceError('validation-failed', 'the form is not valid', zodIssues(form.error, 'form'));
      const principal = await verify(form.data.token);
      const home = HOME[principal.role];
      if (!home) throw new ServiceError('forbidden', `the ${principal.role} role has no pages here (campaign, treasury or admin)`);
      // The token verified, so its claims are the issuer's: the session ends when the token does.
      const { exp } = decodeJwt(form.data.token);
      await startSession(c, principal, { via: 'token', notAfter: exp ? new Date(exp * 1000) : undefined });
      return c.redirect(safeNext(form.data.next) ?? home, 303);
    } catch (error) {
      if (error instanceof ServiceError && error.code === 'unauthenticated' && wantsHtml(c.req.header('accept'), 'html')) {
        return signInPage(c, { error: 'Mã truy cập không hợp lệ hoặc đã hết hạn. Vui lòng nhập lại.', next, status: 401 });
      }
      return dashboardFailure(c, error);
    }
  });

  app.post('/dashboard/signout', async (c) => {
    try {
      const form = await readForm(c);
      if (await readSession(c)) checkCsrf(c, form);
      endSession(c);
      return c.redirect('/dashboard', 303);
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  registerCampaignPages(app);
  registerTreasuryDayPages(app);
  registerTreasuryPages(app);
}
