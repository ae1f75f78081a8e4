import { html, raw } from 'hono/html';
import { refundStatuses } from '../../db/schema/payments.ts';
import {
  type ReviewAction,
  type ReviewDecisionRecord,
  type ReviewOutcomeRecord,
  reviewActions,
  reviewStatuses,
} from '../../db/schema/reviews.ts';
import { reviewKinds } from '../../domain/decide.ts';
import { intentStatuses } from '../../domain/payment-states.ts';
import { gatewayIds } from '../../gateways/types.ts';
import { formatCount, formatMoney, formatVnDateTime } from '../format.ts';
import {
  auditActionLabel,
  eventSourceLabels,
  gatewayLabels,
  intentEventLabels,
  intentStatusLabels,
  labelOf,
  messageResultLabels,
  outcomeResultLabels,
  proposedActionLabels,
  refundMethodLabels,
  refundStatusLabels,
  reviewActionExplanations,
  reviewActionLabels,
  reviewKindLabels,
  reviewStatusLabels,
  signatureLabels,
} from './labels.ts';
import type {
  AuditItem,
  CaseDossier,
  CaseFeeLine,
  CaseIntent,
  CasePageModel,
  CaseReview,
  DecisionFormValues,
  GatewayMessage,
  IntentEventItem,
  IntentFilters,
  IntentListItem,
  IntentsPageModel,
  QueuePageModel,
  RefundFilters,
  RefundListItem,
  RefundsPageModel,
  ReviewFilters,
  ReviewSummary,
} from './models.ts';
import {
  amountInput,
  type Body,
  badge,
  body,
  caseUrl,
  dateInput,
  definitionList,
  deskNav,
  fieldError,
  fieldProblem,
  filterForm,
  flash,
  gatewayName,
  INTENTS,
  input,
  nextPageLink,
  QUEUE,
  REFUNDS,
  refundUrl,
  select,
  td,
  th,
  withQuery,
} from './parts.ts';

/**
 * The treasury's desk as pure renderers: each takes a plain view model (models.ts) and returns
 * the page's body, which the dashboard shell wraps; `TREASURY_CSS` goes into that shell. Every
 * filter and case id lives in the URL (GET forms and links), every change is a POST form with
 * the session's CSRF input, and nothing needs JavaScript: the decision form shows only the fields
 * of the chosen action with CSS `:has()`, and shows them all where that is not supported.
 */

/** The decision form's fields by name, so an error names the field as the form labels it and leads to it. */
const decisionFields: Record<string, string> = {
  action: 'Quyết định',
  note: 'Ghi chú',
  amount: 'Số tiền',
  intentId: 'Mã định danh giao dịch',
  dossierCode: 'Mã hồ sơ',
  evidence: 'Chứng từ hoàn tiền',
};

// ---------------------------------------------------------------- 1. the queue

/** The header: counts per status and per kind, each a link that sets its filter and keeps the others. */
function summarySection(summary: ReviewSummary, filters: ReviewFilters) {
  const setFilter = (name: keyof ReviewFilters, value: string) => withQuery(QUEUE, { ...filters, [name]: value });
  const current = (name: keyof ReviewFilters, value: string) => (filters[name] === value ? raw(' aria-current="true"') : '');
  const kindsWithCases = reviewKinds.filter((k) => (summary.byKind[k] ?? 0) > 0);
  return html`<section class="summary" aria-labelledby="summary-h">
    <h2 id="summary-h" class="visually-hidden">Tổng quan</h2>
    <ul class="counts">
      ${reviewStatuses.map(
        (s) => html`<li><a href="${setFilter('status', s)}"${current('status', s)}>
          <span class="count">${formatCount(summary.byStatus[s])}</span> ${reviewStatusLabels[s]}</a></li>`,
      )}
      <li class="open-amount"><span class="count">${formatMoney(summary.openAmount)}</span> đang chờ quyết định</li>
    </ul>
    ${
      kindsWithCases.length
        ? html`<p class="by-kind"><span class="muted">Theo loại:</span> ${kindsWithCases.map(
            (k) =>
              html`<a href="${setFilter('kind', k)}"${current('kind', k)}>${reviewKindLabels[k]} (${formatCount(summary.byKind[k] ?? 0)})</a> `,
          )}</p>`
        : ''
    }
  </section>`;
}

