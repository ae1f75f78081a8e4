import { html, raw } from 'hono/html';
import { discrepancyClasses, discrepancyResolutions, type MatchClass, matchClasses } from '../../db/schema/treasury-day.ts';
import { formatCount, formatMoney, formatVnDateTime } from '../format.ts';
import type {
  DayPageModel,
  DaySource,
  DiscrepanciesPageModel,
  DiscrepancyCaseModel,
  DiscrepancyListItem,
  ImportResult,
  Money,
  ResolutionFormValues,
} from './day-models.ts';
import {
  dayStatusLabels,
  discrepancyStatusLabels,
  gatewayLabels,
  intentStatusLabels,
  labelOf,
  matchClassLabels,
  resolutionExplanations,
  resolutionLabels,
} from './labels.ts';
import { auditTable } from './pages.ts';
import {
  type Body,
  badge,
  body,
  DAY,
  DISCREPANCIES,
  dateInput,
  definitionList,
  deskNav,
  fieldProblem,
  filterForm,
  flash,
  input,
  nextPageLink,
  QUEUE,
  select,
  td,
  th,
  withQuery,
} from './parts.ts';

/**
 * The treasury's day as pure renderers (issue 11): the day's sources with their statement, matching
 * and three totals, the upload, run and close forms; the discrepancy list; one discrepancy with its
 * comments, assignment, resolution and four-eyes approval. No JavaScript: every filter is in the
 * URL, every change a CSRF-checked POST form.
 */

const discrepancyUrl = (id: string) => `${DISCREPANCIES}/${encodeURIComponent(id)}`;

/** Sources by their name for people: a gateway's, or "Tài khoản <number>". */
export function sourceLabel(source: string): string {
  if (source.startsWith('bank:')) return `Tài khoản ${source.slice(5)}`;
  return labelOf(gatewayLabels, source);
}

const classBadge = (cls: MatchClass) => badge('class', cls, matchClassLabels[cls]);

function money(m: Money | undefined) {
  return m ? html`${formatCount(m.count)} · ${formatMoney(m.amount)}` : '—';
}

// ---------------------------------------------------------------- 1. the day

function importResult(result: ImportResult) {
  return html`<section class="import-result" aria-labelledby="import-h">
    <h2 id="import-h">Kết quả nạp sao kê — ${sourceLabel(result.source)}</h2>
    ${result.repeat ? html`<p class="notice">Tệp này đã được nạp trước đó (cùng nội dung): không có gì thay đổi.</p>` : ''}
    ${result.replaced ? html`<p class="notice">Tệp này thay thế sao kê nạp trước của cùng nguồn và ngày; bản trước vẫn được lưu.</p>` : ''}
    ${definitionList([
      ['Tổng số dòng', formatCount(result.linesTotal)],
      ['Đã nạp', formatCount(result.linesImported)],
      ['Bị loại', html`<strong${result.linesRejected ? raw(' class="bad"') : ''}>${formatCount(result.linesRejected)}</strong>`],
    ])}
    ${
      result.rejected.length
        ? html`<table class="stack compact"><caption>Các dòng bị loại (được giữ lại, không đối chiếu)</caption>
        <thead><tr>${th('Dòng', 'num')}${th('Lý do')}</tr></thead>
        <tbody>${result.rejected.map((r) => html`<tr>${td('Dòng', formatCount(r.line), 'num')}${td('Lý do', r.reason)}</tr>`)}</tbody></table>
        ${result.rejected.length < result.linesRejected ? html`<p class="hint">Hiển thị ${formatCount(result.rejected.length)} dòng đầu.</p>` : ''}`
        : ''
    }
  </section>`;
}

