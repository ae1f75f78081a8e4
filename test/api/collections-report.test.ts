import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spread } from '../../src/services/collections-report.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { chooseOnCheckout } from '../helpers/sandbox.ts';

/**
 * The collections report: per agency, account, fee code, budget codes and channel, by business
 * day (Asia/Ho_Chi_Minh); refunds counted when completed; remit + retained = net on every row;
 * JSON, CSV (read back with csv-parse) and XLSX (read back with ExcelJS).
 */
let h: Harness;
let portal: string;
let treasury: string;
let communeBTreasury: string;
let admin: string;
let procedure: string;
let refundedIntentId: string;

const NOW = new Date('2026-11-25T03:00:00Z');
const LINES = { lePhi: 135_000, phi: 50_005 };
/** 50.005 đ × 30 % = 15.001,5 → 15.002 kept, 35.003 remitted. */
const PHI_SPLIT = { retained: 15_002, remit: 35_003 };

async function payAtCounter(code: string, lines: number[], collectedAt: string) {
  return expectJson(
    await h.request('POST', `/v1/dossiers/${code}/offline-payments`, {
      token: portal,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { lines, method: 'cash', collector: 'Nguyễn Thị Lan', collectedAt },
    }),
    201,
  );
}

/** Paid on the sandbox's checkout page at `at` (the harness clock, which the sandbox shares). */
async function payOnline(code: string, at: string) {
  h.clock.now = new Date(at);
  try {
    const intent = await expectJson(await createIntent(h, portal, code), 201);
    expect((await chooseOnCheckout(intent.nextAction.url, 'pay')).status).toBe(303);
    return intent;
  } finally {
    h.clock.now = NOW;
  }
}

beforeAll(async () => {
  h = await createHarness();
  h.clock.now = NOW;
  await h.listen();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-an' });
  communeBTreasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.communeB] });
  admin = await mintToken({ role: 'admin' });
  procedure = await createProcedure(h.ctx, [
    rule({
      feeCode: 'LPTB',
      name: 'Lệ phí trước bạ nhà, đất',
      lineNo: 1,
      formula: { type: 'fixed', amount: LINES.lePhi },
      collectionAccount: 'KBNN Đồng Nai',
      budgetChapter: '757',
      budgetSubItem: '2801',
      budgetAccount: '7111',
    }),
    rule({
      kind: 'phi',
      feeCode: 'PTD',
      name: 'Phí thẩm định',
      lineNo: 2,
      formula: { type: 'fixed', amount: LINES.phi },
      collectionAccount: 'KBNN Đồng Nai',
      budgetChapter: '426',
      budgetSubItem: '2663',
      budgetAccount: '7111',
      retainedPercent: '30',
      budgetCodesDemo: true,
    }),
  ]);
  // Day 20: at the counter late in the evening, and online in the morning; another commune online.
  await payAtCounter((await registerDossier(h, portal, procedure)).code, [1, 2], '2026-11-20T23:30:00+07:00');
  const online = await payOnline((await registerDossier(h, portal, procedure)).code, '2026-11-20T10:00:00+07:00');
  await payOnline((await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeB })).code, '2026-11-20T11:00:00+07:00');
  // Ten past midnight in Hà Nội is still the 20th in UTC: the 21st's business day.
  await payAtCounter((await registerDossier(h, portal, procedure)).code, [1], '2026-11-21T00:10:00+07:00');
  // The morning payment is refunded in full on the 25th (the sandbox's refund API answers at once).
  const refund = await expectJson(
    await h.request('POST', `/v1/payment-intents/${online.id}/refunds`, {
      token: treasury,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { amount: online.amount, expectedRefundable: online.amount, reason: 'Hồ sơ bị từ chối' },
    }),
    201,
  );
  expect(refund.status).toBe('succeeded');
  refundedIntentId = online.id;
});
afterAll(() => h.close());

const report = (query: string, token = treasury) => h.request('GET', `/v1/reports/collections?${query}`, { token });
type Row = Record<string, any>;
const find = (rows: Row[], agency: string, fee: string, channel: string) =>
  rows.find((r) => r.agencyCode === agency && r.feeCode === fee && r.channel === channel);

