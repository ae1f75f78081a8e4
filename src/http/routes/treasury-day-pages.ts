import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import type { discrepancyClasses } from '../../db/schema/treasury-day.ts';
import { vnDate } from '../../domain/dates.ts';
import { collectionsReport } from '../../services/collections-report.ts';
import {
  approveDiscrepancy,
  assignDiscrepancy,
  commentDiscrepancy,
  type DiscrepancyView,
  declineDiscrepancy,
  getDiscrepancy,
  listDiscrepancies,
  resolveDiscrepancy,
} from '../../services/discrepancies.ts';
import { ServiceError } from '../../services/errors.ts';
import { IDEMPOTENCY_KEY_PATTERN } from '../../services/idempotency.ts';
import { getPaymentIntent } from '../../services/payment-intents.ts';
import type { Principal } from '../../services/principal.ts';
import { runReconciliation } from '../../services/reconciliation.ts';
import { closeDay, listReconciliations, threeWay } from '../../services/reconciliation-days.ts';
import { reviewSummary } from '../../services/review-views.ts';
import { settlementAccountOf } from '../../services/sources.ts';
import { spreadsheetsOrRefuse } from '../../services/spreadsheets.ts';
import { getStatement, importStatement, listStatementLines, listStatements } from '../../services/statements.ts';
import { collectionsFileName, collectionsSheet } from '../../web/collections-export.ts';
import { dashboardFailure, dashboardShell, readForm } from '../../web/dashboard/shell.ts';
import { csvResponse, xlsxResponse } from '../../web/downloads.ts';
import { checkCsrf, csrfField, requireSession } from '../../web/session.ts';
import type {
  DayPageModel,
  DaySource,
  DayStatement,
  DiscrepancyCaseModel,
  DiscrepancyListItem,
  ImportResult,
  ResolutionFormValues,
} from '../../web/treasury/day-models.ts';
import { DAY_CSS, renderDay, renderDiscrepancyCase, renderDiscrepancyList, sourceLabel } from '../../web/treasury/day-pages.ts';
import { labelOf, reviewKindLabels } from '../../web/treasury/labels.ts';
import type { FormError } from '../../web/treasury/models.ts';
import { TREASURY_CSS } from '../../web/treasury/pages.ts';
import type { AppEnv } from '../env.ts';
import { principalOf } from '../middleware/auth.ts';
import { statusOf } from '../problem.ts';
import { isoDate } from '../schemas.ts';
import { withStatementUpload } from '../statement-upload.ts';
import { formError, PAGE_SIZE, parse, queryOf, subjectOf, text } from './desk-forms.ts';
import { DiscrepancyListQuerySchema, discrepancyNote, ResolutionSchema } from './discrepancies.ts';

/**
 * The treasury's day for people (issue 11): `/dashboard/treasury` shows the day source by source
 * (statement, matching, three totals), uploads a statement, runs the matching and closes the day;
 * the discrepancy pages list, comment, assign, resolve and approve. Every form calls the service
 * its API route calls, and answers 303 back (Post/Redirect/Get) or the page with the error.
 */

const CSS = TREASURY_CSS + DAY_CSS;
const DAY = '/dashboard/treasury';
const DISCREPANCIES = '/dashboard/treasury/discrepancies';

const NOTICES: Record<string, string> = {
  imported: 'Sao kê đã được nạp.',
  matched: 'Đã đối chiếu sao kê với hệ thống.',
  closed: 'Ngày đã được chốt; số liệu của ngày không thay đổi nữa.',
  resolved: 'Cách xử lý đã được ghi.',
  awaiting: 'Cách xử lý đã được ghi và đang chờ một cán bộ khác phê duyệt.',
  approved: 'Đã phê duyệt cách xử lý.',
  declined: 'Đã không phê duyệt; chênh lệch mở lại.',
  commented: 'Ý kiến đã được ghi.',
  assigned: 'Đã giao việc.',
};
const noticeOf = (c: Context<AppEnv>) => NOTICES[c.req.query('notice') ?? ''];

const uuid = z.uuid();
const idOf = (c: Context<AppEnv>, what: string) => {
  const id = c.req.param('id') ?? '';
  if (!uuid.safeParse(id).success) throw new ServiceError('not-found', `${what} ${id.slice(0, 60)} was not found`);
  return id.toLowerCase();
};

const DayQuerySchema = z.object({ date: isoDate.optional(), statement: z.uuid().optional() });