/** `GET /dashboard/treasury`: the review queue with its counts, filters and paging. */
export function renderReviewQueue(model: QueuePageModel): Body {
  const { filters } = model;
  return body(html`<div class="desk">
  ${deskNav('queue')}
  <h1>Hàng chờ xử lý</h1>
  ${flash(model)}
  ${summarySection(model.summary, filters)}
  ${filterForm(QUEUE, [
    select('kind', 'Loại', reviewKinds, reviewKindLabels, filters.kind),
    select('status', 'Trạng thái', reviewStatuses, reviewStatusLabels, filters.status),
    select('gateway', 'Cổng thanh toán', gatewayIds, gatewayLabels, filters.gateway),
    input('agency', 'Mã cơ quan', filters.agency, 'autocomplete="off" spellcheck="false"'),
    dateInput('from', 'Từ ngày', filters.from),
    dateInput('to', 'Đến ngày', filters.to),
    amountInput('minAmount', 'Số tiền từ (đồng)', filters.minAmount),
    amountInput('maxAmount', 'Số tiền đến (đồng)', filters.maxAmount),
  ])}
  ${
    model.reviews.length === 0
      ? html`<p class="empty">Không có trường hợp nào cần xử lý${Object.values(filters).some(Boolean) ? ' khớp với bộ lọc này' : ''}.</p>`
      : html`<table class="stack">
    <caption class="visually-hidden">Các khoản tiền cần kho bạc quyết định</caption>
    <thead><tr>${th('Thời điểm')}${th('Loại')}${th('Cổng')}${th('Số tiền', 'num')}${th('Mã thanh toán / hồ sơ')}${th('Lý do')}${th('Trạng thái')}${th('Đề xuất')}</tr></thead>
    <tbody>
      ${model.reviews.map(
        (r) => html`<tr>
        ${td('Thời điểm', formatVnDateTime(r.createdAt))}
        ${td('Loại', html`<a href="${caseUrl(r.id)}">${reviewKindLabels[r.kind]}</a>`)}
        ${td('Cổng', gatewayName(r.gateway))}
        ${td('Số tiền', formatMoney(r.amount), 'num')}
        ${td(
          'Mã thanh toán / hồ sơ',
          r.intentReference || r.dossierCode
            ? html`${r.intentReference ? html`<code>${r.intentReference}</code>` : ''}${r.dossierCode ? html`<br><span class="muted">${r.dossierCode}</span>` : ''}`
            : html`<em>không gắn hồ sơ</em>`,
        )}
        ${td('Lý do', r.reason, 'reason')}
        ${td('Trạng thái', badge('review', r.status, reviewStatusLabels[r.status]))}
        ${td('Đề xuất', proposedActionLabels[r.proposedAction])}
      </tr>`,
      )}
    </tbody>
  </table>`
  }
  ${nextPageLink(QUEUE, { ...filters }, model.nextCursor)}
</div>`);
}

// ---------------------------------------------------------------- 2. the case

/** Asked against received, said in words when they differ. */
function difference(model: CasePageModel) {
  const { intent, review } = model;
  if (!intent || review.amount === null || review.amount === intent.amount) return '';
  const gap = review.amount - intent.amount;
  return html`<p class="difference" role="note"><strong>Số tiền khác nhau:</strong> yêu cầu ${formatMoney(intent.amount)},
    cổng báo ${formatMoney(review.amount)} — ${gap < 0 ? 'thiếu' : 'thừa'} <strong>${formatMoney(Math.abs(gap))}</strong>.</p>`;
}

function intentFacts(intent: CaseIntent) {
  return definitionList([
    ['Mã thanh toán', html`<code>${intent.reference}</code>`],
    ['Cổng', gatewayName(intent.gateway)],
    ['Số tiền yêu cầu', html`<strong>${formatMoney(intent.amount)}</strong>`],
    ['Trạng thái', badge('intent', intent.status, intentStatusLabels[intent.status])],
    ['Tạo lúc', formatVnDateTime(intent.createdAt)],
    ...(intent.paidAt ? ([['Thanh toán lúc', formatVnDateTime(intent.paidAt)]] as [string, unknown][]) : []),
  ]);
}

function dossierFacts(dossier: CaseDossier) {
  return html`<h3>Hồ sơ</h3>${definitionList([
    ['Mã hồ sơ', html`<code>${dossier.code}</code>`],
    ['Thủ tục', html`${dossier.procedureName} <span class="muted">(${dossier.procedureCode})</span>`],
    ['Cơ quan', html`${dossier.agencyName} <span class="muted">(${dossier.agencyCode})</span>`],
    ['Người nộp', dossier.applicantName ?? '—'],
  ])}`;
}

const obligationStatusLabel = (status: string) =>
  labelOf({ unpaid: 'Chưa nộp (đang giữ)', paid: 'Đã nộp', refunded: 'Đã hoàn', waived: 'Miễn', void: 'Đã thay thế' }, status);

/** Three narrow columns: a plain table even on a phone. */
function feeLinesTable(lines: CaseFeeLine[]) {
  return html`<h3>Các khoản phí, lệ phí</h3>
    <table class="compact"><thead><tr>${th('Khoản')}${th('Số tiền', 'num')}${th('Trạng thái')}</tr></thead><tbody>
      ${lines.map(
        (l) =>
          html`<tr>${td('Khoản', html`${l.name} <span class="muted">(${l.feeCode})</span>`)}${td('Số tiền', formatMoney(l.amount), 'num')}${td('Trạng thái', obligationStatusLabel(l.status))}</tr>`,
      )}
    </tbody></table>`;
}

