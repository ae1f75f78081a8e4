import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { deliveryStates } from '../../db/schema/outbox.ts';
import { ServiceError } from '../../services/errors.ts';
import { listDeliveries, resendDelivery } from '../../services/webhook-delivery.ts';
import { listEndpoints } from '../../services/webhook-endpoints.ts';
import { dashboardFailure, dashboardShell, readForm } from '../../web/dashboard/shell.ts';
import { checkCsrf, csrfField, requireSession } from '../../web/session.ts';
import { type DeliveryFilter, renderWebhooksPage, WEBHOOKS_CSS, WEBHOOKS_PAGE, type WebhooksPageModel } from '../../web/webhooks-page.ts';
import type { AppEnv } from '../env.ts';
import { principalOf } from '../middleware/auth.ts';
import { wantsHtml } from '../negotiate.ts';
import { statusOf, zodIssues } from '../problem.ts';

/**
 * The admin's webhooks page (issue 13) under the session: GET lists the endpoints and their recent
 * deliveries (`?state=failed` narrows them); the "Gửi lại" form POSTs (CSRF-checked) to the same
 * service as POST /v1/webhook-deliveries/{id}/resend, audited there, and answers 303 back to the
 * page with a notice (Post/Redirect/Get). Admins only, as with the API.
 */

const RECENT = 25;

const filterSchema = z.enum(['all', ...deliveryStates]);
const Query = z.object({ state: filterSchema.default('all'), notice: z.string().max(40).optional() }).strip();

const NOTICES: Record<string, string> = {
  resent: 'Lần gửi đã được xếp lại để gửi ngay (một vòng thử mới); bộ gửi sẽ gửi trong giây lát — tải lại trang để xem kết quả.',
};

const idParam = z.uuid();
function deliveryId(c: Context<AppEnv>): string {
  const id = idParam.safeParse(c.req.param('id'));
  if (!id.success) throw new ServiceError('not-found', `webhook delivery ${c.req.param('id')?.slice(0, 60)} was not found`);
  return id.data;
}

async function webhooksPage(
  c: Context<AppEnv>,
  options: { filter: DeliveryFilter; notice?: string; error?: ServiceError },
): Promise<Response> {
  const ctx = c.get('ctx');
  const state = options.filter === 'all' ? undefined : options.filter;
  const endpoints = await listEndpoints(ctx);
  const model: WebhooksPageModel = {
    csrf: csrfField(c),
    filter: options.filter,
    notice: options.notice,
    error: options.error && {
      title: options.error.code === 'conflict' ? 'Không gửi lại được' : 'Không tìm thấy',
      detail: options.error.message,
    },
    limit: RECENT,
    endpoints: await Promise.all(
      endpoints.map(async (endpoint) => {
        const [deliveries, failed] = await Promise.all([
          listDeliveries(ctx, { endpointId: endpoint.id, state, limit: RECENT }),
          state === 'failed' ? undefined : listDeliveries(ctx, { endpointId: endpoint.id, state: 'failed', limit: 500 }),
        ]);
        return { endpoint, deliveries, failed: (failed ?? deliveries).length };
      }),
    ),
  };
  return dashboardShell(c, {
    title: 'Webhook — Cổng thu phí, lệ phí',
    body: renderWebhooksPage(model),
    active: 'webhooks',
    extraCss: WEBHOOKS_CSS,
    status: options.error ? (statusOf(options.error.code) as 404 | 409) : 200,
  });
}

export function registerWebhookPages(app: OpenAPIHono<AppEnv>) {
  const admins = requireSession('admin');

  app.get(WEBHOOKS_PAGE, admins, async (c) => {
    try {
      const query = Query.safeParse(c.req.query());
      if (!query.success) throw new ServiceError('validation-failed', 'the address is not valid', zodIssues(query.error, 'query'));
      return await webhooksPage(c, { filter: query.data.state, notice: NOTICES[query.data.notice ?? ''] });
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  app.post(`${WEBHOOKS_PAGE}/deliveries/:id/resend`, admins, async (c) => {
    try {
      const form = await readForm(c);
      checkCsrf(c, form);
      const id = deliveryId(c);
      try {
        await resendDelivery(c.get('ctx'), principalOf(c), id);
      } catch (error) {
        // Already succeeded, its endpoint deleted, or gone: the page again, saying why (problem+json to an API client).
        const shown = error instanceof ServiceError && (error.code === 'conflict' || error.code === 'not-found');
        if (shown && wantsHtml(c.req.header('accept'), 'html')) return await webhooksPage(c, { filter: 'all', error });
        throw error;
      }
      // Back to every delivery, at this one (now pending: a filter on failed ones would hide it).
      return c.redirect(`${WEBHOOKS_PAGE}?notice=resent#d-${id}`, 303);
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });
}
