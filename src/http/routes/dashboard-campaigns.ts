import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { vnDate } from '../../domain/dates.ts';
import {
  type CampaignView,
  campaignProgress,
  createCampaign,
  getCampaign,
  listCampaigns,
  updateCampaign,
} from '../../services/campaigns.ts';
import { listAgencies } from '../../services/catalogue.ts';
import { ServiceError } from '../../services/errors.ts';
import { IDEMPOTENCY_KEY_PATTERN } from '../../services/idempotency.ts';
import { onlinePaymentBreakdown, onlinePaymentIndicators } from '../../services/indicators.ts';
import type { Principal } from '../../services/principal.ts';
import { exportResponse } from '../../web/campaign-export.ts';
import {
  type CampaignFormValues,
  campaignFormValues,
  campaignInputOf,
  postedValues,
  renderCampaignForm,
  serviceErrors,
} from '../../web/dashboard/campaign-form.ts';
import { type DashboardModel, renderDashboard } from '../../web/dashboard/pages.ts';
import { dashboardFailure, dashboardShell, readForm } from '../../web/dashboard/shell.ts';
import { checkCsrf, csrfField, requireSession } from '../../web/session.ts';
import type { AppEnv } from '../env.ts';
import { principalOf } from '../middleware/auth.ts';
import { wantsHtml } from '../negotiate.ts';
import { zodIssues } from '../problem.ts';
import { agencyCode, procedureCode } from '../schemas.ts';

/**
 * The campaign pages under the session: the dashboard (GET, its view in the query, so every
 * drill-down is a link), its export, and the admin's forms to create and edit a campaign, which
 * call the same services as POST and PUT /v1/campaigns, with the same rules: campaign managers
 * see, admins also edit.
 */

const ViewQuery = z
  .object({
    campaign: z.uuid().optional(),
    agency: agencyCode.optional(),
    procedure: procedureCode.optional(),
    format: z.enum(['csv', 'xlsx']).default('xlsx'),
  })
  .strip();

