import type { AgencyLevel } from '../db/schema/agencies.ts';
import { defaultRounding, type FeeAdjustment, type FeeFormula, VNEID_LEVEL2 } from '../domain/fees.ts';
import type { FeeRuleInput, ProcedureInput } from '../services/catalogue.ts';
import { AGENCY } from './agencies.ts';

/**
 * The demo catalogue: the real procedures of domain/procedures.md with their fee rules in the
 * shapes of domain/fees.ts. Amounts are integer VND; percentages are decimal strings.
 *
 * How sure we are (`dataConfidence`): C → 'confirmed', S → 'secondary', M → 'unconfirmed'. A
 * procedure whose seed had to invent an amount (a provincial rate we have not seen, a demo
 * procedure code) is 'unconfirmed' too, and its `note` says which values are demo values.
 *
 * `validFrom` dates: the reduction windows are the ones the domain notes give (exact). The start
 * of a base rate is the effective date of its legal basis as far as we know it; where the notes
 * give none it is a plausible demo date, early enough to cover every dossier the demo makes.
 *
 * A rule the law replaced is closed (`validTo`, the day before its successor's `validFrom`), never
 * overwritten: a dossier is priced by the version in force on its receipt date, so an old
 * dossier recomputed keeps its old fee. The December 2026 changes (domain/procedures.md) are
 * such versions: the driving licence under TT 154/2025 from 01/01/2026, the passport under TT
 * 28/2026 from 01/04/2026, the enterprise registration fee halved from 01/07/2025 to 31/12/2026,
 * and every rule Circular 117/2026 changes from 15/08/2026.
 *
 * Fee codes (`feeCode`) are short demo codes, unique within a procedure; the seed recognises a
 * rule it already loaded by (procedure code, fee code, validFrom), and closes one it loaded open
 * that the catalogue now closes.
 *
 * `receivingLevels` / `receivingUnits` say who receives each procedure (766 indicator b): the
 * communes and wards for the commune-level ones, the provincial unit that handles it otherwise.
 *
 * `integratedOnlinePayment` is true for most fee-bearing procedures but deliberately not all
 * (2.000884 and 1.013225 are not integrated), so 766 indicator b is not trivially 100 %.
 */

export interface SeedProcedure {
  code: string;
  procedure: ProcedureInput;
  rules: FeeRuleInput[];
}

/** Payer categories the seeded adjustments read (DossierInput.payerCategory). */
export const PAYER_CATEGORIES = {
  student: 'student',
  merit: 'merit',
  child: 'child',
  elderly: 'elderly',
  disabled: 'disabled',
  poorHousehold: 'poor_household',
  /** Not a payer trait but the case the fee depends on (domain/procedures.md gives no other input). */
  lostOrDamaged: 'lost_or_damaged',
  lateRegistration: 'late_registration',
  /** A level-2 electronic identity (VNeID) account: Circular 117/2026/TT-BTC. */
  vneidLevel2: VNEID_LEVEL2,
} as const;

/**
 * Circular 117/2026/TT-BTC (domain/procedures.md, "Changes in force in December 2026"), in force
 * 15/08/2026 – 28/02/2027: a citizen with a level-2 VNeID account is exempt from residence, ID-card,
 * judicial-record, driving-licence and passport fees, and gets reductions of lệ phí trước bạ. The
 * rules it changes get a new version from its first day; the versions before end the day before
 * (closed, never overwritten: a dossier is priced by the rule in force on its receipt date).
 */
const TT117 = { from: '2026-08-15', to: '2027-02-28' } as const;
const BEFORE_TT117 = '2026-08-14';
const TT117_BASIS = 'Thông tư 117/2026/TT-BTC: miễn, giảm cho công dân có tài khoản định danh điện tử mức 2 từ 15/08/2026 đến 28/02/2027';

/**
 * TT 117/2026 caps its reduction of lệ phí trước bạ at 5 × the base salary. The base salary is
 * not in the domain notes: 2.340.000 đ (Decree 73/2024/NĐ-CP, from 01/07/2024) is used, a value
 * to check. It is data in each rule (`maxReduction`), which an admin changes by a catalogue import.
 */
const BASE_SALARY_DEFAULT = 2_340_000;
const VNEID_REDUCTION_CAP = 5 * BASE_SALARY_DEFAULT;
const VNEID_CAP_NOTE = '5 lần mức lương cơ sở (11.700.000 đ theo mức 2.340.000 đ, cần đối chiếu)';

/** TT 117/2026: the level-2 VNeID payer is exempt from this fee inside the window. */
function vneidExempt(what: string): FeeAdjustment {
  return {
    label: `Tài khoản VNeID mức 2: miễn ${what} (Thông tư 117/2026/TT-BTC)`,
    payerCategories: [P.vneidLevel2],
    from: TT117.from,
    to: TT117.to,
    effect: { type: 'exempt' },
  };
}

/** TT 117/2026: lệ phí trước bạ becomes `percent` % of the amount, reduced by at most 5 × the base salary. */
function vneidReduction(what: string, percent: string, vehicleRegistration?: 'later'): FeeAdjustment {
  return {
    label: `Tài khoản VNeID mức 2: giảm ${100 - Number(percent)}% ${what} (Thông tư 117/2026/TT-BTC)`,
    payerCategories: [P.vneidLevel2],
    ...(vehicleRegistration ? { vehicleRegistration } : {}),
    from: TT117.from,
    to: TT117.to,
    effect: { type: 'percent_of_base', percent, maxReduction: VNEID_REDUCTION_CAP },
  };
}