function uploadForm(model: DayPageModel) {
  return html`<form class="upload" method="post" action="${DAY}/statements" enctype="multipart/form-data">
    ${model.csrf}
    <input type="hidden" name="key" value="${model.idempotencyKey}">
    <div class="filter-grid">
      <div class="field"><label for="u-source">Nguồn</label>
        <select id="u-source" name="source" required>
          ${model.sourceOptions.map((o) => html`<option value="${o.value}">${o.label}</option>`)}
        </select></div>
      <div class="field"><label for="u-date">Ngày nghiệp vụ</label><input id="u-date" name="date" type="date" value="${model.date}" required></div>
    </div>
    <details class="mapping"><summary>Tệp CSV/XLSX chung: khai báo cột</summary>
      <p class="hint">Ghi tên tiêu đề cột trong tệp cho từng trường (để trống nếu không có). Không khai báo: dùng định dạng riêng của nguồn.</p>
      <div class="filter-grid">
        ${(['transactionId', 'reference', 'amount', 'time', 'text', 'direction'] as const).map(
          (name) =>
            html`<div class="field"><label for="m-${name}">${mappingLabels[name]}</label><input id="m-${name}" name="map.${name}" autocomplete="off"></div>`,
        )}
      </div>
    </details>
    <!-- The file goes last: the upload is read as it arrives, and the fields above must come first. -->
    <div class="field"><label for="u-file">Tệp sao kê (CSV UTF-8 hoặc XLSX)</label>
      <input id="u-file" name="file" type="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" required></div>
    <p><button class="primary" type="submit">Nạp sao kê</button></p>
  </form>`;
}

const mappingLabels = {
  transactionId: 'Mã giao dịch của cổng/ngân hàng',
  reference: 'Mã thanh toán (của hệ thống)',
  amount: 'Số tiền',
  time: 'Thời gian',
  text: 'Nội dung chuyển khoản',
  direction: 'Ghi nợ / ghi có',
} as const;

function threeWay(source: DaySource) {
  const t = source.threeWay;
  if (!t) return '';
  const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
  const gap = (value: number | null) =>
    value === null
      ? html`<span class="muted">chưa có</span>`
      : value === 0
        ? html`<span class="good">0 đ</span>`
        : html`<strong class="bad">${formatMoney(value)}</strong>`;
  // In its own scroll box: three money columns do not fit a phone's width beside their headers.
  return html`<div class="scroll"><table class="three-way compact">
    <caption>Đối chiếu ba bên</caption>
    <thead><tr>${th('Hệ thống', 'num')}${th('Sao kê cổng', 'num')}${th(`Tài khoản nhận tiền${t.settlementAccount ? ` ${t.settlementAccount}` : ''}`, 'num')}</tr></thead>
    <tbody><tr>
      ${td('Hệ thống', formatMoney(t.hub), 'num')}
      ${td('Sao kê cổng', t.statement === null ? html`<span class="muted">chưa nạp</span>` : formatMoney(t.statement), 'num')}
      ${td('Tài khoản nhận tiền', t.bank === null ? html`<span class="muted">${t.settlementAccount ? 'chưa nạp' : 'chưa cấu hình'}</span>` : formatMoney(t.bank), 'num')}
    </tr><tr class="differences">
      ${td('Hệ thống', html`<span class="muted">chênh lệch →</span>`, 'num')}
      ${td('Sao kê − hệ thống', gap(diff(t.statement, t.hub)), 'num')}
      ${td('Tài khoản − sao kê', gap(diff(t.bank, t.statement)), 'num')}
    </tr></tbody>
  </table></div>`;
}

