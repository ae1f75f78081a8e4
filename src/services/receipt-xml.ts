import type { receipts } from '../db/schema/index.ts';

/**
 * A receipt as XML, laid out after the tax authority's e-invoice structure (Decree 254/2026,
 * Circular 91/2026): a data part `DLBLai` with the general data (`TTChung`: name, form and
 * series symbols, number, date, currency, look-up code) and the content (`NDBLai`: collecting
 * organisation with its tax code and address, the service provider issuing on its behalf, the
 * payer, each fee with its kind, the total in figures and words), then the signatures part
 * (`DSCKS`), whose `TCThu` holds the collector's (or its issuer's) enveloped ds:Signature over
 * `DLBLai`. Tag names follow the e-invoice's Vietnamese abbreviations; the tax authority has not
 * published a receipt schema we could check it against, so this is our layout, versioned by `PBan`.
 */
export const RECEIPT_DATA_ID = 'DLBLai';
const LAYOUT_VERSION = '1.0.0';

type ReceiptRow = typeof receipts.$inferSelect;

const escapeXml = (text: string) =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** `<tag>text</tag>`, or nothing when there is no text. */
const el = (tag: string, value: string | number | null | undefined) =>
  value === null || value === undefined || value === '' ? '' : `<${tag}>${escapeXml(String(value))}</${tag}>`;

/** LoaiPhiLePhi as the national platform codes it: 1 phí, 2 lệ phí. */
const KIND_CODE = { phi: '1', le_phi: '2' } as const;
const KIND_NAME = { phi: 'Phí', le_phi: 'Lệ phí' } as const;

/** The unsigned document; the signer adds ds:Signature into DSCKS/TCThu. */
/** TCBLai of a correction, as the e-invoice codes a related document's nature: 1 replacing, 2 adjusting. */
const CORRECTION_CODE = { replacing: '1', adjusting: '2' } as const;
const TITLES = { original: 'Biên lai thu phí, lệ phí', adjusting: 'Biên lai điều chỉnh', replacing: 'Biên lai thay thế' } as const;

export function receiptXml(r: ReceiptRow, reference: string, publicBaseUrl: string, original: ReceiptRow | null): string {
  const issuer = r.issuer
    ? `<TCCCDV>${el('Ten', r.issuer.name)}${el('MST', r.issuer.taxCode)}${el('DChi', r.issuer.address)}${el('SVBUQuyen', r.issuer.delegation)}</TCCCDV>`
    : '';
  // A correction names the receipt it corrects, and why.
  const related =
    r.kind !== 'original' && original
      ? `<TTBLaiLQuan>${el('TCBLai', CORRECTION_CODE[r.kind])}${el('KHMSBLai', original.formSymbol)}${el('KHBLai', original.seriesSymbol)}` +
        `${el('SBLai', String(original.number).padStart(7, '0'))}${el('NLap', original.issuedDate)}${el('IDBLai', original.id)}${el('LDo', r.reason)}</TTBLaiLQuan>`
      : '';
  const lines = r.lines
    .map(
      (line, i) =>
        `<KNop>${el('STT', i + 1)}${el('LKNop', KIND_CODE[line.kind])}${el('TLKNop', KIND_NAME[line.kind])}${el('MKNop', line.feeCode)}${el('TKNop', line.name)}${el('STien', line.amount)}</KNop>`,
    )
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<BLai><DLBLai Id="${RECEIPT_DATA_ID}">` +
    `<TTChung>${el('PBan', LAYOUT_VERSION)}${el('TBLai', TITLES[r.kind])}${el('KHMSBLai', r.formSymbol)}${el('KHBLai', r.seriesSymbol)}` +
    `${el('SBLai', String(r.number).padStart(7, '0'))}${el('NLap', r.issuedDate)}${el('TGLap', r.issuedAt.toISOString())}${el('DVTTe', 'VND')}` +
    `${el('HTTToan', r.gateway)}${el('MGDich', r.gatewayTransactionId)}${el('MTTToan', reference)}${el('MTCuu', r.lookupCode)}` +
    `${el('URLTCuu', `${publicBaseUrl}/receipts/lookup?code=${r.lookupCode}`)}${el('IDBLai', r.id)}${related}</TTChung>` +
    `<NDBLai><TCThu>${el('Ten', r.agencyName)}${el('MST', r.collectorTaxCode)}${el('DChi', r.collectorAddress)}${el('MDVi', r.agencyCode)}</TCThu>` +
    issuer +
    `<NNop>${el('Ten', r.payerName)}${el('DChi', r.payerAddress)}${el('MHSo', r.dossierCode)}</NNop>` +
    `<DSKNop>${lines}</DSKNop>` +
    `<TToan>${el('TgTien', r.total)}${el('TgTienBChu', r.totalInWords)}</TToan></NDBLai>` +
    '</DLBLai><DSCKS><TCThu/></DSCKS></BLai>'
  );
}