function askedSide(model: CasePageModel) {
  const { intent, dossier } = model;
  return html`<section class="side asked" aria-labelledby="asked-h"><h2 id="asked-h">Yêu cầu thanh toán</h2>
    ${
      intent
        ? html`${intentFacts(intent)}${dossier ? dossierFacts(dossier) : ''}${model.feeLines.length ? feeLinesTable(model.feeLines) : ''}`
        : html`<p><em>Không gắn hồ sơ</em>: khoản tiền này không ghi mã thanh toán nào của hệ thống.</p>
      ${definitionList([['Cơ quan quản lý', model.review.agencyCode ?? 'Toàn tỉnh']])}`
    }
  </section>`;
}

function reviewFacts(review: CaseReview) {
  return definitionList([
    ['Số tiền nhận', html`<strong>${review.amount === null ? 'không ghi số tiền' : formatMoney(review.amount)}</strong>`],
    ['Cổng', gatewayName(review.gateway)],
    ['Mã giao dịch', review.gatewayTransactionId ? html`<code>${review.gatewayTransactionId}</code>` : '—'],
    ['Lý do cần xem xét', review.reason],
    ['Hệ thống đề xuất', proposedActionLabels[review.proposedAction]],
  ]);
}

/** One gateway message: its verification and what the hub made of it, then the body exactly as received (escaped). */
function messageArticle(m: GatewayMessage, i: number) {
  return html`<article class="message" aria-labelledby="msg-${i}">
      <h4 id="msg-${i}">${formatVnDateTime(m.receivedAt)} · ${badge('sig', m.signatureValid, signatureLabels[m.signatureValid])}</h4>
      ${definitionList([
        ['Yêu cầu', html`<code class="wrap">${m.method} ${m.url}</code>`],
        ['Kết quả xử lý', labelOf(messageResultLabels, m.result)],
      ])}
      <p class="raw-label" id="raw-${i}">Nội dung gốc như đã nhận:</p>
      <pre class="raw" tabindex="0" aria-labelledby="raw-${i}">${m.rawBody}</pre>
    </article>`;
}

function reportedSide(model: CasePageModel) {
  return html`<section class="side reported" aria-labelledby="reported-h"><h2 id="reported-h">Cổng thanh toán báo</h2>
    ${reviewFacts(model.review)}
    <h3>Thông báo từ cổng (${formatCount(model.messages.length)})</h3>
    ${model.messages.length === 0 ? html`<p class="muted">Không có thông báo nào được lưu.</p>` : ''}
    ${model.messages.map(messageArticle)}
  </section>`;
}

const byTime = <T extends { at: string }>(rows: T[]) => [...rows].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

function eventRow(e: IntentEventItem) {
  return html`<tr>
    ${td('Thời điểm', formatVnDateTime(e.at))}
    ${td(
      'Sự kiện',
      html`${labelOf(intentEventLabels, e.event)}${e.accepted ? '' : html` <span class="badge refused">bị từ chối</span>`}${
        e.repeats > 1 && e.lastRepeatedAt
          ? html`<br><span class="muted">lặp lại ${formatCount(e.repeats)} lần, lần cuối ${formatVnDateTime(e.lastRepeatedAt)}</span>`
          : ''
      }`,
    )}
    ${td('Trạng thái', e.fromStatus || e.toStatus ? html`${labelOf(intentStatusLabels, e.fromStatus)} → ${labelOf(intentStatusLabels, e.toStatus)}` : '—')}
    ${td('Nguồn', html`${labelOf(eventSourceLabels, e.source)}${e.actor ? html`<br><span class="muted">${e.actor}</span>` : ''}`)}
  </tr>`;
}

/** Who did what to a case, and why, oldest first (the review's and the discrepancy's pages). */
export function auditTable(history: AuditItem[], none: string) {
  return history.length
    ? html`<table class="stack compact"><thead><tr>${th('Thời điểm')}${th('Người thực hiện')}${th('Hành động')}${th('Lý do')}</tr></thead>
      <tbody>${byTime(history).map(
        (a) =>
          html`<tr>${td('Thời điểm', formatVnDateTime(a.at))}${td('Người thực hiện', a.actor)}${td('Hành động', auditActionLabel(a.action))}${td('Lý do', a.reason ?? '—')}</tr>`,
      )}</tbody></table>`
    : html`<p class="muted">${none}</p>`;
}

function histories(model: CasePageModel) {
  const intentHistory = model.intentEvents.length
    ? html`<table class="stack compact"><thead><tr>${th('Thời điểm')}${th('Sự kiện')}${th('Trạng thái')}${th('Nguồn')}</tr></thead>
      <tbody>${byTime(model.intentEvents).map(eventRow)}</tbody></table>`
    : html`<p class="muted">Chưa có sự kiện.</p>`;
  return html`<section class="histories">
    ${model.intent ? html`<h2>Lịch sử giao dịch</h2>${intentHistory}` : ''}
    <h2>Lịch sử xử lý</h2>
    ${auditTable(model.history, 'Chưa ai xử lý trường hợp này.')}
  </section>`;
}

