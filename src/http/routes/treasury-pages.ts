import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ObligationStatus } from '../../db/schema/dossiers.ts';
import { ServiceError } from '../../services/errors.ts';
import { IDEMPOTENCY_KEY_PATTERN } from '../../services/idempotency.ts';
import type { Principal } from '../../services/principal.ts';
import { decideRefund } from '../../services/refunds.ts';
import { getReviewDetail, listReviews, type ReviewDetailView, reviewSummary } from '../../services/review-views.ts';
import { approveReview, decideReview, declineReview, refundsThroughGateway } from '../../services/reviews.ts';
import { intentLabels, listAllRefunds, listPaymentIntents } from '../../services/treasury-lists.ts';
import { dashboardFailure, dashboardShell, readForm } from '../../web/dashboard/shell.ts';
import { checkCsrf, csrfField, requireSession } from '../../web/session.ts';
import type { CasePageModel, DecisionFormValues, FormError } from '../../web/treasury/models.ts';
import { renderIntentList, renderRefundList, renderReviewCase, renderReviewQueue, TREASURY_CSS } from '../../web/treasury/pages.ts';
import type { AppEnv } from '../env.ts';
import { principalOf } from '../middleware/auth.ts';
import { statusOf } from '../problem.ts';
import {
  createdRangeOf,
  IntentListQuerySchema,
  pageRequest,
  RefundListQuerySchema,
  ReviewDecisionInputSchema,
  ReviewListQuerySchema,
  reviewNote,
} from '../treasury-schemas.ts';
import { amountOf, formError, PAGE_SIZE, parse, queryOf, subjectOf, text } from './desk-forms.ts';

/**
 * The treasury's desk for people (issue 10): the review queue, a case with its evidence side by
 * side and the decision form, the intents and refunds lists. GET pages under the session, their
 * filters and ids in the URL; POST forms (CSRF-checked) call the very services the API calls, and
 * answer 303 back to the page they came from (Post/Redirect/Get), or the page again with the error
 * and what was typed.
 */

const NOTICES: Record<string, string> = {
  decided: 'Quyết định đã được ghi và thực hiện.',
  awaiting: 'Quyết định đã được ghi và đang chờ một cán bộ khác phê duyệt.',
  approved: 'Quyết định đã được phê duyệt và thực hiện.',
  declined: 'Quyết định đã bị từ chối phê duyệt; hồ sơ trở lại hàng chờ.',
  'refund-approved': 'Khoản hoàn tiền đã được phê duyệt và gửi đi.',
  'refund-rejected': 'Khoản hoàn tiền đã bị từ chối.',
};
const noticeOf = (c: Context<AppEnv>) => NOTICES[c.req.query('notice') ?? ''];

function caseModel(
  c: Context<AppEnv>,
  detail: ReviewDetailView,
  extra: { error?: FormError; values?: DecisionFormValues; idempotencyKey?: string },
): CasePageModel {
  const { review, intent, dossier } = detail;
  const ctx = c.get('ctx');
  const principal = principalOf(c);
  const underpaid = intent !== null && intent.status === 'needs_review' && review.amount !== null && review.amount < intent.amount;
  const withoutAmount = review.amount === null && intent === null;
  return {
    csrf: csrfField(c),
    notice: extra.error ? undefined : noticeOf(c),
    error: extra.error,
    review: {
      id: review.id,
      kind: review.kind,
      status: review.status,
      gateway: review.gateway,
      gatewayTransactionId: review.gatewayTransactionId,
      amount: review.amount,
      reason: review.reason,
      proposedAction: review.proposedAction,
      createdAt: review.createdAt,
      agencyCode: review.agencyCode,
    },
    intent: intent && {
      id: intent.id,
      reference: intent.reference,
      gateway: intent.gateway,
      amount: intent.amount,
      status: intent.status,
      createdAt: intent.createdAt,
      paidAt: intent.succeededAt,
    },
    dossier: dossier && {
      code: dossier.code,
      procedureCode: dossier.procedureCode,
      procedureName: dossier.procedureName,
      agencyCode: dossier.agencyCode,
      agencyName: dossier.agencyName,
      applicantName: dossier.applicant.name,
    },
    feeLines: detail.feeLines.map((l) => ({ name: l.name, feeCode: l.feeCode, amount: l.amount, status: l.status as ObligationStatus })),
    messages: detail.messages.map((m) => ({
      id: m.id,
      receivedAt: m.receivedAt,
      method: m.method,
      url: m.url,
      signatureValid: m.signatureValid,
      result: m.result,
      rawBody: m.rawBody,
    })),
    intentEvents: detail.events.map((e) => ({
      at: e.at,
      event: e.event,
      fromStatus: e.fromStatus,
      toStatus: e.toStatus,
      accepted: e.accepted,
      source: e.source,
      actor: e.actor,
      repeats: e.repeats,
      lastRepeatedAt: e.lastRepeatedAt,
    })),
    history: detail.history.map((h) => ({ at: h.at, actor: h.actor, action: h.action, reason: h.reason })),
    decision: review.decision,
    outcome: review.outcome,
    approvedBy: review.approvedBy,
    resolvedBy: review.resolvedBy,
    resolvedAt: review.resolvedAt,
    allowedActions: detail.allowedActions,
    amountRequiredFor: withoutAmount ? ['assign', 'refund'] : underpaid ? ['accept'] : [],
    suggestedAmount: review.amount,
    manualRefund: !refundsThroughGateway(ctx, review, intent),
    approvalThreshold: ctx.settings.reviewApprovalThreshold,
    idempotencyKey: extra.idempotencyKey ?? crypto.randomUUID(),
    canApprove: review.status === 'awaiting_approval' && subjectOf(review.decidedBy) !== principal.subject,
    values: extra.values,
  };
}