function viewQuery(c: Context<AppEnv>) {
  const parsed = ViewQuery.safeParse(c.req.query());
  if (!parsed.success) throw new ServiceError('validation-failed', 'the address is not valid', zodIssues(parsed.error, 'query'));
  return parsed.data;
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

async function campaignForm(
  c: Context<AppEnv>,
  view: { campaignId?: string; values: CampaignFormValues; errors?: Record<string, string>; idempotencyKey?: string },
) {
  const errors = view.errors ?? {};
  if (Object.keys(errors).length > 0 && !wantsHtml(c.req.header('accept'), 'html')) {
    const fields = Object.entries(errors).map(([path, message]) => ({ path: `form.${path}`, message }));
    throw new ServiceError('validation-failed', 'the campaign form is not valid', fields);
  }
  const agencies = await listAgencies(c.get('ctx'), principalOf(c));
  const { title, body } = renderCampaignForm({ ...view, errors, agencies, csrf: csrfField(c) });
  return dashboardShell(c, { title, body, active: 'campaigns', status: Object.keys(errors).length > 0 ? 400 : 200 });
}

/** A new campaign's form carries its Idempotency-Key: a second click, or a resend, creates nothing more. */
const keyOf = (form: Record<string, unknown>) =>
  typeof form.key === 'string' && IDEMPOTENCY_KEY_PATTERN.test(form.key) ? form.key : crypto.randomUUID();

const idParam = z.uuid();
function campaignId(c: Context<AppEnv>): string {
  const id = idParam.safeParse(c.req.param('id'));
  if (!id.success) throw new ServiceError('not-found', `campaign ${c.req.param('id')?.slice(0, 60)} was not found`);
  return id.data;
}

export function registerCampaignPages(app: OpenAPIHono<AppEnv>) {
  const readers = requireSession('campaign', 'admin');
  const admins = requireSession('admin');

  app.get('/dashboard/campaigns', readers, async (c) => {
    try {
      const query = viewQuery(c);
      const principal = principalOf(c);
      const ctx = c.get('ctx');
      const today = vnDate(ctx.now());
      const campaigns = await listCampaigns(ctx, principal);
      const chosen = chooseCampaign(campaigns, query.campaign, today);
      const model: DashboardModel = { canEdit: principal.role === 'admin', campaigns, progress: null };
      if (chosen) {
        model.progress = await campaignProgress(ctx, principal, chosen.id, query.agency);
        const { current, status, agency } = model.progress;
        if (query.procedure && status !== 'scheduled') {
          const breakdown = await onlinePaymentBreakdown(ctx, principal, agency.code, current, 'agency', query.procedure);
          model.procedure = { procedure: breakdown.procedure!, items: breakdown.items };
        }
      } else {
        // No campaign: this month's indicators of one of the caller's scope roots (the first, or the one chosen).
        const roots =
          principal.role === 'admin'
            ? (await listAgencies(ctx, principal)).filter((a) => a.parentCode === null)
            : await scopeRoots(ctx, principal);
        model.roots = roots.map((a) => ({ code: a.code, name: a.name }));
        model.report = await onlinePaymentIndicators(ctx, principal, query.agency ?? roots[0]?.code, {
          from: `${today.slice(0, 8)}01`,
          to: today,
        });
      }
      return dashboardShell(c, { ...renderDashboard(model), active: 'campaigns' });
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  app.get('/dashboard/campaigns/export', readers, async (c) => {
    try {
      const query = viewQuery(c);
      const principal = principalOf(c);
      const ctx = c.get('ctx');
      const chosen = chooseCampaign(await listCampaigns(ctx, principal), query.campaign, vnDate(ctx.now()));
      if (!chosen) throw new ServiceError('not-found', 'there is no campaign to export');
      const progress = await campaignProgress(ctx, principal, chosen.id, query.agency);
      return await exportResponse(c, ctx.spreadsheets, progress, query.format, 'units');
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  app.get('/dashboard/campaigns/new', admins, (c) =>
    campaignForm(c, { values: campaignFormValues(), idempotencyKey: crypto.randomUUID() }).catch((error) => dashboardFailure(c, error)),
  );

  app.post('/dashboard/campaigns/new', admins, async (c) => {
    try {
      const form = await readForm(c);
      checkCsrf(c, form);
      const values = postedValues(form);
      const idempotencyKey = keyOf(form);
      const parsed = campaignInputOf(values);
      if ('errors' in parsed) return await campaignForm(c, { values, errors: parsed.errors, idempotencyKey });
      try {
        const created = await createCampaign(c.get('ctx'), principalOf(c), parsed.input, idempotencyKey);
        return c.redirect(`/dashboard/campaigns?campaign=${created.id}`, 303);
      } catch (error) {
        const errors = serviceErrors(error);
        if (errors) return await campaignForm(c, { values, errors, idempotencyKey });
        throw error;
      }
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  app.get('/dashboard/campaigns/:id/edit', admins, async (c) => {
    try {
      const campaign = await getCampaign(c.get('ctx'), principalOf(c), campaignId(c));
      return await campaignForm(c, { campaignId: campaign.id, values: campaignFormValues(campaign) });
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  app.post('/dashboard/campaigns/:id/edit', admins, async (c) => {
    try {
      const id = campaignId(c);
      const form = await readForm(c);
      checkCsrf(c, form);
      const values = postedValues(form);
      const parsed = campaignInputOf(values);
      if ('errors' in parsed) return await campaignForm(c, { campaignId: id, values, errors: parsed.errors });
      try {
        await updateCampaign(c.get('ctx'), principalOf(c), id, parsed.input);
        return c.redirect(`/dashboard/campaigns?campaign=${id}`, 303);
      } catch (error) {
        const errors = serviceErrors(error);
        if (errors) return await campaignForm(c, { campaignId: id, values, errors });
        throw error;
      }
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });
}