function decisionFacts(decision: ReviewDecisionRecord) {
  return definitionList([
    ['Quyết định', html`<strong>${reviewActionLabels[decision.action]}</strong>`],
    ['Người quyết định', decision.decidedBy],
    ['Lúc', formatVnDateTime(decision.decidedAt)],
    ['Ghi chú', decision.note],
    ...((decision.amount !== undefined ? [['Số tiền', formatMoney(decision.amount)]] : []) as [string, unknown][]),
    ...((decision.intentId ? [['Gán cho giao dịch', html`<code>${decision.intentId}</code>`]] : []) as [string, unknown][]),
    ...((decision.dossierCode ? [['Gán cho hồ sơ', html`<code>${decision.dossierCode}</code>`]] : []) as [string, unknown][]),
    ...((decision.evidence ? [['Chứng từ', decision.evidence]] : []) as [string, unknown][]),
  ]);
}

function outcomeFacts(outcome: ReviewOutcomeRecord) {
  const rows: [string, unknown][] = [['Kết quả', html`<strong>${outcomeResultLabels[outcome.result]}</strong>`]];
  if (outcome.intentStatusBefore || outcome.intentStatusAfter) {
    rows.push([
      'Trạng thái giao dịch',
      html`${labelOf(intentStatusLabels, outcome.intentStatusBefore)} → ${labelOf(intentStatusLabels, outcome.intentStatusAfter)}`,
    ]);
  }
  if (outcome.acceptedAmount !== undefined) rows.push(['Số tiền chấp nhận', formatMoney(outcome.acceptedAmount)]);
  // difference = asked − accepted: said as what is still missing, or what came on top.
  if (outcome.difference !== undefined && outcome.difference !== 0) {
    rows.push([
      outcome.difference > 0 ? 'Còn thiếu so với số yêu cầu' : 'Thừa so với số yêu cầu',
      formatMoney(Math.abs(outcome.difference)),
    ]);
  }
  if (outcome.refundId) rows.push(['Mã hoàn tiền', html`<code>${outcome.refundId}</code>`]);
  if (outcome.result === 'assigned' && outcome.intentId) rows.push(['Giao dịch được gán', html`<code>${outcome.intentId}</code>`]);
  if (outcome.assignedResult) rows.push(['Kết quả tại giao dịch được gán', outcome.assignedResult]);
  return definitionList(rows);
}

/** Which actions each conditional field of the decision form belongs to (for CSS `:has()`). */
const forActions = (actions: ReviewAction[]) => `only-for ${actions.map((a) => `for-${a}`).join(' ')}`;

function decisionForm(model: CasePageModel) {
  const { review, error } = model;
  const values: DecisionFormValues = model.values ?? {};
  const allowed = reviewActions.filter((a) => model.allowedActions.includes(a));
  if (allowed.length === 0) return html`<p class="muted">Không có quyết định nào có thể thực hiện với trường hợp này.</p>`;
  const chosen = values.action && allowed.includes(values.action as ReviewAction) ? values.action : allowed.length === 1 ? allowed[0] : '';
  const invalid = (name: string) => fieldProblem(error, name);
  const amountFor = model.amountRequiredFor.filter((a) => allowed.includes(a));
  const evidenceFor: ReviewAction[] = model.manualRefund && allowed.includes('refund') ? ['refund'] : [];
  const note = invalid('note');
  const amount = invalid('amount');
  const intentId = invalid('intentId');
  const dossierCode = invalid('dossierCode');
  const evidence = invalid('evidence');
  const action = invalid('action');

  return html`<form class="decision" method="post" action="${caseUrl(review.id)}/decision">
    ${model.csrf}
    <input type="hidden" name="key" value="${model.idempotencyKey}">
    <fieldset id="d-action"${action.attrs}>
      <legend>Chọn quyết định</legend>
      ${allowed.map(
        (a) => html`<label class="choice"><input type="radio" name="action" value="${a}" required${a === chosen ? raw(' checked') : ''}>
        <span><strong>${reviewActionLabels[a]}</strong><small>${reviewActionExplanations[a]}</small></span></label>`,
      )}
      ${action.text}
    </fieldset>
    <div class="field"><label for="d-note">Ghi chú (bắt buộc, ghi rõ căn cứ quyết định)</label>
      <textarea id="d-note" name="note" rows="3" required minlength="3" maxlength="1000"${note.attrs}>${values.note ?? ''}</textarea>${note.text}</div>
    ${
      amountFor.length
        ? html`<div class="field ${forActions(amountFor)}"><label for="d-amount">Số tiền (đồng) — bắt buộc khi ${amountFor.map((a) => reviewActionLabels[a]).join(' / ')}</label>
      <input id="d-amount" name="amount" type="number" min="1" step="1" inputmode="numeric" value="${values.amount ?? model.suggestedAmount ?? ''}"${amount.attrs}>
      ${model.suggestedAmount !== null ? html`<p class="hint">Số tiền thực nhận: ${formatMoney(model.suggestedAmount)}.</p>` : ''}${amount.text}</div>`
        : ''
    }
    ${
      allowed.includes('assign')
        ? html`<fieldset class="${forActions(['assign'])}"><legend>Gán cho (nhập một trong hai)</legend>
      <div class="field"><label for="d-intentId">Mã định danh giao dịch (UUID)</label>
        <input id="d-intentId" name="intentId" value="${values.intentId ?? ''}" autocomplete="off" spellcheck="false"${intentId.attrs}>${intentId.text}</div>
      <div class="field"><label for="d-dossierCode">Mã hồ sơ</label>
        <input id="d-dossierCode" name="dossierCode" value="${values.dossierCode ?? ''}" autocomplete="off" spellcheck="false"${dossierCode.attrs}>${dossierCode.text}</div>
    </fieldset>`
        : ''
    }
    ${
      evidenceFor.length
        ? html`<div class="field ${forActions(evidenceFor)}"><label for="d-evidence">Chứng từ hoàn tiền (số tham chiếu chuyển khoản) — bắt buộc khi Hoàn tiền</label>
      <input id="d-evidence" name="evidence" value="${values.evidence ?? ''}" maxlength="500" autocomplete="off"${evidence.attrs}>${evidence.text}</div>`
        : ''
    }
    <p class="hint">Chấp nhận, gán hoặc hoàn tiền thủ công trên ${formatMoney(model.approvalThreshold)} cần một cán bộ kho bạc khác phê duyệt.</p>
    <p><button class="primary" type="submit">Ghi quyết định</button></p>
  </form>`;
}