const reviewId = (c: Context<AppEnv>) => {
  const id = c.req.param('id') ?? '';
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw new ServiceError('not-found', `payment review ${id.slice(0, 60)} was not found`);
  }
  return id.toLowerCase();
};

async function casePage(
  c: Context<AppEnv>,
  id: string,
  extra: { error?: FormError; values?: DecisionFormValues; idempotencyKey?: string; status?: number } = {},
) {
  const detail = await getReviewDetail(c.get('ctx'), principalOf(c), id);
  return dashboardShell(c, {
    title: `Hồ sơ cần xử lý — ${detail.intent?.reference ?? detail.review.kind}`,
    body: renderReviewCase(caseModel(c, detail, extra)),
    active: 'treasury',
    extraCss: TREASURY_CSS,
    status: (extra.status ?? 200) as 200,
  });
}

/** Runs a form's action; a refusal re-renders the case with the error and what was typed. */
async function onCase(c: Context<AppEnv>, act: (form: Record<string, unknown>, id: string) => Promise<string>) {
  const id = reviewId(c);
  const form = await readForm(c);
  checkCsrf(c, form);
  const values: DecisionFormValues = {
    action: text(form, 'action'),
    note: text(form, 'note'),
    amount: text(form, 'amount'),
    intentId: text(form, 'intentId'),
    dossierCode: text(form, 'dossierCode'),
    evidence: text(form, 'evidence'),
  };
  const key = text(form, 'key');
  try {
    const notice = await act(form, id);
    return c.redirect(`/dashboard/treasury/reviews/${id}?notice=${notice}`, 303);
  } catch (error) {
    const shown = formError(error);
    if (!shown) throw error;
    return casePage(c, id, {
      error: shown,
      values,
      idempotencyKey: IDEMPOTENCY_KEY_PATTERN.test(key) ? key : undefined,
      status: statusOf((error as ServiceError).code),
    });
  }
}

async function refundsPage(c: Context<AppEnv>, principal: Principal, error?: FormError, status = 200) {
  const query = error ? {} : queryOf(c);
  const parsed = parse(
    RefundListQuerySchema,
    {
      status: query.status,
      gateway: query.gateway,
      agency: query.agency,
      createdFrom: query.from,
      createdTo: query.to,
      cursor: query.cursor,
      limit: PAGE_SIZE,
    },
    'query',
  );
  const page = await listAllRefunds(c.get('ctx'), principal, { ...parsed, created: createdRangeOf(parsed) }, pageRequest(parsed));
  const intents = await intentLabels(c.get('ctx'), principal, [...new Set(page.items.map((r) => r.intentId))]);
  const body = renderRefundList({
    csrf: csrfField(c),
    notice: error ? undefined : noticeOf(c),
    error,
    filters: { status: query.status, gateway: query.gateway, agency: query.agency, from: query.from, to: query.to },
    refunds: page.items.map((r) => ({
      id: r.id,
      createdAt: r.createdAt,
      intentReference: intents.get(r.intentId)?.reference ?? r.intentId,
      gateway: intents.get(r.intentId)?.gateway ?? '',
      amount: r.amount,
      method: r.method,
      status: r.status,
      requestedBy: r.requestedBy,
      approvedBy: r.approvedBy,
      reason: r.reason,
      canApprove: r.status === 'awaiting_approval' && subjectOf(r.requestedBy) !== principal.subject,
    })),
    nextCursor: page.nextCursor,
  });
  return dashboardShell(c, { title: 'Hoàn tiền — Kho bạc', body, active: 'treasury', extraCss: TREASURY_CSS, status: status as 200 });
}

