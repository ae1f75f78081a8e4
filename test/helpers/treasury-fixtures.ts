import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { CasePageModel, IntentsPageModel, QueuePageModel, RefundsPageModel, ReviewListItem } from '../../src/web/treasury/models.ts';

/**
 * View models of the treasury's desk as the services will fill them: an underpayment by VietQR,
 * an unmatched credit, a second VNPay payment, a fraud hold awaiting approval. Shared by the
 * renderers' unit tests and the screenshot test; `HOSTILE` is a gateway body trying to escape.
 */
const CSRF = html`<input type="hidden" name="_csrf" value="csrf-token-1">` as HtmlEscapedString;

export const HOSTILE = '{"content":"</pre><script>alert(1)</script>","amount":100000}';

const REVIEW_ID = '0c8f7a2e-5b1d-4c3e-9a6f-1d2e3f4a5b6c';
const INTENT_ID = '7a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9';

const reviews: ReviewListItem[] = [
  {
    id: REVIEW_ID,
    createdAt: '2026-11-20T02:15:00Z',
    kind: 'amount_mismatch',
    gateway: 'vietqr',
    amount: 100_000,
    intentReference: 'HP7K2M9Q',
    dossierCode: '000.00.10.H19-261120-0007',
    reason: 'Chuyển khoản 100.000 đ cho khoản phải nộp 135.000 đ',
    status: 'open',
    proposedAction: 'decide',
  },
  {
    id: '1d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a',
    createdAt: '2026-11-20T01:40:00Z',
    kind: 'unmatched_credit',
    gateway: 'vietqr',
    amount: 50_000,
    intentReference: null,
    dossierCode: null,
    reason: 'Nội dung chuyển khoản "NOP PHI HO SO NGUYEN VAN A" không chứa mã thanh toán nào',
    status: 'open',
    proposedAction: 'decide',
  },
  {
    id: '2e0f9a8b-7c6d-4e5f-9a3b-2c1d0e9f8a7b',
    createdAt: '2026-11-19T09:05:00Z',
    kind: 'second_payment',
    gateway: 'vnpay',
    amount: 1_250_000,
    intentReference: 'HQ3R8T1W',
    dossierCode: '000.00.12.H19-261119-0042',
    reason: 'Khoản phí đã được thanh toán bởi giao dịch khác',
    status: 'awaiting_approval',
    proposedAction: 'refund',
  },
  {
    id: '3f1a0b9c-8d7e-4f6a-8b4c-3d2e1f0a9b8c',
    createdAt: '2026-11-18T07:30:00Z',
    kind: 'suspected_fraud',
    gateway: 'vnpay',
    amount: null,
    intentReference: 'HZ5N6P2D',
    dossierCode: '000.00.10.H19-261118-0003',
    reason: 'VNPay giữ giao dịch nghi gian lận (mã 07)',
    status: 'resolved',
    proposedAction: 'decide',
  },
];

export function queueModel(overrides: Partial<QueuePageModel> = {}): QueuePageModel {
  return {
    csrf: CSRF,
    filters: { gateway: 'vietqr', from: '2026-11-01', minAmount: '10000' },
    summary: {
      byKind: { amount_mismatch: 4, unmatched_credit: 2, second_payment: 1, suspected_fraud: 1 },
      byStatus: { open: 6, awaiting_approval: 1, resolved: 17 },
      openAmount: 1_585_000,
    },
    reviews,
    nextCursor: 'eyJjcmVhdGVkQXQiOiIyMDI2LTExLTE4In0',
    ...overrides,
  };
}