function approvalForms(model: CasePageModel) {
  const id = model.review.id;
  const declineError = fieldError(model.error, 'note');
  return html`<p class="notice">Người ra quyết định không thể tự phê duyệt quyết định của mình.</p>
  ${
    model.canApprove
      ? html`<div class="approval">
    <form method="post" action="${caseUrl(id)}/approve">${model.csrf}
      <div class="field"><label for="a-note">Ghi chú phê duyệt (không bắt buộc)</label>
        <textarea id="a-note" name="note" rows="2" maxlength="1000"></textarea></div>
      <button class="primary" type="submit">Phê duyệt</button>
    </form>
    <form method="post" action="${caseUrl(id)}/decline">${model.csrf}
      <div class="field"><label for="d-note">Lý do không phê duyệt (bắt buộc)</label>
        <textarea id="d-note" name="note" rows="2" required minlength="3" maxlength="1000"${
          declineError ? raw(' aria-invalid="true" aria-describedby="err-d-note"') : ''
        }>${model.values?.note ?? ''}</textarea>${declineError ? html`<p class="field-error" id="err-d-note">${declineError}</p>` : ''}</div>
      <button class="danger" type="submit">Không phê duyệt</button>
    </form>
  </div>`
      : html`<p><strong>Bạn đã ra quyết định này</strong>: cần một cán bộ kho bạc khác phê duyệt.</p>`
  }`;
}

function decisionSection(model: CasePageModel) {
  switch (model.review.status) {
    case 'open':
      return html`<section class="decide" aria-labelledby="decide-h"><h2 id="decide-h">Quyết định</h2>${decisionForm(model)}</section>`;
    case 'awaiting_approval':
      return html`<section class="decide" aria-labelledby="decide-h"><h2 id="decide-h">Quyết định chờ phê duyệt</h2>
        ${model.decision ? decisionFacts(model.decision) : ''}${approvalForms(model)}</section>`;
    case 'resolved':
      return html`<section class="decide" aria-labelledby="decide-h"><h2 id="decide-h">Đã xử lý</h2>
        ${model.decision ? decisionFacts(model.decision) : ''}
        ${model.outcome ? html`<h3>Kết quả</h3>${outcomeFacts(model.outcome)}` : ''}
        ${definitionList([
          ['Người phê duyệt', model.approvedBy ?? 'Không cần phê duyệt'],
          ['Hoàn tất', html`${model.resolvedBy ?? '—'} · ${formatVnDateTime(model.resolvedAt)}`],
        ])}</section>`;
  }
}

/** `GET /dashboard/treasury/reviews/{id}`: the evidence side by side, the histories, and the decision. */
export function renderReviewCase(model: CasePageModel): Body {
  const { review } = model;
  return body(html`<div class="desk">
  ${deskNav('queue')}
  <p class="back"><a href="${QUEUE}">← Hàng chờ xử lý</a></p>
  <h1>${reviewKindLabels[review.kind]} ${badge('review', review.status, reviewStatusLabels[review.status])}</h1>
  <p class="muted">Mở lúc ${formatVnDateTime(review.createdAt)} · mã trường hợp <code>${review.id}</code></p>
  ${flash(model, decisionFields)}
  ${difference(model)}
  <div class="evidence">${askedSide(model)}${reportedSide(model)}</div>
  ${histories(model)}
  ${decisionSection(model)}
</div>`);
}

// ---------------------------------------------------------------- 3. intents