/** The current statement of each source on the day, with how many earlier files it replaced. */
async function statementsOfDay(c: Context<AppEnv>, principal: Principal, date: string) {
  const all = await listStatements(c.get('ctx'), principal, { date });
  const bySource = new Map<string, DayStatement>();
  for (const s of all) {
    if (s.status !== 'current') continue;
    bySource.set(s.source, {
      id: s.id,
      fileName: s.fileName,
      format: s.format,
      linesTotal: s.linesTotal,
      linesImported: s.linesImported,
      linesRejected: s.linesRejected,
      creditTotal: s.creditTotal,
      debitTotal: s.debitTotal,
      uploadedBy: subjectOf(s.uploadedBy) ?? s.uploadedBy,
      createdAt: s.createdAt,
      replacedCount: all.filter((o) => o.source === s.source && o.status === 'superseded').length,
    });
  }
  return bySource;
}

/** How an upload went, for the box above the day (the statement named in the address after a 303). */
async function importResultOf(c: Context<AppEnv>, statementId: string): Promise<ImportResult> {
  const ctx = c.get('ctx');
  const principal = principalOf(c);
  const statement = await getStatement(ctx, principal, statementId);
  const rejected = statement.linesRejected
    ? (await listStatementLines(ctx, principal, statementId, { rejected: true, limit: 50 })).items
    : [];
  return {
    statementId,
    source: statement.source,
    repeat: c.req.query('repeat') === '1',
    linesTotal: statement.linesTotal,
    linesImported: statement.linesImported,
    linesRejected: statement.linesRejected,
    rejected: rejected.map((l) => ({ line: l.line, reason: l.error ?? '' })),
    replaced: c.req.query('replaced') === '1' ? 'yes' : null,
  };
}

const MAPPING_FIELDS = ['transactionId', 'reference', 'amount', 'time', 'text', 'direction'] as const;

// ---------------------------------------------------------------- the day

async function dayModel(c: Context<AppEnv>, date: string, imported: ImportResult | null, error?: FormError): Promise<DayPageModel> {
  const ctx = c.get('ctx');
  const principal = principalOf(c);
  const [rows, days, reviews] = await Promise.all([
    threeWay(ctx, principal, { date }),
    listReconciliations(ctx, principal, { date }),
    reviewSummary(ctx, principal),
  ]);
  const statements = await statementsOfDay(c, principal, date);
  const sources: DaySource[] = [];
  for (const row of rows) {
    const day = days.find((d) => d.source === row.source) ?? null;
    const statement = statements.get(row.source) ?? null;
    // A source with nothing on the day is left out of the cards (it stays in the upload's list).
    if (!day && !statement && row.hub.count === 0) continue;
    const settlementAccount = row.source.startsWith('bank:') ? null : (settlementAccountOf(ctx, row.source as 'vnpay') ?? null);
    sources.push({
      source: row.source,
      label: sourceLabel(row.source),
      agencyCode: row.agencyCode,
      hub: row.hub,
      statement,
      reconciliation: day && {
        id: day.id,
        status: day.status,
        runs: day.runs,
        lastRunAt: day.lastRunAt,
        classes: day.summary,
        openDiscrepancies: day.open.discrepancies,
        openReviews: day.open.reviews,
        closedBy: subjectOf(day.closedBy),
        closedAt: day.closedAt,
        totals: day.totals,
      },
      threeWay: row.source.startsWith('bank:')
        ? null
        : { hub: row.hub.amount, statement: row.statement?.amount ?? null, bank: row.bank?.amount ?? null, settlementAccount },
    });
  }
  return {
    csrf: csrfField(c),
    notice: error ? undefined : noticeOf(c),
    error,
    date,
    sourceOptions: rows.map((r) => ({ value: r.source, label: sourceLabel(r.source) })),
    sources,
    imported,
    openReviewsByKind: openByKind(reviews.byStatusAndKind),
    idempotencyKey: crypto.randomUUID(),
    reports: [
      { label: 'Báo cáo thu trong ngày (XLSX)', href: `${DAY}/reports/collections?date=${date}&format=xlsx` },
      { label: 'Báo cáo thu trong ngày (CSV)', href: `${DAY}/reports/collections?date=${date}&format=csv` },
    ],
  };
}

/** Reviews still waiting (open or awaiting approval), per kind, for the links to the queue. */
function openByKind(rows: { status: string; kind: string; count: number }[]) {
  const counts = new Map<string, number>();
  for (const r of rows) if (r.status !== 'resolved') counts.set(r.kind, (counts.get(r.kind) ?? 0) + r.count);
  return [...counts].map(([kind, count]) => ({ kind, label: labelOf(reviewKindLabels, kind), count }));
}

