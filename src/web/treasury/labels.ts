import type { RefundStatus } from '../../db/schema/payments.ts';
import type { ReviewAction, ReviewOutcomeRecord, ReviewStatus } from '../../db/schema/reviews.ts';
import type { DiscrepancyResolution, MatchClass } from '../../db/schema/treasury-day.ts';
import type { DecisionAnswer, ReviewKind } from '../../domain/decide.ts';
import type { IntentEvent, IntentStatus } from '../../domain/payment-states.ts';
import type { GatewayId } from '../../gateways/types.ts';

/**
 * The Vietnamese words of the treasury's desk, one table per enum of the code. Each table is a
 * `Record` over the enum itself, so a value added to the enum fails to compile here until a
 * treasury officer can read its name.
 */

export const reviewKindLabels: Record<ReviewKind, string> = {
  amount_mismatch: 'Sai số tiền',
  suspected_fraud: 'Nghi gian lận (bị giữ)',
  late_payment: 'Thanh toán muộn',
  success_after_decline: 'Thành công sau khi bị từ chối',
  second_payment: 'Thanh toán lần hai',
  unmatched_credit: 'Tiền đến không rõ hồ sơ',
  unreadable_message: 'Thông báo không đọc được',
  refund_disputed: 'Tranh chấp hoàn tiền',
};

export const reviewStatusLabels: Record<ReviewStatus, string> = {
  open: 'Chờ xử lý',
  awaiting_approval: 'Chờ phê duyệt',
  resolved: 'Đã xử lý',
};

export const reviewActionLabels: Record<ReviewAction, string> = {
  accept: 'Chấp nhận',
  refund: 'Hoàn tiền',
  assign: 'Gán cho hồ sơ',
  reject: 'Từ chối',
};

/** One line under each choice of the decision form: what the choice does to the money. */
export const reviewActionExplanations: Record<ReviewAction, string> = {
  accept: 'Tiền đã đến và hợp lệ: ghi nhận giao dịch là đã thanh toán (thiếu tiền thì ghi rõ số tiền chấp nhận và lý do).',
  refund: 'Trả lại tiền cho người nộp: qua cổng thanh toán nếu cổng hỗ trợ, nếu không thì chuyển khoản và ghi số tham chiếu.',
  assign: 'Khoản tiền này thuộc về một giao dịch hoặc hồ sơ khác: nêu mã giao dịch hoặc mã hồ sơ để thanh toán cho nó.',
  reject: 'Không có tiền nào được nhận (ví dụ cổng đã hoàn lại khoản bị giữ): giao dịch thất bại, các khoản phí được nộp lại.',
};

/** What the hub proposes (payment_reviews.proposed_action). */
export const proposedActionLabels: Record<'refund' | 'decide', string> = {
  refund: 'Đề xuất hoàn tiền',
  decide: 'Cần quyết định',
};

export const intentStatusLabels: Record<IntentStatus, string> = {
  created: 'Mới tạo',
  pending: 'Đang chờ thanh toán',
  succeeded: 'Đã thanh toán',
  failed: 'Thất bại',
  expired: 'Hết hạn',
  cancelled: 'Đã hủy',
  partially_refunded: 'Đã hoàn một phần',
  refunded: 'Đã hoàn tiền',
  needs_review: 'Cần xem xét',
};

export const intentEventLabels: Record<IntentEvent | 'created', string> = {
  created: 'Tạo yêu cầu thanh toán',
  handed_over: 'Đã chuyển sang cổng thanh toán',
  handover_failed: 'Cổng từ chối yêu cầu',
  payment_succeeded: 'Thanh toán thành công',
  payment_declined: 'Thanh toán bị từ chối',
  amount_mismatch: 'Số tiền không khớp',
  suspected_fraud: 'Bị giữ do nghi gian lận',
  expired: 'Hết hạn',
  cancelled: 'Đã hủy',
  late_payment_succeeded: 'Thanh toán muộn được ghi nhận',
  late_payment_needs_review: 'Thanh toán muộn cần xem xét',
  refund_partial: 'Hoàn một phần',
  refund_full: 'Hoàn toàn bộ',
  review_resolved_succeeded: 'Kho bạc chấp nhận khoản thanh toán',
  review_resolved_failed: 'Kho bạc xác định không nhận được tiền',
  review_resolved_refunded: 'Kho bạc hoàn trả tiền',
  review_money_kept: 'Kho bạc giữ khoản tiền bên cạnh',
  review_money_refunded: 'Kho bạc hoàn khoản tiền bên cạnh',
  review_money_not_received: 'Kho bạc xác định khoản tiền bên cạnh không đến',
};

export const refundStatusLabels: Record<RefundStatus, string> = {
  awaiting_approval: 'Chờ phê duyệt',
  submitted: 'Đã gửi cổng',
  succeeded: 'Đã hoàn',
  failed: 'Thất bại',
  rejected: 'Bị từ chối duyệt',
};

export const refundMethodLabels: Record<'gateway' | 'manual', string> = {
  gateway: 'Qua cổng thanh toán',
  manual: 'Chuyển khoản thủ công',
};

export const gatewayLabels: Record<GatewayId, string> = {
  sandbox: 'Thử nghiệm (sandbox)',
  vnpay: 'VNPay',
  vietqr: 'VietQR (chuyển khoản)',
  dvcqg: 'Cổng DVC quốc gia',
};

