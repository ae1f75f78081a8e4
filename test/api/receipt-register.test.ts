import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vnDate } from '../../src/domain/dates.ts';
import { updateAgencySettings } from '../../src/services/catalogue.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken, TEST_OPERATOR } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { chooseOnCheckout } from '../helpers/sandbox.ts';

/**
 * The day's receipt register (GET /v1/reports/receipts): what an organisation sends the tax
 * authority the same day. Made of real payments, a refund's adjusting receipt and a replacement,
 * then read back as JSON, as CSV (csv-parse) and as XLSX (ExcelJS).
 */
let h: Harness;
let portal: string;
let treasury: string;
let procedure: string;
const today = vnDate(new Date());
const ADMIN = { subject: 'admin-test', role: 'admin' as const, agencies: [] };
const intents: Array<{ id: string; agency: string }> = [];

async function paidAtCheckout(agencyCode: string) {
  const dossier = await registerDossier(h, portal, procedure, { agencyCode });
  const intent = await json(await createIntent(h, portal, dossier.code));
  expect((await chooseOnCheckout(intent.nextAction.url, 'pay')).status).toBe(303);
  intents.push({ id: intent.id, agency: agencyCode });
  return intent;
}

const receiptOf = async (intentId: string) => json(await h.request('GET', `/v1/payment-intents/${intentId}/receipt`, { token: portal }));
const register = (query: string, token = treasury) => h.request('GET', `/v1/reports/receipts?${query}`, { token });

beforeAll(async () => {
  h = await createHarness();
  await h.listen();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-an' });
  procedure = await createProcedure(h.ctx, [
    rule({ kind: 'le_phi', feeCode: 'LP01', formula: { type: 'fixed', amount: 135_000 } }),
    rule({ kind: 'phi', feeCode: 'PH02', lineNo: 2, formula: { type: 'fixed', amount: 20_000 } }),
  ]);
  await updateAgencySettings(h.ctx, ADMIN, AGENCIES.communeA, { taxCode: '3600259460', receiptSeriesSymbol: '26TTB' });
  for (let i = 0; i < 3; i++) await paidAtCheckout(AGENCIES.communeA);
  await paidAtCheckout(AGENCIES.communeB);
  const refunded = await h.request('POST', `/v1/payment-intents/${intents[0]!.id}/refunds`, {
    token: treasury,
    body: { amount: 20_000, expectedRefundable: 155_000, reason: 'Hoàn một phần' },
    headers: { 'idempotency-key': idempotencyKey() },
  });
  expect((await expectJson(refunded, 201)).status).toBe('succeeded');
  const wrong = await receiptOf(intents[1]!.id);
  const replaced = await h.request('POST', `/v1/receipts/${wrong.id}/replacements`, {
    token: treasury,
    body: { payer: { name: 'Nguyễn Văn Ân' }, reason: 'Sai tên người nộp' },
  });
  expect(replaced.status).toBe(201);
});
afterAll(() => h.close());

describe(`the receipt register on ${databaseLabel}`, () => {
  it("lists the day's originals and corrections in series order, with what the tax authority is sent", async () => {
    const body = await expectJson(await register(`date=${today}`), 200);
    expect(
      body.rows.map((r: { collectorCode: string; seriesSymbol: string; number: number; kind: string }) => [
        r.collectorCode,
        r.seriesSymbol,
        r.number,
        r.kind,
      ]),
    ).toEqual([
      [AGENCIES.communeA, '26TTB', 1, 'original'],
      [AGENCIES.communeA, '26TTB', 2, 'original'],
      [AGENCIES.communeA, '26TTB', 3, 'original'],
      [AGENCIES.communeA, '26TTB', 4, 'adjusting'],
      [AGENCIES.communeA, '26TTB', 5, 'replacing'],
      [AGENCIES.communeB, `${today.slice(2, 4)}THP`, 1, 'original'],
    ]);
    const [first, , , adjusting, replacing] = body.rows;
    expect(first).toMatchObject({
      collectorTaxCode: '3600259460',
      formSymbol: 'EBL01',
      issuerName: TEST_OPERATOR.name,
      total: 155_000,
      lines: 2,
      signed: true,
    });
    expect(adjusting).toMatchObject({ total: -20_000, corrects: { seriesSymbol: '26TTB', number: 1, issuedDate: today } });
    expect(replacing).toMatchObject({ total: 155_000, payerName: 'Nguyễn Văn Ân', reason: 'Sai tên người nộp', corrects: { number: 2 } });
    // Net: four payments, less the refund; the replacement restates receipt 2's money.
    expect(body.totals).toEqual({ receipts: 6, originals: 4, adjusting: 1, replacing: 1, total: 4 * 155_000 - 20_000 });
  });

  it('as CSV: one row per receipt, the adjustment negative, no totals row (read back with csv-parse)', async () => {
    const response = await register(`date=${today}&format=csv`);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="bang-ke-bien-lai-${today}.csv"`);
    const rows: string[][] = parse(await response.text(), { bom: true });
    expect(rows[0]!.slice(0, 9)).toEqual([
      'Ngày lập',
      'Thời điểm lập',
      'Mã đơn vị thu',
      'Tổ chức thu',
      'Mã số thuế',
      'Mẫu số',
      'Ký hiệu',
      'Số',
      'Tính chất',
    ]);
    expect(rows).toHaveLength(7);
    const totalColumn = rows[0]!.indexOf('Số tiền (đồng)');
    expect(rows.slice(1).map((r) => Number(r[totalColumn]))).toEqual([155_000, 155_000, 155_000, -20_000, 155_000, 155_000]);
    expect(rows[4]![8]).toBe('điều chỉnh');
    expect(rows[4]![0]).toBe(today);
  });

  it('as XLSX: real dates, integer đồng with their format, the totals under the rows (read back with ExcelJS)', async () => {
    const response = await register(`date=${today}&format=xlsx&agency=${AGENCIES.communeA}`);
    expect(response.status).toBe(200);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await response.arrayBuffer());
    const sheet = book.getWorksheet('Bảng kê biên lai')!;
    expect(sheet.getCell('A1').value).toBe('Ngày lập');
    expect(sheet.getCell('A2').type).toBe(ExcelJS.ValueType.Date);
    expect((sheet.getCell('A2').value as Date).toISOString().slice(0, 10)).toBe(today);
    expect(sheet.getCell('R5').value).toBe(-20_000);
    expect(sheet.getCell('R5').numFmt).toBe('#,##0');
    const footer = sheet.getRow(sheet.rowCount);
    expect(footer.getCell(4).value).toBe('Tổng cộng: 5 biên lai');
    expect(footer.getCell(18).value).toBe(3 * 155_000 - 20_000);
  });

  it('keeps to the caller: another province sees nothing, an agency outside the scope is not found, bad input is refused', async () => {
    const other = await mintToken({ role: 'treasury', agencies: [AGENCIES.otherProvince] });
    expect((await expectJson(await register(`date=${today}`, other), 200)).rows).toEqual([]);
    await expectProblem(await register(`date=${today}&agency=${AGENCIES.communeA}`, other), 404, 'not-found');
    expect((await expectJson(await register(`date=${today}&agency=${AGENCIES.communeB}`), 200)).rows).toHaveLength(1);
    await expectProblem(await register('format=csv'), 400, 'validation-failed');
    await expectProblem(await register('date=2026-02-30'), 400, 'validation-failed');
    await expectProblem(await register(`date=${today}`, portal), 403);
    expect((await expectJson(await register('date=2020-01-01'), 200)).totals.receipts).toBe(0);
  });
});
