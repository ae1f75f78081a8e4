import { DOMParser } from '@xmldom/xmldom';
import { and, eq } from 'drizzle-orm';
import { compactVerify, createLocalJWKSet, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xpath from 'xpath';
import { auditLog, receipts, refunds } from '../../src/db/schema/index.ts';
import { amountInWords } from '../../src/domain/words.ts';
import { updateAgencySettings } from '../../src/services/catalogue.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken, TEST_OPERATOR } from '../helpers/harness.ts';
import { expectProblem } from '../helpers/problems.ts';
import { chooseOnCheckout, deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';
import { xmlSignatureValid } from '../helpers/xml-signature.ts';

/**
 * Receipts as the law in force since 1 July 2026 asks (Decree 254/2026/NĐ-CP, Circular
 * 91/2026/TT-BTC; domain/fees-and-codes.md): the symbols' shapes and yearly numbering, the
 * collecting organisation's address and tax code, the issuer when the hub issues on its behalf,
 * per-agency signing keys, the XML with its enveloped signature — verified here with xml-crypto,
 * a library the hub does not use — and the citizen's public look-up.
 */
let h: Harness;
let portal: string;
let admin: string;
let procedure: string;
let agencyKey: JWK;

const ADMIN = { subject: 'admin-test', role: 'admin' as const, agencies: [] };
const DEPARTMENT_ADDRESS = 'Số 2 đường Nguyễn Văn Trị, phường Trấn Biên, tỉnh Đồng Nai';

beforeAll(async () => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  agencyKey = await exportJWK(privateKey);
  // The department signs its own receipts; the communes' are issued by the hub on their behalf.
  h = await createHarness({ receiptAgencyKeys: { [AGENCIES.department]: agencyKey as JsonWebKey } });
  // Refunds go to the sandbox's refund API over real HTTP.
  await h.listen();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  admin = await mintToken({ role: 'admin', subject: 'admin-test' });
  procedure = await createProcedure(h.ctx, [
    rule({ kind: 'le_phi', feeCode: 'LP01', name: 'Lệ phí cấp bản sao', formula: { type: 'fixed', amount: 135_000 } }),
    rule({ kind: 'phi', feeCode: 'PH02', name: 'Phí thẩm định', lineNo: 2, formula: { type: 'fixed', amount: 20_000 } }),
  ]);
  await updateAgencySettings(h.ctx, ADMIN, AGENCIES.communeA, {
    address: '12 đường Võ Thị Sáu, phường Trấn Biên, tỉnh Đồng Nai',
    taxCode: '3600259460',
    receiptSeriesSymbol: '26TTB',
    receiptDelegation: 'Văn bản ủy quyền số 07/UQ-UBND ngày 01/07/2026',
  });
  await updateAgencySettings(h.ctx, ADMIN, AGENCIES.department, { address: DEPARTMENT_ADDRESS, taxCode: '3600123456-001' });
});
afterAll(() => h.close());

async function paid(agencyCode: string = AGENCIES.communeA) {
  const dossier = await registerDossier(h, portal, procedure, { agencyCode });
  const intent = await json(await createIntent(h, portal, dossier.code));
  expect((await deliverSandboxCallback(h, sandboxEvent(intent))).status).toBe(200);
  return intent;
}

const receiptOf = async (intentId: string, accept = 'application/json') =>
  h.request('GET', `/v1/payment-intents/${intentId}/receipt`, { token: portal, headers: { accept } });

const JSON_ONLY = { token: null, headers: { accept: 'application/json' } };
const lookup = (code: string, options: { token: null; headers?: Record<string, string> } = JSON_ONLY) =>
  h.request('GET', `/receipts/lookup${code}`, options);

const text = (xml: string, path: string) => {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  return String(xpath.select(`string(${path})`, doc as never));
};

async function jwks(): Promise<{ keys: JWK[] }> {
  return json(await h.request('GET', '/.well-known/jwks.json'));
}

describe(`legal e-receipts on ${databaseLabel}`, () => {
  it('prints the collector, its address and tax code, the hub as issuer with the delegation, the symbols and the look-up code', async () => {
    const intent = await paid();
    const receipt = await json(await receiptOf(intent.id));
    expect(receipt).toMatchObject({
      formSymbol: 'EBL01',
      seriesSymbol: '26TTB',
      number: 1,
      displayNumber: '0000001',
      collector: {
        code: AGENCIES.communeA,
        name: 'UBND phường Trấn Biên',
        address: '12 đường Võ Thị Sáu, phường Trấn Biên, tỉnh Đồng Nai',
        taxCode: '3600259460',
      },
      issuer: { ...TEST_OPERATOR, delegation: 'Văn bản ủy quyền số 07/UQ-UBND ngày 01/07/2026' },
      payer: { name: 'Nguyễn Văn An' },
      total: 155_000,
      totalInWords: 'Một trăm năm mươi lăm nghìn đồng',
      refunded: { status: 'none', amount: 0 },
      keyId: h.signer.hub.kid,
    });
    expect(receipt.lines).toEqual([
      expect.objectContaining({ kind: 'le_phi', feeCode: 'LP01', amount: 135_000 }),
      expect.objectContaining({ kind: 'phi', feeCode: 'PH02', amount: 20_000 }),
    ]);
    expect(receipt.lookupCode).toMatch(/^[0-9A-HJKMNP-TV-Z]{20}$/);
    expect(receipt.lookupUrl).toBe(`${h.ctx.settings.publicBaseUrl}/receipts/lookup?code=${receipt.lookupCode}`);
    // The JWS says exactly what the JSON shows.
    const { payload } = await compactVerify(receipt.signature, createLocalJWKSet(await jwks()));
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({
      collector: receipt.collector,
      issuer: receipt.issuer,
      lookupCode: receipt.lookupCode,
      formSymbol: 'EBL01',
      seriesSymbol: '26TTB',
      number: 1,
    });
  });

  it('an agency with its own key signs its receipts itself: no issuer, its key in the JWKS; the default series when it registered none', async () => {
    const intent = await paid(AGENCIES.department);
    const receipt = await json(await receiptOf(intent.id));
    const own = (await jwks()).keys.find((k) => k.x === agencyKey.x)!;
    expect(own).toBeDefined();
    expect(own.kid).not.toBe(h.signer.hub.kid);
    expect(receipt).toMatchObject({
      issuer: null,
      keyId: own.kid,
      formSymbol: 'EBL01',
      seriesSymbol: `${new Date().getFullYear() % 100}THP`,
      collector: { address: DEPARTMENT_ADDRESS, taxCode: '3600123456-001' },
    });
    const { protectedHeader } = await compactVerify(receipt.signature, createLocalJWKSet(await jwks()));
    expect(protectedHeader.kid).toBe(own.kid);
    expect(xmlSignatureValid(await (await receiptOf(intent.id, 'application/xml')).text(), own)).toBe(true);
  });

  it('gives the receipt as the XML structure with an enveloped signature that an independent library verifies, and that breaks when a byte changes', async () => {
    const intent = await paid();
    const response = await receiptOf(intent.id, 'application/xml');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/xml/);
    const xml = await response.text();
    const view = await json(await receiptOf(intent.id));
    expect(text(xml, '/BLai/DLBLai/TTChung/KHMSBLai')).toBe('EBL01');
    expect(text(xml, '/BLai/DLBLai/TTChung/KHBLai')).toBe('26TTB');
    expect(text(xml, '/BLai/DLBLai/TTChung/SBLai')).toBe(view.displayNumber);
    expect(text(xml, '/BLai/DLBLai/TTChung/MTCuu')).toBe(view.lookupCode);
    expect(text(xml, '/BLai/DLBLai/NDBLai/TCThu/MST')).toBe('3600259460');
    expect(text(xml, '/BLai/DLBLai/NDBLai/TCThu/DChi')).toBe(view.collector.address);
    expect(text(xml, '/BLai/DLBLai/NDBLai/TCCCDV/Ten')).toBe(TEST_OPERATOR.name);
    expect(text(xml, '/BLai/DLBLai/NDBLai/DSKNop/KNop[1]/LKNop')).toBe('2');
    expect(text(xml, '/BLai/DLBLai/NDBLai/DSKNop/KNop[2]/LKNop')).toBe('1');
    expect(text(xml, '/BLai/DLBLai/NDBLai/TToan/TgTien')).toBe('155000');
    expect(text(xml, '/BLai/DLBLai/NDBLai/TToan/TgTienBChu')).toBe(amountInWords(155_000));
    const hubKey = (await jwks()).keys.find((k) => k.kid === h.signer.hub.kid)!;
    expect(xmlSignatureValid(xml, hubKey)).toBe(true);
    expect(xmlSignatureValid(xml.replace('<TgTien>155000</TgTien>', '<TgTien>15500</TgTien>'), hubKey)).toBe(false);
    expect(xmlSignatureValid(xml.replace('3600259460', '3600259461'), hubKey)).toBe(false);
    // Another key does not verify it.
    expect(xmlSignatureValid(xml, (await jwks()).keys.find((k) => k.kid !== h.signer.hub.kid)!)).toBe(false);
    // The same document by the receipt's id, and the stored one is what both serve.
    const byId = await h.request('GET', `/v1/receipts/${view.id}`, { token: portal, headers: { accept: 'application/xml' } });
    expect(await byId.text()).toBe(xml);
    expect((await h.db.db.select().from(receipts).where(eq(receipts.id, view.id)))[0]!.xml).toBe(xml);
  });

  it('GET /v1/receipts/{id} answers JSON by default, the page to a browser, and not-found outside the scope', async () => {
    const intent = await paid();
    const view = await json(await receiptOf(intent.id));
    expect(await json(await h.request('GET', `/v1/receipts/${view.id}`, { token: portal }))).toEqual(view);
    const page = await h.request('GET', `/v1/receipts/${view.id}`, {
      token: portal,
      headers: { accept: 'text/html,application/xml;q=0.9,*/*;q=0.8' },
    });
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const other = await mintToken({ role: 'portal', agencies: [AGENCIES.otherProvince] });
    await expectProblem(await h.request('GET', `/v1/receipts/${view.id}`, { token: other }), 404, 'not-found');
    await expectProblem(await h.request('GET', `/v1/receipts/${crypto.randomUUID()}`, { token: portal }), 404, 'not-found');
  });

  it('the printable page shows the look-up code and its QR, not the raw signature', async () => {
    const intent = await paid();
    const view = await json(await receiptOf(intent.id));
    const html = await (await receiptOf(intent.id, 'text/html')).text();
    expect(html).toContain('<svg');
    expect(html).toContain(view.lookupCode.slice(0, 4));
    expect(html).toContain('3600259460');
    expect(html).toContain(TEST_OPERATOR.name);
    expect(html).not.toContain(view.signature);
  });
});

