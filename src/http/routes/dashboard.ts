import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { vnDate } from '../../domain/dates.ts';
import { type CampaignView, campaignProgress, listCampaigns } from '../../services/campaigns.ts';
import { listAgencies } from '../../services/catalogue.ts';
import { ServiceError } from '../../services/errors.ts';
import { onlinePaymentBreakdown, onlinePaymentIndicators } from '../../services/indicators.ts';
import type { Principal } from '../../services/principal.ts';
import { AGENCY_CODE_PATTERN } from '../../services/principal.ts';
import { exportResponse } from '../../web/campaign-export.ts';
import { type DashboardModel, renderDashboard, renderDashboardError, renderLoginPage } from '../../web/dashboard/pages.ts';
import { cspNonce } from '../csp.ts';
import type { AppEnv } from '../env.ts';
import type { TokenVerifier } from '../middleware/auth.ts';
import { wantsHtml } from '../negotiate.ts';
import { errorToResponse, statusOf, zodIssues } from '../problem.ts';
import { procedureCode } from '../schemas.ts';

/**
 * `GET /dashboard` (sign in) and `POST /dashboard` (the dashboard for the token in the form):
 * pages for people, so every answer, errors included, is HTML to a browser; a client that does
 * not accept HTML gets the same errors as problem+json. The token travels in the form body of
 * each request, never in a URL, a cookie or a header the browser would send by itself.
 */

const FormSchema = z
  .object({
    token: z.string().trim().min(1, 'paste your access token').max(8000),
    campaign: z.uuid().optional(),
    agency: z.string().regex(AGENCY_CODE_PATTERN).optional(),
    procedure: procedureCode.optional(),
    format: z.enum(['csv', 'xlsx']).optional(),
  })
  .strip();
type DashboardForm = z.infer<typeof FormSchema>;

const READERS = new Set(['campaign', 'admin']);