function sourceCard(model: DayPageModel, source: DaySource) {
  const { statement, reconciliation: rec } = source;
  const closed = rec?.status === 'closed';
  const canClose = rec !== null && !closed && rec.runs > 0 && rec.openDiscrepancies === 0 && rec.openReviews === 0;
  const discrepancyLink = withQuery(DISCREPANCIES, { source: source.source, date: model.date, status: 'open' });
  return html`<article class="source-card" aria-labelledby="src-${source.source}">
    <h3 id="src-${source.source}">${source.label} ${rec ? badge('day', rec.status, dayStatusLabels[rec.status]) : ''}</h3>
    ${definitionList([
      ['Hệ thống ghi nhận', money(source.hub)],
      [
        'Sao kê',
        statement
          ? html`${statement.fileName ?? 'tệp'} · ${formatCount(statement.linesImported)} dòng${
              statement.linesRejected ? html`, <strong class="bad">${formatCount(statement.linesRejected)} dòng bị loại</strong>` : ''
            }<br><span class="muted">ghi có ${formatMoney(statement.creditTotal)} · nạp lúc ${formatVnDateTime(statement.createdAt)} bởi ${statement.uploadedBy}${
              statement.replacedCount ? ` · thay thế ${statement.replacedCount} bản trước` : ''
            }</span>`
          : html`<span class="muted">chưa nạp</span>`,
      ],
      [
        'Đối chiếu',
        rec && rec.runs > 0
          ? html`${formatCount(rec.runs)} lần, gần nhất ${formatVnDateTime(rec.lastRunAt)}`
          : html`<span class="muted">chưa chạy</span>`,
      ],
    ])}
    ${
      rec && rec.runs > 0
        ? html`<ul class="class-counts">${matchClasses
            .filter((c) => rec.classes[c]?.count)
            .map((c) =>
              c === 'matched'
                ? html`<li>${classBadge(c)} ${money(rec.classes[c])}</li>`
                : html`<li><a href="${withQuery(DISCREPANCIES, { source: source.source, date: model.date, class: c })}">${classBadge(c)} ${money(rec.classes[c])}</a></li>`,
            )}</ul>
          <p>${
            rec.openDiscrepancies
              ? html`<a href="${discrepancyLink}"><strong>${formatCount(rec.openDiscrepancies)} chênh lệch đang mở</strong></a>`
              : html`<span class="good">Không còn chênh lệch mở.</span>`
          }${rec.openReviews ? html` · <a href="${QUEUE}">${formatCount(rec.openReviews)} trường hợp chờ xem xét</a>` : ''}</p>`
        : ''
    }
    ${threeWay(source)}
    ${
      closed && rec
        ? html`<p class="closed-note">Đã chốt lúc ${formatVnDateTime(rec.closedAt)} bởi ${rec.closedBy}${
            rec.totals
              ? html` — sao kê ${money(rec.totals.statement)}, hệ thống ${money(rec.totals.hub)}, khớp ${money(rec.totals.matched)}`
              : ''
          }.</p>`
        : html`<div class="row-forms">
        ${
          statement
            ? html`<form method="post" action="${DAY}/reconciliations">${model.csrf}
            <input type="hidden" name="source" value="${source.source}"><input type="hidden" name="date" value="${model.date}">
            <button class="primary small" type="submit">${rec && rec.runs > 0 ? 'Đối chiếu lại' : 'Đối chiếu'}</button></form>`
            : ''
        }
        ${
          rec
            ? html`<form method="post" action="${DAY}/reconciliations/${rec.id}/close">${model.csrf}
            <input type="hidden" name="date" value="${model.date}">
            <button class="small${canClose ? ' primary' : ''}" type="submit"${canClose ? '' : html` aria-describedby="close-why-${source.source}"`}>Chốt ngày</button></form>
            ${canClose ? '' : html`<p class="hint" id="close-why-${source.source}">Chỉ chốt được khi đã đối chiếu và không còn chênh lệch hay trường hợp nào mở.</p>`}`
            : ''
        }
      </div>`
    }
  </article>`;
}

