import type { z } from '@hono/zod-openapi';
import type {
  ActionsSchema,
  BreakdownSchema,
  CampaignInputSchema,
  CampaignProgressSchema,
  CampaignSchema,
  DvcqgSyncSchema,
  IndicatorReportSchema,
} from './indicator-schemas.ts';
import {
  type AgencySchema,
  type CreateIntentSchema,
  type CreateRefundSchema,
  type DossierInputSchema,
  type DossierSchema,
  EXAMPLE_DOSSIER_CODE,
  type FeeRuleInputSchema,
  type FeeRuleSchema,
  type PaymentIntentSchema,
  type ProcedureInputSchema,
  type ProcedureSchema,
  type ReceiptSchema,
  type RefundSchema,
  type ResolveRefundSchema,
} from './schemas.ts';
import type {
  AuditEntrySchema,
  AuditPageSchema,
  ChainVerificationSchema,
  PaymentIntentPageSchema,
  PaymentReviewPageSchema,
  PaymentReviewSchema,
  RefundPageSchema,
  ReviewDetailSchema,
  ReviewSummarySchema,
} from './treasury-schemas.ts';

/**
 * Examples of requests and answers for the OpenAPI document (and so for /docs's "try it"), typed
 * by the schemas they illustrate: an example that drifts from its schema does not compile, and
 * the OpenAPI lint test checks the formats. Taken from the demo data (src/seed/); the dossier
 * code `EXAMPLE_DOSSIER_CODE` is replaced, in the embedded demo, by one of its own dossiers.
 */

type Out<T extends z.ZodType> = z.output<T>;
type In<T extends z.ZodType> = z.input<T>;

export const EXAMPLE_INTENT_ID = '5997e938-83de-45b4-a37c-df5333eb1d7e';
export const EXAMPLE_REFUND_ID = '2b8d6f1e-7c4a-4e0b-9d3f-6a1c5e7b9d20';
export const EXAMPLE_CAMPAIGN_ID = '39829a57-7408-4726-90f0-b6dfc677972c';
export const EXAMPLE_FEE_RULE_ID = '9de5fd8c-fef1-41ba-9456-932b4dca6215';
const OBLIGATION_ID = 'e38c94f8-5bda-4d88-bd91-7e52c12cf235';
/** A dossier to register (PUT): a new code, next to the demo's (sequence 9001 is above theirs). */
export const NEW_DOSSIER_CODE = '000.01.15.H19-261122-9001';

// ── Catalogue ───────────────────────────────────────────────────────────────────────────

export const agenciesExample: { items: Out<typeof AgencySchema>[] } = {
  items: [
    {
      code: '000.00.00.H19',
      name: 'UBND tỉnh Đồng Nai',
      level: 'province',
      parentCode: null,
      depth: 0,
      validFrom: null,
      validTo: null,
      mergedInto: null,
      issuesCounterReceipts: false,
      address: 'Số 2 đường Nguyễn Văn Trị, phường Trấn Biên, tỉnh Đồng Nai',
      taxCode: null,
      receiptFormSymbol: null,
      receiptSeriesSymbol: null,
      receiptDelegation: null,
    },
    {
      code: '000.00.15.H19',
      name: 'Công an tỉnh Đồng Nai',
      level: 'department',
      parentCode: '000.00.00.H19',
      depth: 1,
      validFrom: null,
      validTo: null,
      mergedInto: null,
      issuesCounterReceipts: false,
      address: null,
      taxCode: null,
      receiptFormSymbol: null,
      receiptSeriesSymbol: null,
      receiptDelegation: null,
    },
    {
      code: '000.01.15.H19',
      name: 'Phòng Cảnh sát giao thông - Công an tỉnh Đồng Nai',
      level: 'unit',
      parentCode: '000.00.15.H19',
      depth: 2,
      validFrom: null,
      validTo: null,
      mergedInto: null,
      issuesCounterReceipts: false,
      address: 'Số 161 đường Phạm Văn Thuận, phường Tam Hiệp, tỉnh Đồng Nai',
      taxCode: '3600123456',
      receiptFormSymbol: 'EBL01',
      receiptSeriesSymbol: '26TGT',
      receiptDelegation: 'Văn bản ủy quyền số 12/UQ-CSGT ngày 01/07/2026',
    },
  ],
};

const EXAMPLE_CLOSED_FEE_RULE_ID = '4c1e2b7a-93d5-4f08-8e6a-2d7b9c0f1a35';

