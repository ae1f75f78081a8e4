import type { AgencyInput } from '../services/catalogue.ts';

/**
 * The demo agency tree, shaped like Đồng Nai after the 1 July 2025 reform: the province, its
 * departments (some with units under them), the communes and wards beside them, and two
 * pre-reform districts with their communes, closed on 30 June 2025 and merged into today's
 * units (Nghị quyết 1662/NQ-UBTVQH15; Đồng Nai absorbed Bình Phước).
 *
 * DEMO VALUES: only the province's code `000.00.00.H19` is real. Every other code, every
 * receipt symbol and every collection account below is invented for the demo; real codes come
 * from the official list of electronic identifiers (Decision 20/2020/QĐ-TTg) and real accounts
 * from each agency. Names of agencies, wards and communes are real; the mergers listed for the
 * closed units are a simplified reading of the 2025 merger plan.
 */

export const PROVINCE = '000.00.00.H19';

/** Codes the dossier simulation and the tests refer to by role. */
export const AGENCY = {
  province: PROVINCE,
  justice: '000.00.12.H19',
  police: '000.00.15.H19',
  trafficPolice: '000.01.15.H19',
  immigration: '000.02.15.H19',
  residencePolice: '000.03.15.H19',
  recordsPolice: '000.04.15.H19',
  construction: '000.00.18.H19',
  agricultureEnvironment: '000.00.20.H19',
  landRegistry: '000.01.20.H19',
  health: '000.00.22.H19',
  finance: '000.00.25.H19',
  tax: '000.00.27.H19',
  tranBien: '000.00.31.H19',
  bienHoa: '000.00.32.H19',
  tamHiep: '000.00.33.H19',
  longBinh: '000.00.34.H19',
  trangDai: '000.00.35.H19',
  phuocTan: '000.00.36.H19',
  longKhanh: '000.00.41.H19',
  binhLoc: '000.00.42.H19',
  longThanh: '000.00.45.H19',
  nhonTrach: '000.00.46.H19',
  daiPhuoc: '000.00.47.H19',
  dongXoai: '000.00.51.H19',
  binhPhuoc: '000.00.52.H19',
  oldBienHoaCity: '000.00.70.H19',
  oldQuangVinh: '000.01.70.H19',
  oldTrungDung: '000.02.70.H19',
  oldTanHanh: '000.03.70.H19',
  oldNhonTrachDistrict: '000.00.75.H19',
  oldPhuHuu: '000.01.75.H19',
  oldPhuocKhanh: '000.02.75.H19',
} as const;

/** The reform date: communes and wards of today exist from it, districts end the day before. */
const REFORM_DATE = '2025-07-01';
export const DISTRICTS_CLOSED = '2025-06-30';

interface SeedAgency {
  code: string;
  name: string;
  level: AgencyInput['level'];
  parentCode: string | null;
  validFrom?: string;
  validTo?: string;
  mergedInto?: string;
  /** Receives dossiers and collects fees: gets receipt symbols and a collection account. */
  collects?: { seriesPrefix: string; bankBin: string };
}

const VIETINBANK = '970415';
const BIDV = '970418';
const VIETCOMBANK = '970436';
const AGRIBANK = '970405';

const A = AGENCY;

