import { addDays } from './dates.ts';
import { groupThousands } from './money.ts';

/**
 * How far a dossier's fee inputs may plausibly go (the `DOSSIER_MAX_*` settings). A careless
 * value beyond them (a declared value of 2^53 − 1 đ, a receipt dated 2099) is refused before
 * anything is written, never turned into a fee no gateway takes or a dossier with no fee lines.
 */
export interface DossierLimits {
  /** The largest declared value (VND) a fee is computed from. */
  maxDeclaredValue: number;
  /** The largest quantity (pages, units, meals…). */
  maxQuantity: number;
  /** The most copies asked for at once. */
  maxCopies: number;
  /** How many days after today (Asia/Ho_Chi_Minh) a receipt may be dated: 1 (tomorrow) allows for a portal's clock ahead of the hub's. */
  maxDaysAhead: number;
}

/**
 * 100 000 tỷ đồng: several times the largest single assets registered in Vietnam (a land-use
 * right auctioned for tens of thousands of tỷ), yet a hundredth of the exact integer range.
 * Quantities and copies: the schema's own bounds, lowered by configuration where wanted.
 */
export const DEFAULT_DOSSIER_LIMITS: DossierLimits = {
  maxDeclaredValue: 100_000_000_000_000,
  maxQuantity: 100_000,
  maxCopies: 1_000,
  maxDaysAhead: 1,
};

interface FeeInputs {
  declaredValue?: number | null;
  quantity?: number | null;
  copies?: number | null;
  /** The receipt date in Asia/Ho_Chi_Minh (yyyy-mm-dd). */
  receivedDate: string;
}

export interface ImplausibleInput {
  path: 'declaredValue' | 'quantity' | 'copies' | 'receivedAt';
  message: string;
  messageVi: string;
}

/**
 * The inputs beyond the limits, one issue per field. `today` is the hub's date in
 * Asia/Ho_Chi_Minh; `firstRuleDate` the date the catalogue's earliest fee rule takes effect (none
 * without rules): a receipt before it would get no fee lines at all.
 */
export function implausibleInputs(
  input: FeeInputs,
  limits: DossierLimits,
  today: string,
  firstRuleDate: string | null,
): ImplausibleInput[] {
  const issues: ImplausibleInput[] = [];
  const above = (path: 'declaredValue' | 'quantity' | 'copies', value: number | null | undefined, max: number, unit = '') => {
    if (value != null && value > max) {
      issues.push({
        path,
        message: `at most ${max}${unit} (the hub's plausibility limit)`,
        messageVi: `tối đa ${groupThousands(max)}${unit} (giới hạn hợp lý của hệ thống)`,
      });
    }
  };
  above('declaredValue', input.declaredValue, limits.maxDeclaredValue, ' VND');
  above('quantity', input.quantity, limits.maxQuantity);
  above('copies', input.copies, limits.maxCopies);
  const latest = addDays(today, limits.maxDaysAhead);
  if (input.receivedDate > latest) {
    issues.push({
      path: 'receivedAt',
      message: `received by ${latest} at the latest (today is ${today} in Vietnam)`,
      messageVi: `ngày tiếp nhận chậm nhất là ${latest} (hôm nay là ${today} theo giờ Việt Nam)`,
    });
  } else if (firstRuleDate !== null && input.receivedDate < firstRuleDate) {
    issues.push({
      path: 'receivedAt',
      message: `received on ${firstRuleDate} or later: the catalogue's fee rules start then`,
      messageVi: `ngày tiếp nhận từ ${firstRuleDate} trở đi: các quy tắc tính phí của danh mục bắt đầu từ ngày đó`,
    });
  }
  return issues;
}