/** Motorbikes (Decree 10/2022 Art. 8, amended by Decree 175/2025): 5 % first registration in an urban area, 1 % from the second, 2 % otherwise. */
const MOTORBIKE_RATES: FeeFormula = {
  type: 'percentage',
  rate: '2',
  rateCases: [
    { vehicleRegistration: 'first', urbanArea: true, rate: '5' },
    { vehicleRegistration: 'later', rate: '1' },
  ],
};

/** Passenger cars of up to 9 seats: 10 % first registration, 2 % from the second. */
const CAR_RATES: FeeFormula = { type: 'percentage', rate: '10', rateCases: [{ vehicleRegistration: 'later', rate: '2' }] };

/** Commune-level procedures: received by every commune and ward. */
const COMMUNES = { receivingLevels: ['commune'] as AgencyLevel[], receivingUnits: [] as string[] };
/** Received by these units (and those under them) only. */
const receivedBy = (...units: string[]) => ({ receivingLevels: [] as AgencyLevel[], receivingUnits: units });

/** The state budget account lệ phí trước bạ goes to, whoever receives the dossier (demo text). */
const TREASURY = 'Kho bạc Nhà nước: tài khoản thu ngân sách nhà nước (demo)';

type RuleSpec = Pick<FeeRuleInput, 'kind' | 'feeCode' | 'name' | 'formula' | 'validFrom' | 'legalBasis'> & Partial<FeeRuleInput>;

function feeRule(spec: RuleSpec): FeeRuleInput {
  return {
    lineNo: 1,
    adjustments: [],
    rounding: defaultRounding,
    validTo: null,
    collectionAccount: null,
    setByProvince: false,
    ...spec,
  };
}

const P = PAYER_CATEGORIES;

type BudgetCodes = Required<
  Pick<FeeRuleInput, 'budgetChapter' | 'budgetSubItem' | 'budgetAccount' | 'retainedPercent' | 'budgetCodesDemo'>
>;

const real = (budgetChapter: string, budgetSubItem: string): BudgetCodes => ({
  budgetChapter,
  budgetSubItem,
  budgetAccount: '7111',
  retainedPercent: null,
  budgetCodesDemo: false,
});
/** Invented but plausible codes (a province's finance office keeps the real ones): marked as demo values. */
const demo = (budgetChapter: string, budgetSubItem: string, retainedPercent: string | null = null): BudgetCodes => ({
  budgetChapter,
  budgetSubItem,
  budgetAccount: '7111',
  retainedPercent,
  budgetCodesDemo: true,
});

/**
 * Budget classification per fee line, by `procedure code/fee code` (domain/fees-and-codes.md
 * "Budget classification"). Real where the domain notes give the codes: lệ phí trước bạ nhà đất
 * chapter 757, sub-item 2801, account 7111 (as seen in treasury payment documents), 2802 for cars
 * and motorcycles under the same chapter. The sub-items 2768 (căn cước) and 2771 (hộ tịch) are real
 * too, but their chapters are not given, so those rules are marked demo. The retained shares of
 * phí are demo values (each circular sets its own).
 */
const DEMO_BUDGET_CODES: Record<string, BudgetCodes> = {
  '1.001193/LPKS': demo('800', '2771'),
  '1.000894/LPKH': demo('800', '2771'),
  '1.000656/LPKT': demo('800', '2771'),
  '2.000815/PCTBS': demo('800', '2652', '50'),
  '2.000884/PCTCK': demo('800', '2652', '50'),
  '3.000333/PLLTP': demo('418', '2662', '40'),
  '3.000347/LPGPLX': demo('418', '2766'),
  '1.001456/LPHC': demo('418', '2764'),
  '2.001195/LPCC': demo('418', '2768'),
  '1.004222/LPTT': demo('418', '2769'),
  '1.004194/LPTMT': demo('418', '2769'),
  '1.001612/LPHKD': demo('800', '2851'),
  '2.001610/LPDKDN': demo('418', '2851'),
  '2.001610/PCBDN': demo('418', '2658', '12.5'),
  '1.013225/LPGPXD': demo('800', '2855'),
  '1.013831/LPGCN': demo('426', '2857'),
  '1.013831/PTDGCN': demo('426', '2663', '30'),
  '1.013831/LPTB': real('757', '2801'),
  '9.000001/LPTB': real('757', '2802'),
  '9.000002/LPTB': real('757', '2802'),
  '1.000377/LPBS': demo('418', '2767'),
  '1.013855/PTDATTP': demo('423', '2646', '70'),
};