/** `GET /dashboard/treasury/intents`: every payment intent in scope, filtered. */
export function renderIntentList(model: IntentsPageModel): Body {
  const f: IntentFilters = model.filters;
  return body(html`<div class="desk">
  ${deskNav('intents')}
  <h1>Giao dịch thanh toán</h1>
  ${flash(model)}
  ${filterForm(INTENTS, [
    select('status', 'Trạng thái', intentStatuses, intentStatusLabels, f.status),
    select('gateway', 'Cổng thanh toán', gatewayIds, gatewayLabels, f.gateway),
    input('agency', 'Mã cơ quan', f.agency, 'autocomplete="off" spellcheck="false"'),
    input('dossier', 'Mã hồ sơ', f.dossier, 'autocomplete="off" spellcheck="false"'),
    input('reference', 'Mã thanh toán', f.reference, 'autocomplete="off" spellcheck="false"'),
    dateInput('createdFrom', 'Tạo từ ngày', f.createdFrom),
    dateInput('createdTo', 'Tạo đến ngày', f.createdTo),
    dateInput('paidFrom', 'Thanh toán từ ngày', f.paidFrom),
    dateInput('paidTo', 'Thanh toán đến ngày', f.paidTo),
  ])}
  ${
    model.intents.length === 0
      ? html`<p class="empty">Không có giao dịch nào khớp với bộ lọc.</p>`
      : html`<table class="stack">
    <caption class="visually-hidden">Giao dịch thanh toán</caption>
    <thead><tr>${th('Mã thanh toán')}${th('Hồ sơ')}${th('Cổng')}${th('Số tiền', 'num')}${th('Trạng thái')}${th('Tạo lúc')}${th('Thanh toán lúc')}</tr></thead>
    <tbody>${model.intents.map(intentRow)}</tbody>
  </table>`
  }
  ${nextPageLink(INTENTS, { ...f }, model.nextCursor)}
</div>`);
}

function intentRow(i: IntentListItem) {
  const differs = i.receivedAmount !== null && i.receivedAmount !== i.amount;
  return html`<tr>
    ${td('Mã thanh toán', html`<code>${i.reference}</code>`)}
    ${td('Hồ sơ', i.dossierCode)}
    ${td('Cổng', gatewayName(i.gateway))}
    ${td('Số tiền', html`${formatMoney(i.amount)}${differs ? html`<br><span class="received">nhận ${formatMoney(i.receivedAmount)}</span>` : ''}`, 'num')}
    ${td('Trạng thái', badge('intent', i.status, intentStatusLabels[i.status]))}
    ${td('Tạo lúc', formatVnDateTime(i.createdAt))}
    ${td('Thanh toán lúc', formatVnDateTime(i.paidAt))}
  </tr>`;
}

// ---------------------------------------------------------------- 4. refunds

/** `GET /dashboard/treasury/refunds`: refunds in scope, with approve / reject for those awaiting a second person. */
export function renderRefundList(model: RefundsPageModel): Body {
  const f: RefundFilters = model.filters;
  return body(html`<div class="desk">
  ${deskNav('refunds')}
  <h1>Hoàn tiền</h1>
  ${flash(model)}
  ${filterForm(REFUNDS, [
    select('status', 'Trạng thái', refundStatuses, refundStatusLabels, f.status),
    select('gateway', 'Cổng thanh toán', gatewayIds, gatewayLabels, f.gateway),
    input('agency', 'Mã cơ quan', f.agency, 'autocomplete="off" spellcheck="false"'),
    dateInput('from', 'Từ ngày', f.from),
    dateInput('to', 'Đến ngày', f.to),
  ])}
  ${
    model.refunds.length === 0
      ? html`<p class="empty">Không có yêu cầu hoàn tiền nào khớp với bộ lọc.</p>`
      : html`<table class="stack">
    <caption class="visually-hidden">Yêu cầu hoàn tiền</caption>
    <thead><tr>${th('Tạo lúc')}${th('Mã thanh toán')}${th('Số tiền', 'num')}${th('Cách hoàn')}${th('Trạng thái')}${th('Người yêu cầu')}${th('Người duyệt')}${th('Lý do')}${th('Phê duyệt')}</tr></thead>
    <tbody>${model.refunds.map((r) => refundRow(model, r))}</tbody>
  </table>`
  }
  ${nextPageLink(REFUNDS, { ...f }, model.nextCursor)}
</div>`);
}

function refundRow(model: RefundsPageModel, r: RefundListItem) {
  const approval =
    r.status !== 'awaiting_approval'
      ? '—'
      : r.canApprove
        ? refundButtons(model, r.id, r.intentReference)
        : html`<span class="muted">Bạn đã yêu cầu: cần người khác duyệt</span>`;
  return html`<tr>
    ${td('Tạo lúc', formatVnDateTime(r.createdAt))}
    ${td('Mã thanh toán', html`<code>${r.intentReference}</code>`)}
    ${td('Số tiền', formatMoney(r.amount), 'num')}
    ${td('Cách hoàn', html`${refundMethodLabels[r.method]}${r.method === 'gateway' ? html`<br><span class="muted">${gatewayName(r.gateway)}</span>` : ''}`)}
    ${td('Trạng thái', badge('refund', r.status, refundStatusLabels[r.status]))}
    ${td('Người yêu cầu', r.requestedBy)}
    ${td('Người duyệt', r.approvedBy ?? '—')}
    ${td('Lý do', r.reason, 'reason')}
    ${td('Phê duyệt', approval)}
  </tr>`;
}