export const procedureExample: Out<typeof ProcedureSchema> = {
  code: '3.000347',
  name: 'Đổi giấy phép lái xe',
  field: 'Giấy phép lái xe',
  level: 'tỉnh',
  receivingLevels: [],
  receivingUnits: ['000.01.15.H19'],
  integratedOnlinePayment: true,
  dataConfidence: 'confirmed',
  note:
    'Nộp tại Công an tỉnh. Giảm còn 115.000 đ khi nộp trực tuyến từ 01/12/2023 đến 31/12/2025; từ 01/01/2026 135.000 đ theo Thông tư 154/2025/TT-BTC. ' +
    'Miễn cho công dân có tài khoản VNeID mức 2 từ 15/08/2026 đến 28/02/2027 (Thông tư 117/2026/TT-BTC).',
  feeBearing: true,
  // The rule the law replaced is closed the day before its successor, never overwritten.
  feeRules: [
    {
      id: EXAMPLE_CLOSED_FEE_RULE_ID,
      kind: 'le_phi',
      feeCode: 'LPGPLX',
      name: 'Lệ phí cấp đổi giấy phép lái xe',
      lineNo: 1,
      formula: { type: 'fixed', amount: 135000 },
      adjustments: [
        {
          to: '2025-12-31',
          from: '2023-12-01',
          label: 'Nộp trực tuyến: 115.000 đ (Thông tư 63/2023/TT-BTC)',
          effect: { type: 'amount', amount: 115000 },
          channels: ['online'],
        },
      ],
      rounding: { mode: 'half_up', unit: 1 },
      validFrom: '2017-01-01',
      validTo: '2025-12-31',
      legalBasis:
        'Thông tư 37/2023/TT-BTC (135.000 đ/lần); Thông tư 63/2023/TT-BTC (nộp trực tuyến 115.000 đ từ 01/12/2023 đến 31/12/2025)',
      collectionAccount: null,
      budgetChapter: '418',
      budgetSubItem: '2766',
      budgetAccount: '7111',
      retainedPercent: null,
      budgetCodesDemo: true,
      setByProvince: false,
    },
    {
      id: EXAMPLE_FEE_RULE_ID,
      kind: 'le_phi',
      feeCode: 'LPGPLX',
      name: 'Lệ phí cấp đổi giấy phép lái xe',
      lineNo: 1,
      formula: { type: 'fixed', amount: 135000 },
      adjustments: [
        {
          label: 'Tài khoản VNeID mức 2: miễn lệ phí cấp đổi, cấp lại giấy phép lái xe (Thông tư 117/2026/TT-BTC)',
          payerCategories: ['vneid_level2'],
          from: '2026-08-15',
          to: '2027-02-28',
          effect: { type: 'exempt' },
        },
      ],
      rounding: { mode: 'half_up', unit: 1 },
      validFrom: '2026-01-01',
      validTo: null,
      legalBasis:
        'Thông tư 154/2025/TT-BTC: 135.000 đ/lần; Thông tư 117/2026/TT-BTC: miễn, giảm cho công dân có tài khoản định danh điện tử mức 2 từ 15/08/2026 đến 28/02/2027',
      collectionAccount: null,
      budgetChapter: '418',
      budgetSubItem: '2766',
      budgetAccount: '7111',
      retainedPercent: null,
      budgetCodesDemo: true,
      setByProvince: false,
    },
  ],
};

export const procedureInputExample: In<typeof ProcedureInputSchema> = {
  name: procedureExample.name,
  field: procedureExample.field,
  level: procedureExample.level,
  receivingUnits: procedureExample.receivingUnits,
  integratedOnlinePayment: true,
  dataConfidence: 'confirmed',
  note: procedureExample.note,
};

const { id: _ruleId, ...ruleInput } = procedureExample.feeRules[1]!;
export const feeRuleInputExample: In<typeof FeeRuleInputSchema> = ruleInput;
export const feeRuleExample: Out<typeof FeeRuleSchema> = procedureExample.feeRules[1]!;

// ── Dossiers ────────────────────────────────────────────────────────────────────────────

export const dossierInputExample: In<typeof DossierInputSchema> = {
  procedureCode: '3.000347',
  agencyCode: '000.01.15.H19',
  channel: 'online',
  receivedAt: '2026-11-22T09:30:00+07:00',
  applicant: { name: 'Nguyễn Văn An', address: 'Phường Trấn Biên, tỉnh Đồng Nai' },
};