const underpayment: CasePageModel = {
  csrf: CSRF,
  review: {
    id: REVIEW_ID,
    kind: 'amount_mismatch',
    status: 'open',
    gateway: 'vietqr',
    gatewayTransactionId: 'FT26324001234567',
    amount: 100_000,
    reason: 'Chuyển khoản 100.000 đ cho khoản phải nộp 135.000 đ',
    proposedAction: 'decide',
    createdAt: '2026-11-20T02:15:00Z',
    agencyCode: null,
  },
  intent: {
    id: INTENT_ID,
    reference: 'HP7K2M9Q',
    gateway: 'vietqr',
    amount: 135_000,
    status: 'needs_review',
    createdAt: '2026-11-20T02:01:00Z',
    paidAt: null,
  },
  dossier: {
    code: '000.00.10.H19-261120-0007',
    procedureCode: '1.001612',
    procedureName: 'Đăng ký thành lập hộ kinh doanh',
    agencyCode: '000.00.10.H19',
    agencyName: 'UBND thành phố Thủ Dầu Một',
    applicantName: 'Nguyễn Văn An',
  },
  feeLines: [
    { name: 'Lệ phí đăng ký hộ kinh doanh', feeCode: 'LP-HKD', amount: 100_000, status: 'unpaid' },
    { name: 'Phí cung cấp thông tin', feeCode: 'P-TT', amount: 35_000, status: 'unpaid' },
  ],
  messages: [
    {
      id: 'b1',
      receivedAt: '2026-11-20T02:14:58Z',
      method: 'POST',
      url: '/v1/callbacks/vietqr?source=bank-webhook&account=0123456789',
      signatureValid: 'valid',
      result: 'amount_mismatch',
      rawBody: HOSTILE,
    },
  ],
  intentEvents: [
    {
      at: '2026-11-20T02:14:59Z',
      event: 'amount_mismatch',
      fromStatus: 'pending',
      toStatus: 'needs_review',
      accepted: true,
      source: 'callback',
      actor: null,
      repeats: 1,
      lastRepeatedAt: null,
    },
    {
      at: '2026-11-20T02:01:00Z',
      event: 'created',
      fromStatus: null,
      toStatus: 'created',
      accepted: true,
      source: 'api',
      actor: 'portal:dvc',
      repeats: 1,
      lastRepeatedAt: null,
    },
    {
      at: '2026-11-20T02:01:01Z',
      event: 'handed_over',
      fromStatus: 'created',
      toStatus: 'pending',
      accepted: true,
      source: 'api',
      actor: null,
      repeats: 1,
      lastRepeatedAt: null,
    },
  ],
  history: [],
  decision: null,
  outcome: null,
  approvedBy: null,
  resolvedBy: null,
  resolvedAt: null,
  allowedActions: ['accept', 'refund', 'reject'],
  amountRequiredFor: ['accept'],
  suggestedAmount: 100_000,
  manualRefund: true,
  approvalThreshold: 5_000_000,
  idempotencyKey: 'desk-5f1c2d',
  canApprove: true,
};

export function caseModel(overrides: Partial<CasePageModel> = {}): CasePageModel {
  return { ...underpayment, ...overrides };
}

export function unmatchedCreditCase(): CasePageModel {
  return caseModel({
    review: {
      ...underpayment.review,
      id: '1d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a',
      kind: 'unmatched_credit',
      amount: 50_000,
      gatewayTransactionId: 'FT26324009876543',
      reason: 'Nội dung chuyển khoản "NOP PHI HO SO NGUYEN VAN A" không chứa mã thanh toán nào',
      agencyCode: '000.00.00.H19',
    },
    intent: null,
    dossier: null,
    feeLines: [],
    intentEvents: [],
    messages: [
      {
        id: 'b2',
        receivedAt: '2026-11-20T01:39:50Z',
        method: 'POST',
        url: '/v1/callbacks/vietqr',
        signatureValid: 'valid',
        result: 'unknown_reference',
        rawBody: JSON.stringify(
          {
            transactionId: 'FT26324009876543',
            amount: 50000,
            description: 'NOP PHI HO SO NGUYEN VAN A',
            accountNumber: '0123456789',
            transactionDate: '2026-11-20 08:39:41',
          },
          null,
          2,
        ),
      },
    ],
    allowedActions: ['assign', 'refund', 'reject'],
    amountRequiredFor: [],
    suggestedAmount: null,
  });
}

export function awaitingApprovalCase(canApprove: boolean): CasePageModel {
  return caseModel({
    review: { ...underpayment.review, status: 'awaiting_approval' },
    decision: {
      action: 'accept',
      note: 'Người nộp xác nhận chuyển thiếu; phần còn lại nộp tại quầy',
      amount: 100_000,
      decidedBy: 'treasury:ke-toan-01',
      decidedAt: '2026-11-20T03:00:00Z',
    },
    history: [
      { at: '2026-11-20T03:00:00Z', actor: 'treasury:ke-toan-01', action: 'review.decide', reason: 'Người nộp xác nhận chuyển thiếu' },
    ],
    canApprove,
  });
}

