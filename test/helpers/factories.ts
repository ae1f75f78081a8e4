import type { FeeRuleInput } from '../../src/services/catalogue.ts';
import { addFeeRule, putProcedure, upsertAgency } from '../../src/services/catalogue.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import type { Harness } from './harness.ts';
import { json } from './harness.ts';

/**
 * A small agency tree of every depth the hub must handle: the province, a department, two
 * communes, and a pre-2025 district with a commune under it; plus another province.
 */
export const AGENCIES = {
  province: '000.00.00.H19',
  department: '000.00.32.H19',
  communeA: '000.21.32.H19',
  communeB: '000.22.32.H19',
  district: '000.30.00.H19',
  districtCommune: '000.31.30.H19',
  otherProvince: '000.00.00.H55',
} as const;

export async function seedAgencyTree(ctx: ServiceContext) {
  const a = AGENCIES;
  await upsertAgency(ctx, { code: a.province, name: 'UBND tỉnh Đồng Nai', level: 'province', parentCode: null });
  await upsertAgency(ctx, { code: a.department, name: 'Sở Tư pháp', level: 'department', parentCode: a.province });
  await upsertAgency(ctx, { code: a.communeA, name: 'UBND phường Trấn Biên', level: 'commune', parentCode: a.province });
  await upsertAgency(ctx, { code: a.communeB, name: 'UBND xã Long Thành', level: 'commune', parentCode: a.province });
  await upsertAgency(ctx, {
    code: a.district,
    name: 'UBND huyện Nhơn Trạch (trước 2025)',
    level: 'district',
    parentCode: a.province,
    validTo: '2025-06-30',
  });
  await upsertAgency(ctx, {
    code: a.districtCommune,
    name: 'UBND xã Phú Hội (trước 2025)',
    level: 'commune',
    parentCode: a.district,
    validTo: '2025-06-30',
  });
  await upsertAgency(ctx, { code: a.otherProvince, name: 'UBND tỉnh Lâm Đồng', level: 'province', parentCode: null });
}

let procedureCounter = Math.floor(Math.random() * 800_000) + 100_000;
export function uniqueProcedureCode(): string {
  procedureCounter += 1;
  return `9.${String(procedureCounter).padStart(6, '0')}`;
}

export function rule(overrides: Partial<FeeRuleInput> = {}): FeeRuleInput {
  return {
    kind: 'le_phi',
    feeCode: 'LP01',
    name: 'Lệ phí cấp giấy',
    lineNo: 1,
    formula: { type: 'fixed', amount: 135_000 },
    adjustments: [],
    rounding: { mode: 'half_up', unit: 1 },
    validFrom: '2020-01-01',
    validTo: null,
    legalBasis: 'Thông tư thử nghiệm',
    collectionAccount: null,
    budgetChapter: null,
    budgetSubItem: null,
    budgetAccount: null,
    retainedPercent: null,
    budgetCodesDemo: false,
    setByProvince: false,
    ...overrides,
  };
}

/** A procedure with the given fee rules (one fixed 135.000 đ lệ phí by default). */
export async function createProcedure(ctx: ServiceContext, rules: FeeRuleInput[] = [rule()], code = uniqueProcedureCode()) {
  await putProcedure(ctx, code, {
    name: `Thủ tục thử nghiệm ${code}`,
    field: 'Thử nghiệm',
    level: 'tỉnh',
    integratedOnlinePayment: true,
    dataConfidence: 'unconfirmed',
    note: null,
  });
  for (const r of rules) await addFeeRule(ctx, code, r);
  return code;
}

let dossierCounter = Math.floor(Math.random() * 9000);
export function uniqueDossierCode(agency: string = AGENCIES.communeA): string {
  dossierCounter = (dossierCounter + 1) % 10_000;
  const day = String(Math.floor(Math.random() * 28) + 1).padStart(2, '0');
  return `${agency}-26${String(Math.floor(Math.random() * 9) + 1).padStart(2, '0')}${day}-${String(dossierCounter).padStart(4, '0')}`;
}

export function dossierBody(procedureCode: string, overrides: Record<string, unknown> = {}) {
  return {
    procedureCode,
    agencyCode: AGENCIES.communeA,
    channel: 'online',
    receivedAt: '2026-11-20T09:30:00+07:00',
    applicant: { name: 'Nguyễn Văn An', address: '12 Đường Võ Thị Sáu, phường Trấn Biên, Đồng Nai' },
    ...overrides,
  };
}

/** Registers a dossier through the API and returns its JSON. */
export async function registerDossier(
  h: Pick<Harness, 'request'>,
  token: string,
  procedureCode: string,
  overrides: Record<string, unknown> = {},
  code = uniqueDossierCode(overrides.agencyCode as string | undefined),
) {
  const response = await h.request('PUT', `/v1/dossiers/${code}`, { token, body: dossierBody(procedureCode, overrides) });
  if (response.status !== 201) throw new Error(`dossier registration failed: ${response.status} ${await response.text()}`);
  return json(response);
}

let keyCounter = 0;
export const idempotencyKey = () => `test-key-${Date.now().toString(36)}-${++keyCounter}-${Math.random().toString(36).slice(2, 8)}`;

export async function createIntent(
  h: Pick<Harness, 'request'>,
  token: string,
  dossierCode: string,
  extra: Record<string, unknown> = {},
  key = idempotencyKey(),
) {
  return h.request('POST', '/v1/payment-intents', {
    token,
    headers: { 'idempotency-key': key },
    body: { dossierCode, gateway: 'sandbox', returnUrl: 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua', ...extra },
  });
}