export const dossierExample: Out<typeof DossierSchema> = {
  code: EXAMPLE_DOSSIER_CODE,
  procedureCode: '3.000347',
  agencyCode: '000.01.15.H19',
  channel: 'online',
  receivedAt: '2026-11-20T02:30:00.000Z',
  receivedDate: '2026-11-20',
  applicant: { name: 'Nguyễn Văn An', address: 'Phường Trấn Biên, tỉnh Đồng Nai' },
  declaredValue: null,
  quantity: null,
  copies: null,
  payerCategories: [],
  payerCategory: null,
  vehicleRegistration: null,
  urbanArea: null,
  onlinePaymentFlag: 0,
  paidAt: null,
  obligations: [
    {
      id: OBLIGATION_ID,
      lineNo: 1,
      kind: 'le_phi',
      feeCode: 'LPGPLX',
      name: 'Lệ phí cấp đổi giấy phép lái xe',
      amount: 135000,
      adjustment: null,
      status: 'unpaid',
    },
  ],
  totalDue: 135000,
  createdAt: '2026-11-20T02:30:20.000Z',
  updatedAt: '2026-11-20T02:30:20.000Z',
};

export const registeredDossierExample: Out<typeof DossierSchema> = {
  ...dossierExample,
  code: NEW_DOSSIER_CODE,
  receivedAt: '2026-11-22T02:30:00.000Z',
  receivedDate: '2026-11-22',
  createdAt: '2026-11-22T02:31:05.000Z',
  updatedAt: '2026-11-22T02:31:05.000Z',
};

export const dvcqgSyncExample: Out<typeof DvcqgSyncSchema> = {
  MaHoSo: EXAMPLE_DOSSIER_CODE,
  MaTTHC: '3.000347',
  KenhThucHien: 2,
  DanhSachLePhi: [{ TenPhiLePhi: 'Lệ phí cấp đổi giấy phép lái xe', MaPhiLePhi: 'LPGPLX', HinhThucThu: 2, Gia: 135000, LoaiPhiLePhi: '2' }],
  DuocThanhToanTrucTuyen: 0,
};

// ── Payment intents ─────────────────────────────────────────────────────────────────────

export const createIntentExample: In<typeof CreateIntentSchema> = {
  dossierCode: EXAMPLE_DOSSIER_CODE,
  gateway: 'sandbox',
  returnUrl: 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua',
};

export const paymentIntentExample: Out<typeof PaymentIntentSchema> = {
  id: EXAMPLE_INTENT_ID,
  status: 'pending',
  amount: 135000,
  currency: 'VND',
  gateway: 'sandbox',
  reference: 'HPATW51CYHX4',
  dossierCode: EXAMPLE_DOSSIER_CODE,
  obligationIds: [OBLIGATION_ID],
  returnUrl: 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua',
  expiresAt: '2026-11-22T03:30:00.000Z',
  nextAction: {
    type: 'redirect',
    // The sandbox sends the payer back through the hub's return page, which adds the signed hubResult.
    url: 'https://hub.example.gov.vn/sandbox/checkout/HPATW51CYHX4?amount=135000&currency=VND&returnUrl=https%3A%2F%2Fhub.example.gov.vn%2Fv1%2Freturns%2Fsandbox%3Fref%3DHPATW51CYHX4%26mac%3D1897492a73c703201ad4cb5d291300744b86aa29123394e187a960baf133009a&expiresAt=1795318200&signature=71e62383879ed724f572c6f865334f25e3168966a0f079fdcff73c8c6c18c6eb',
  },
  createdAt: '2026-11-22T03:00:00.000Z',
  updatedAt: '2026-11-22T03:00:00.000Z',
  succeededAt: null,
  reviewReason: null,
  gatewayTransactionId: null,
  receivedAmount: null,
};

export const cancelledIntentExample: Out<typeof PaymentIntentSchema> = {
  ...paymentIntentExample,
  status: 'cancelled',
  nextAction: null,
  updatedAt: '2026-11-22T03:04:12.000Z',
};