function securityHeaders(c: Context<AppEnv>, scriptNonce: string) {
  c.header(
    'content-security-policy',
    `default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; script-src 'nonce-${scriptNonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  );
  c.header('cache-control', 'no-store');
  c.header('referrer-policy', 'no-referrer');
  c.header('x-content-type-options', 'nosniff');
}

const errorTitles: Partial<Record<ServiceError['code'], string>> = {
  'validation-failed': 'Yêu cầu không hợp lệ',
  forbidden: 'Không có quyền xem',
  'not-found': 'Không tìm thấy',
};

/** Errors as a page (for a browser) or as problem+json (for anything else). */
function failure(c: Context<AppEnv>, scriptNonce: string, error: unknown): Response | Promise<Response> {
  if (!wantsHtml(c.req.header('accept'), 'html')) return errorToResponse(c, error);
  securityHeaders(c, scriptNonce);
  if (error instanceof ServiceError) {
    if (error.code === 'unauthenticated')
      return c.html(renderLoginPage(scriptNonce, 'Mã truy cập không hợp lệ hoặc đã hết hạn. Vui lòng nhập lại.'), 401);
    const title = errorTitles[error.code] ?? 'Không thực hiện được';
    const detail = error.fields.length
      ? `${error.message} (${error.fields.map((f) => `${f.path}: ${f.message}`).join('; ')})`
      : error.message;
    return c.html(renderDashboardError(scriptNonce, title, detail), statusOf(error.code));
  }
  const response = errorToResponse(c, error); // logged there, message never shown
  return c.html(
    renderDashboardError(scriptNonce, 'Lỗi hệ thống', 'Hệ thống gặp lỗi; vui lòng thử lại hoặc báo cho quản trị viên.'),
    response.status as 500,
  );
}

async function readForm(c: Context<AppEnv>): Promise<DashboardForm> {
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) {
    throw new ServiceError('unsupported-media-type', 'send the dashboard form (application/x-www-form-urlencoded)');
  }
  let body: Record<string, unknown>;
  try {
    body = await c.req.parseBody();
  } catch {
    // A multipart body that does not parse (no boundary, cut short): the browser never sends one.
    throw new ServiceError('validation-failed', 'the form cannot be read', [{ path: 'form', message: 'not a well-formed form body' }]);
  }
  const parsed = FormSchema.safeParse(body);
  if (!parsed.success) throw new ServiceError('validation-failed', 'the form is not valid', zodIssues(parsed.error, 'form'));
  return parsed.data;
}

async function signIn(verify: TokenVerifier, token: string): Promise<Principal> {
  const principal = await verify(token);
  if (!READERS.has(principal.role))
    throw new ServiceError('forbidden', `the ${principal.role} role may not see the dashboard (campaign or admin)`);
  return principal;
}

/** The agencies a principal's token names, as the catalogue has them. */
async function scopeRoots(ctx: AppEnv['Variables']['ctx'], principal: Principal) {
  const visible = await listAgencies(ctx, principal);
  return principal.agencies.map((code) => visible.find((a) => a.code === code)).filter((a) => a !== undefined);
}

/** The campaign asked for, or the running one that started last, or the latest. */
function chooseCampaign(campaigns: CampaignView[], id: string | undefined, today: string): CampaignView | undefined {
  if (id) {
    const chosen = campaigns.find((c) => c.id === id);
    if (!chosen) throw new ServiceError('not-found', `campaign ${id} was not found`);
    return chosen;
  }
  return campaigns.find((c) => c.startDate <= today && today <= c.endDate) ?? campaigns[0];
}

export function registerDashboardRoutes(app: OpenAPIHono<AppEnv>, verify: TokenVerifier) {
  const limit = bodyLimit({
    maxSize: 64 * 1024,
    onError: () => {
      throw new ServiceError('payload-too-large', 'the dashboard form is at most 64 KiB');
    },
  });
  app.use('/dashboard', limit);
  app.use('/dashboard/*', limit);

  app.get('/dashboard', (c) => {
    const n = cspNonce();
    securityHeaders(c, n);
    return c.html(renderLoginPage(n));
  });

  app.post('/dashboard', async (c) => {
    const n = cspNonce();
    try {
      const form = await readForm(c);
      const principal = await signIn(verify, form.token);
      const ctx = c.get('ctx');
      const today = vnDate(ctx.now());
      const campaigns = await listCampaigns(ctx, principal);
      const chosen = chooseCampaign(campaigns, form.campaign, today);
      const model: DashboardModel = { nonce: n, token: form.token, campaigns, progress: null };
      if (chosen) {
        model.progress = await campaignProgress(ctx, principal, chosen.id, form.agency);
        const { current, status, agency } = model.progress;
        if (form.procedure && status !== 'scheduled') {
          const breakdown = await onlinePaymentBreakdown(ctx, principal, agency.code, current, 'agency', form.procedure);
          model.procedure = { procedure: breakdown.procedure!, items: breakdown.items };
        }
      } else {
        // No campaign: this month's indicators of one of the caller's scope roots (the first, or the one chosen).
        const roots =
          principal.role === 'admin'
            ? (await listAgencies(ctx, principal)).filter((a) => a.parentCode === null)
            : await scopeRoots(ctx, principal);
        model.roots = roots.map((a) => ({ code: a.code, name: a.name }));
        model.report = await onlinePaymentIndicators(ctx, principal, form.agency ?? roots[0]?.code, {
          from: `${today.slice(0, 8)}01`,
          to: today,
        });
      }
      securityHeaders(c, n);
      return c.html(renderDashboard(model));
    } catch (error) {
      return failure(c, n, error);
    }
  });

  app.post('/dashboard/export', async (c) => {
    const n = cspNonce();
    try {
      const form = await readForm(c);
      const principal = await signIn(verify, form.token);
      const ctx = c.get('ctx');
      const chosen = chooseCampaign(await listCampaigns(ctx, principal), form.campaign, vnDate(ctx.now()));
      if (!chosen) throw new ServiceError('not-found', 'there is no campaign to export');
      const progress = await campaignProgress(ctx, principal, chosen.id, form.agency);
      return exportResponse(c, progress, form.format ?? 'xlsx', 'units');
    } catch (error) {
      return failure(c, n, error);
    }
  });
}
