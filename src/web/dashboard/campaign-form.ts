import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ZodError } from 'zod';
import { CampaignInputSchema } from '../../http/indicator-schemas.ts';
import type { CampaignInput, CampaignView } from '../../services/campaigns.ts';
import { ServiceError } from '../../services/errors.ts';

/**
 * The admin's form to create or edit a campaign. It is the API's CampaignInput (the same zod
 * schema validates both), written for people: targets in percent with a decimal comma, the
 * baseline left empty for the default, and every message in Vietnamese next to its field, with
 * what was typed kept.
 */

const FIELDS = [
  'name',
  'agencyCode',
  'startDate',
  'days',
  'targetDossierOnlinePayment',
  'targetProcedureOnlinePayment',
  'targetProcedureIntegration',
  'baselineFrom',
  'baselineTo',
] as const;
type Field = (typeof FIELDS)[number];
export type CampaignFormValues = Record<Field, string>;
type FieldErrors = Partial<Record<Field, string>>;

const TARGETS = {
  targetDossierOnlinePayment: 'dossierOnlinePayment',
  targetProcedureOnlinePayment: 'procedureOnlinePayment',
  targetProcedureIntegration: 'procedureIntegration',
} as const;

const percentText = (rate: number | null) => (rate === null ? '' : String(Math.round(rate * 10000) / 100).replace('.', ','));

/** The form's values: empty for a new campaign, the campaign's own for an edit. */
export function campaignFormValues(campaign?: CampaignView): CampaignFormValues {
  return {
    name: campaign?.name ?? '',
    agencyCode: campaign?.agency.code ?? '',
    startDate: campaign?.startDate ?? '',
    days: String(campaign?.days ?? 30),
    targetDossierOnlinePayment: percentText(campaign?.targets.dossierOnlinePayment ?? null),
    targetProcedureOnlinePayment: percentText(campaign?.targets.procedureOnlinePayment ?? null),
    targetProcedureIntegration: percentText(campaign?.targets.procedureIntegration ?? null),
    baselineFrom: campaign?.baseline.from ?? '',
    baselineTo: campaign?.baseline.to ?? '',
  };
}

/** What was posted, as typed (trimmed, at most 300 characters a field). */
export function postedValues(form: Record<string, unknown>): CampaignFormValues {
  return Object.fromEntries(
    FIELDS.map((f) => [f, typeof form[f] === 'string' ? (form[f] as string).trim().slice(0, 300) : '']),
  ) as CampaignFormValues;
}

const MESSAGES: Record<Field, string> = {
  name: 'Tên chiến dịch dài từ 3 đến 200 ký tự.',
  agencyCode: 'Chọn đơn vị của chiến dịch.',
  startDate: 'Nhập ngày bắt đầu (từ năm 1900).',
  days: 'Số ngày là số nguyên từ 1 đến 366, và chiến dịch kết thúc trước năm 10000.',
  targetDossierOnlinePayment: 'Nhập mục tiêu: tỷ lệ phần trăm từ 0 đến 100, tối đa 2 chữ số thập phân (ví dụ 70 hoặc 72,5).',
  targetProcedureOnlinePayment: 'Tỷ lệ phần trăm từ 0 đến 100, tối đa 2 chữ số thập phân; hoặc để trống.',
  targetProcedureIntegration: 'Tỷ lệ phần trăm từ 0 đến 100, tối đa 2 chữ số thập phân; hoặc để trống.',
  baselineFrom: 'Ngày không hợp lệ.',
  baselineTo: 'Ngày không hợp lệ.',
};

/** An API path (targets.dossierOnlinePayment, baseline.to) as the form's field. */
function fieldOf(path: string): Field | undefined {
  const [head, tail] = path.split('.');
  if (head === 'targets') return Object.entries(TARGETS).find(([, key]) => key === tail)?.[0] as Field | undefined;
  if (head === 'baseline') return tail === 'from' ? 'baselineFrom' : 'baselineTo';
  return FIELDS.includes(head as Field) ? (head as Field) : undefined;
}

function percent(text: string): number | string | null {
  if (text === '') return null;
  if (!/^\d{1,3}([.,]\d{1,2})?$/.test(text)) return text; // left for the schema to refuse
  return Math.round(Number(text.replace(',', '.')) * 100) / 10_000;
}

/** The posted form as the API's input, or the messages of every field at fault. */
export function campaignInputOf(values: CampaignFormValues): { input: CampaignInput } | { errors: FieldErrors } {
  const targets = Object.fromEntries(
    Object.entries(TARGETS)
      .map(([field, key]) => [key, percent(values[field as Field])] as const)
      .filter(([key, value]) => value !== null || key === 'dossierOnlinePayment'),
  );
  const halfBaseline = (values.baselineFrom === '') !== (values.baselineTo === '');
  const parsed = CampaignInputSchema.safeParse({
    name: values.name,
    agencyCode: values.agencyCode,
    startDate: values.startDate,
    days: /^\d{1,4}$/.test(values.days) ? Number(values.days) : values.days,
    targets,
    ...(values.baselineFrom && values.baselineTo ? { baseline: { from: values.baselineFrom, to: values.baselineTo } } : {}),
  });
  const errors: FieldErrors = {
    ...(parsed.success ? {} : issuesOf(parsed.error)),
    ...(halfBaseline
      ? { [values.baselineFrom === '' ? 'baselineFrom' : 'baselineTo']: 'Nhập cả hai ngày của kỳ cơ sở, hoặc để trống cả hai.' }
      : {}),
  };
  return parsed.success && Object.keys(errors).length === 0 ? { input: parsed.data } : { errors };
}

function issuesOf(error: ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const field = fieldOf(issue.path.join('.'));
    if (field) errors[field] ??= MESSAGES[field];
  }
  return errors;
}