export const receiptExample: Out<typeof ReceiptSchema> = {
  id: '7f1e2d3c-4b5a-4968-8778-695a4b3c2d1e',
  intentId: EXAMPLE_INTENT_ID,
  reference: 'HPATW51CYHX4',
  dossierCode: EXAMPLE_DOSSIER_CODE,
  receiptType: 'Biên lai thu phí, lệ phí',
  kind: 'original',
  reason: null,
  original: null,
  corrections: [],
  formSymbol: 'EBL01',
  seriesSymbol: '26TGT',
  number: 42,
  displayNumber: '0000042',
  issuedAt: '2026-11-22T03:05:00.000Z',
  issuedDate: '2026-11-22',
  collector: {
    code: '000.01.15.H19',
    name: 'Phòng Cảnh sát giao thông - Công an tỉnh Đồng Nai',
    address: 'Số 161 đường Phạm Văn Thuận, phường Tam Hiệp, tỉnh Đồng Nai',
    taxCode: '3600123456',
  },
  collectingAgency: { code: '000.01.15.H19', name: 'Phòng Cảnh sát giao thông - Công an tỉnh Đồng Nai' },
  issuer: {
    name: 'Trung tâm vận hành Cổng thanh toán phí, lệ phí',
    address: 'Số 1 đường Demo, phường Trấn Biên, tỉnh Đồng Nai',
    taxCode: '3600999999',
    delegation: 'Văn bản ủy quyền số 12/UQ-CSGT ngày 01/07/2026',
  },
  payer: { name: 'Nguyễn Văn An', address: 'Phường Trấn Biên, tỉnh Đồng Nai' },
  lines: [{ obligationId: OBLIGATION_ID, kind: 'le_phi', feeCode: 'LPGPLX', name: 'Lệ phí cấp đổi giấy phép lái xe', amount: 135000 }],
  total: 135000,
  totalInWords: 'Một trăm ba mươi lăm nghìn đồng',
  currency: 'VND',
  gateway: 'sandbox',
  gatewayTransactionId: 'SBXHPATW51CYHX4',
  lookupCode: '7KQ29XMA4RTBZP3C8WNE',
  lookupUrl: 'https://hub.example.gov.vn/receipts/lookup?code=7KQ29XMA4RTBZP3C8WNE',
  refunded: { status: 'none', amount: 0 },
  signature: 'eyJhbGciOiJFUzI1NiJ9.eyJudW1iZXIiOjQyfQ.c2lnbmF0dXJlLW9mLXRoZS1yZWNlaXB0',
  signatureAlgorithm: 'ES256',
  keyId: 'Jq3pWc8bX2kS7vN4mR9tY1uZ6aE5dF0gH8iK3lM2nO4',
  verificationKeys: 'https://hub.example.gov.vn/.well-known/jwks.json',
};

// ── Refunds ─────────────────────────────────────────────────────────────────────────────

export const createRefundExample: In<typeof CreateRefundSchema> = {
  amount: 135000,
  expectedRefundable: 135000,
  reason: 'Hồ sơ bị từ chối, hoàn lệ phí cho công dân',
};

export const refundExample: Out<typeof RefundSchema> = {
  id: EXAMPLE_REFUND_ID,
  intentId: EXAMPLE_INTENT_ID,
  amount: 135000,
  currency: 'VND',
  full: true,
  reason: 'Hồ sơ bị từ chối, hoàn lệ phí cho công dân',
  status: 'succeeded',
  requestedBy: 'treasury:ke-toan-01',
  approvedBy: null,
  gatewayRefundId: 'SBXR-2b8d6f1e',
  createdAt: '2026-11-23T02:00:00.000Z',
  updatedAt: '2026-11-23T02:00:01.000Z',
  completedAt: '2026-11-23T02:00:01.000Z',
  resolution: null,
  reviewId: null,
  method: 'gateway',
  gatewayTransactionId: null,
};

export const resolveRefundExample: In<typeof ResolveRefundSchema> = {
  outcome: 'succeeded',
  note: 'Cổng VNPay: GD hoàn 14170935 thành công 12/03',
  gatewayRefundId: '14170935',
};

export const resolvedRefundExample: Out<typeof RefundSchema> = {
  ...refundExample,
  resolution: {
    outcome: 'succeeded',
    note: resolveRefundExample.note,
    resolvedBy: 'treasury:ke-toan-02',
    resolvedAt: '2026-11-24T01:00:00.000Z',
  },
};

// ── Indicators and campaigns ────────────────────────────────────────────────────────────

export const indicatorsExample: Out<typeof IndicatorReportSchema> = {
  agency: { code: '000.00.00.H19', name: 'UBND tỉnh Đồng Nai', level: 'province' },
  from: '2026-11-01',
  to: '2026-11-22',
  procedureOnlinePayment: { numerator: 14, denominator: 17, rate: 0.8235, points: 2, maxPoints: 2 },
  procedureIntegration: { numerator: 16, denominator: 17, rate: 0.9412, points: 2, maxPoints: 2 },
  dossierOnlinePayment: { numerator: 42, denominator: 79, rate: 0.5316, points: 3.19, maxPoints: 6 },
  points: 7.19,
  maxPoints: 10,
  integrationSource: 'dossiers',
  onlineSubmission: { numerator: 51, denominator: 95, rate: 0.5368 },
};