/** `GET /dashboard/treasury`: the day, source by source. */
export function renderDay(model: DayPageModel): Body {
  return body(html`<div class="desk">
  ${deskNav('day')}
  <h1>Ngày làm việc ${model.date.split('-').reverse().join('/')}</h1>
  ${flash(model)}
  <form class="day-pick" method="get" action="${DAY}" aria-label="Chọn ngày">
    ${dateInput('date', 'Ngày nghiệp vụ (giờ Việt Nam)', model.date)}
    <button type="submit">Xem ngày</button>
  </form>
  ${
    model.openReviewsByKind.length
      ? html`<p class="by-kind"><span class="muted">Hàng chờ xem xét:</span> ${model.openReviewsByKind.map(
          (k) => html`<a href="${withQuery(QUEUE, { kind: k.kind })}">${k.label} (${formatCount(k.count)})</a> `,
        )}</p>`
      : ''
  }
  ${model.imported ? importResult(model.imported) : ''}
  <h2>Nguồn tiền trong ngày</h2>
  ${
    model.sources.length
      ? html`<div class="source-cards">${model.sources.map((s) => sourceCard(model, s))}</div>`
      : html`<p class="empty">Chưa có giao dịch hay sao kê nào trong ngày này.</p>`
  }
  <h2>Nạp sao kê</h2>
  ${uploadForm(model)}
  <h2>Báo cáo</h2>
  <ul class="reports">${model.reports.map((r) => html`<li><a href="${r.href}" download>${r.label}</a></li>`)}</ul>
</div>`);
}

// ---------------------------------------------------------------- 2. the discrepancies

function amounts(d: Pick<DiscrepancyListItem, 'statementAmount' | 'hubAmount'>) {
  return html`${d.statementAmount !== null ? html`sao kê ${formatMoney(d.statementAmount)}` : ''}${
    d.statementAmount !== null && d.hubAmount !== null ? html`<br>` : ''
  }${d.hubAmount !== null ? html`hệ thống ${formatMoney(d.hubAmount)}` : ''}`;
}

/** `GET /dashboard/treasury/discrepancies`. */
export function renderDiscrepancyList(model: DiscrepanciesPageModel): Body {
  const f = model.filters;
  const withClass = discrepancyClasses.filter((c) => model.counts[c]);
  return body(html`<div class="desk">
  ${deskNav('discrepancies')}
  <h1>Chênh lệch đối chiếu</h1>
  ${flash(model)}
  ${
    withClass.length
      ? html`<p class="by-kind"><span class="muted">Theo loại:</span> ${withClass.map(
          (c) =>
            html`<a href="${withQuery(DISCREPANCIES, { ...f, class: c })}"${f.class === c ? raw(' aria-current="true"') : ''}>${matchClassLabels[c]} (${formatCount(model.counts[c] ?? 0)})</a> `,
        )}</p>`
      : ''
  }
  ${filterForm(DISCREPANCIES, [
    select('class', 'Loại', discrepancyClasses, matchClassLabels, f.class),
    select('status', 'Trạng thái', ['open', 'awaiting_approval', 'resolved'], discrepancyStatusLabels, f.status),
    input('source', 'Nguồn', f.source, 'autocomplete="off" spellcheck="false" placeholder="vnpay, bank:…"'),
    dateInput('date', 'Ngày nghiệp vụ', f.date),
    input('agency', 'Mã cơ quan', f.agency, 'autocomplete="off" spellcheck="false"'),
  ])}
  ${
    model.items.length === 0
      ? html`<p class="empty">Không có chênh lệch nào${Object.values(f).some(Boolean) ? ' khớp với bộ lọc này' : ''}.</p>`
      : html`<table class="stack">
    <caption class="visually-hidden">Các chênh lệch giữa sao kê và hệ thống</caption>
    <thead><tr>${th('Ngày')}${th('Nguồn')}${th('Loại')}${th('Số tiền', 'num')}${th('Khoản tiền')}${th('Trạng thái')}${th('Người xử lý')}</tr></thead>
    <tbody>${model.items.map(
      (d) => html`<tr>
      ${td('Ngày', d.businessDate.split('-').reverse().join('/'))}
      ${td('Nguồn', sourceLabel(d.source))}
      ${td('Loại', html`<a href="${discrepancyUrl(d.id)}">${matchClassLabels[d.class]}</a>${d.flagCount > 0 ? html` <span class="badge class-flagged">nhắc lại ${d.flagCount}</span>` : ''}`)}
      ${td('Số tiền', amounts(d), 'num')}
      ${td('Khoản tiền', html`<code>${d.subject}</code>`)}
      ${td('Trạng thái', badge('review', d.status, discrepancyStatusLabels[d.status]))}
      ${td('Người xử lý', d.assignee ?? '—')}
    </tr>`,
    )}</tbody>
  </table>`
  }
  ${nextPageLink(DISCREPANCIES, { ...f }, model.nextCursor)}
</div>`);
}