describe(`the collections report on ${databaseLabel}`, () => {
  it('counts a business day per agency, fee, budget codes and channel, with the budget share of each row', async () => {
    const day = await expectJson(await report('date=2026-11-20'), 200);
    expect(day).toMatchObject({ from: '2026-11-20', to: '2026-11-20', agency: null });
    expect(day.rows).toHaveLength(6);
    expect(find(day.rows, AGENCIES.communeA, 'LPTB', 'counter')).toMatchObject({
      kind: 'le_phi',
      collectionAccount: 'KBNN Đồng Nai',
      budgetChapter: '757',
      budgetSubItem: '2801',
      budgetAccount: '7111',
      retainedPercent: null,
      budgetCodesDemo: false,
      online: false,
      payments: 1,
      lines: 1,
      collected: LINES.lePhi,
      refunded: 0,
      net: LINES.lePhi,
      remit: LINES.lePhi,
      retained: 0,
    });
    expect(find(day.rows, AGENCIES.communeA, 'PTD', 'counter')).toMatchObject({
      kind: 'phi',
      retainedPercent: '30.00',
      budgetCodesDemo: true,
      collected: LINES.phi,
      ...PHI_SPLIT,
    });
    // The refund came later: the 20th still shows the payment, gross.
    expect(find(day.rows, AGENCIES.communeA, 'PTD', 'sandbox')).toMatchObject({
      online: true,
      collected: LINES.phi,
      refunded: 0,
      ...PHI_SPLIT,
    });
    expect(find(day.rows, AGENCIES.communeB, 'LPTB', 'sandbox')).toMatchObject({ collected: LINES.lePhi });
    for (const row of day.rows) expect(row.remit + row.retained).toBe(row.net);
    expect(day.totals).toEqual({
      payments: 6,
      lines: 6,
      collected: 3 * (LINES.lePhi + LINES.phi),
      refunds: 0,
      refunded: 0,
      net: 3 * (LINES.lePhi + LINES.phi),
      remit: 3 * (LINES.lePhi + PHI_SPLIT.remit),
      retained: 3 * PHI_SPLIT.retained,
    });

    const next = await expectJson(await report('date=2026-11-21'), 200);
    expect(next.rows.map((r: Row) => [r.agencyCode, r.feeCode, r.channel, r.collected])).toEqual([
      [AGENCIES.communeA, 'LPTB', 'counter', LINES.lePhi],
    ]);
  });

  it('counts a refund once, in the period it completed, on the rows of the money it returned', async () => {
    const refundDay = await expectJson(await report('date=2026-11-25'), 200);
    expect(refundDay.rows.map((r: Row) => [r.feeCode, r.channel, r.collected, r.refunds, r.refunded, r.net, r.remit, r.retained])).toEqual([
      ['LPTB', 'sandbox', 0, 1, LINES.lePhi, -LINES.lePhi, -LINES.lePhi, 0],
      ['PTD', 'sandbox', 0, 1, LINES.phi, -LINES.phi, -PHI_SPLIT.remit, -PHI_SPLIT.retained],
    ]);
    // Over the whole period the refunded payment nets to nothing; everything else is counted once.
    const all = await expectJson(await report('from=2026-11-01&to=2026-11-30'), 200);
    const online = all.rows.filter((r: Row) => r.agencyCode === AGENCIES.communeA && r.channel === 'sandbox');
    expect(online.map((r: Row) => [r.collected, r.refunded, r.net])).toEqual([
      [LINES.lePhi, LINES.lePhi, 0],
      [LINES.phi, LINES.phi, 0],
    ]);
    expect(all.totals.collected).toBe(3 * (LINES.lePhi + LINES.phi) + LINES.lePhi);
    expect(all.totals.net).toBe(2 * (LINES.lePhi + LINES.phi) + LINES.lePhi);
    for (const row of all.rows) expect(row.remit + row.retained).toBe(row.net);
    expect(refundedIntentId).toBeTruthy();
  });

  it("is scoped: a commune's treasury sees its own rows, an agency outside scope is unknown", async () => {
    const own = await expectJson(await report('date=2026-11-20', communeBTreasury), 200);
    expect(new Set(own.rows.map((r: Row) => r.agencyCode))).toEqual(new Set([AGENCIES.communeB]));
    const narrowed = await expectJson(await report(`date=2026-11-20&agency=${AGENCIES.communeA}`), 200);
    expect(narrowed.agency).toMatchObject({ code: AGENCIES.communeA });
    expect(new Set(narrowed.rows.map((r: Row) => r.agencyCode))).toEqual(new Set([AGENCIES.communeA]));
    await expectProblem(await report(`date=2026-11-20&agency=${AGENCIES.communeA}`, communeBTreasury), 404, 'not-found');
    await expectProblem(await report('date=2026-11-20', portal), 403, 'forbidden');
    expect((await expectJson(await report('date=2026-11-20', admin), 200)).rows).toHaveLength(6);
  });

  it('refuses a period that is not one', async () => {
    await expectProblem(await report(''), 400, 'validation-failed');
    await expectProblem(await report('from=2026-11-01'), 400, 'validation-failed');
    await expectProblem(await report('date=2026-11-20&from=2026-11-01&to=2026-11-30'), 400, 'validation-failed');
    await expectProblem(await report('from=2026-11-30&to=2026-11-01'), 400, 'validation-failed');
    await expectProblem(await report('from=2025-01-01&to=2026-11-30'), 400, 'validation-failed');
    await expectProblem(await report('date=2026-02-30'), 400, 'validation-failed');
    await expectProblem(await report('date=2026-11-20&format=pdf'), 400, 'validation-failed');
  });

  it('as CSV: UTF-8 with a byte-order mark, Vietnamese headers, ISO dates and plain integers that add up', async () => {
    const response = await report('from=2026-11-20&to=2026-11-25&format=csv');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="thu-ngan-sach-2026-11-20-2026-11-25.csv"');
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const records: string[][] = parse(new TextDecoder().decode(bytes.slice(3)));
    const [header, ...rows] = records;
    expect(header).toEqual([
      'Từ ngày',
      'Đến ngày',
      'Mã đơn vị',
      'Đơn vị',
      'Tài khoản thu',
      'Loại (phí/lệ phí)',
      'Mã khoản thu',
      'Tên khoản thu',
      'Mã chương',
      'Tiểu mục',
      'Tài khoản NSNN',
      'Tỷ lệ để lại',
      'Mã demo',
      'Kênh thu',
      'Số giao dịch',
      'Số khoản thu',
      'Số tiền thu (đồng)',
      'Số lần hoàn',
      'Số tiền hoàn (đồng)',
      'Thực thu (đồng)',
      'Nộp NSNN (đồng)',
      'Để lại đơn vị (đồng)',
    ]);
    const json = await expectJson(await report('from=2026-11-20&to=2026-11-25'), 200);
    expect(rows).toHaveLength(json.rows.length);
    for (const row of rows) {
      expect(row.slice(0, 2)).toEqual(['2026-11-20', '2026-11-25']);
      for (const cell of row.slice(14)) expect(cell).toMatch(/^-?\d+$/);
      const [net, remit, retained] = row.slice(19).map(Number);
      expect(remit! + retained!).toBe(net);
    }
    const phi = rows.find((r) => r[6] === 'PTD' && r[13] === 'counter')!;
    expect(phi.slice(8, 13)).toEqual(['426', '2663', '7111', '0.3', 'có']);
    expect(phi.slice(16)).toEqual([String(LINES.phi), '0', '0', String(LINES.phi), String(PHI_SPLIT.remit), String(PHI_SPLIT.retained)]);
  });

  it('as XLSX: real dates, numbers with their formats, Vietnamese headers, a frozen header row (read back with ExcelJS)', async () => {
    const response = await report(`from=2026-11-20&to=2026-11-25&format=xlsx&agency=${AGENCIES.communeA}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="thu-ngan-sach-2026-11-20-2026-11-25-${AGENCIES.communeA}.xlsx"`,
    );
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await response.arrayBuffer());
    const sheet = book.getWorksheet('Tổng hợp thu')!;
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.getCell('A1').value).toBe('Từ ngày');
    expect(sheet.getCell('Q1').value).toBe('Số tiền thu (đồng)');
    expect(sheet.getCell('A1').font?.bold).toBe(true);
    const json = await expectJson(await report(`from=2026-11-20&to=2026-11-25&agency=${AGENCIES.communeA}`), 200);
    // The rows, then the period's totals in bold.
    expect(sheet.rowCount - 2).toBe(json.rows.length);
    const footer = sheet.getRow(sheet.rowCount);
    expect(footer.font?.bold).toBe(true);
    expect(footer.getCell(4).value).toBe('Tổng cộng');
    expect([15, 16, 17, 18, 19, 20, 21, 22].map((col) => footer.getCell(col).value)).toEqual(
      (['payments', 'lines', 'collected', 'refunds', 'refunded', 'net', 'remit', 'retained'] as const).map((f) => json.totals[f]),
    );
    expect(json.totals.collected).toBe(json.rows.reduce((n: number, r: Row) => n + r.collected, 0));
    expect(footer.getCell(17).numFmt).toBe('#,##0');
    json.rows.forEach((expected: Row, i: number) => {
      const row = sheet.getRow(i + 2);
      const from = row.getCell(1);
      expect(from.type).toBe(ExcelJS.ValueType.Date);
      expect((from.value as Date).toISOString()).toBe('2026-11-20T00:00:00.000Z');
      expect(from.numFmt).toBe('dd/mm/yyyy');
      expect(row.getCell(3).value).toBe(expected.agencyCode);
      expect(row.getCell(7).value).toBe(expected.feeCode);
      expect(row.getCell(14).value).toBe(expected.channel);
      for (const [col, field] of [
        [17, 'collected'],
        [19, 'refunded'],
        [20, 'net'],
        [21, 'remit'],
        [22, 'retained'],
      ] as const) {
        const cell = row.getCell(col);
        expect(cell.type).toBe(ExcelJS.ValueType.Number);
        expect(cell.value).toBe(expected[field]);
        expect(cell.numFmt).toBe('#,##0');
      }
      expect((row.getCell(21).value as number) + (row.getCell(22).value as number)).toBe(row.getCell(20).value);
      if (expected.kind === 'phi') {
        expect(row.getCell(12).value).toBe(0.3);
        expect(row.getCell(12).numFmt).toBe('0.00%');
      } else expect(row.getCell(12).value).toBeNull();
    });
  });
});