async function dayPage(c: Context<AppEnv>, date: string, imported: ImportResult | null, error?: FormError, status = 200) {
  const body = renderDay(await dayModel(c, date, imported, error));
  return dashboardShell(c, { title: `Ngày làm việc ${date} — Kho bạc`, body, active: 'treasury', extraCss: CSS, status: status as 200 });
}

/** Runs a day form's action; a refusal shows the day again with the error. */
async function onDay(
  c: Context<AppEnv>,
  act: (form: Record<string, unknown>) => Promise<{ date: string; notice: string; extra?: string }>,
) {
  const form = await readForm(c);
  checkCsrf(c, form);
  const typedDate = text(form, 'date');
  try {
    const done = await act(form);
    return c.redirect(`${DAY}?date=${done.date}&notice=${done.notice}${done.extra ?? ''}`, 303);
  } catch (error) {
    const shown = formError(error);
    if (!shown) throw error;
    const date = isoDate.safeParse(typedDate).success ? typedDate : vnDate(c.get('ctx').now());
    return dayPage(c, date, null, shown, statusOf((error as ServiceError).code));
  }
}

// ---------------------------------------------------------------- discrepancies

/** A discrepancy as the list shows it (and the case page starts from). */
const listItem = (d: DiscrepancyView): DiscrepancyListItem => ({
  id: d.id,
  businessDate: d.businessDate,
  source: d.source,
  class: d.class,
  status: d.status,
  subject: d.subject,
  statementAmount: d.statementAmount,
  hubAmount: d.hubAmount,
  assignee: d.assignee,
  flagCount: d.flagCount,
  reviewId: d.reviewId,
});

const resolutionValues = (form: Record<string, unknown>): ResolutionFormValues => ({
  resolution: text(form, 'resolution'),
  note: text(form, 'note'),
  intentId: text(form, 'intentId'),
  lineId: text(form, 'lineId'),
});

async function discrepancyModel(
  c: Context<AppEnv>,
  id: string,
  extra: { error?: FormError; values?: ResolutionFormValues; idempotencyKey?: string },
): Promise<DiscrepancyCaseModel> {
  const ctx = c.get('ctx');
  const principal = principalOf(c);
  const d = await getDiscrepancy(ctx, principal, id);
  // Out of scope (the dossier moved agency): the case still shows, without the intent's facts.
  const intent = d.intentId
    ? await getPaymentIntent(ctx, principal, d.intentId).catch((e) =>
        e instanceof ServiceError && e.code === 'not-found' ? undefined : Promise.reject(e),
      )
    : undefined;
  const detail = d.detail ?? {};
  const line =
    d.statementId && d.lineNo !== null
      ? {
          statementId: d.statementId,
          lineNo: d.lineNo,
          transactionId: (detail.transactionId as string | undefined) ?? null,
          reference: (detail.reference as string | undefined) ?? null,
          amount: d.statementAmount,
          occurredAt: (detail.occurredAt as string | undefined) ?? null,
          text: (detail.text as string | undefined) ?? null,
          direction: (detail.direction as string | undefined) ?? null,
          status: (detail.lineStatus as string | undefined) ?? null,
        }
      : null;
  return {
    csrf: csrfField(c),
    notice: extra.error ? undefined : noticeOf(c),
    error: extra.error,
    item: {
      ...listItem(d),
      agencyCode: d.agencyCode,
      reconciliationId: d.reconciliationId,
      createdAt: d.createdAt,
      flaggedAt: d.flaggedAt,
      detail: d.detail,
      resolution: d.resolution,
      decidedBy: d.decidedBy,
      approvedBy: d.approvedBy,
      resolvedAt: d.resolvedAt,
    },
    line,
    intent: intent
      ? {
          id: intent.id,
          reference: intent.reference,
          gateway: intent.gateway,
          amount: intent.amount,
          status: intent.status,
          dossierCode: intent.dossierCode,
          paidAt: intent.succeededAt,
        }
      : null,
    comments: d.comments.map((m) => ({ author: m.author, body: m.body, at: m.createdAt })),
    history: d.audit.map((a) => ({ at: a.at, actor: a.actor, action: a.action, reason: a.reason })),
    ownDecision: d.decidedBy !== null && subjectOf(d.decidedBy) === principal.subject,
    approvalThreshold: ctx.settings.reviewApprovalThreshold,
    values: extra.values,
    idempotencyKey: extra.idempotencyKey ?? crypto.randomUUID(),
  };
}