// ---------------------------------------------------------------- 3. one discrepancy

const resolutionFields: Record<string, string> = {
  resolution: 'Cách xử lý',
  note: 'Ghi chú',
  intentId: 'Mã giao dịch',
  lineId: 'Mã dòng sao kê',
};

function resolutionForm(model: DiscrepancyCaseModel) {
  const values: ResolutionFormValues = model.values ?? {};
  const error = model.error;
  const invalid = (name: string) => fieldProblem(error, name);
  const note = invalid('note');
  const intentId = invalid('intentId');
  const lineId = invalid('lineId');
  const choice = invalid('resolution');
  return html`<form class="decision" method="post" action="${discrepancyUrl(model.item.id)}/resolution">
    ${model.csrf}
    <input type="hidden" name="key" value="${model.idempotencyKey}">
    <fieldset id="d-resolution"${choice.attrs}><legend>Cách xử lý</legend>
      ${discrepancyResolutions.map(
        (
          r,
        ) => html`<label class="choice"><input type="radio" name="resolution" value="${r}" required${values.resolution === r ? raw(' checked') : ''}>
        <span><strong>${resolutionLabels[r]}</strong><small>${resolutionExplanations[r]}</small></span></label>`,
      )}
      ${choice.text}
    </fieldset>
    <div class="field"><label for="d-note">Ghi chú (bắt buộc, ghi rõ căn cứ)</label>
      <textarea id="d-note" name="note" rows="3" required minlength="3" maxlength="1000"${note.attrs}>${values.note ?? ''}</textarea>${note.text}</div>
    <fieldset class="only-for for-matched_manually"><legend>Khớp với (khi khớp thủ công, nhập một trong hai)</legend>
      <div class="field"><label for="d-intentId">Mã định danh giao dịch (UUID)</label>
        <input id="d-intentId" name="intentId" value="${values.intentId ?? model.intent?.id ?? ''}" autocomplete="off" spellcheck="false"${intentId.attrs}>${intentId.text}</div>
      <div class="field"><label for="d-lineId">Mã dòng sao kê (&lt;mã sao kê&gt;:&lt;số dòng&gt;)</label>
        <input id="d-lineId" name="lineId" value="${values.lineId ?? ''}" autocomplete="off" spellcheck="false"${lineId.attrs}>${lineId.text}</div>
    </fieldset>
    <p class="hint">Khớp thủ công hoặc ghi nhận chênh lệch trên ${formatMoney(model.approvalThreshold)} cần một cán bộ kho bạc khác phê duyệt.</p>
    <p><button class="primary" type="submit">Ghi cách xử lý</button></p>
  </form>`;
}

function approvalForms(model: DiscrepancyCaseModel) {
  const url = discrepancyUrl(model.item.id);
  if (model.ownDecision) return html`<p class="notice">Bạn đã đề xuất cách xử lý này: cần một cán bộ khác phê duyệt.</p>`;
  return html`<div class="approval">
    <form method="post" action="${url}/approve">${model.csrf}
      <div class="field"><label for="a-note">Ghi chú phê duyệt</label><textarea id="a-note" name="note" rows="2" maxlength="1000"></textarea></div>
      <button class="primary" type="submit">Phê duyệt</button></form>
    <form method="post" action="${url}/decline">${model.csrf}
      <div class="field"><label for="x-note">Lý do không phê duyệt (bắt buộc)</label><textarea id="x-note" name="note" rows="2" required minlength="3" maxlength="1000"></textarea></div>
      <button class="danger" type="submit">Không phê duyệt</button></form>
  </div>`;
}