describe(`the public look-up on ${databaseLabel}`, () => {
  it('shows the receipt to anyone with its code, with the signature checked; the code may be typed in groups and any case', async () => {
    const intent = await paid();
    const view = await json(await receiptOf(intent.id));
    const typed = view.lookupCode.toLowerCase().replace(/(.{4})(?=.)/g, '$1-');
    const page = await h.request('GET', `/receipts/lookup?code=${encodeURIComponent(typed)}`, {
      token: null,
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('Chữ ký số hợp lệ');
    expect(html).toContain(view.seriesSymbol);
    const asJson = await json(await lookup(`?code=${view.lookupCode}`));
    expect(asJson).toMatchObject({ id: view.id, verified: true, refunded: { status: 'none' } });
  });

  it('says when the money was refunded, partly or fully', async () => {
    const intent = await paid();
    const view = await json(await receiptOf(intent.id));
    const refund = (amount: number) =>
      h.db.db.insert(refunds).values({
        id: crypto.randomUUID(),
        intentId: intent.id,
        amount,
        full: false,
        reason: 'test',
        status: 'succeeded',
        requestedBy: 'treasury:test',
        method: 'manual',
        createdAt: new Date(),
        updatedAt: new Date(),
      } as never);
    await refund(55_000);
    const partly = await json(await lookup(`?code=${view.lookupCode}`));
    expect(partly.refunded).toEqual({ status: 'partial', amount: 55_000 });
    expect(
      await (await h.request('GET', `/receipts/lookup?code=${view.lookupCode}`, { token: null, headers: { accept: 'text/html' } })).text(),
    ).toContain('Đã hoàn trả một phần');
    await refund(100_000);
    const fully = await json(await lookup(`?code=${view.lookupCode}`));
    expect(fully.refunded).toEqual({ status: 'full', amount: 155_000 });
  });

  it('an unknown code is not found and a malformed one is refused, as problem+json or as a page', async () => {
    await expectProblem(await lookup('?code=ZZZZZZZZZZZZZZZZZZZZ'), 404, 'not-found');
    await expectProblem(await lookup('?code=%3Cscript%3E'), 400, 'validation-failed');
    await expectProblem(await lookup(''), 400, 'validation-failed');
    const page = await h.request('GET', '/receipts/lookup?code=ZZZZZZZZZZZZZZZZZZZZ', { token: null, headers: { accept: 'text/html' } });
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('Không tìm thấy biên lai');
  });

  it('a receipt whose stored content no longer matches its signature is shown as not verified', async () => {
    const intent = await paid();
    const view = await json(await receiptOf(intent.id));
    // Only a person with the database could do this: the receipts table refuses it otherwise.
    await h.db.db.execute('ALTER TABLE receipts DISABLE TRIGGER receipts_never_edited' as never);
    try {
      await h.db.db.update(receipts).set({ total: 1 }).where(eq(receipts.id, view.id));
    } finally {
      await h.db.db.execute('ALTER TABLE receipts ENABLE TRIGGER receipts_never_edited' as never);
    }
    const found = await json(await lookup(`?code=${view.lookupCode}`));
    expect(found.verified).toBe(false);
  });
});

describe(`receipt numbering by series and year on ${databaseLabel}`, () => {
  it('restarts at 1 with the year: a series with its year moves to the new one, a series without keeps its symbol', async () => {
    await updateAgencySettings(h.ctx, ADMIN, AGENCIES.communeB, { receiptFormSymbol: 'EBL02', receiptSeriesSymbol: 'XB' });
    const payAt = async (iso: string, agencyCode: string) => {
      h.clock.now = new Date(iso);
      try {
        return await json(await receiptOf((await paid(agencyCode)).id));
      } finally {
        h.clock.now = null;
      }
    };
    // 23:30 on 31 December and 00:30 on 1 January, Vietnamese time.
    const lastOf2026 = [await payAt('2026-12-31T16:30:00Z', AGENCIES.communeA), await payAt('2026-12-31T16:31:00Z', AGENCIES.communeB)];
    const firstOf2027 = [await payAt('2026-12-31T17:30:00Z', AGENCIES.communeA), await payAt('2026-12-31T17:31:00Z', AGENCIES.communeB)];
    expect(lastOf2026.map((r) => [r.seriesSymbol, r.issuedDate])).toEqual([
      ['26TTB', '2026-12-31'],
      ['XB', '2026-12-31'],
    ]);
    expect(lastOf2026[0].number).toBeGreaterThan(1);
    expect(firstOf2027.map((r) => [r.formSymbol, r.seriesSymbol, r.number, r.issuedDate])).toEqual([
      ['EBL01', '27TTB', 1, '2027-01-01'],
      ['EBL02', 'XB', 1, '2027-01-01'],
    ]);
    const rows = await h.db.db
      .select()
      .from(receipts)
      .where(and(eq(receipts.agencyCode, AGENCIES.communeB), eq(receipts.seriesSymbol, 'XB')));
    expect(rows.map((r) => `${r.issuedDate}#${r.number}`).sort()).toEqual(['2026-12-31#1', '2027-01-01#1']);
  });

  it("an admin sets an agency's receipt settings, audited; bad values are refused and change nothing", async () => {
    const patch = (body: unknown) => h.request('PATCH', `/v1/agencies/${AGENCIES.communeB}`, { token: admin, body });
    const done = await json(await patch({ taxCode: '3600000001', address: 'Xã Long Thành, tỉnh Đồng Nai' }));
    expect(done).toMatchObject({ taxCode: '3600000001', address: 'Xã Long Thành, tỉnh Đồng Nai', receiptSeriesSymbol: 'XB' });
    const [audited] = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'agency.settings'), eq(auditLog.resourceId, AGENCIES.communeB)))
      .orderBy(auditLog.id)
      .limit(1)
      .offset(1);
    expect(audited).toMatchObject({ actor: 'admin:admin-test' });
    for (const bad of [{ taxCode: '36-000' }, { receiptSeriesSymbol: '26thp' }, {}, { unknown: 1 }]) {
      await expectProblem(await patch(bad), 400, 'validation-failed');
    }
    const [row] = await json(await h.request('GET', '/v1/agencies', { token: admin })).then((b) =>
      b.items.filter((a: { code: string }) => a.code === AGENCIES.communeB),
    );
    expect(row).toMatchObject({ taxCode: '3600000001', receiptSeriesSymbol: 'XB' });
  });
});