function refundButtons(model: RefundsPageModel, id: string, reference: string) {
  return html`<div class="row-forms">
    <form method="post" action="${refundUrl(id, 'approve')}">${model.csrf}<button class="primary small" type="submit" aria-label="Phê duyệt hoàn tiền ${reference}">Phê duyệt</button></form>
    <form method="post" action="${refundUrl(id, 'reject')}">${model.csrf}<button class="danger small" type="submit" aria-label="Từ chối hoàn tiền ${reference}">Từ chối</button></form>
  </div>`;
}

// ---------------------------------------------------------------- styles

const conditionalFields = reviewActions
  .map((a) => `.desk .decision:has(input[name="action"][value="${a}"]:checked) .for-${a} { display: block; }`)
  .join('\n');

/** The desk's styles, scoped under `.desk`; the dashboard shell puts them in its `<style>`. */
export const TREASURY_CSS = `
.desk { --ok: #1d6b2f; --warn: #8a5a00; --bad: #a61b1b; --soft: #f6f8fa; font-size: 1rem; line-height: 1.45; }
.desk h1 { text-transform: none; text-align: left; font-size: 1.45rem; margin: 0.4rem 0 0.6rem; display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
.desk h2 { font-size: 1.15rem; margin: 1.4rem 0 0.6rem; border-bottom: 2px solid var(--accent); padding-bottom: 0.2rem; }
.desk h3 { font-size: 1rem; margin: 1rem 0 0.4rem; }
.desk h4 { font-size: 0.95rem; margin: 0 0 0.4rem; font-weight: 600; display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; }
.desk a { color: var(--accent); }
.desk code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.9em; overflow-wrap: anywhere; }
.desk .muted { color: var(--muted); }
.desk .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.desk a:focus-visible, .desk button:focus-visible, .desk input:focus-visible, .desk select:focus-visible, .desk textarea:focus-visible, .desk pre:focus-visible
  { outline: 3px solid #f0b400; outline-offset: 2px; }

.desk-nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 0.3rem; padding: 0; margin: 0 0 0.8rem; border-bottom: 1px solid var(--line); }
.desk-nav a { display: inline-block; padding: 0.5rem 0.9rem; text-decoration: none; border: 1px solid transparent; border-bottom: 0; border-radius: 4px 4px 0 0; }
.desk-nav a[aria-current="page"] { border-color: var(--line); background: #fff; font-weight: 700; color: var(--ink); margin-bottom: -1px; border-bottom: 1px solid #fff; }

.desk .flash { border-radius: 4px; padding: 0.6rem 0.8rem; margin: 0.8rem 0; }
.desk .flash p { margin: 0.2rem 0; }
.desk .flash-ok { border: 1px solid var(--ok); background: #eef7f0; color: var(--ok); }
.desk .flash-error { border: 1px solid var(--bad); background: #fbeeee; color: var(--bad); }
.desk .notice { border-left: 4px solid var(--warn); background: #fff8e6; padding: 0.5rem 0.8rem; }
.desk .difference { border: 2px solid var(--warn); background: #fff8e6; padding: 0.6rem 0.8rem; border-radius: 4px; }

.desk .counts { list-style: none; padding: 0; margin: 0.5rem 0; display: grid; grid-template-columns: repeat(auto-fit, minmax(8.5rem, 1fr)); gap: 0.6rem; }
.desk .counts li > a, .desk .counts li.open-amount { display: block; height: 100%; border: 1px solid var(--line); border-radius: 6px; padding: 0.6rem 0.8rem; background: var(--soft); text-decoration: none; color: var(--ink); }
.desk .counts a[aria-current="true"] { border: 2px solid var(--accent); }
.desk .counts .count { display: block; font-size: 1.4rem; font-weight: 700; color: var(--accent); font-variant-numeric: tabular-nums; }
.desk .by-kind { display: flex; flex-wrap: wrap; gap: 0.3rem 0.9rem; margin: 0.4rem 0 0.8rem; }
.desk .by-kind a[aria-current="true"] { font-weight: 700; }

.desk .filters { border: 1px solid var(--line); border-radius: 6px; padding: 0.8rem; background: var(--soft); margin: 0.8rem 0; }
.desk .filter-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: 0.6rem 0.8rem; }
.desk .filter-actions { margin-top: 0.7rem; display: flex; gap: 1rem; align-items: center; }
.desk .field { margin: 0 0 0.8rem; }
.desk .filter-grid .field { margin: 0; }
.desk label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
.desk input, .desk select, .desk textarea { font: inherit; width: 100%; min-height: 2.5rem; padding: 0.4rem 0.5rem; border: 1px solid #8a8a8a; border-radius: 4px; background: #fff; }
.desk textarea { min-height: 4.5rem; }
.desk [aria-invalid="true"] { border: 2px solid var(--bad); }
.desk .field-error { color: var(--bad); margin: 0.25rem 0 0; font-weight: 600; }
.desk .hint { color: var(--muted); font-size: 0.9rem; margin: 0.25rem 0 0.6rem; }
.desk button { min-height: 2.5rem; padding: 0.5rem 1.2rem; }
.desk button.small { padding: 0.3rem 0.8rem; font-size: 0.9rem; }

.desk table { width: 100%; border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.95rem; }
.desk th, .desk td { border: 1px solid var(--line); padding: 0.4rem 0.55rem; text-align: left; vertical-align: top; }
.desk thead th { background: var(--soft); }
.desk td.num, .desk th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.desk td.reason { min-width: 12rem; }
.desk .received { color: var(--warn); font-weight: 600; }
.desk .empty { padding: 1.2rem; text-align: center; border: 1px dashed var(--line); border-radius: 6px; color: var(--muted); }
.desk .paging { margin: 0.8rem 0; text-align: right; }
.desk .paging a { display: inline-block; padding: 0.5rem 0.9rem; border: 1px solid var(--accent); border-radius: 4px; text-decoration: none; }
.desk .row-forms { display: flex; flex-wrap: wrap; gap: 0.4rem; }
.desk .row-forms form { margin: 0; }

.desk .badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-size: 0.85rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.desk .review-open, .desk .refund-awaiting_approval, .desk .intent-needs_review, .desk .sig-unchecked { color: var(--warn); background: #fff8e6; }
.desk .review-awaiting_approval { color: #5b2a86; background: #f4eefa; }
.desk .review-resolved, .desk .intent-succeeded, .desk .refund-succeeded, .desk .sig-valid { color: var(--ok); background: #eef7f0; }
.desk .intent-failed, .desk .refund-failed, .desk .refund-rejected, .desk .sig-invalid, .desk .refused { color: var(--bad); background: #fbeeee; }
.desk .sig-invalid { font-weight: 800; }

.desk .evidence { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; align-items: start; }
.desk .side { border: 1px solid var(--line); border-radius: 6px; padding: 0 0.9rem 0.6rem; min-width: 0; }
.desk .side.reported { background: #fbfcfe; }
.desk .side h2 { margin-top: 0.8rem; }
.desk .facts { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: 0.25rem 0.8rem; margin: 0.4rem 0 0.6rem; }
.desk .facts dt { color: var(--muted); }
.desk .facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.desk .message { border-top: 1px solid var(--line); padding-top: 0.6rem; margin-top: 0.6rem; }
.desk .raw-label { margin: 0.2rem 0; font-size: 0.9rem; color: var(--muted); }
/* Wrapped, not reflowed: every character and line break exactly as received, readable on a phone. */
.desk pre.raw { background: #1e1e1e; color: #f3f3f3; padding: 0.6rem 0.7rem; border-radius: 4px; max-height: 16rem; overflow: auto; font-size: 0.8rem; line-height: 1.35; margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.desk .decide { border: 2px solid var(--accent); border-radius: 6px; padding: 0 1rem 0.6rem; margin: 1.2rem 0; }
.desk .decide h2 { border-bottom: 0; }
.desk fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 0.9rem; padding: 0.5rem 0.8rem; }
.desk legend { font-weight: 700; padding: 0 0.3rem; }
.desk label.choice { display: flex; gap: 0.6rem; align-items: flex-start; font-weight: normal; padding: 0.45rem 0.3rem; border-radius: 4px; cursor: pointer; }
.desk label.choice:has(input:checked) { background: #eaf1f8; }
.desk label.choice input { width: 1.2rem; min-height: 1.2rem; height: 1.2rem; margin-top: 0.15rem; flex: none; }
.desk label.choice small { display: block; color: var(--muted); font-size: 0.9rem; }
.desk .decision .field, .desk .decision fieldset { max-width: 40rem; }
.desk .decision:has(input[name="action"]:checked) .only-for { display: none; }
${conditionalFields}
.desk .approval { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.desk .approval form { border: 1px solid var(--line); border-radius: 6px; padding: 0.7rem; }

@media (max-width: 48rem) {
  .desk .evidence, .desk .approval { grid-template-columns: 1fr; }
  .desk table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  .desk table.stack, .desk table.stack tbody, .desk table.stack tr, .desk table.stack td { display: block; width: 100%; }
  .desk table.stack tr { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 0.7rem; padding: 0.3rem 0.5rem; background: #fff; }
  .desk table.stack td { border: 0; border-bottom: 1px dotted var(--line); padding: 0.35rem 0; display: grid; grid-template-columns: 7.5rem 1fr; gap: 0.6rem; text-align: left; white-space: normal; min-width: 0; }
  .desk table.stack td:last-child { border-bottom: 0; }
  .desk table.stack td::before { content: attr(data-label); font-weight: 600; color: var(--muted); }
  .desk td.reason { min-width: 0; }
  .desk .facts { grid-template-columns: 1fr; gap: 0; }
  .desk .facts dd { margin-bottom: 0.4rem; }
  .desk-nav a { padding: 0.5rem 0.55rem; }
  .desk .side, .desk .decide { padding-left: 0.6rem; padding-right: 0.6rem; }
  .desk fieldset { padding: 0.4rem 0.5rem; }
  .desk .filters { padding: 0.6rem; }
}
`;