const tree: SeedAgency[] = [
  { code: A.province, name: 'UBND tỉnh Đồng Nai', level: 'province', parentCode: null },

  // Provincial departments. Sở Nông nghiệp và Môi trường and Sở Tài chính in their current
  // form date from the 1 March 2025 merger of departments.
  {
    code: A.justice,
    name: 'Sở Tư pháp tỉnh Đồng Nai',
    level: 'department',
    parentCode: A.province,
    collects: { seriesPrefix: 'TP', bankBin: VIETINBANK },
  },
  { code: A.police, name: 'Công an tỉnh Đồng Nai', level: 'department', parentCode: A.province },
  // Police units handle driving licences, passports, ID cards and judicial records since the
  // 2025 transfers of these procedures to the police.
  {
    code: A.trafficPolice,
    name: 'Phòng Cảnh sát giao thông - Công an tỉnh Đồng Nai',
    level: 'unit',
    parentCode: A.police,
    collects: { seriesPrefix: 'GT', bankBin: BIDV },
  },
  {
    code: A.immigration,
    name: 'Phòng Quản lý xuất nhập cảnh - Công an tỉnh Đồng Nai',
    level: 'unit',
    parentCode: A.police,
    collects: { seriesPrefix: 'XC', bankBin: BIDV },
  },
  {
    code: A.residencePolice,
    name: 'Phòng Cảnh sát quản lý hành chính về trật tự xã hội - Công an tỉnh Đồng Nai',
    level: 'unit',
    parentCode: A.police,
    collects: { seriesPrefix: 'HC', bankBin: BIDV },
  },
  {
    code: A.recordsPolice,
    name: 'Phòng Hồ sơ nghiệp vụ - Công an tỉnh Đồng Nai',
    level: 'unit',
    parentCode: A.police,
    collects: { seriesPrefix: 'HS', bankBin: BIDV },
  },
  {
    code: A.construction,
    name: 'Sở Xây dựng tỉnh Đồng Nai',
    level: 'department',
    parentCode: A.province,
    collects: { seriesPrefix: 'XD', bankBin: VIETINBANK },
  },
  {
    code: A.agricultureEnvironment,
    name: 'Sở Nông nghiệp và Môi trường tỉnh Đồng Nai',
    level: 'department',
    parentCode: A.province,
    validFrom: '2025-03-01',
  },
  {
    code: A.landRegistry,
    name: 'Văn phòng Đăng ký đất đai tỉnh Đồng Nai',
    level: 'unit',
    parentCode: A.agricultureEnvironment,
    validFrom: '2025-03-01',
    collects: { seriesPrefix: 'DD', bankBin: AGRIBANK },
  },
  {
    code: A.health,
    name: 'Sở Y tế tỉnh Đồng Nai',
    level: 'department',
    parentCode: A.province,
    collects: { seriesPrefix: 'YT', bankBin: VIETCOMBANK },
  },
  {
    code: A.finance,
    name: 'Sở Tài chính tỉnh Đồng Nai',
    level: 'department',
    parentCode: A.province,
    validFrom: '2025-03-01',
    collects: { seriesPrefix: 'TC', bankBin: VIETCOMBANK },
  },
  // A central-government body in reality (the tax authority), listed here because lệ phí trước
  // bạ is declared to it; the hub's tree is the province's view of who collects.
  {
    code: A.tax,
    name: 'Thuế tỉnh Đồng Nai',
    level: 'department',
    parentCode: A.province,
    validFrom: '2025-07-01',
    collects: { seriesPrefix: 'TE', bankBin: AGRIBANK },
  },

  // Wards and communes of today (two-level local government since 1 July 2025).
  {
    code: A.tranBien,
    name: 'UBND phường Trấn Biên',
    level: 'commune',
    parentCode: A.province,
    validFrom: REFORM_DATE,
    collects: { seriesPrefix: 'TB', bankBin: VIETINBANK },
  },
  {
    code: A.bienHoa,
    name: 'UBND phường Biên Hòa',
    level: 'commune',
    parentCode: A.province,
    validFrom: REFORM_DATE,
    collects: { seriesPrefix: 'BH', bankBin: VIETINBANK },
  },
  {
    code: A.tamHiep,
    name: 'UBND phường Tam Hiệp',
    level: 'commune',
    parentCode: A.province,
    validFrom: REFORM_DATE,
    collects: { seriesPrefix: 'TH', bankBin: BIDV },
  },
  {
    code: A.longBinh,
    name: 'UBND phường Long Bình',
    level: 'commune',
    parentCode: A.province,
    validFrom: REFORM_DATE,
    collects: { seriesPrefix: 'LB', bankBin: BIDV },
  },
  {
    code: A.trangDai,
    name: 'UBND phường Trảng Dài',
    level: 'commune',
    parentCode: A.province,
    validFrom: REFORM_DATE,
    collects: { seriesPrefix: 'TD', bankBin: VIETCOMBANK },
  },
  {
    code: A.phuocTan,
    name: 'UBND phường Phước Tân',
    level: 'commune',
    parentCode: A.province,
    validFrom: REFORM_DATE,
    collects: { seriesPrefix: 'PT', bankBin: AGRIBANK },
  },
  {
    code: A.longKhanh,
    name: 'UBND phường Long Khánh',
    level: 'commune',
    parentCode: A.province,
    validFrom: REFORM_DATE,
    collects: { seriesPrefix: 'LK', bankBin: VIETCOMBANK },
  },
  {
    code: A.binhLoc,
    name: 'UBND phường Bình Lộc',
    level: 'commune',
    parentCode: A.province,
    validFrom: REFORM_DATE,
    collects: { seriesPrefix: 'BL', bankBin: AGRIBANK },
  },
  {
    code: A.longThanh,
    name: 'UBND xã Long Thành',
    level: 'commune',
    parentCode: A.province,
    validFrom: REFORM_DATE,
    collects: { seriesPrefix: 'LT', bankBin: AGRIBANK },
  },
  {
    code: A.nhonTrach,
    name: 'UBND xã Nhơn Trạch',
    level: 'commune',
    parentCode: A.province,
    validFrom: REFORM_DATE,
    collects: { seriesPrefix: 'NT', bankBin: AGRIBANK },
  },
  {
    code: A.daiPhuoc,
    name: 'UBND xã Đại Phước',
    level: 'commune',
    parentCode: A.province,
    validFrom: REFORM_DATE,
    collects: { seriesPrefix: 'DP', bankBin: AGRIBANK },
  },
  {
    code: A.dongXoai,
    name: 'UBND phường Đồng Xoài',
    level: 'commune',
    parentCode: A.province,
    validFrom: REFORM_DATE,
    collects: { seriesPrefix: 'DX', bankBin: BIDV },
  },
  {
    code: A.binhPhuoc,
    name: 'UBND phường Bình Phước',
    level: 'commune',
    parentCode: A.province,
    validFrom: REFORM_DATE,
    collects: { seriesPrefix: 'BP', bankBin: BIDV },
  },

  // Before the reform: districts with communes under them (depth 2). Old dossiers keep these
  // agencies, so they are closed with a date, never deleted.
  {
    code: A.oldBienHoaCity,
    name: 'UBND thành phố Biên Hòa (trước 01/07/2025)',
    level: 'district',
    parentCode: A.province,
    validTo: DISTRICTS_CLOSED,
  },
  {
    code: A.oldQuangVinh,
    name: 'UBND phường Quang Vinh (trước 01/07/2025)',
    level: 'commune',
    parentCode: A.oldBienHoaCity,
    validTo: DISTRICTS_CLOSED,
    mergedInto: A.tranBien,
  },
  {
    code: A.oldTrungDung,
    name: 'UBND phường Trung Dũng (trước 01/07/2025)',
    level: 'commune',
    parentCode: A.oldBienHoaCity,
    validTo: DISTRICTS_CLOSED,
    mergedInto: A.tranBien,
  },
  {
    code: A.oldTanHanh,
    name: 'UBND phường Tân Hạnh (trước 01/07/2025)',
    level: 'commune',
    parentCode: A.oldBienHoaCity,
    validTo: DISTRICTS_CLOSED,
    mergedInto: A.bienHoa,
  },
  {
    code: A.oldNhonTrachDistrict,
    name: 'UBND huyện Nhơn Trạch (trước 01/07/2025)',
    level: 'district',
    parentCode: A.province,
    validTo: DISTRICTS_CLOSED,
  },
  {
    code: A.oldPhuHuu,
    name: 'UBND xã Phú Hữu (trước 01/07/2025)',
    level: 'commune',
    parentCode: A.oldNhonTrachDistrict,
    validTo: DISTRICTS_CLOSED,
    mergedInto: A.daiPhuoc,
  },
  {
    code: A.oldPhuocKhanh,
    name: 'UBND xã Phước Khánh (trước 01/07/2025)',
    level: 'commune',
    parentCode: A.oldNhonTrachDistrict,
    validTo: DISTRICTS_CLOSED,
    mergedInto: A.daiPhuoc,
  },
];