export const breakdownExample: Out<typeof BreakdownSchema> = {
  agency: { code: '000.00.00.H19', name: 'UBND tỉnh Đồng Nai', level: 'province' },
  from: '2026-11-01',
  to: '2026-11-22',
  by: 'agency',
  integrationSource: 'dossiers',
  items: [
    {
      agency: { code: '000.00.12.H19', name: 'Sở Tư pháp tỉnh Đồng Nai', level: 'department', direct: false },
      procedureOnlinePayment: { numerator: 0, denominator: 0, rate: null, points: null, maxPoints: 2 },
      procedureIntegration: { numerator: 0, denominator: 17, rate: 0, points: 0, maxPoints: 2 },
      dossierOnlinePayment: { numerator: 0, denominator: 0, rate: null, points: null, maxPoints: 6 },
      points: 0,
      maxPoints: 10,
    },
    {
      agency: { code: '000.00.15.H19', name: 'Công an tỉnh Đồng Nai', level: 'department', direct: false },
      procedureOnlinePayment: { numerator: 5, denominator: 5, rate: 1, points: 2, maxPoints: 2 },
      procedureIntegration: { numerator: 5, denominator: 17, rate: 0.2941, points: 0.74, maxPoints: 2 },
      dossierOnlinePayment: { numerator: 17, denominator: 25, rate: 0.68, points: 4.08, maxPoints: 6 },
      points: 6.82,
      maxPoints: 10,
    },
  ],
};

export const actionsExample: Out<typeof ActionsSchema> = {
  agency: { code: '000.00.00.H19', name: 'UBND tỉnh Đồng Nai', level: 'province' },
  from: '2026-11-01',
  to: '2026-11-22',
  target: 1,
  integrationSource: 'dossiers',
  proceduresWithoutOnlinePayment: [
    {
      code: '1.013225',
      name: 'Cấp giấy phép xây dựng mới đối với công trình cấp III, cấp IV và nhà ở riêng lẻ',
      integrated: false,
      dossiers: 5,
      feeDossiers: 5,
    },
  ],
  proceduresNotIntegrated: [{ code: '1.000656', name: 'Đăng ký khai tử', integrated: true, dossiers: 3, charged: 0 }],
  unitsByDossierRate: [
    {
      agency: { code: '000.00.52.H19', name: 'UBND phường Bình Phước', level: 'commune', parentCode: '000.00.00.H19' },
      numerator: 0,
      denominator: 4,
      rate: 0,
      needed: 4,
    },
  ],
};

export const campaignInputExample: In<typeof CampaignInputSchema> = {
  name: 'Chiến dịch 30 ngày nâng cao tỷ lệ thanh toán trực tuyến',
  agencyCode: '000.00.00.H19',
  startDate: '2026-11-01',
  days: 30,
  targets: { procedureOnlinePayment: 0.9, procedureIntegration: 0.9, dossierOnlinePayment: 0.7 },
};

export const campaignExample: Out<typeof CampaignSchema> = {
  id: '39829a57-7408-4726-90f0-b6dfc677972c',
  name: 'Chiến dịch 30 ngày nâng cao tỷ lệ thanh toán trực tuyến (Văn bản 15984/UBND-HCC, số liệu mẫu)',
  agency: { code: '000.00.00.H19', name: 'UBND tỉnh Đồng Nai', level: 'province' },
  startDate: '2026-11-01',
  endDate: '2026-11-30',
  days: 30,
  baseline: { from: '2026-10-02', to: '2026-10-31' },
  targets: { procedureOnlinePayment: 0.9, procedureIntegration: 0.9, dossierOnlinePayment: 0.7 },
  createdBy: 'admin:seed',
  createdAt: '2026-11-22T03:00:00.000Z',
};

