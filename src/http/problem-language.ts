import type { ZodError } from 'zod';
import { en as englishLocale, vi as vietnameseLocale } from 'zod/locales';
import type { ErrorCode, FieldIssue } from '../services/errors.ts';

/**
 * Problems in the caller's language (`Accept-Language`, with q-values): English by default,
 * Vietnamese to a caller that asks for it. Codes, paths and members never change with the
 * language; titles, details and field messages do.
 */
export const problemLanguages = ['en', 'vi'] as const;
export type ProblemLanguage = (typeof problemLanguages)[number];

/** The title of each code in Vietnamese: a new code does not compile until it has one. */
export const titlesVi: Record<ErrorCode, string> = {
  'validation-failed': 'Yêu cầu không hợp lệ',
  'malformed-json': 'Thân yêu cầu không phải JSON hợp lệ',
  'idempotency-key-required': 'Thiếu Idempotency-Key',
  unauthenticated: 'Cần xác thực',
  forbidden: 'Vai trò của bạn không được phép',
  'approver-must-differ': 'Người phê duyệt phải là người khác',
  'not-found': 'Không tìm thấy',
  'method-not-allowed': 'Phương thức không được hỗ trợ',
  'not-acceptable': 'Không có định dạng phù hợp',
  'fee-inputs-locked': 'Thông tin tính phí đã bị khóa',
  'obligation-unavailable': 'Khoản thu không còn thanh toán được',
  'idempotency-key-reused': 'Idempotency-Key đã được dùng',
  'invalid-transition': 'Chuyển trạng thái không hợp lệ',
  'receipt-not-issued': 'Chưa có biên lai',
  conflict: 'Xung đột với trạng thái hiện tại',
  'refundable-changed': 'Số tiền có thể hoàn đã thay đổi',
  'not-refundable': 'Không thể hoàn tiền',
  'approval-not-pending': 'Không chờ phê duyệt',
  'refund-not-open': 'Yêu cầu hoàn tiền không còn mở',
  'review-not-open': 'Trường hợp cần xem xét đã được xử lý',
  'review-action-not-allowed': 'Quyết định không áp dụng được',
  'day-closed': 'Ngày đã chốt sổ',
  'day-not-clean': 'Ngày chưa thể chốt sổ',
  'discrepancy-not-open': 'Chênh lệch không còn mở',
  'unknown-source': 'Nguồn không xác định',
  'statement-unreadable': 'Không đọc được sao kê',
  'no-statement': 'Chưa có sao kê',
  'concurrent-update': 'Thay đổi đồng thời',
  'payload-too-large': 'Thân yêu cầu quá lớn',
  'unsupported-media-type': 'Kiểu nội dung không được hỗ trợ',
  'fee-input-missing': 'Thiếu thông tin tính phí',
  'fee-out-of-range': 'Phí vượt phạm vi',
  'unknown-procedure': 'Thủ tục không có trong danh mục',
  'unknown-agency': 'Đơn vị không xác định',
  'dossier-code-out-of-scope': 'Mã hồ sơ ngoài phạm vi',
  'no-fee-rules': 'Không có quy tắc tính phí',
  'nothing-to-pay': 'Không có gì để thanh toán',
  'gateway-not-available': 'Cổng thanh toán không khả dụng',
  'gateway-capability-missing': 'Cổng thanh toán không hỗ trợ thao tác này',
  'collection-account-missing': 'Thiếu tài khoản thu',
  'amount-above-gateway-limit': 'Số tiền vượt hạn mức của cổng thanh toán',
  'refund-too-large': 'Số tiền hoàn quá lớn',
  'gateway-error': 'Lỗi cổng thanh toán',
  'rate-limited': 'Quá nhiều yêu cầu',
  'service-unavailable': 'Dịch vụ tạm thời không khả dụng',
  'internal-error': 'Lỗi nội bộ',
};

/**
 * The detail of each code in Vietnamese. A service's English detail often names what it found
 * (amounts, codes, states): in Vietnamese the code's sentence stands alone, and the specifics
 * stay in the problem's members and `errors`, which are the same in both languages.
 */