export function registerTreasuryPages(app: OpenAPIHono<AppEnv>) {
  const staff = requireSession('treasury', 'admin');

  app.get('/dashboard/treasury/reviews', staff, async (c) => {
    try {
      const query = queryOf(c);
      const principal = principalOf(c);
      const ctx = c.get('ctx');
      const parsed = parse(
        ReviewListQuerySchema,
        { ...query, createdFrom: query.from, createdTo: query.to, from: undefined, to: undefined, limit: PAGE_SIZE },
        'query',
      );
      const [page, summary] = await Promise.all([
        listReviews(ctx, principal, { ...parsed, created: createdRangeOf(parsed) }, pageRequest(parsed)),
        reviewSummary(ctx, principal, { agency: parsed.agency }),
      ]);
      const body = renderReviewQueue({
        csrf: csrfField(c),
        notice: noticeOf(c),
        filters: {
          kind: query.kind,
          status: query.status,
          gateway: query.gateway,
          agency: query.agency,
          from: query.from,
          to: query.to,
          minAmount: query.minAmount,
          maxAmount: query.maxAmount,
        },
        summary: { byKind: summary.byKind, byStatus: summary.byStatus, openAmount: summary.openAmount },
        reviews: page.items.map((r) => ({
          id: r.id,
          createdAt: r.createdAt,
          kind: r.kind,
          gateway: r.gateway,
          amount: r.amount,
          intentReference: r.intentReference,
          dossierCode: r.dossierCode,
          reason: r.reason,
          status: r.status,
          proposedAction: r.proposedAction,
        })),
        nextCursor: page.nextCursor,
      });
      return dashboardShell(c, { title: 'Hàng chờ xử lý — Kho bạc', body, active: 'treasury', extraCss: TREASURY_CSS });
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  app.get('/dashboard/treasury/reviews/:id', staff, async (c) => {
    try {
      return await casePage(c, reviewId(c));
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  app.post('/dashboard/treasury/reviews/:id/decision', staff, (c) =>
    onCase(c, async (form, id) => {
      const input = parse(
        ReviewDecisionInputSchema,
        {
          action: text(form, 'action') || undefined,
          note: text(form, 'note'),
          amount: amountOf(text(form, 'amount')),
          intentId: text(form, 'intentId') || undefined,
          dossierCode: text(form, 'dossierCode') || undefined,
          evidence: text(form, 'evidence') || undefined,
        },
        'form',
      );
      const key = text(form, 'key');
      const principal = principalOf(c);
      // The key comes with the page: sending the same form twice is one decision.
      await decideReview(c.get('ctx'), principal, id, input, IDEMPOTENCY_KEY_PATTERN.test(key) ? key : crypto.randomUUID());
      const after = await getReviewDetail(c.get('ctx'), principal, id);
      return after.review.status === 'awaiting_approval' ? 'awaiting' : 'decided';
    }).catch((error) => dashboardFailure(c, error)),
  );

  app.post('/dashboard/treasury/reviews/:id/approve', staff, (c) =>
    onCase(c, async (form, id) => {
      const note = text(form, 'note');
      await approveReview(c.get('ctx'), principalOf(c), id, note === '' ? undefined : parse(reviewNote, note, 'form.note'));
      return 'approved';
    }).catch((error) => dashboardFailure(c, error)),
  );

  app.post('/dashboard/treasury/reviews/:id/decline', staff, (c) =>
    onCase(c, async (form, id) => {
      await declineReview(c.get('ctx'), principalOf(c), id, parse(reviewNote, text(form, 'note'), 'form.note'));
      return 'declined';
    }).catch((error) => dashboardFailure(c, error)),
  );

  app.get('/dashboard/treasury/intents', staff, async (c) => {
    try {
      const query = queryOf(c);
      const parsed = parse(IntentListQuerySchema, { ...query, limit: PAGE_SIZE }, 'query');
      const page = await listPaymentIntents(
        c.get('ctx'),
        principalOf(c),
        { ...parsed, created: createdRangeOf(parsed), paid: { from: parsed.paidFrom, to: parsed.paidTo } },
        pageRequest(parsed),
      );
      const body = renderIntentList({
        csrf: csrfField(c),
        filters: query,
        intents: page.items.map((i) => ({
          id: i.id,
          reference: i.reference,
          dossierCode: i.dossierCode,
          gateway: i.gateway,
          amount: i.amount,
          receivedAmount: i.receivedAmount,
          status: i.status,
          createdAt: i.createdAt,
          paidAt: i.succeededAt,
        })),
        nextCursor: page.nextCursor,
      });
      return dashboardShell(c, { title: 'Giao dịch — Kho bạc', body, active: 'treasury', extraCss: TREASURY_CSS });
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  app.get('/dashboard/treasury/refunds', staff, async (c) => {
    try {
      return await refundsPage(c, principalOf(c));
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  for (const step of ['approve', 'reject'] as const) {
    app.post(`/dashboard/treasury/refunds/:id/${step}`, staff, async (c) => {
      try {
        const form = await readForm(c);
        checkCsrf(c, form);
        const id = c.req.param('id') ?? '';
        if (!/^[0-9a-f-]{36}$/i.test(id)) throw new ServiceError('not-found', `refund ${id.slice(0, 60)} was not found`);
        try {
          await decideRefund(c.get('ctx'), principalOf(c), id.toLowerCase(), step);
        } catch (error) {
          const shown = formError(error);
          if (!shown) throw error;
          return await refundsPage(c, principalOf(c), shown, statusOf((error as ServiceError).code));
        }
        return c.redirect(`/dashboard/treasury/refunds?notice=refund-${step === 'approve' ? 'approved' : 'rejected'}`, 303);
      } catch (error) {
        return dashboardFailure(c, error);
      }
    });
  }
}