export const campaignProgressExample: Out<typeof CampaignProgressSchema> = {
  campaign: {
    id: '39829a57-7408-4726-90f0-b6dfc677972c',
    name: 'Chiến dịch 30 ngày nâng cao tỷ lệ thanh toán trực tuyến (Văn bản 15984/UBND-HCC, số liệu mẫu)',
    agency: { code: '000.00.00.H19', name: 'UBND tỉnh Đồng Nai', level: 'province' },
    startDate: '2026-11-01',
    endDate: '2026-11-30',
    days: 30,
    baseline: { from: '2026-10-02', to: '2026-10-31' },
    targets: { procedureOnlinePayment: 0.9, procedureIntegration: 0.9, dossierOnlinePayment: 0.7 },
    createdBy: 'admin:seed',
    createdAt: '2026-11-22T03:00:00.000Z',
  },
  agency: { code: '000.00.00.H19', name: 'UBND tỉnh Đồng Nai', level: 'province', parentCode: null },
  asOf: '2026-11-22',
  status: 'running',
  day: 22,
  integrationSource: 'dossiers',
  baseline: {
    from: '2026-10-02',
    to: '2026-10-31',
    procedureOnlinePayment: { numerator: 14, denominator: 17, rate: 0.8235, points: 2, maxPoints: 2 },
    procedureIntegration: { numerator: 17, denominator: 17, rate: 1, points: 2, maxPoints: 2 },
    dossierOnlinePayment: { numerator: 70, denominator: 147, rate: 0.4762, points: 2.86, maxPoints: 6 },
    points: 6.86,
    maxPoints: 10,
  },
  current: {
    from: '2026-11-01',
    to: '2026-11-22',
    procedureOnlinePayment: { numerator: 14, denominator: 17, rate: 0.8235, points: 2, maxPoints: 2 },
    procedureIntegration: { numerator: 16, denominator: 17, rate: 0.9412, points: 2, maxPoints: 2 },
    dossierOnlinePayment: { numerator: 42, denominator: 79, rate: 0.5316, points: 3.19, maxPoints: 6 },
    points: 7.19,
    maxPoints: 10,
  },
  targets: {
    procedureOnlinePayment: { target: 0.9, rate: 0.8235, gap: 0.0765, reached: false, needed: 2 },
    procedureIntegration: { target: 0.9, rate: 0.9412, gap: -0.0412, reached: true, needed: 0 },
    dossierOnlinePayment: { target: 0.7, rate: 0.5316, gap: 0.1684, reached: false, needed: 14 },
  },
  series: [
    {
      date: '2026-11-21',
      day: 21,
      cumulative: {
        procedureOnlinePayment: { numerator: 14, denominator: 17, rate: 0.8235 },
        procedureIntegration: { numerator: 16, denominator: 17, rate: 0.9412 },
        dossierOnlinePayment: { numerator: 42, denominator: 79, rate: 0.5316 },
      },
      daily: {
        procedureOnlinePayment: { numerator: 0, denominator: 0, rate: null },
        procedureIntegration: { numerator: 0, denominator: 17, rate: 0 },
        dossierOnlinePayment: { numerator: 0, denominator: 0, rate: null },
      },
    },
    {
      date: '2026-11-22',
      day: 22,
      cumulative: {
        procedureOnlinePayment: { numerator: 14, denominator: 17, rate: 0.8235 },
        procedureIntegration: { numerator: 16, denominator: 17, rate: 0.9412 },
        dossierOnlinePayment: { numerator: 42, denominator: 79, rate: 0.5316 },
      },
      daily: {
        procedureOnlinePayment: { numerator: 0, denominator: 0, rate: null },
        procedureIntegration: { numerator: 0, denominator: 17, rate: 0 },
        dossierOnlinePayment: { numerator: 0, denominator: 0, rate: null },
      },
    },
  ],
  projection: {
    endDate: '2026-11-30',
    remainingDays: 8,
    procedureOnlinePayment: { windowDays: 7, recentRate: null, trendPerDay: 0.0252, projectedRate: 1, onTrack: true, target: 0.9 },
    procedureIntegration: { windowDays: 7, recentRate: null, trendPerDay: 0, projectedRate: 0.9412, onTrack: true, target: 0.9 },
    dossierOnlinePayment: { windowDays: 7, recentRate: 0.6538, trendPerDay: 0.008557, projectedRate: 0.565, onTrack: false, target: 0.7 },
  },
  leaderboard: [
    {
      agency: { code: '000.00.25.H19', name: 'Sở Tài chính tỉnh Đồng Nai', level: 'department', direct: false },
      baseline: {
        procedureOnlinePayment: { numerator: 1, denominator: 1, rate: 1, points: 2, maxPoints: 2 },
        procedureIntegration: { numerator: 1, denominator: 17, rate: 0.0588, points: 0.15, maxPoints: 2 },
        dossierOnlinePayment: { numerator: 2, denominator: 3, rate: 0.6667, points: 4, maxPoints: 6 },
        points: 6.15,
        maxPoints: 10,
      },
      current: {
        procedureOnlinePayment: { numerator: 1, denominator: 1, rate: 1, points: 2, maxPoints: 2 },
        procedureIntegration: { numerator: 1, denominator: 17, rate: 0.0588, points: 0.15, maxPoints: 2 },
        dossierOnlinePayment: { numerator: 2, denominator: 2, rate: 1, points: 6, maxPoints: 6 },
        points: 8.15,
        maxPoints: 10,
      },
      change: 0.3333,
      gap: -0.3,
      needed: 0,
    },
  ],
  actions: {
    proceduresWithoutOnlinePayment: actionsExample.proceduresWithoutOnlinePayment,
    proceduresNotIntegrated: actionsExample.proceduresNotIntegrated,
    unitsByDossierRate: actionsExample.unitsByDossierRate,
  },
};