export const detailsVi: Record<ErrorCode, string> = {
  'validation-failed': 'Yêu cầu không khớp với mô tả của thao tác: các trường sai nêu trong `errors`.',
  'malformed-json': 'Thân yêu cầu không đọc được dưới dạng JSON.',
  'idempotency-key-required': 'Hãy gửi tiêu đề Idempotency-Key với yêu cầu tạo mới này.',
  unauthenticated: 'Hãy gửi Authorization: Bearer <JWT> hợp lệ.',
  forbidden: 'Vai trò trong mã thông báo của bạn không được thực hiện thao tác này.',
  'approver-must-differ': 'Việc phê duyệt phải do một người khác với người đã đề nghị thực hiện.',
  'not-found': 'Không tìm thấy tài nguyên, hoặc tài nguyên nằm ngoài phạm vi đơn vị của bạn.',
  'method-not-allowed': 'Đường dẫn này không nhận phương thức HTTP đã gửi; các phương thức được nhận nêu trong tiêu đề Allow.',
  'not-acceptable': 'Không thể trả lời theo định dạng mà tiêu đề Accept yêu cầu.',
  'fee-inputs-locked':
    'Không thể thay đổi thông tin tính phí hoặc đơn vị khi đã có khoản thu được thanh toán hoặc đang được một yêu cầu thanh toán giữ.',
  'obligation-unavailable': 'Khoản thu đã được thanh toán hoặc đang được một yêu cầu thanh toán khác giữ.',
  'idempotency-key-reused': 'Idempotency-Key này đã được dùng cho một yêu cầu có nội dung khác.',
  'invalid-transition': 'Không thể thực hiện thao tác này ở trạng thái hiện tại.',
  'receipt-not-issued': 'Biên lai chỉ được lập khi thanh toán đã thành công.',
  conflict: 'Yêu cầu xung đột với trạng thái hiện tại của tài nguyên.',
  'refundable-changed': 'Số tiền còn có thể hoàn khác với số tiền bạn dự kiến; hãy đọc lại rồi gửi lại.',
  'not-refundable': 'Yêu cầu thanh toán này không có khoản nào để hoàn.',
  'approval-not-pending': 'Yêu cầu hoàn tiền này không ở trạng thái chờ phê duyệt.',
  'refund-not-open': 'Chỉ yêu cầu hoàn tiền đã gửi đi và chưa có kết quả mới được xử lý thủ công.',
  'review-not-open': 'Trường hợp cần xem xét này đã được quyết định.',
  'review-action-not-allowed': 'Quyết định này không áp dụng được cho loại trường hợp cần xem xét này.',
  'day-closed': 'Ngày làm việc này đã chốt sổ: không gì của ngày đó thay đổi được nữa.',
  'day-not-clean': 'Ngày làm việc còn chênh lệch hoặc trường hợp cần xem xét chưa xử lý.',
  'discrepancy-not-open': 'Chênh lệch này đã được xử lý.',
  'unknown-source': 'Nguồn phải là mã cổng thanh toán (vnpay, dvcqg, sandbox) hoặc bank:<số tài khoản> của một tài khoản thu.',
  'statement-unreadable': 'Tệp không phải sao kê CSV hoặc XLSX mà nguồn này đọc được.',
  'no-statement': 'Chưa nhập sao kê nào cho nguồn và ngày này.',
  'concurrent-update': 'Một thay đổi đồng thời trên cùng dữ liệu đã cản trở; hãy gửi lại yêu cầu.',
  'payload-too-large': 'Thân yêu cầu vượt quá kích thước cho phép.',
  'unsupported-media-type': 'Thao tác này không đọc kiểu nội dung đã gửi; kiểu được nhận nêu trong `errors`.',
  'fee-input-missing': 'Một quy tắc tính phí cần thông tin chưa được gửi (xem `errors`).',
  'fee-out-of-range': 'Phí tính ra vượt quá phạm vi số nguyên VND chính xác.',
  'unknown-procedure': 'Mã thủ tục không có trong danh mục thủ tục hành chính của hệ thống.',
  'unknown-agency': 'Đơn vị không có trong danh mục hoặc nằm ngoài phạm vi của bạn.',
  'dossier-code-out-of-scope': 'Mã hồ sơ phải bắt đầu bằng mã một đơn vị tiếp nhận thuộc phạm vi của bạn.',
  'no-fee-rules': 'Thủ tục không có quy tắc tính phí áp dụng.',
  'nothing-to-pay': 'Hồ sơ không còn khoản nào phải thanh toán.',
  'gateway-not-available': 'Cổng thanh toán đã chọn chưa được cấu hình trên hệ thống.',
  'gateway-capability-missing': 'Cổng thanh toán đã chọn không hỗ trợ thao tác này.',
  'collection-account-missing': 'Đơn vị (và các đơn vị cấp trên) chưa có tài khoản thu cho cổng thanh toán này.',
  'amount-above-gateway-limit':
    'Số tiền vượt hạn mức một giao dịch của cổng thanh toán đã chọn (xem `maxAmount`): hãy thanh toán ít khoản thu hơn mỗi lần, hoặc chọn cổng khác.',
  'refund-too-large': 'Số tiền hoàn vượt quá số tiền còn có thể hoàn.',
  'gateway-error': 'Cổng thanh toán không chấp nhận yêu cầu.',
  'rate-limited': 'Quá nhiều yêu cầu; hãy chờ số giây nêu trong tiêu đề Retry-After rồi thử lại.',
  'service-unavailable': 'Dịch vụ tạm thời không khả dụng; hãy thử lại sau ít phút.',
  'internal-error': 'Lỗi không mong đợi; hãy báo mã yêu cầu (requestId) cho bộ phận vận hành.',
};