/** A service's refusal of the input, as messages by field (undefined: not about the form). */
export function serviceErrors(error: unknown): FieldErrors | undefined {
  if (!(error instanceof ServiceError)) return undefined;
  if (error.code === 'unknown-agency') return { agencyCode: 'Đơn vị này không có trong danh mục hoặc ngoài phạm vi của bạn.' };
  if (error.code !== 'validation-failed') return undefined;
  const errors: FieldErrors = {};
  for (const issue of error.fields) {
    const field = fieldOf(issue.path);
    if (!field) continue;
    errors[field] =
      issue.message === 'on or after startDate'
        ? 'Kỳ cơ sở phải kết thúc trước ngày bắt đầu chiến dịch.'
        : issue.message === 'before baseline.from'
          ? 'Kỳ cơ sở phải kết thúc sau ngày bắt đầu của nó.'
          : MESSAGES[field];
  }
  return Object.keys(errors).length > 0 ? errors : undefined;
}

export interface CampaignFormModel {
  /** Absent for a new campaign. */
  campaignId?: string;
  values: CampaignFormValues;
  errors: FieldErrors;
  agencies: Array<{ code: string; name: string; parentCode: string | null }>;
  /** The Idempotency-Key of a new campaign's form: sending it twice creates one campaign. */
  idempotencyKey?: string;
  csrf: HtmlEscapedString;
}

/** Parents before their children, each indented by its depth. */
function agencyOptions(m: CampaignFormModel) {
  const children = new Map<string | null, CampaignFormModel['agencies']>();
  const known = new Set(m.agencies.map((a) => a.code));
  for (const a of m.agencies) {
    const parent = a.parentCode && known.has(a.parentCode) ? a.parentCode : null;
    children.set(parent, [...(children.get(parent) ?? []), a]);
  }
  const options: HtmlEscapedString[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const a of children.get(parent) ?? []) {
      options.push(
        html`<option value="${a.code}" ${a.code === m.values.agencyCode ? raw('selected') : ''}>${'\u00a0\u00a0'.repeat(depth)}${a.name} (${a.code})</option>` as HtmlEscapedString,
      );
      walk(a.code, depth + 1);
    }
  };
  walk(null, 0);
  return options;
}

export function renderCampaignForm(m: CampaignFormModel) {
  const editing = m.campaignId !== undefined;
  const action = editing ? `/dashboard/campaigns/${m.campaignId}/edit` : '/dashboard/campaigns/new';
  const count = Object.keys(m.errors).length;
  const invalid = (f: Field) => (m.errors[f] ? raw(`aria-invalid="true" aria-describedby="${f}-error"`) : '');
  const problem = (f: Field) => (m.errors[f] ? html`<p class="field-error" id="${f}-error">${m.errors[f]}</p>` : '');
  const input = (f: Field, type: string, extra = '') =>
    html`<input id="${f}" name="${f}" type="${type}" value="${m.values[f]}" ${raw(extra)} ${invalid(f)}>${problem(f)}`;
  const title = editing ? 'Sửa chiến dịch' : 'Tạo chiến dịch';
  return {
    title: `${title} — Bảng theo dõi thanh toán trực tuyến`,
    body: html`<h1>${title}</h1>
  ${count > 0 ? html`<p class="error" role="alert" data-testid="form-errors">Chưa lưu được: ${count} trường cần sửa (đánh dấu bên dưới).</p>` : ''}
  <form method="post" action="${action}" class="fields" novalidate>
    ${m.csrf}
    ${m.idempotencyKey ? html`<input type="hidden" name="key" value="${m.idempotencyKey}">` : ''}
    <label for="name">Tên chiến dịch</label>${input('name', 'text', 'maxlength="200" required')}
    <label for="agencyCode">Đơn vị (chiến dịch tính trên đơn vị này và các đơn vị trực thuộc)</label>
    <select id="agencyCode" name="agencyCode" required ${invalid('agencyCode')}>
      <option value="">— chọn đơn vị —</option>${agencyOptions(m)}
    </select>${problem('agencyCode')}
    <label for="startDate">Ngày bắt đầu</label>${input('startDate', 'date', 'required')}
    <label for="days">Số ngày</label>${input('days', 'number', 'min="1" max="366" step="1" inputmode="numeric" required')}
    <fieldset><legend>Mục tiêu (% — để trống nếu không đặt)</legend>
      <label for="targetDossierOnlinePayment">Tỷ lệ hồ sơ thanh toán trực tuyến (chỉ số c)</label>${input('targetDossierOnlinePayment', 'text', 'inputmode="decimal" required')}
      <label for="targetProcedureOnlinePayment">Tỷ lệ TTHC có giao dịch thanh toán trực tuyến (chỉ số a)</label>${input('targetProcedureOnlinePayment', 'text', 'inputmode="decimal"')}
      <label for="targetProcedureIntegration">Tỷ lệ TTHC có phí, lệ phí được tích hợp (chỉ số b)</label>${input('targetProcedureIntegration', 'text', 'inputmode="decimal"')}
    </fieldset>
    <fieldset><legend>Kỳ cơ sở (để trống: 30 ngày ngay trước ngày bắt đầu)</legend>
      <label for="baselineFrom">Từ ngày</label>${input('baselineFrom', 'date')}
      <label for="baselineTo">Đến ngày</label>${input('baselineTo', 'date')}
    </fieldset>
    <p class="bar" style="justify-content:flex-start"><button class="primary" type="submit">${editing ? 'Lưu thay đổi' : 'Tạo chiến dịch'}</button>
    <a href="${editing ? `/dashboard/campaigns?campaign=${m.campaignId}` : '/dashboard/campaigns'}">Hủy</a></p>
  </form>`,
  };
}