async function discrepancyPage(
  c: Context<AppEnv>,
  id: string,
  extra: { error?: FormError; values?: ResolutionFormValues; idempotencyKey?: string; status?: number } = {},
) {
  const model = await discrepancyModel(c, id, extra);
  return dashboardShell(c, {
    title: `Chênh lệch — ${model.item.subject}`,
    body: renderDiscrepancyCase(model),
    active: 'treasury',
    extraCss: CSS,
    status: (extra.status ?? 200) as 200,
  });
}

/** Runs a discrepancy form's action; a refusal re-renders the case with the error and what was typed. */
async function onDiscrepancy(c: Context<AppEnv>, act: (form: Record<string, unknown>, id: string) => Promise<string>) {
  const id = idOf(c, 'discrepancy');
  const form = await readForm(c);
  checkCsrf(c, form);
  const key = text(form, 'key');
  try {
    const notice = await act(form, id);
    return c.redirect(`${DISCREPANCIES}/${id}?notice=${notice}`, 303);
  } catch (error) {
    const shown = formError(error);
    if (!shown) throw error;
    return discrepancyPage(c, id, {
      error: shown,
      values: resolutionValues(form),
      idempotencyKey: IDEMPOTENCY_KEY_PATTERN.test(key) ? key : undefined,
      status: statusOf((error as ServiceError).code),
    });
  }
}