/** Upper-case ASCII, the way banks print an account holder's name. */
function bankName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'D')
    .replace(/\(.*?\)/g, '')
    .replace(/\s+-\s+/g, ' ')
    .trim()
    .toUpperCase();
}

/**
 * The tree as `upsertAgency` inputs, parents before children. A collecting agency registers its
 * receipt symbols in the shape Circular 91/2026/TT-BTC reports: form `EBL01`, series = the
 * year's two digits, `T`, and its two letters (`26TTP`); the hub moves the year on by itself.
 * Addresses, tax codes and delegations are made up for the demo (the tax codes follow the
 * 10-digit shape with Đồng Nai's `36` prefix, but are no real organisation's).
 */
const DEMO_STREETS = ['Nguyễn Ái Quốc', 'Đồng Khởi', 'Phạm Văn Thuận', 'Võ Thị Sáu', 'Hà Huy Giáp', 'Trần Phú'];

export function demoAgencies(year: number): AgencyInput[] {
  const yy = String(year % 100).padStart(2, '0');
  return tree.map((a, i) => ({
    code: a.code,
    name: a.name,
    level: a.level,
    parentCode: a.parentCode,
    validFrom: a.validFrom ?? null,
    validTo: a.validTo ?? null,
    mergedInto: a.mergedInto ?? null,
    bankBin: a.collects?.bankBin ?? null,
    // Demo account numbers: a fixed prefix per bank and the agency's position, 12 digits.
    accountNumber: a.collects ? `${a.collects.bankBin.slice(3)}${String(100_000 + i * 137).padStart(9, '0')}`.slice(0, 12) : null,
    accountName: a.collects ? bankName(a.name) : null,
    receiptFormSymbol: a.collects ? 'EBL01' : null,
    receiptSeriesSymbol: a.collects ? `${yy}T${a.collects.seriesPrefix}` : null,
    address:
      a.collects || a.level === 'province'
        ? `Số ${1 + ((i * 37) % 250)} đường ${DEMO_STREETS[i % DEMO_STREETS.length]}, tỉnh Đồng Nai`
        : null,
    taxCode: a.collects ? `36${String(1_000_000 + i * 7919).padStart(8, '0')}`.slice(0, 10) : null,
    receiptDelegation: a.collects
      ? `Văn bản ủy quyền lập biên lai điện tử số ${String(i + 1).padStart(2, '0')}/UQ ngày 01/07/2026 (demo)`
      : null,
  }));
}

/** Today's communes and wards, where commune-level procedures are received. */
export const CURRENT_COMMUNES: readonly string[] = tree
  .filter((a) => a.level === 'commune' && a.validFrom === REFORM_DATE)
  .map((a) => a.code);

/** Display names without the "UBND" prefix, for applicants' addresses. */
export const COMMUNE_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  tree.filter((a) => a.level === 'commune').map((a) => [a.code, a.name.replace(/^UBND /, '').replace(/ \(trước.*\)$/, '')]),
);