export const outcomeResultLabels: Record<ReviewOutcomeRecord['result'], string> = {
  paid: 'Đã ghi nhận thanh toán',
  failed: 'Giao dịch thất bại (không nhận tiền)',
  refunded: 'Đã hoàn tiền',
  refund_submitted: 'Đã gửi yêu cầu hoàn tiền',
  assigned: 'Đã gán cho giao dịch khác',
  kept: 'Giữ lại, không thay đổi giao dịch',
  rejected: 'Đã từ chối',
};

export const signatureLabels: Record<'valid' | 'invalid' | 'unchecked', string> = {
  valid: 'Chữ ký hợp lệ',
  invalid: 'Chữ ký KHÔNG hợp lệ',
  unchecked: 'Chưa kiểm tra chữ ký',
};

/** What the hub made of a gateway message (callback_inbox.result): decide's answers and the inbox's own. */
export const messageResultLabels: Record<DecisionAnswer | 'unknown_reference' | 'malformed' | 'error', string> = {
  applied: 'Đã áp dụng',
  needs_review: 'Chuyển kho bạc xem xét',
  duplicate: 'Trùng, đã xử lý trước đó',
  amount_mismatch: 'Số tiền không khớp',
  already_final: 'Giao dịch đã kết thúc trước đó',
  unknown_reference: 'Không tìm thấy mã thanh toán',
  malformed: 'Không đọc được nội dung',
  error: 'Lỗi khi xử lý',
};

/** How a statement line and a hub payment compare (reconciliation_results.class). */
export const matchClassLabels: Record<MatchClass, string> = {
  matched: 'Khớp',
  missing_in_hub: 'Có trong sao kê, thiếu trong hệ thống',
  missing_in_statement: 'Có trong hệ thống, thiếu trong sao kê',
  amount_mismatch: 'Lệch số tiền',
  status_mismatch: 'Lệch trạng thái',
  duplicate: 'Trùng lặp',
};

export const discrepancyStatusLabels: Record<'open' | 'awaiting_approval' | 'resolved', string> = {
  open: 'Đang mở',
  awaiting_approval: 'Chờ phê duyệt',
  resolved: 'Đã xử lý',
};

export const resolutionLabels: Record<DiscrepancyResolution | 'auto', string> = {
  matched_manually: 'Khớp thủ công',
  refund: 'Hoàn tiền',
  write_off: 'Ghi nhận chênh lệch (xóa sổ)',
  bank_error: 'Lỗi của ngân hàng / cổng',
  auto: 'Tự động',
};

export const resolutionExplanations: Record<DiscrepancyResolution, string> = {
  matched_manually: 'Khoản này chính là một giao dịch hoặc một dòng sao kê khác: nêu mã giao dịch hoặc mã dòng.',
  refund: 'Trả lại tiền cho người nộp (qua cổng nếu cổng hỗ trợ, nếu không ghi nhận hoàn thủ công).',
  write_off: 'Chấp nhận chênh lệch và ghi sổ; cần ghi rõ lý do.',
  bank_error: 'Sai sót của ngân hàng hoặc cổng, đã hoặc sẽ được họ sửa; ghi số văn bản/ yêu cầu tra soát.',
};

export const dayStatusLabels: Record<'open' | 'closed', string> = { open: 'Đang mở', closed: 'Đã chốt' };

/** Who wrote a line of an intent's history (payment_events.source). */
export const eventSourceLabels: Record<string, string> = {
  callback: 'Thông báo của cổng',
  poller: 'Hỏi trạng thái cổng',
  expiry: 'Hết hạn tự động',
  portal: 'Cổng dịch vụ công',
  statement: 'Đối soát sao kê',
  manual: 'Cán bộ kho bạc',
  seed: 'Dữ liệu mẫu',
};

/** Audit actions (audit_log.action): the desk's own verbs; anything else is shown as written. */
const auditActionLabels: Record<string, string> = {
  'review.decide': 'Ra quyết định',
  'review.approve': 'Phê duyệt quyết định',
  'review.decline': 'Không phê duyệt quyết định',
  'refund.request': 'Yêu cầu hoàn tiền',
  'refund.approve': 'Phê duyệt hoàn tiền',
  'refund.reject': 'Từ chối hoàn tiền',
  'refund.resolve': 'Đóng yêu cầu hoàn tiền',
  'statement.import': 'Nạp sao kê',
  'statement.replace': 'Nạp sao kê thay thế',
  'reconciliation.run': 'Đối chiếu',
  'reconciliation.close': 'Chốt ngày',
  'adjustment.book': 'Ghi điều chỉnh cho ngày đã chốt',
  'discrepancy.resolve': 'Đề xuất / ghi cách xử lý chênh lệch',
  'discrepancy.approve': 'Phê duyệt cách xử lý chênh lệch',
  'discrepancy.decline': 'Không phê duyệt cách xử lý chênh lệch',
  'discrepancy.assign': 'Giao việc',
  'discrepancy.comment': 'Ghi ý kiến',
  'discrepancy.follow_review': 'Xử lý theo trường hợp liên quan',
  'offline_payment.record': 'Ghi nhận thu tại quầy',
};

/** A label from a table, or the code itself when the value comes from outside the enum (old rows, a new gateway). */
export function labelOf<K extends string>(table: Record<K, string>, value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  return Object.hasOwn(table, value) ? table[value as K] : value;
}

export const auditActionLabel = (action: string) => labelOf(auditActionLabels, action);