const RAW_PROCEDURES: SeedProcedure[] = [
  // ── Hộ tịch (civil status): Luật Hộ tịch 2014, Điều 11 exempts on-time registrations.
  {
    code: '1.001193',
    procedure: {
      name: 'Đăng ký khai sinh',
      field: 'Hộ tịch',
      level: 'xã',
      ...COMMUNES,
      integratedOnlinePayment: false,
      dataConfidence: 'confirmed',
      note: 'Miễn lệ phí (Luật Hộ tịch 2014, Điều 11).',
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPKS',
        name: 'Lệ phí đăng ký khai sinh',
        formula: { type: 'exempt' },
        validFrom: '2016-01-01',
        legalBasis: 'Luật Hộ tịch 2014, Điều 11 khoản 1: miễn lệ phí đăng ký khai sinh đúng hạn',
      }),
    ],
  },
  {
    code: '1.000894',
    procedure: {
      name: 'Đăng ký kết hôn',
      field: 'Hộ tịch',
      level: 'xã',
      ...COMMUNES,
      integratedOnlinePayment: false,
      dataConfidence: 'confirmed',
      note: 'Miễn lệ phí (Luật Hộ tịch 2014, Điều 11).',
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPKH',
        name: 'Lệ phí đăng ký kết hôn',
        formula: { type: 'exempt' },
        validFrom: '2016-01-01',
        legalBasis: 'Luật Hộ tịch 2014, Điều 11 khoản 1: miễn lệ phí đăng ký kết hôn của công dân Việt Nam cư trú trong nước',
      }),
    ],
  },
  {
    // Free on time and for the exempt groups; a late registration pays the province's rate.
    // The base is "exempt" and the late case adds an amount, so a dossier that says nothing
    // about lateness is free, as most are.
    code: '1.000656',
    procedure: {
      name: 'Đăng ký khai tử',
      field: 'Hộ tịch',
      level: 'xã',
      ...COMMUNES,
      integratedOnlinePayment: true,
      dataConfidence: 'unconfirmed',
      note: 'Miễn lệ phí khi đăng ký đúng hạn và cho các đối tượng miễn. Mức 10.000 đ khi đăng ký quá hạn là giá trị demo (mức do HĐND tỉnh quy định, chưa xác minh).',
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPKT',
        name: 'Lệ phí đăng ký khai tử',
        formula: { type: 'exempt' },
        adjustments: [
          {
            label: 'Đăng ký quá hạn: 10.000 đ (mức demo của HĐND tỉnh)',
            payerCategories: [P.lateRegistration],
            effect: { type: 'amount', amount: 10_000 },
          },
        ],
        validFrom: '2020-01-01',
        legalBasis: 'Luật Hộ tịch 2014, Điều 11; Thông tư 85/2019/TT-BTC: mức thu do HĐND tỉnh quy định',
        setByProvince: true,
      }),
    ],
  },

  // ── Chứng thực (certification): Thông tư 226/2016/TT-BTC, in force from 01/01/2017.
  {
    code: '2.000815',
    procedure: {
      name: 'Chứng thực bản sao từ bản chính giấy tờ, văn bản',
      field: 'Chứng thực',
      level: 'xã',
      ...COMMUNES,
      integratedOnlinePayment: true,
      dataConfidence: 'confirmed',
      note: 'Chỉ nộp trực tiếp. Số lượng (quantity) là số trang của một bản sao, copies là số bản; bậc giá theo trang và mức tối đa 200.000 đ áp dụng cho mỗi bản.',
    },
    rules: [
      feeRule({
        kind: 'phi',
        feeCode: 'PCTBS',
        name: 'Phí chứng thực bản sao từ bản chính',
        formula: {
          type: 'per_unit',
          unit: 'trang',
          tiers: [
            { fromUnit: 1, unitAmount: 2_000 },
            { fromUnit: 3, unitAmount: 1_000 },
          ],
          cap: 200_000,
          perCopy: true,
        },
        validFrom: '2017-01-01',
        legalBasis: 'Thông tư 226/2016/TT-BTC, Điều 4: 2.000 đ/trang; từ trang thứ ba 1.000 đ/trang; tối đa 200.000 đ/bản',
      }),
    ],
  },
  {
    code: '2.000884',
    procedure: {
      name: 'Chứng thực chữ ký trong các giấy tờ, văn bản',
      field: 'Chứng thực',
      level: 'xã',
      ...COMMUNES,
      integratedOnlinePayment: false,
      dataConfidence: 'confirmed',
      note: 'Chỉ nộp trực tiếp; chưa tích hợp thanh toán trực tuyến (dữ liệu demo).',
    },
    rules: [
      feeRule({
        kind: 'phi',
        feeCode: 'PCTCK',
        name: 'Phí chứng thực chữ ký',
        formula: { type: 'fixed', amount: 10_000 },
        validFrom: '2017-01-01',
        legalBasis: 'Thông tư 226/2016/TT-BTC, Điều 4: 10.000 đ/trường hợp',
      }),
    ],
  },

  // ── Provincial police.
  {
    code: '3.000333',
    procedure: {
      name: 'Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam',
      field: 'Lý lịch tư pháp',
      level: 'tỉnh',
      ...receivedBy(AGENCY.recordsPolice),
      integratedOnlinePayment: true,
      dataConfidence: 'secondary',
      note: 'Mã thủ tục đã xác nhận; mức thu và đối tượng giảm, miễn theo nguồn thứ cấp. Từ 15/08/2026 (Thông tư 117/2026/TT-BTC) miễn phí cho công dân có tài khoản VNeID mức 2 đến 28/02/2027.',
    },
    rules: [
      feeRule({
        kind: 'phi',
        feeCode: 'PLLTP',
        name: 'Phí cung cấp thông tin lý lịch tư pháp',
        formula: { type: 'fixed', amount: 200_000 },
        adjustments: [
          {
            label: 'Học sinh, sinh viên, người có công: 100.000 đ',
            payerCategories: [P.student, P.merit],
            effect: { type: 'amount', amount: 100_000 },
          },
          {
            label: 'Trẻ em, người cao tuổi, người khuyết tật, hộ nghèo: miễn phí',
            payerCategories: [P.child, P.elderly, P.disabled, P.poorHousehold],
            effect: { type: 'exempt' },
          },
        ],
        validFrom: '2017-01-01',
        validTo: BEFORE_TT117,
        legalBasis: 'Thông tư 244/2016/TT-BTC (được thay thế bởi Thông tư 16/2025/TT-BTC)',
      }),
      feeRule({
        kind: 'phi',
        feeCode: 'PLLTP',
        name: 'Phí cung cấp thông tin lý lịch tư pháp',
        formula: { type: 'fixed', amount: 200_000 },
        adjustments: [
          vneidExempt('phí cung cấp thông tin lý lịch tư pháp'),
          {
            label: 'Học sinh, sinh viên, người có công: 100.000 đ',
            payerCategories: [P.student, P.merit],
            effect: { type: 'amount', amount: 100_000 },
          },
          {
            label: 'Trẻ em, người cao tuổi, người khuyết tật, hộ nghèo: miễn phí',
            payerCategories: [P.child, P.elderly, P.disabled, P.poorHousehold],
            effect: { type: 'exempt' },
          },
        ],
        validFrom: TT117.from,
        legalBasis: `Thông tư 16/2025/TT-BTC; ${TT117_BASIS}`,
      }),
    ],
  },
  {
    code: '3.000347',
    procedure: {
      name: 'Đổi giấy phép lái xe',
      field: 'Giấy phép lái xe',
      level: 'tỉnh',
      ...receivedBy(AGENCY.trafficPolice),
      integratedOnlinePayment: true,
      dataConfidence: 'confirmed',
      note:
        'Nộp tại Công an tỉnh. Giảm còn 115.000 đ khi nộp trực tuyến từ 01/12/2023 đến 31/12/2025; từ 01/01/2026 135.000 đ theo Thông tư 154/2025/TT-BTC. ' +
        'Miễn cho công dân có tài khoản VNeID mức 2 từ 15/08/2026 đến 28/02/2027 (Thông tư 117/2026/TT-BTC).',
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPGPLX',
        name: 'Lệ phí cấp đổi giấy phép lái xe',
        formula: { type: 'fixed', amount: 135_000 },
        adjustments: [
          {
            label: 'Nộp trực tuyến: 115.000 đ (Thông tư 63/2023/TT-BTC)',
            channels: ['online'],
            from: '2023-12-01',
            to: '2025-12-31',
            effect: { type: 'amount', amount: 115_000 },
          },
        ],
        validFrom: '2017-01-01',
        validTo: '2025-12-31',
        legalBasis:
          'Thông tư 37/2023/TT-BTC (135.000 đ/lần); Thông tư 63/2023/TT-BTC (nộp trực tuyến 115.000 đ từ 01/12/2023 đến 31/12/2025)',
      }),
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPGPLX',
        name: 'Lệ phí cấp đổi giấy phép lái xe',
        formula: { type: 'fixed', amount: 135_000 },
        adjustments: [vneidExempt('lệ phí cấp đổi, cấp lại giấy phép lái xe')],
        validFrom: '2026-01-01',
        legalBasis: `Thông tư 154/2025/TT-BTC: 135.000 đ/lần; ${TT117_BASIS}`,
      }),
    ],
  },
  {
    code: '1.001456',
    procedure: {
      name: 'Cấp hộ chiếu phổ thông (thực hiện tại cấp tỉnh)',
      field: 'Xuất nhập cảnh',
      level: 'tỉnh',
      ...receivedBy(AGENCY.immigration),
      integratedOnlinePayment: true,
      dataConfidence: 'confirmed',
      note:
        'Cấp lại do hỏng hoặc mất: 400.000 đ (payerCategory lost_or_damaged). Nộp trực tuyến 90% mức thu đến hết 31/12/2025. ' +
        'Từ 01/04/2026 theo Thông tư 28/2026/TT-BTC (thay Thông tư 25/2021/TT-BTC): mức 200.000 đ / 400.000 đ giữ nguyên từ Thông tư 25/2021, cần đối chiếu. ' +
        'Miễn cho công dân có tài khoản VNeID mức 2 từ 15/08/2026 đến 28/02/2027 (Thông tư 117/2026/TT-BTC).',
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPHC',
        name: 'Lệ phí cấp hộ chiếu phổ thông',
        formula: { type: 'fixed', amount: 200_000 },
        // First match wins, so the lost-or-damaged online case comes before both of its parts.
        adjustments: [
          {
            label: 'Cấp lại do hỏng, mất, nộp trực tuyến: 360.000 đ',
            payerCategories: [P.lostOrDamaged],
            channels: ['online'],
            from: '2023-12-01',
            to: '2025-12-31',
            effect: { type: 'amount', amount: 360_000 },
          },
          {
            label: 'Cấp lại do hỏng, mất: 400.000 đ',
            payerCategories: [P.lostOrDamaged],
            effect: { type: 'amount', amount: 400_000 },
          },
          {
            label: 'Nộp trực tuyến: 90% mức thu (Thông tư 63/2023/TT-BTC)',
            channels: ['online'],
            from: '2023-12-01',
            to: '2025-12-31',
            effect: { type: 'percent_of_base', percent: '90' },
          },
        ],
        validFrom: '2021-07-01',
        validTo: '2026-03-31',
        legalBasis: 'Thông tư 25/2021/TT-BTC; Thông tư 63/2023/TT-BTC (nộp trực tuyến 90% đến 31/12/2025)',
      }),
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPHC',
        name: 'Lệ phí cấp hộ chiếu phổ thông',
        formula: { type: 'fixed', amount: 200_000 },
        adjustments: [
          vneidExempt('lệ phí cấp hộ chiếu trong nước'),
          {
            label: 'Cấp lại do hỏng, mất: 400.000 đ',
            payerCategories: [P.lostOrDamaged],
            effect: { type: 'amount', amount: 400_000 },
          },
        ],
        validFrom: '2026-04-01',
        legalBasis: `Thông tư 28/2026/TT-BTC (thay Thông tư 25/2021/TT-BTC; mức thu giữ nguyên, cần đối chiếu); ${TT117_BASIS}`,
      }),
    ],
  },
  {
    code: '2.001195',
    procedure: {
      name: 'Cấp đổi thẻ căn cước',
      field: 'Căn cước',
      level: 'tỉnh',
      ...receivedBy(AGENCY.residencePolice),
      integratedOnlinePayment: true,
      dataConfidence: 'confirmed',
      note:
        'Nộp trực tuyến 50% trong năm 2025; từ 01/07/2025 đến 31/12/2026 giảm 50% với mọi hình thức nộp. ' +
        'Miễn cho công dân có tài khoản VNeID mức 2 từ 15/08/2026 đến 28/02/2027 (Thông tư 117/2026/TT-BTC).',
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPCC',
        name: 'Lệ phí cấp đổi thẻ căn cước',
        formula: { type: 'fixed', amount: 50_000 },
        // The every-channel window comes first: where both apply (online, second half of 2025)
        // the amount is the same and the label names the reduction everyone gets.
        adjustments: [
          {
            label: 'Giảm 50% mọi hình thức nộp (Thông tư 64/2025/TT-BTC)',
            from: '2025-07-01',
            to: '2026-12-31',
            effect: { type: 'percent_of_base', percent: '50' },
          },
          {
            label: 'Nộp trực tuyến: 50% mức thu (năm 2025)',
            channels: ['online'],
            from: '2025-01-01',
            to: '2025-12-31',
            effect: { type: 'percent_of_base', percent: '50' },
          },
        ],
        validFrom: '2024-07-01',
        validTo: BEFORE_TT117,
        legalBasis: 'Thông tư 73/2024/TT-BTC (50.000 đ/thẻ); Thông tư 64/2025/TT-BTC (giảm 50% từ 01/07/2025 đến 31/12/2026)',
      }),
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPCC',
        name: 'Lệ phí cấp đổi thẻ căn cước',
        formula: { type: 'fixed', amount: 50_000 },
        // A payer's category is tried before the windows everyone gets (first match wins).
        adjustments: [
          vneidExempt('lệ phí cấp đổi, cấp lại thẻ căn cước'),
          {
            label: 'Giảm 50% mọi hình thức nộp (Thông tư 64/2025/TT-BTC)',
            from: '2025-07-01',
            to: '2026-12-31',
            effect: { type: 'percent_of_base', percent: '50' },
          },
        ],
        validFrom: TT117.from,
        legalBasis: `Thông tư 73/2024/TT-BTC (50.000 đ/thẻ); Thông tư 64/2025/TT-BTC (giảm 50% đến 31/12/2026); ${TT117_BASIS}`,
      }),
    ],
  },

  // ── Cư trú (residence): Thông tư 75/2022/TT-BTC, a lower amount online with no end date.
  {
    code: '1.004222',
    procedure: {
      name: 'Đăng ký thường trú',
      field: 'Cư trú',
      level: 'xã',
      ...COMMUNES,
      integratedOnlinePayment: true,
      dataConfidence: 'confirmed',
      note: 'Miễn cho công dân có tài khoản VNeID mức 2 từ 15/08/2026 đến 28/02/2027 (Thông tư 117/2026/TT-BTC).',
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPTT',
        name: 'Lệ phí đăng ký thường trú',
        formula: { type: 'fixed', amount: 20_000 },
        adjustments: [{ label: 'Nộp trực tuyến: 10.000 đ', channels: ['online'], effect: { type: 'amount', amount: 10_000 } }],
        validFrom: '2023-02-05',
        validTo: BEFORE_TT117,
        legalBasis: 'Thông tư 75/2022/TT-BTC: 20.000 đ; nộp trực tuyến 10.000 đ',
      }),
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPTT',
        name: 'Lệ phí đăng ký thường trú',
        formula: { type: 'fixed', amount: 20_000 },
        adjustments: [
          vneidExempt('lệ phí đăng ký cư trú'),
          { label: 'Nộp trực tuyến: 10.000 đ', channels: ['online'], effect: { type: 'amount', amount: 10_000 } },
        ],
        validFrom: TT117.from,
        legalBasis: `Thông tư 75/2022/TT-BTC: 20.000 đ; nộp trực tuyến 10.000 đ; ${TT117_BASIS}`,
      }),
    ],
  },
  {
    code: '1.004194',
    procedure: {
      name: 'Đăng ký tạm trú',
      field: 'Cư trú',
      level: 'xã',
      ...COMMUNES,
      integratedOnlinePayment: true,
      dataConfidence: 'confirmed',
      note:
        'Thông tư 75/2022/TT-BTC: 15.000 đ mỗi lần đăng ký (hộ gia đình, cá nhân), nộp trực tuyến 7.000 đ; 10.000 đ là mức theo người của đăng ký theo danh sách. ' +
        'Danh mục cũ thu 10.000 đ: quy định đó được đóng ngày 14/08/2026, không sửa đè; từ 15/08/2026 thu 15.000 đ và miễn cho công dân có tài khoản VNeID mức 2 đến 28/02/2027 (Thông tư 117/2026/TT-BTC).',
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPTMT',
        name: 'Lệ phí đăng ký tạm trú',
        formula: { type: 'fixed', amount: 10_000 },
        adjustments: [{ label: 'Nộp trực tuyến: 7.000 đ', channels: ['online'], effect: { type: 'amount', amount: 7_000 } }],
        validFrom: '2023-02-05',
        validTo: BEFORE_TT117,
        legalBasis: 'Thông tư 75/2022/TT-BTC: 10.000 đ; nộp trực tuyến 7.000 đ',
      }),
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPTMT',
        name: 'Lệ phí đăng ký tạm trú',
        formula: { type: 'fixed', amount: 15_000 },
        adjustments: [
          vneidExempt('lệ phí đăng ký cư trú'),
          { label: 'Nộp trực tuyến: 7.000 đ', channels: ['online'], effect: { type: 'amount', amount: 7_000 } },
        ],
        validFrom: TT117.from,
        legalBasis: `Thông tư 75/2022/TT-BTC: 15.000 đ/lần đăng ký (hộ gia đình, cá nhân); nộp trực tuyến 7.000 đ; ${TT117_BASIS}`,
      }),
    ],
  },

  // ── Business registration.
  {
    code: '1.001612',
    procedure: {
      name: 'Đăng ký thành lập hộ kinh doanh',
      field: 'Thành lập và hoạt động của hộ kinh doanh',
      level: 'xã',
      ...COMMUNES,
      integratedOnlinePayment: true,
      dataConfidence: 'secondary',
      note: 'Mức thu do HĐND tỉnh quy định; 50.000 đ là mức mẫu của cơ sở dữ liệu quốc gia, chưa đối chiếu nghị quyết của tỉnh Đồng Nai.',
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPHKD',
        name: 'Lệ phí đăng ký hộ kinh doanh',
        formula: { type: 'fixed', amount: 50_000 },
        validFrom: '2020-01-01',
        legalBasis: 'Thông tư 85/2019/TT-BTC: mức thu do HĐND tỉnh quy định',
        setByProvince: true,
      }),
    ],
  },
  {
    code: '2.001610',
    procedure: {
      name: 'Đăng ký thành lập doanh nghiệp tư nhân',
      field: 'Thành lập và hoạt động doanh nghiệp',
      level: 'tỉnh',
      ...receivedBy(AGENCY.finance),
      integratedOnlinePayment: true,
      dataConfidence: 'unconfirmed',
      note:
        'Lệ phí 50.000 đ và miễn khi đăng ký qua mạng: đã xác nhận. Giảm 50% (25.000 đ) đến hết 31/12/2026 theo Thông tư 64/2025/TT-BTC; ' +
        'ngày bắt đầu 01/07/2025 lấy theo đợt giảm của Thông tư 64/2025 (như lệ phí căn cước), cần đối chiếu. Phí công bố 100.000 đ: giá trị demo, chưa xác nhận.',
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPDKDN',
        name: 'Lệ phí đăng ký doanh nghiệp',
        formula: { type: 'fixed', amount: 50_000 },
        adjustments: [{ label: 'Đăng ký qua mạng điện tử: miễn lệ phí', channels: ['online'], effect: { type: 'exempt' } }],
        validFrom: '2019-09-20',
        validTo: '2025-06-30',
        legalBasis: 'Thông tư 47/2019/TT-BTC: 50.000 đ/lần; miễn khi đăng ký qua mạng điện tử',
      }),
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPDKDN',
        name: 'Lệ phí đăng ký doanh nghiệp',
        formula: { type: 'fixed', amount: 50_000 },
        adjustments: [
          { label: 'Đăng ký qua mạng điện tử: miễn lệ phí', channels: ['online'], effect: { type: 'exempt' } },
          {
            label: 'Giảm 50%: 25.000 đ đến 31/12/2026 (Thông tư 64/2025/TT-BTC)',
            from: '2025-07-01',
            to: '2026-12-31',
            effect: { type: 'percent_of_base', percent: '50' },
          },
        ],
        validFrom: '2025-07-01',
        legalBasis:
          'Thông tư 47/2019/TT-BTC: 50.000 đ/lần, miễn khi đăng ký qua mạng điện tử; Thông tư 64/2025/TT-BTC: giảm 50% đến 31/12/2026',
      }),
      feeRule({
        kind: 'phi',
        feeCode: 'PCBDN',
        name: 'Phí công bố nội dung đăng ký doanh nghiệp',
        lineNo: 2,
        formula: { type: 'fixed', amount: 100_000 },
        validFrom: '2019-09-20',
        legalBasis: 'Thông tư 47/2019/TT-BTC: 100.000 đ/lần (giá trị demo)',
      }),
    ],
  },

  // ── Construction and land: amounts set by the province (demo values).
  {
    code: '1.013225',
    procedure: {
      name: 'Cấp giấy phép xây dựng mới đối với công trình cấp III, cấp IV và nhà ở riêng lẻ',
      field: 'Hoạt động xây dựng',
      level: 'xã',
      ...COMMUNES,
      integratedOnlinePayment: false,
      dataConfidence: 'unconfirmed',
      note: 'Mức 75.000 đ (nhà ở riêng lẻ) là giá trị demo; mức thu do HĐND tỉnh quy định. Chưa tích hợp thanh toán trực tuyến (dữ liệu demo).',
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPGPXD',
        name: 'Lệ phí cấp giấy phép xây dựng',
        formula: { type: 'fixed', amount: 75_000 },
        validFrom: '2025-01-01',
        legalBasis: 'Nghị định 175/2024/NĐ-CP; Thông tư 85/2019/TT-BTC: mức thu do HĐND tỉnh quy định',
        setByProvince: true,
      }),
    ],
  },
  {
    code: '1.013831',
    procedure: {
      name: 'Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất (chuyển nhượng, thừa kế, tặng cho)',
      field: 'Đất đai',
      level: 'tỉnh',
      ...receivedBy(AGENCY.landRegistry),
      integratedOnlinePayment: true,
      dataConfidence: 'unconfirmed',
      note:
        'Lệ phí cấp giấy chứng nhận (50.000 đ) và phí thẩm định hồ sơ (500.000 đ) là giá trị demo; mức do HĐND tỉnh quy định. ' +
        'Lệ phí trước bạ 0,5% giá trị khai báo (declaredValue) theo Nghị định 10/2022/NĐ-CP; mức tối đa 500 triệu đồng/tài sản là giá trị cần đối chiếu. ' +
        `Từ 15/08/2026 đến 28/02/2027 công dân có tài khoản VNeID mức 2 được giảm 10% lệ phí trước bạ, mức giảm tối đa ${VNEID_CAP_NOTE}.`,
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPGCN',
        name: 'Lệ phí cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất',
        formula: { type: 'fixed', amount: 50_000 },
        validFrom: '2024-08-01',
        legalBasis: 'Luật Đất đai 2024; Thông tư 85/2019/TT-BTC: mức thu do HĐND tỉnh quy định (giá trị demo)',
        setByProvince: true,
      }),
      feeRule({
        kind: 'phi',
        feeCode: 'PTDGCN',
        name: 'Phí thẩm định hồ sơ cấp giấy chứng nhận quyền sử dụng đất',
        lineNo: 2,
        formula: { type: 'fixed', amount: 500_000 },
        validFrom: '2024-08-01',
        legalBasis: 'Luật Đất đai 2024; Thông tư 85/2019/TT-BTC: mức thu do HĐND tỉnh quy định (giá trị demo)',
        setByProvince: true,
      }),
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPTB',
        name: 'Lệ phí trước bạ nhà, đất',
        lineNo: 3,
        formula: { type: 'percentage', rate: '0.5', maximum: 500_000_000 },
        validFrom: '2022-03-01',
        validTo: BEFORE_TT117,
        legalBasis: 'Nghị định 10/2022/NĐ-CP, Điều 8: nhà, đất 0,5% giá tính lệ phí trước bạ',
        collectionAccount: TREASURY,
      }),
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPTB',
        name: 'Lệ phí trước bạ nhà, đất',
        lineNo: 3,
        formula: { type: 'percentage', rate: '0.5', maximum: 500_000_000 },
        adjustments: [vneidReduction('lệ phí trước bạ nhà, đất', '90')],
        validFrom: TT117.from,
        legalBasis: `Nghị định 10/2022/NĐ-CP, Điều 8: nhà, đất 0,5% giá tính lệ phí trước bạ; ${TT117_BASIS}`,
        collectionAccount: TREASURY,
      }),
    ],
  },

  // ── Lệ phí trước bạ (Decree 10/2022/NĐ-CP, Art. 8). The national database row has no code, and
  // the rate depends on the kind of asset, which no dossier input carries; so the row is split by
  // asset kind into demo procedures (codes 9.000001, 9.000002: NOT real procedure codes). The
  // house-and-land rate (0.5 %) is a fee line of 1.013831 above. Within an asset kind the rate
  // follows the dossier's `vehicleRegistration` (first or later) and, for a first registration of
  // a motorbike, `urbanArea`.
  {
    code: '9.000001',
    procedure: {
      name: 'Khai lệ phí trước bạ xe máy (mã thủ tục demo)',
      field: 'Lệ phí trước bạ',
      level: 'tỉnh',
      ...receivedBy(AGENCY.tax),
      integratedOnlinePayment: true,
      dataConfidence: 'unconfirmed',
      note:
        'Mã thủ tục 9.000001 là mã demo (cơ sở dữ liệu quốc gia không có mã riêng). Nghị định 10/2022/NĐ-CP Điều 8 (sửa đổi bởi Nghị định 175/2025/NĐ-CP): 2%; ' +
        '5% khi đăng ký lần đầu tại thành phố trực thuộc trung ương, thành phố, thị xã thuộc tỉnh (urbanArea); 1% từ lần thứ hai (vehicleRegistration: later). ' +
        `Từ 15/08/2026 đến 28/02/2027 công dân có tài khoản VNeID mức 2 được giảm 100% từ lần đăng ký thứ hai, mức giảm tối đa ${VNEID_CAP_NOTE}.`,
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPTB',
        name: 'Lệ phí trước bạ xe máy',
        formula: MOTORBIKE_RATES,
        validFrom: '2022-03-01',
        validTo: BEFORE_TT117,
        legalBasis: 'Nghị định 10/2022/NĐ-CP, Điều 8: xe máy 2%; lần đầu tại thành phố, thị xã 5%; từ lần thứ hai 1%',
        collectionAccount: TREASURY,
      }),
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPTB',
        name: 'Lệ phí trước bạ xe máy',
        formula: MOTORBIKE_RATES,
        adjustments: [vneidReduction('lệ phí trước bạ xe máy từ lần thứ hai', '0', 'later')],
        validFrom: TT117.from,
        legalBasis: `Nghị định 10/2022/NĐ-CP, Điều 8 (sửa đổi bởi Nghị định 175/2025/NĐ-CP): xe máy 2%; lần đầu tại thành phố, thị xã 5%; từ lần thứ hai 1%; ${TT117_BASIS}`,
        collectionAccount: TREASURY,
      }),
    ],
  },
  {
    code: '9.000002',
    procedure: {
      name: 'Khai lệ phí trước bạ ô tô chở người từ 9 chỗ trở xuống (mã thủ tục demo)',
      field: 'Lệ phí trước bạ',
      level: 'tỉnh',
      ...receivedBy(AGENCY.tax),
      integratedOnlinePayment: true,
      dataConfidence: 'unconfirmed',
      note:
        'Mã thủ tục 9.000002 là mã demo. Mức 10% lần đầu theo Nghị định 10/2022/NĐ-CP; tỉnh có thể tăng tối đa 50% (mức của Đồng Nai chưa xác minh); 2% từ lần thứ hai. ' +
        'Ô tô điện chạy pin 0% trong 3 năm từ 01/03/2022: không được mô hình hóa (cần loại tài sản). ' +
        `Từ 15/08/2026 đến 28/02/2027 công dân có tài khoản VNeID mức 2 được giảm 50% từ lần đăng ký thứ hai, mức giảm tối đa ${VNEID_CAP_NOTE}.`,
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPTB',
        name: 'Lệ phí trước bạ ô tô chở người từ 9 chỗ trở xuống',
        formula: CAR_RATES,
        validFrom: '2022-03-01',
        validTo: BEFORE_TT117,
        legalBasis: 'Nghị định 10/2022/NĐ-CP, Điều 8: ô tô chở người từ 9 chỗ trở xuống, lần đầu 10%; từ lần thứ hai 2%',
        collectionAccount: TREASURY,
      }),
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPTB',
        name: 'Lệ phí trước bạ ô tô chở người từ 9 chỗ trở xuống',
        formula: CAR_RATES,
        adjustments: [vneidReduction('lệ phí trước bạ ô tô từ lần thứ hai', '50', 'later')],
        validFrom: TT117.from,
        legalBasis: `Nghị định 10/2022/NĐ-CP, Điều 8: ô tô chở người từ 9 chỗ trở xuống, lần đầu 10%; từ lần thứ hai 2%; ${TT117_BASIS}`,
        collectionAccount: TREASURY,
      }),
    ],
  },

  // ── Vehicle registration and food safety: tables (demo amounts).
  {
    code: '1.000377',
    procedure: {
      name: 'Đăng ký, cấp biển số xe lần đầu',
      field: 'Đăng ký, quản lý phương tiện giao thông',
      level: 'tỉnh',
      ...receivedBy(AGENCY.trafficPolice),
      integratedOnlinePayment: true,
      dataConfidence: 'unconfirmed',
      note:
        'Lệ phí theo loại xe và khu vực (ô tô ≤ 9 chỗ khu vực I: 20.000.000 đ). Demo: xe mô tô tại khu vực II, ' +
        'bậc theo giá trị xe khai báo (declaredValue): giá trị demo, chưa xác nhận. Thông tư 155/2025/TT-BTC đã thay Thông tư 60/2023/TT-BTC; ' +
        'ngày hiệu lực không có trong tài liệu nghiệp vụ nên quy định chưa được tách (đăng ký lần đầu không thuộc diện miễn của Thông tư 117/2026/TT-BTC).',
    },
    rules: [
      feeRule({
        kind: 'le_phi',
        feeCode: 'LPBS',
        name: 'Lệ phí cấp chứng nhận đăng ký và biển số xe mô tô',
        formula: {
          type: 'table',
          input: 'declaredValue',
          rows: [{ below: 15_000_001, amount: 200_000 }, { below: 40_000_001, amount: 400_000 }, { amount: 800_000 }],
        },
        validFrom: '2023-10-22',
        legalBasis: 'Thông tư 60/2023/TT-BTC (bậc theo giá trị xe, khu vực II: giá trị demo)',
      }),
    ],
  },
  {
    code: '1.013855',
    procedure: {
      name: 'Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với cơ sở kinh doanh dịch vụ ăn uống',
      field: 'An toàn thực phẩm',
      level: 'tỉnh/xã',
      receivingLevels: ['commune'],
      receivingUnits: [AGENCY.health],
      integratedOnlinePayment: true,
      dataConfidence: 'unconfirmed',
      note:
        'Số lượng (quantity) là số suất ăn phục vụ. Mức thu 700.000 đ / 1.000.000 đ theo nguồn thứ cấp, dùng làm giá trị demo, chưa xác nhận. ' +
        'Cơ sở sản xuất (3.000.000 đ) thuộc thủ tục khác, không mô hình hóa ở đây.',
    },
    rules: [
      feeRule({
        kind: 'phi',
        feeCode: 'PTDATTP',
        name: 'Phí thẩm định cấp giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm',
        formula: {
          type: 'table',
          input: 'quantity',
          rows: [{ below: 200, amount: 700_000 }, { amount: 1_000_000 }],
        },
        validFrom: '2021-09-20',
        legalBasis: 'Thông tư 67/2021/TT-BTC: dưới 200 suất ăn 700.000 đ; từ 200 suất ăn 1.000.000 đ',
      }),
    ],
  },
];

/** The demo catalogue with each fee line's budget classification filled in. */
export const DEMO_PROCEDURES: SeedProcedure[] = RAW_PROCEDURES.map((p) => ({
  ...p,
  rules: p.rules.map((rule) => ({ ...rule, ...DEMO_BUDGET_CODES[`${p.code}/${rule.feeCode}`] })),
}));