export function registerTreasuryDayPages(app: OpenAPIHono<AppEnv>) {
  const staff = requireSession('treasury', 'admin');

  app.get(DAY, staff, async (c) => {
    try {
      const query = parse(DayQuerySchema, queryOf(c), 'query');
      const date = query.date ?? vnDate(c.get('ctx').now());
      const imported = query.statement ? await importResultOf(c, query.statement) : null;
      return await dayPage(c, date, imported);
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  // The upload streams: the form's fields come before the file (the page puts the file last), and
  // the CSRF token is checked before a byte of the file is read.
  app.post(`${DAY}/statements`, staff, async (c) => {
    let typedDate = '';
    try {
      const fields = ['csrf', 'key', 'source', 'date', ...MAPPING_FIELDS.map((f) => `map.${f}`)];
      const result = await withStatementUpload(c.req.raw, fields, async (values, file) => {
        checkCsrf(c, values);
        typedDate = values.date ?? '';
        const input = parse(
          z.object({ source: z.string().min(1).max(60), date: isoDate }),
          { source: values.source ?? '', date: values.date ?? '' },
          'form',
        );
        const mapping = Object.fromEntries(MAPPING_FIELDS.map((f) => [f, values[`map.${f}`]?.trim()]).filter(([, v]) => v));
        const key = values.key ?? '';
        return importStatement(c.get('ctx'), principalOf(c), {
          ...input,
          mapping: Object.keys(mapping).length ? mapping : undefined,
          fileName: file.fileName,
          format: file.format,
          body: file.body,
          idempotencyKey: IDEMPOTENCY_KEY_PATTERN.test(key) ? key : crypto.randomUUID(),
        });
      });
      const done = result.body;
      return c.redirect(
        `${DAY}?date=${done.date}&statement=${done.id}&notice=imported${done.repeat ? '&repeat=1' : ''}${done.replaced ? '&replaced=1' : ''}`,
        303,
      );
    } catch (error) {
      const shown = formError(error);
      if (!shown || (error as ServiceError).code === 'forbidden') return dashboardFailure(c, error);
      const date = isoDate.safeParse(typedDate).success ? typedDate : vnDate(c.get('ctx').now());
      return dayPage(c, date, null, shown, statusOf((error as ServiceError).code)).catch((e) => dashboardFailure(c, e));
    }
  });

  app.post(`${DAY}/reconciliations`, staff, (c) =>
    onDay(c, async (form) => {
      const input = parse(
        z.object({ source: z.string().min(1).max(60), date: isoDate }),
        { source: text(form, 'source'), date: text(form, 'date') },
        'form',
      );
      await runReconciliation(c.get('ctx'), principalOf(c), input);
      return { date: input.date, notice: 'matched' };
    }).catch((error) => dashboardFailure(c, error)),
  );

  app.post(`${DAY}/reconciliations/:id/close`, staff, (c) =>
    onDay(c, async () => {
      const closed = await closeDay(c.get('ctx'), principalOf(c), idOf(c, 'reconciliation'));
      return { date: closed.date, notice: 'closed' };
    }).catch((error) => dashboardFailure(c, error)),
  );

  app.get(`${DAY}/reports/collections`, staff, async (c) => {
    try {
      const q = parse(z.object({ date: isoDate, format: z.enum(['csv', 'xlsx']) }), queryOf(c), 'query');
      const ctx = c.get('ctx');
      if (q.format === 'xlsx') spreadsheetsOrRefuse(ctx.spreadsheets);
      const report = await collectionsReport(ctx, principalOf(c), { from: q.date, to: q.date });
      if (q.format === 'csv') return csvResponse(c, collectionsFileName(report), collectionsSheet(report));
      return await xlsxResponse(c, ctx.spreadsheets, collectionsFileName(report), [collectionsSheet(report)], ctx.now());
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  app.get(DISCREPANCIES, staff, async (c) => {
    try {
      const query = queryOf(c);
      const parsed = parse(DiscrepancyListQuerySchema, { ...query, limit: PAGE_SIZE }, 'query');
      const { cursor, limit, ...filter } = parsed;
      const page = await listDiscrepancies(c.get('ctx'), principalOf(c), filter, { cursor, limit });
      const counts: Partial<Record<(typeof discrepancyClasses)[number], number>> = {};
      for (const d of page.items) counts[d.class] = (counts[d.class] ?? 0) + 1;
      const body = renderDiscrepancyList({
        csrf: csrfField(c),
        notice: noticeOf(c),
        filters: { class: query.class, status: query.status, source: query.source, date: query.date, agency: query.agency },
        items: page.items.map(listItem),
        counts: page.nextCursor ? {} : counts,
        nextCursor: page.nextCursor,
      });
      return dashboardShell(c, { title: 'Chênh lệch — Kho bạc', body, active: 'treasury', extraCss: CSS });
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  app.get(`${DISCREPANCIES}/:id`, staff, async (c) => {
    try {
      return await discrepancyPage(c, idOf(c, 'discrepancy'));
    } catch (error) {
      return dashboardFailure(c, error);
    }
  });

  app.post(`${DISCREPANCIES}/:id/resolution`, staff, (c) =>
    onDiscrepancy(c, async (form, id) => {
      const values = resolutionValues(form);
      const input = parse(
        ResolutionSchema,
        {
          resolution: values.resolution || undefined,
          note: values.note,
          intentId: values.resolution === 'matched_manually' && values.intentId && !values.lineId ? values.intentId : undefined,
          lineId: values.resolution === 'matched_manually' && values.lineId ? values.lineId : undefined,
        },
        'form',
      );
      const key = text(form, 'key');
      const principal = principalOf(c);
      // The key comes with the page: the same form sent twice is one resolution.
      const after = await resolveDiscrepancy(
        c.get('ctx'),
        principal,
        id,
        input,
        IDEMPOTENCY_KEY_PATTERN.test(key) ? key : crypto.randomUUID(),
      );
      return after.status === 'awaiting_approval' ? 'awaiting' : 'resolved';
    }).catch((error) => dashboardFailure(c, error)),
  );

  app.post(`${DISCREPANCIES}/:id/approve`, staff, (c) =>
    onDiscrepancy(c, async (form, id) => {
      const note = text(form, 'note');
      await approveDiscrepancy(c.get('ctx'), principalOf(c), id, note === '' ? undefined : parse(discrepancyNote, note, 'form.note'));
      return 'approved';
    }).catch((error) => dashboardFailure(c, error)),
  );

  app.post(`${DISCREPANCIES}/:id/decline`, staff, (c) =>
    onDiscrepancy(c, async (form, id) => {
      await declineDiscrepancy(c.get('ctx'), principalOf(c), id, parse(discrepancyNote, text(form, 'note'), 'form.note'));
      return 'declined';
    }).catch((error) => dashboardFailure(c, error)),
  );

  app.post(`${DISCREPANCIES}/:id/comments`, staff, (c) =>
    onDiscrepancy(c, async (form, id) => {
      await commentDiscrepancy(c.get('ctx'), principalOf(c), id, parse(discrepancyNote, text(form, 'body'), 'form.body'));
      return 'commented';
    }).catch((error) => dashboardFailure(c, error)),
  );

  app.post(`${DISCREPANCIES}/:id/assignee`, staff, (c) =>
    onDiscrepancy(c, async (form, id) => {
      const assignee = text(form, 'assignee');
      await assignDiscrepancy(
        c.get('ctx'),
        principalOf(c),
        id,
        assignee === '' ? null : parse(z.string().max(200), assignee, 'form.assignee'),
      );
      return 'assigned';
    }).catch((error) => dashboardFailure(c, error)),
  );
}