// ── The treasury's desk: lists, review cases, the audit log ────────────────────────────

export const EXAMPLE_REVIEW_ID = '8a4f2c61-3d7e-4b90-a5c8-1e6f9b2d4a73';
const EXAMPLE_INBOX_ID = 'c3b1a9e7-5d2f-4e8a-9b6c-0f4e2d8a1b57';
const NEXT_CURSOR = 'eyJ0IjoiMjAyNi0xMS0yMlQwMzoxMjowOC40MTIzNTZaIiwiaWQiOiI4YTRmMmM2MS0zZDdlLTRiOTAtYTVjOC0xZTZmOWIyZDRhNzMifQ';

export const paymentIntentPageExample: Out<typeof PaymentIntentPageSchema> = {
  items: [paymentIntentExample],
  nextCursor: NEXT_CURSOR,
};

export const refundPageExample: Out<typeof RefundPageSchema> = {
  items: [{ ...refundExample, status: 'awaiting_approval', amount: 2_500_000, gatewayRefundId: null, completedAt: null }],
  nextCursor: null,
};

const vietqrCredit = {
  accountNumber: '1014682259',
  amount: 100000,
  transactionId: 'FT26324918273645',
  time: '2026-11-22T10:12:08+07:00',
  description: 'MBVCB.1187654321.084512.NGUYEN VAN AN chuyen tien HPATW51CYHX4 thanh toan',
};

const paymentReviewExample: Out<typeof PaymentReviewSchema> = {
  id: EXAMPLE_REVIEW_ID,
  kind: 'amount_mismatch',
  status: 'open',
  gateway: 'vietqr',
  gatewayTransactionId: vietqrCredit.transactionId,
  amount: 100000,
  currency: 'VND',
  reason: 'paid 100000 VND, 135000 VND asked',
  proposedAction: 'decide',
  intentId: EXAMPLE_INTENT_ID,
  intentReference: 'HPATW51CYHX4',
  dossierCode: EXAMPLE_DOSSIER_CODE,
  agencyCode: '000.01.15.H19',
  detail: { inboxId: EXAMPLE_INBOX_ID },
  decision: null,
  outcome: null,
  decidedBy: null,
  decidedAt: null,
  approvedBy: null,
  resolvedBy: null,
  resolvedAt: null,
  createdAt: '2026-11-22T03:12:08.000Z',
};

export const paymentReviewPageExample: Out<typeof PaymentReviewPageSchema> = {
  items: [
    paymentReviewExample,
    {
      ...paymentReviewExample,
      id: '4d0e8b2a-6f1c-4a3e-b7d9-2c5a8e1f6b04',
      kind: 'unmatched_credit',
      gatewayTransactionId: 'FT26324555012348',
      amount: 50000,
      reason: 'a credit naming no payment intent of the hub',
      intentId: null,
      intentReference: null,
      dossierCode: null,
      agencyCode: '000.00.00.H19',
      detail: { inboxId: 'f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9', payeeAccount: '31210000123456' },
      createdAt: '2026-11-22T02:40:51.000Z',
    },
  ],
  nextCursor: NEXT_CURSOR,
};

export const reviewSummaryExample: Out<typeof ReviewSummarySchema> = {
  byStatus: { open: 2, awaiting_approval: 1, resolved: 5 },
  byKind: {
    amount_mismatch: 4,
    suspected_fraud: 0,
    late_payment: 1,
    success_after_decline: 0,
    second_payment: 2,
    unmatched_credit: 1,
    unreadable_message: 0,
    refund_disputed: 0,
  },
  byStatusAndKind: [
    { status: 'open', kind: 'amount_mismatch', count: 1, amount: 100000 },
    { status: 'open', kind: 'unmatched_credit', count: 1, amount: 50000 },
    { status: 'awaiting_approval', kind: 'second_payment', count: 1, amount: 2500000 },
    { status: 'resolved', kind: 'amount_mismatch', count: 3, amount: 405000 },
    { status: 'resolved', kind: 'late_payment', count: 1, amount: 135000 },
    { status: 'resolved', kind: 'second_payment', count: 1, amount: 135000 },
  ],
  openAmount: 150000,
};

