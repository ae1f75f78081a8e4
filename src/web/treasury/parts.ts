import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { gatewayLabels, labelOf } from './labels.ts';
import type { DeskPageContext, FormError } from './models.ts';

/**
 * The pieces every page of the treasury's desk is made of: its addresses, navigation, flash area,
 * form fields, filter form, paging and the table cells that stack on a phone.
 */

export type Body = HtmlEscapedString;
export type Fragment = HtmlEscapedString | Promise<HtmlEscapedString>;

export const DAY = '/dashboard/treasury';
export const QUEUE = '/dashboard/treasury/reviews';
export const DISCREPANCIES = '/dashboard/treasury/discrepancies';
export const INTENTS = '/dashboard/treasury/intents';
export const REFUNDS = '/dashboard/treasury/refunds';
export const caseUrl = (id: string) => `${QUEUE}/${encodeURIComponent(id)}`;
export const refundUrl = (id: string, step: 'approve' | 'reject') => `${REFUNDS}/${encodeURIComponent(id)}/${step}`;

/** The templates here interpolate no promise, so what `html` returns is already the string. */
export const body = (fragment: Fragment) => fragment as Body;

/** A URL with the non-empty parameters only, so that a shared link stays short and readable. */
export function withQuery(path: string, params: Record<string, string | null | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

// ---------------------------------------------------------------- shared pieces

type DeskSection = 'day' | 'discrepancies' | 'queue' | 'intents' | 'refunds';

export function deskNav(current: DeskSection) {
  const item = (section: DeskSection, href: string, label: string) =>
    html`<li><a href="${href}"${current === section ? raw(' aria-current="page"') : ''}>${label}</a></li>`;
  return html`<nav class="desk-nav" aria-label="Bàn làm việc kho bạc"><ul>
    ${item('day', DAY, 'Ngày làm việc')}${item('discrepancies', DISCREPANCIES, 'Chênh lệch')}${item('queue', QUEUE, 'Hàng chờ xử lý')}${item('intents', INTENTS, 'Giao dịch')}${item('refunds', REFUNDS, 'Hoàn tiền')}
  </ul></nav>`;
}

export function flash(ctx: DeskPageContext, fieldLabels: Record<string, string> = {}) {
  return html`${ctx.notice ? html`<p class="flash flash-ok" role="status"><strong>Đã ghi nhận.</strong> ${ctx.notice}</p>` : ''}${
    ctx.error ? errorBox(ctx.error, fieldLabels) : ''
  }`;
}

function errorBox(error: FormError, fieldLabels: Record<string, string>) {
  return html`<div class="flash flash-error" role="alert">
    <p><strong>Lỗi: ${error.title}</strong></p>
    ${error.detail ? html`<p>${error.detail}</p>` : ''}
    ${error.fields?.length ? html`<ul>${error.fields.map((f) => html`<li>${fieldName(fieldLabels, f.path)}: ${f.message}</li>`)}</ul>` : ''}
  </div>`;
}

/** A field named as its form labels it, linked to the input (`#d-<name>`), or the raw path. */
const fieldName = (labels: Record<string, string>, path: string) =>
  Object.hasOwn(labels, path) ? html`<a href="#d-${path}">${labels[path]}</a>` : html`<code>${path}</code>`;

export const fieldError = (error: FormError | undefined, name: string) => error?.fields?.find((f) => f.path === name)?.message;

/** A form field's error, if any: the attributes that mark its input and the message under it. */
export function fieldProblem(error: FormError | undefined, name: string) {
  const message = fieldError(error, name);
  return message
    ? {
        attrs: raw(` aria-invalid="true" aria-describedby="err-${name}"`),
        text: html`<p class="field-error" id="err-${name}">${message}</p>`,
      }
    : { attrs: '' as const, text: '' as const };
}

/** A status as text in a badge: the colour repeats the words, never replaces them. */
export const badge = (kind: string, status: string, label: string) => html`<span class="badge ${kind}-${status}">${label}</span>`;

export function select(name: string, label: string, options: readonly string[], labels: Record<string, string>, value: string | undefined) {
  return html`<div class="field"><label for="f-${name}">${label}</label>
    <select id="f-${name}" name="${name}">
      <option value="">Tất cả</option>
      ${options.map((o) => html`<option value="${o}"${o === value ? raw(' selected') : ''}>${labels[o] ?? o}</option>`)}
      ${value && !options.includes(value) ? html`<option value="${value}" selected>${value}</option>` : ''}
    </select></div>`;
}

export function input(name: string, label: string, value: string | undefined, attrs = '') {
  return html`<div class="field"><label for="f-${name}">${label}</label>
    <input id="f-${name}" name="${name}" value="${value ?? ''}" ${raw(attrs)}></div>`;
}

export const dateInput = (name: string, label: string, value: string | undefined) => input(name, label, value, 'type="date"');
export const amountInput = (name: string, label: string, value: string | undefined) =>
  input(name, label, value, 'type="number" min="0" step="1" inputmode="numeric"');

export function filterForm(action: string, fields: Fragment[]) {
  return html`<form class="filters" method="get" action="${action}" role="search" aria-label="Lọc danh sách">
    <div class="filter-grid">${fields}</div>
    <div class="filter-actions"><button class="primary" type="submit">Lọc</button> <a href="${action}">Xóa bộ lọc</a></div>
  </form>`;
}

export function nextPageLink(path: string, filters: Record<string, string | undefined>, cursor: string | null) {
  return cursor
    ? html`<nav class="paging" aria-label="Phân trang"><a rel="next" href="${withQuery(path, { ...filters, cursor })}">Trang sau →</a></nav>`
    : '';
}

/** A table cell that stacks as "label: value" on a narrow screen. */
export const td = (label: string, content: unknown, cls = '') =>
  html`<td data-label="${label}"${cls ? html` class="${cls}"` : ''}><span class="cell">${content}</span></td>`;

export const th = (label: string, cls = '') => html`<th scope="col"${cls ? html` class="${cls}"` : ''}>${label}</th>`;

export const gatewayName = (gateway: string) => labelOf(gatewayLabels, gateway);

/** A definition list of facts: term, value. */
export function definitionList(rows: [string, unknown][]) {
  return html`<dl class="facts">${rows.map(([term, value]) => html`<dt>${term}</dt><dd>${value}</dd>`)}</dl>`;
}