/** `GET /dashboard/treasury/discrepancies/:id`. */
export function renderDiscrepancyCase(model: DiscrepancyCaseModel): Body {
  const { item, line, intent } = model;
  const url = discrepancyUrl(item.id);
  return body(html`<div class="desk">
  ${deskNav('discrepancies')}
  <p class="back"><a href="${withQuery(DISCREPANCIES, { source: item.source, date: item.businessDate })}">← Chênh lệch của ngày</a> · <a href="${withQuery(DAY, { date: item.businessDate })}">Ngày làm việc</a></p>
  <h1>${matchClassLabels[item.class]} ${badge('review', item.status, discrepancyStatusLabels[item.status])}</h1>
  <p class="muted">${sourceLabel(item.source)} · ngày ${item.businessDate.split('-').reverse().join('/')} · <code>${item.subject}</code>${
    item.flagCount ? html` · <strong>đã nhắc lại ${item.flagCount} lần</strong> (lần cuối ${formatVnDateTime(item.flaggedAt)})` : ''
  }</p>
  ${flash(model, resolutionFields)}
  <div class="evidence">
    <section class="side"><h2>Dòng sao kê</h2>${
      line
        ? definitionList([
            ['Dòng', html`${formatCount(line.lineNo)} <span class="muted">(<code>${line.statementId}:${line.lineNo}</code>)</span>`],
            ['Mã giao dịch', line.transactionId ? html`<code>${line.transactionId}</code>` : '—'],
            ['Mã thanh toán', line.reference ? html`<code>${line.reference}</code>` : '—'],
            ['Số tiền', formatMoney(line.amount)],
            ['Thời gian', formatVnDateTime(line.occurredAt)],
            ['Nội dung', line.text ?? '—'],
            ['Trạng thái trên sao kê', line.status ?? line.direction ?? '—'],
          ])
        : html`<p class="muted">Không có dòng sao kê nào cho khoản này.</p>`
    }</section>
    <section class="side reported"><h2>Trong hệ thống</h2>${
      intent
        ? definitionList([
            ['Mã thanh toán', html`<code>${intent.reference}</code>`],
            ['Hồ sơ', html`<code>${intent.dossierCode}</code>`],
            ['Cổng', labelOf(gatewayLabels, intent.gateway)],
            ['Số tiền', formatMoney(intent.amount)],
            ['Trạng thái', labelOf(intentStatusLabels, intent.status)],
            ['Thanh toán lúc', formatVnDateTime(intent.paidAt)],
            ['Mã định danh', html`<code>${intent.id}</code>`],
          ])
        : html`<p class="muted">Không có giao dịch nào trong hệ thống cho khoản này.</p>`
    }${item.reviewId ? html`<p>Liên quan: <a href="${QUEUE}/${item.reviewId}">trường hợp chờ xem xét</a> — xử lý một bên sẽ đóng cả hai.</p>` : ''}</section>
  </div>
  ${
    item.resolution
      ? html`<section><h2>${item.status === 'resolved' ? 'Đã xử lý' : 'Đề xuất chờ phê duyệt'}</h2>${definitionList([
          ['Cách xử lý', html`<strong>${labelOf(resolutionLabels, item.resolution.resolution)}</strong>`],
          ['Người quyết định', item.resolution.decidedBy],
          ['Lúc', formatVnDateTime(item.resolution.decidedAt)],
          ['Ghi chú', item.resolution.note],
          ...((item.resolution.intentId ? [['Khớp với giao dịch', html`<code>${item.resolution.intentId}</code>`]] : []) as [
            string,
            unknown,
          ][]),
          ...((item.resolution.lineId ? [['Khớp với dòng', html`<code>${item.resolution.lineId}</code>`]] : []) as [string, unknown][]),
          ...((item.approvedBy ? [['Người phê duyệt', item.approvedBy]] : []) as [string, unknown][]),
        ])}</section>`
      : ''
  }
  ${item.status === 'awaiting_approval' ? html`<section class="decide"><h2>Phê duyệt</h2>${approvalForms(model)}</section>` : ''}
  ${item.status === 'open' ? html`<section class="decide"><h2>Xử lý chênh lệch</h2>${resolutionForm(model)}</section>` : ''}
  <section><h2>Trao đổi (${formatCount(model.comments.length)})</h2>
    ${model.comments.length ? html`<ol class="comments">${model.comments.map((c) => html`<li><p class="muted">${c.author} · ${formatVnDateTime(c.at)}</p><p>${c.body}</p></li>`)}</ol>` : ''}
    <form method="post" action="${url}/comments">${model.csrf}
      <div class="field"><label for="c-body">Ý kiến</label><textarea id="c-body" name="body" rows="2" required minlength="1" maxlength="2000"></textarea></div>
      <button type="submit">Gửi ý kiến</button></form>
    ${
      item.status !== 'resolved'
        ? html`<form class="assign" method="post" action="${url}/assignee">${model.csrf}
      <div class="field"><label for="g-assignee">Giao cho (tên đăng nhập của cán bộ)</label><input id="g-assignee" name="assignee" value="${item.assignee ?? ''}" autocomplete="off" spellcheck="false"></div>
      <button type="submit">Giao việc</button></form>`
        : ''
    }
  </section>
  <section><h2>Lịch sử xử lý</h2>${auditTable(model.history, 'Chưa ai xử lý khoản này.')}</section>
</div>`);
}