describe(`without a spreadsheet writer (as on Workers) on ${databaseLabel}`, () => {
  let w: Harness;
  beforeAll(async () => {
    w = await createHarness({ spreadsheets: false });
    await seedAgencyTree(w.ctx);
  });
  afterAll(() => w.close());

  it('answers XLSX with 406 and a clear problem, and still serves CSV and JSON', async () => {
    const token = await mintToken({ role: 'treasury', agencies: [AGENCIES.province] });
    const refused = await expectProblem(
      await w.request('GET', '/v1/reports/collections?date=2026-11-20&format=xlsx', { token }),
      406,
      'not-acceptable',
    );
    expect(refused.detail).toContain('format=csv');
    const csv = await w.request('GET', '/v1/reports/collections?date=2026-11-20&format=csv', { token });
    expect(csv.status).toBe(200);
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await csv.arrayBuffer());
    expect(text.startsWith('\uFEFFTừ ngày,')).toBe(true);
    expect((await expectJson(await w.request('GET', '/v1/reports/collections?date=2026-11-20', { token }), 200)).rows).toEqual([]);
    // The campaign export follows the same rule.
    const campaign = await expectJson(
      await w.request('POST', '/v1/campaigns', {
        token: await mintToken({ role: 'admin' }),
        headers: { 'idempotency-key': idempotencyKey() },
        body: { name: 'Chiến dịch', agencyCode: AGENCIES.province, startDate: '2026-11-10', targets: { dossierOnlinePayment: 0.7 } },
      }),
      201,
    );
    const reader = await mintToken({ role: 'campaign', agencies: [AGENCIES.province] });
    await expectProblem(
      await w.request('GET', `/v1/campaigns/${campaign.id}/export?format=xlsx`, { token: reader }),
      406,
      'not-acceptable',
    );
    expect((await w.request('GET', `/v1/campaigns/${campaign.id}/export?format=csv`, { token: reader })).status).toBe(200);
  });
});

describe('spreading a refund over fee lines', () => {
  it('gives each line its proportional share in whole đồng, the remainder to the largest fractions, summing exactly', () => {
    expect(spread(185_005, [135_000, 50_005])).toEqual([135_000, 50_005]);
    expect(spread(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(spread(10, [3, 7])).toEqual([3, 7]);
    expect(spread(5, [1, 2])).toEqual([2, 3]);
    for (const [total, weights] of [
      [99_999, [33_333, 33_333, 33_334]],
      [1, [5, 5]],
      [0, [1, 2]],
      [7, [0, 0]],
    ] as const) {
      const parts = spread(total, [...weights]);
      expect(parts.reduce((n, p) => n + p, 0)).toBe(total);
    }
  });
});