/** A field message in both languages, made from the value refused where it helps. */
interface Hint {
  en(input?: unknown): string;
  vi(input?: unknown): string;
}

/** Percent, as a fraction without binary noise (72.5 → 0.725). */
const asFraction = (percent: number) => Number((percent / 100).toFixed(6));

/**
 * The hub's own field messages (schemas' hints, services' refusals): each says the form
 * expected, in English (the schema's message) and in Vietnamese.
 */
export const hints = {
  isoDate: { en: () => 'a date as yyyy-mm-dd, e.g. 2026-12-01', vi: () => 'ngày theo dạng yyyy-mm-dd, ví dụ 2026-12-01' },
  dateFrom1900: { en: () => 'a date from 1900 on', vi: () => 'ngày từ năm 1900 trở đi' },
  isoDateTime: {
    en: () => 'a time as yyyy-mm-ddThh:mm:ss with its offset, e.g. 2026-11-22T09:30:00+07:00',
    vi: () => 'thời điểm theo dạng yyyy-mm-ddThh:mm:ss kèm múi giờ, ví dụ 2026-11-22T09:30:00+07:00',
  },
  timeFrom1900: { en: () => 'a time between 1900 and 9999', vi: () => 'thời điểm từ năm 1900 đến năm 9999' },
  fraction: {
    en: (input) =>
      typeof input === 'number' && input > 1 && input <= 100
        ? `${input} is not a fraction: a target of ${input} % is ${asFraction(input)}`
        : 'a fraction from 0 to 1: a target of 70 % is 0.7',
    vi: (input) =>
      typeof input === 'number' && input > 1 && input <= 100
        ? `${input} không phải tỷ lệ từ 0 đến 1: mục tiêu ${input} % ghi là ${asFraction(input)}`
        : 'tỷ lệ từ 0 đến 1: mục tiêu 70 % ghi là 0.7',
  },
  fourDecimals: { en: () => 'at most 4 decimals', vi: () => 'tối đa 4 chữ số thập phân' },
  campaignEnd: { en: () => 'the campaign must end by 9999-12-31', vi: () => 'chiến dịch phải kết thúc trước ngày 9999-12-31' },
  expectedJson: { en: () => 'expected application/json', vi: () => 'cần application/json' },
  unknownAgency: { en: () => 'unknown agency', vi: () => 'đơn vị không có trong danh mục hoặc ngoài phạm vi của bạn' },
  unknownProcedure: { en: () => 'unknown procedure', vi: () => 'thủ tục không có trong danh mục' },
  required: { en: () => 'required', vi: () => 'bắt buộc' },
} satisfies Record<string, Hint>;

/** Vietnamese for the hub's static field messages, by their English text. */
const staticVi = new Map<string, string>(Object.values(hints).map((h: Hint) => [h.en(), h.vi()]));

/** The Vietnamese of one of the hub's field messages, if it is one (made from `input` for those that echo it). */
function hintVi(message: string, input?: unknown): string | undefined {
  const fixed = staticVi.get(message);
  if (fixed !== undefined) return fixed;
  for (const hint of Object.values(hints) as Hint[]) if (hint.en(input) === message) return hint.vi(input);
  return undefined;
}

/** What a field message is answered as in `language`. */
export function fieldMessageIn(language: ProblemLanguage, issue: FieldIssue): string {
  if (language === 'en') return issue.message;
  return issue.messageVi ?? hintVi(issue.message) ?? issue.message;
}

const english = englishLocale().localeError;
const vietnamese = vietnameseLocale().localeError;
type RawIssue = Parameters<typeof english>[0];

const unwrap = (message: ReturnType<typeof english>): string | undefined =>
  typeof message === 'string' ? message : (message?.message ?? undefined);

/** The value at `path` inside what was validated (undefined where it is absent). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * A zod issue's message in Vietnamese. zod's own messages are rendered again by its Vietnamese
 * locale (from the value refused: "received string" needs it); the hub's own hints have their
 * Vietnamese; any other message of a schema stays as written.
 */
function issueVi(issue: ZodError['issues'][number], input: unknown): string | undefined {
  const refused = valueAt(input, issue.path);
  const raw = { ...issue, input: refused } as unknown as RawIssue;
  if (unwrap(english(raw)) === issue.message) return unwrap(vietnamese(raw));
  return hintVi(issue.message, refused);
}

/**
 * The field issues of a failed validation, each with its Vietnamese; `input` is what was
 * validated (the messages that describe the value refused need it).
 */
export function zodFieldIssues(error: ZodError, prefix?: string, input?: unknown): FieldIssue[] {
  return error.issues.map((issue) => {
    const messageVi = issueVi(issue, input);
    return {
      path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)',
      message: issue.message,
      ...(messageVi !== undefined && messageVi !== issue.message ? { messageVi } : {}),
    };
  });
}