const auditEntryExample: Out<typeof AuditEntrySchema> = {
  id: 42,
  at: '2026-11-22T04:01:17.000Z',
  actor: 'treasury:ke-toan-01',
  action: 'decide',
  resourceType: 'payment_review',
  resourceId: EXAMPLE_REVIEW_ID,
  agencyCode: '000.01.15.H19',
  reason: 'Công dân chuyển thiếu 35.000 đ; chấp nhận số đã nhận theo xác nhận của bộ phận một cửa',
  before: { status: 'open' },
  after: { status: 'resolved', action: 'accept', amount: 100000 },
  prevHash: '9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c1b3d5f7e9a1c3b5d7f9e1a3c5b7d9f1e',
  hash: '3b5d7f9e1a3c5b7d9f1e3a5c7b9d1f3e5a7c9b1d3f5e7a9c1b3d5f7e9a1c3b5d',
};

export const auditPageExample: Out<typeof AuditPageSchema> = { items: [auditEntryExample], nextCursor: 'eyJpZCI6NDJ9' };

export const chainHoldsExample: Out<typeof ChainVerificationSchema> = {
  ok: true,
  checked: 1284,
  firstBroken: null,
  lastHash: auditEntryExample.hash,
};

export const chainBrokenExample: Out<typeof ChainVerificationSchema> = {
  ok: false,
  checked: 41,
  firstBroken: {
    id: 42,
    reason: 'hash-mismatch',
    expected: auditEntryExample.hash,
    found: '0c1e3a5b7d9f1e3a5c7b9d1f3e5a7c9b1d3f5e7a9c1b3d5f7e9a1c3b5d7f9e1a',
  },
  lastHash: auditEntryExample.prevHash,
};

export const reviewDetailExample: Out<typeof ReviewDetailSchema> = {
  review: paymentReviewExample,
  intent: {
    ...paymentIntentExample,
    gateway: 'vietqr',
    status: 'needs_review',
    nextAction: null,
    gatewayTransactionId: vietqrCredit.transactionId,
    reviewReason: 'paid 100000 VND, 135000 VND asked',
    updatedAt: '2026-11-22T03:12:08.000Z',
  },
  dossier: {
    code: EXAMPLE_DOSSIER_CODE,
    procedureCode: '1.001612',
    procedureName: 'Cấp đổi giấy phép lái xe',
    agencyCode: '000.01.15.H19',
    agencyName: 'Phòng Cảnh sát giao thông - Công an tỉnh Đồng Nai',
    applicant: { name: 'Nguyễn Văn An', address: 'Phường Trấn Biên, tỉnh Đồng Nai' },
  },
  feeLines: [
    { obligationId: OBLIGATION_ID, lineNo: 1, kind: 'le_phi', name: 'Lệ phí cấp đổi giấy phép lái xe', amount: 135000, status: 'unpaid' },
  ],
  messages: [
    {
      id: EXAMPLE_INBOX_ID,
      gateway: 'vietqr',
      method: 'POST',
      url: '/v1/callbacks/vietqr',
      headers: { 'content-type': 'application/json', 'x-signature': '5c1f0a9e7d3b2c4a6e8f0b1d3c5e7a9b2d4f6e8a0c2b4d6f8e0a2c4b6d8f0e1a' },
      rawBody: JSON.stringify(vietqrCredit),
      signatureValid: 'valid',
      status: 'processed',
      result: 'amount_mismatch',
      reference: 'HPATW51CYHX4',
      receivedAt: '2026-11-22T03:12:08.000Z',
      processedAt: '2026-11-22T03:12:08.000Z',
    },
  ],
  events: [
    {
      id: 901,
      event: 'created',
      fromStatus: null,
      toStatus: 'created',
      accepted: true,
      source: 'portal',
      actor: 'portal:dvc-dong-nai',
      detail: { amount: 135000 },
      at: '2026-11-22T03:00:00.000Z',
      repeats: 1,
      lastRepeatedAt: null,
    },
    {
      id: 902,
      event: 'handed_over',
      fromStatus: 'created',
      toStatus: 'pending',
      accepted: true,
      source: 'portal',
      actor: 'portal:dvc-dong-nai',
      detail: null,
      at: '2026-11-22T03:00:00.000Z',
      repeats: 1,
      lastRepeatedAt: null,
    },
    {
      id: 903,
      event: 'amount_mismatch',
      fromStatus: 'pending',
      toStatus: 'needs_review',
      accepted: true,
      source: 'callback',
      actor: null,
      detail: { inboxId: EXAMPLE_INBOX_ID },
      at: '2026-11-22T03:12:08.000Z',
      repeats: 1,
      lastRepeatedAt: null,
    },
  ],
  refunds: [],
  history: [],
  allowedActions: ['accept', 'refund', 'reject'],
};