const conditional = discrepancyResolutions
  .map((r) => `.desk .decision:has(input[name="resolution"][value="${r}"]:checked) .for-${r} { display: block; }`)
  .join('\n');

/** The day's styles, added to the desk's. */
export const DAY_CSS = `
.desk .day-pick { display: flex; gap: 0.6rem; align-items: flex-end; flex-wrap: wrap; margin: 0.4rem 0 0.8rem; }
.desk .day-pick .field { margin: 0; min-width: 12rem; }
.desk .source-cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 26rem), 1fr)); gap: 1rem; }
.desk .source-card { border: 1px solid var(--line); border-radius: 6px; padding: 0.2rem 0.9rem 0.8rem; background: #fff; min-width: 0; }
.desk .source-card h3 { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; font-size: 1.05rem; }
.desk .class-counts { list-style: none; padding: 0; margin: 0.4rem 0; display: flex; flex-wrap: wrap; gap: 0.4rem 0.8rem; }
.desk .class-counts a { text-decoration: none; }
.desk .three-way caption { text-align: left; font-weight: 600; padding-bottom: 0.2rem; }
.desk .three-way tr.differences td { background: var(--soft); }
.desk .closed-note { color: var(--ok); font-weight: 600; }
.desk .good { color: var(--ok); } .desk .bad { color: var(--bad); }
.desk .upload { border: 1px solid var(--line); border-radius: 6px; padding: 0.8rem; background: var(--soft); }
.desk .upload .filter-grid { grid-template-columns: repeat(auto-fill, minmax(min(100%, 15rem), 1fr)); }
.desk .mapping summary { cursor: pointer; font-weight: 600; margin: 0.4rem 0; }
.desk .reports { list-style: none; display: flex; flex-wrap: wrap; gap: 0.4rem 1.6rem; padding: 0; }
.desk .comments { padding-left: 1.2rem; }
.desk .comments li { margin-bottom: 0.6rem; } .desk .comments p { margin: 0.1rem 0; }
.desk .assign { margin-top: 0.8rem; max-width: 28rem; }
.desk .badge.day-open { color: var(--warn); background: #fff8e6; }
.desk .badge.day-closed, .desk .badge.class-matched { color: var(--ok); background: #eef7f0; }
.desk .badge.class-missing_in_hub, .desk .badge.class-missing_in_statement, .desk .badge.class-amount_mismatch, .desk .badge.class-status_mismatch, .desk .badge.class-duplicate, .desk .badge.class-flagged { color: var(--bad); background: #fbeeee; }
/* The fields of one resolution only, once one is chosen (all of them where :has() is not supported). */
.desk .decision:has(input[name="resolution"]:checked) .only-for { display: none; }
${conditional}
@media (max-width: 48rem) {
  .desk .source-cards { grid-template-columns: 1fr; }
  .desk .three-way th, .desk .three-way td { padding: 0.3rem; font-size: 0.85rem; }
}
`;
