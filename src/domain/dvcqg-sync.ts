import type { Channel } from './fees.ts';

/**
 * The fields of a dossier that the provincial dossier system synchronises to the national
 * portal (DVCQG) and that the 766 online-payment indicators are computed from
 * (domain/indicators-766.md). Vietnamese names, as the portal's sync spells them.
 */
export interface DvcqgSyncRecord {
  MaHoSo: string;
  MaTTHC: string;
  /** 1 in person, 2 online, 3 public postal service. */
  KenhThucHien: 1 | 2 | 3;
  /** Every fee line, zero-priced ones included: the portal leaves a dossier priced all zero out of c. */
  DanhSachLePhi: Array<{
    TenPhiLePhi: string;
    MaPhiLePhi: string;
    /** How the line is collected (codes configurable: not published). */
    HinhThucThu: number;
    /** Integer VND. */
    Gia: number;
    /** 1 phí (fee), 2 lệ phí (charge). */
    LoaiPhiLePhi: '1' | '2';
  }>;
  /** 0 not paid online, 1 through the national payment platform, 2 through the province's gateway. */
  DuocThanhToanTrucTuyen: 0 | 1 | 2;
}

const channelCodes: Record<Channel, 1 | 2 | 3> = { direct: 1, online: 2, postal: 3 };

export interface SyncDossier {
  code: string;
  procedureCode: string;
  channel: Channel;
  onlinePaymentFlag: number;
  lines: Array<{ name: string; feeCode: string; amount: number; kind: 'phi' | 'le_phi'; status: string }>;
}

/**
 * A line the hub saw paid (or paid and then refunded) was collected online, through a gateway;
 * any other line is collected the way the dossier was filed (at the counter, by post, or online).
 */
export function dvcqgSyncRecord(d: SyncDossier, collectionForms: Record<Channel, number>): DvcqgSyncRecord {
  return {
    MaHoSo: d.code,
    MaTTHC: d.procedureCode,
    KenhThucHien: channelCodes[d.channel],
    DanhSachLePhi: d.lines.map((l) => ({
      TenPhiLePhi: l.name,
      MaPhiLePhi: l.feeCode,
      HinhThucThu: l.status === 'paid' || l.status === 'refunded' ? collectionForms.online : collectionForms[d.channel],
      Gia: l.amount,
      LoaiPhiLePhi: l.kind === 'phi' ? '1' : '2',
    })),
    DuocThanhToanTrucTuyen: d.onlinePaymentFlag === 1 ? 1 : d.onlinePaymentFlag === 2 ? 2 : 0,
  };
}