export function resolvedCase(): CasePageModel {
  return caseModel({
    review: { ...underpayment.review, status: 'resolved' },
    intent: { ...underpayment.intent!, status: 'succeeded', paidAt: '2026-11-20T03:10:00Z' },
    feeLines: underpayment.feeLines.map((l) => ({ ...l, status: 'paid' })),
    decision: {
      action: 'accept',
      note: 'Người nộp xác nhận chuyển thiếu; phần còn lại nộp tại quầy',
      amount: 100_000,
      decidedBy: 'treasury:ke-toan-01',
      decidedAt: '2026-11-20T03:00:00Z',
    },
    outcome: {
      result: 'paid',
      intentId: INTENT_ID,
      intentStatusBefore: 'needs_review',
      intentStatusAfter: 'succeeded',
      acceptedAmount: 100_000,
      difference: 35_000,
    },
    approvedBy: 'treasury:ke-toan-02',
    resolvedBy: 'treasury:ke-toan-02',
    resolvedAt: '2026-11-20T03:10:00Z',
    history: [
      { at: '2026-11-20T03:10:00Z', actor: 'treasury:ke-toan-02', action: 'review.approve', reason: null },
      { at: '2026-11-20T03:00:00Z', actor: 'treasury:ke-toan-01', action: 'review.decide', reason: 'Người nộp xác nhận chuyển thiếu' },
    ],
    notice: 'Quyết định đã được phê duyệt và thực hiện.',
  });
}

export function intentsModel(overrides: Partial<IntentsPageModel> = {}): IntentsPageModel {
  return {
    csrf: CSRF,
    filters: { status: 'needs_review', agency: '000.00.10.H19', createdFrom: '2026-11-01' },
    intents: [
      {
        id: INTENT_ID,
        reference: 'HP7K2M9Q',
        dossierCode: '000.00.10.H19-261120-0007',
        gateway: 'vietqr',
        amount: 135_000,
        receivedAmount: 100_000,
        status: 'needs_review',
        createdAt: '2026-11-20T02:01:00Z',
        paidAt: null,
      },
      {
        id: '8b2c3d4e-5f60-4172-8384-a5b6c7d8e9f0',
        reference: 'HQ3R8T1W',
        dossierCode: '000.00.12.H19-261119-0042',
        gateway: 'vnpay',
        amount: 1_250_000,
        receivedAmount: null,
        status: 'succeeded',
        createdAt: '2026-11-19T08:55:00Z',
        paidAt: '2026-11-19T08:57:12Z',
      },
    ],
    nextCursor: 'c2',
    ...overrides,
  };
}

export function refundsModel(overrides: Partial<RefundsPageModel> = {}): RefundsPageModel {
  return {
    csrf: CSRF,
    filters: { status: 'awaiting_approval' },
    refunds: [
      {
        id: '9c3d4e5f-6071-4283-9495-b6c7d8e9f0a1',
        createdAt: '2026-11-20T04:00:00Z',
        intentReference: 'HQ3R8T1W',
        gateway: 'vnpay',
        amount: 1_250_000,
        method: 'gateway',
        status: 'awaiting_approval',
        requestedBy: 'treasury:ke-toan-01',
        approvedBy: null,
        reason: 'Thanh toán lần hai cho cùng hồ sơ',
        canApprove: true,
      },
      {
        id: 'ad4e5f60-7182-4394-a5a6-c7d8e9f0a1b2',
        createdAt: '2026-11-20T04:30:00Z',
        intentReference: 'HP7K2M9Q',
        gateway: 'vietqr',
        amount: 100_000,
        method: 'manual',
        status: 'awaiting_approval',
        requestedBy: 'treasury:ke-toan-02',
        approvedBy: null,
        reason: 'Trả lại khoản chuyển thiếu theo đề nghị của người nộp',
        canApprove: false,
      },
      {
        id: 'be5f6071-8293-44a5-b6b7-d8e9f0a1b2c3',
        createdAt: '2026-11-18T10:00:00Z',
        intentReference: 'HZ5N6P2D',
        gateway: 'vnpay',
        amount: 250_000,
        method: 'gateway',
        status: 'succeeded',
        requestedBy: 'treasury:ke-toan-01',
        approvedBy: 'treasury:ke-toan-03',
        reason: 'Hồ sơ bị từ chối giải quyết',
        canApprove: false,
      },
    ],
    nextCursor: null,
    ...overrides,
  };
}