describe(`corrections: adjusting and replacing receipts on ${databaseLabel}`, () => {
  let treasury: string;
  beforeAll(async () => {
    treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-an' });
  });

  /** Paid on the sandbox's checkout page, so that the sandbox knows the payment it is asked to refund. */
  const paidAtCheckout = async () => {
    const dossier = await registerDossier(h, portal, procedure);
    const intent = await json(await createIntent(h, portal, dossier.code));
    expect((await chooseOnCheckout(intent.nextAction.url, 'pay')).status).toBe(303);
    return intent;
  };

  const refund = async (intentId: string, amount: number, expectedRefundable: number) => {
    const response = await h.request('POST', `/v1/payment-intents/${intentId}/refunds`, {
      token: treasury,
      body: { amount, expectedRefundable, reason: 'Hồ sơ bị từ chối' },
      headers: { 'idempotency-key': idempotencyKey() },
    });
    expect(response.status, await response.clone().text()).toBe(201);
    expect((await json(response)).status).toBe('succeeded');
  };

  it('a refund issues an adjusting receipt: the money given back over the lines, whole đồng, never more than a line holds', async () => {
    const intent = await paidAtCheckout();
    const original = await json(await receiptOf(intent.id));
    await refund(intent.id, 55_000, 155_000);
    const afterOne = await json(await h.request('GET', `/v1/receipts/${original.id}`, { token: portal }));
    expect(afterOne.corrections).toEqual([
      expect.objectContaining({ kind: 'adjusting', seriesSymbol: '26TTB', number: original.number + 1 }),
    ]);
    const first = await json(await h.request('GET', `/v1/receipts/${afterOne.corrections[0].id}`, { token: portal }));
    // 55.000 over 135.000 and 20.000: 47.903,2 and 7.096,8, so 47.903 and 7.097 (the larger remainder).
    expect(first).toMatchObject({
      kind: 'adjusting',
      receiptType: 'Biên lai điều chỉnh',
      original: { id: original.id, number: original.number },
      total: -55_000,
      totalInWords: 'Năm mươi lăm nghìn đồng',
      issuer: original.issuer,
      collector: original.collector,
    });
    expect(first.lines.map((l: { feeCode: string; amount: number }) => [l.feeCode, l.amount])).toEqual([
      ['LP01', -47_903],
      ['PH02', -7_097],
    ]);
    expect(first.reason).toContain('55.000');
    // Of the payment's 155.000 đ, 55.000 went back: partly refunded, on the adjustment as on the original.
    expect(first.refunded).toEqual({ status: 'partial', amount: 55_000 });
    // The adjustment is signed like any receipt, and its XML names the receipt it adjusts.
    const xml = await (
      await h.request('GET', `/v1/receipts/${first.id}`, { token: portal, headers: { accept: 'application/xml' } })
    ).text();
    expect(xmlSignatureValid(xml, (await jwks()).keys.find((k) => k.kid === h.signer.hub.kid)!)).toBe(true);
    expect(text(xml, '/BLai/DLBLai/TTChung/TTBLaiLQuan/TCBLai')).toBe('2');
    expect(text(xml, '/BLai/DLBLai/TTChung/TTBLaiLQuan/SBLai')).toBe(original.displayNumber);
    // The intent's current receipt is still the original, which shows the adjustment.
    expect((await json(await receiptOf(intent.id))).id).toBe(original.id);

    await refund(intent.id, 100_000, 100_000);
    const all = await h.db.db.select().from(receipts).where(eq(receipts.intentId, intent.id));
    const byFee = new Map<string, number>();
    for (const line of all.flatMap((r) => r.lines)) byFee.set(line.feeCode, (byFee.get(line.feeCode) ?? 0) + line.amount);
    // Everything given back: each line nets to zero, and so do the receipts.
    expect(Object.fromEntries(byFee)).toEqual({ LP01: 0, PH02: 0 });
    expect(all.reduce((sum, r) => sum + r.total, 0)).toBe(0);
    const lookedUp = await json(await lookup(`?code=${original.lookupCode}`));
    expect(lookedUp).toMatchObject({ verified: true, refunded: { status: 'full', amount: 155_000 } });
    expect(lookedUp.corrections.map((c: { kind: string }) => c.kind)).toEqual(['adjusting', 'adjusting']);
  });

  it('a wrong receipt is replaced by a new one that refers to it; the original stays, shows it, and is replaced only once', async () => {
    const intent = await paid();
    const original = await json(await receiptOf(intent.id));
    const replace = (id: string, body: unknown) => h.request('POST', `/v1/receipts/${id}/replacements`, { token: treasury, body });
    const response = await replace(original.id, {
      payer: { name: 'Nguyễn Văn Ân', address: 'Phường Trấn Biên' },
      reason: 'Sai tên người nộp',
    });
    expect(response.status).toBe(201);
    const replacement = await json(response);
    expect(replacement).toMatchObject({
      kind: 'replacing',
      receiptType: 'Biên lai thay thế',
      reason: 'Sai tên người nộp',
      original: { id: original.id, number: original.number },
      payer: { name: 'Nguyễn Văn Ân', address: 'Phường Trấn Biên' },
      lines: original.lines,
      total: original.total,
      seriesSymbol: '26TTB',
    });
    expect(replacement.number).toBeGreaterThan(original.number);
    expect(replacement.lookupCode).not.toBe(original.lookupCode);
    // The intent's current receipt is the replacement; the original is unchanged and says it was replaced.
    expect((await json(await receiptOf(intent.id))).id).toBe(replacement.id);
    const before = await h.db.db.select().from(receipts).where(eq(receipts.id, original.id));
    const shown = await json(await lookup(`?code=${original.lookupCode}`));
    expect(shown).toMatchObject({
      verified: true,
      payer: { name: 'Nguyễn Văn An' },
      corrections: [expect.objectContaining({ kind: 'replacing', id: replacement.id })],
    });
    expect(await h.db.db.select().from(receipts).where(eq(receipts.id, original.id))).toEqual(before);
    const page = await (await lookup(`?code=${original.lookupCode}`, { token: null, headers: { accept: 'text/html' } })).text();
    expect(page).toContain('Biên lai này đã được thay thế bởi');
    const xml = await (
      await h.request('GET', `/v1/receipts/${replacement.id}`, { token: portal, headers: { accept: 'application/xml' } })
    ).text();
    expect(text(xml, '/BLai/DLBLai/TTChung/TTBLaiLQuan/TCBLai')).toBe('1');
    expect(text(xml, '/BLai/DLBLai/TTChung/TTBLaiLQuan/LDo')).toBe('Sai tên người nộp');

    const again = await expectProblem(await replace(original.id, { payer: { name: 'X' }, reason: 'lần hai' }), 409, 'conflict');
    expect(again.replacedBy).toBe(replacement.id);
    // The replacement can be replaced in turn.
    expect((await replace(replacement.id, { payer: { name: 'Nguyễn Văn Ấn' }, reason: 'Sai dấu' })).status).toBe(201);
    const [audited] = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'receipt.replaced'), eq(auditLog.resourceId, original.id)));
    expect(audited).toMatchObject({ actor: 'treasury:thu-quy-an', reason: 'Sai tên người nộp' });
  });

  it('refuses what is not a replacement: bad input, an adjusting receipt, a receipt outside the scope, the wrong role', async () => {
    const intent = await paidAtCheckout();
    const original = await json(await receiptOf(intent.id));
    const replace = (id: string, body: unknown, token = treasury) => h.request('POST', `/v1/receipts/${id}/replacements`, { token, body });
    for (const bad of [
      {},
      { payer: { name: '' }, reason: 'abc' },
      { payer: { name: 'A' } },
      { payer: { name: 'A' }, reason: 'abc', total: 1 },
    ]) {
      await expectProblem(await replace(original.id, bad), 400, 'validation-failed');
    }
    await refund(intent.id, 20_000, 155_000);
    const adjusting = (await json(await receiptOf(intent.id))).corrections[0];
    await expectProblem(await replace(adjusting.id, { payer: { name: 'A' }, reason: 'abc' }), 409, 'conflict');
    const outsider = await mintToken({ role: 'treasury', agencies: [AGENCIES.otherProvince] });
    await expectProblem(await replace(original.id, { payer: { name: 'A' }, reason: 'abc' }, outsider), 404, 'not-found');
    await expectProblem(await replace(original.id, { payer: { name: 'A' }, reason: 'abc' }, portal), 403);
    expect(
      await h.db.db
        .select()
        .from(receipts)
        .where(and(eq(receipts.intentId, intent.id), eq(receipts.kind, 'replacing'))),
    ).toEqual([]);
  });

  it('two replacements of one receipt at once: one is issued, the other is told', async () => {
    const intent = await paid();
    const original = await json(await receiptOf(intent.id));
    const answers = await Promise.all(
      ['Một', 'Hai', 'Ba'].map((n) =>
        h.request('POST', `/v1/receipts/${original.id}/replacements`, {
          token: treasury,
          body: { payer: { name: n }, reason: `lần ${n}` },
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409]);
    const replacements = await h.db.db.select().from(receipts).where(eq(receipts.originalId, original.id));
    expect(replacements).toHaveLength(1);
  });
});
