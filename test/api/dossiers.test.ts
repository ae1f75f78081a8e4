import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { obligations } from '../../src/db/schema/index.ts';
import { AGENCIES, createIntent, createProcedure, dossierBody, rule, seedAgencyTree, uniqueDossierCode } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';

/** PUT and GET /v1/dossiers/{code}: registration, fee computation, updates and their limits. */
let h: Harness;
let portal: string; // the receiving commune's portal
let province: string;
let fixed: string; // one 135.000 đ lệ phí
let percentage: string; // 0,5 % of the declared value (at least 10.000 đ) plus a fixed phí
let perUnit: string; // 3.000 đ a page
let withWaiver: string; // a fixed line, a zero-priced line, a line exempt for poor households
let newYear: string; // 100.000 đ until 2025-12-31, 150.000 đ from 2026-01-01

beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.communeA] });
  province = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  fixed = await createProcedure(h.ctx);
  percentage = await createProcedure(h.ctx, [
    rule({ kind: 'le_phi', feeCode: 'LPTB', name: 'Lệ phí trước bạ', formula: { type: 'percentage', rate: '0.5', minimum: 10_000 } }),
    rule({ kind: 'phi', feeCode: 'PTD', name: 'Phí thẩm định', lineNo: 2, formula: { type: 'fixed', amount: 50_000 } }),
  ]);
  perUnit = await createProcedure(h.ctx, [
    rule({ feeCode: 'SAO', name: 'Phí sao y', formula: { type: 'per_unit', unit: 'trang', tiers: [{ fromUnit: 1, unitAmount: 3_000 }] } }),
  ]);
  withWaiver = await createProcedure(h.ctx, [
    rule({ feeCode: 'LP01', name: 'Lệ phí cấp giấy', formula: { type: 'fixed', amount: 135_000 } }),
    rule({ kind: 'phi', feeCode: 'P00', name: 'Phí miễn', lineNo: 2, formula: { type: 'exempt' } }),
    rule({
      kind: 'phi',
      feeCode: 'P03',
      name: 'Phí thẩm định',
      lineNo: 3,
      formula: { type: 'fixed', amount: 70_000 },
      adjustments: [{ label: 'Miễn cho hộ nghèo', payerCategories: ['poor_household'], effect: { type: 'exempt' } }],
    }),
  ]);
  newYear = await createProcedure(h.ctx, [
    rule({ feeCode: 'LP01', formula: { type: 'fixed', amount: 100_000 }, validFrom: '2020-01-01', validTo: '2025-12-31' }),
    rule({ feeCode: 'LP01', formula: { type: 'fixed', amount: 150_000 }, validFrom: '2026-01-01' }),
  ]);
});
afterAll(() => h?.close());

const put = (code: string, body: unknown, token = portal) => h.request('PUT', `/v1/dossiers/${code}`, { token, body });
const get = (code: string, token = portal) => h.request('GET', `/v1/dossiers/${code}`, { token });

async function register(procedure: string, overrides: Record<string, unknown> = {}) {
  const code = uniqueDossierCode();
  const body = dossierBody(procedure, overrides);
  const dossier = await expectJson(await put(code, body), 201);
  return { code, body, dossier };
}

/** Every obligation row of a dossier, superseded ones included. */
const obligationRows = (code: string) => h.db.db.select().from(obligations).where(eq(obligations.dossierCode, code));

async function pay(intent: { reference: string; amount: number }) {
  const response = await deliverSandboxCallback(h, sandboxEvent(intent));
  expect(await expectJson(response, 200)).toMatchObject({ result: 'applied' });
}

describe('happy', () => {
  it('registers a dossier with its obligations and total due (201)', async () => {
    const { code, dossier } = await register(percentage, { declaredValue: 600_000_000, payerCategory: 'student' });
    expect(dossier).toMatchObject({
      code,
      procedureCode: percentage,
      agencyCode: AGENCIES.communeA,
      channel: 'online',
      receivedAt: '2026-11-20T02:30:00.000Z',
      receivedDate: '2026-11-20',
      applicant: { name: 'Nguyễn Văn An', address: '12 Đường Võ Thị Sáu, phường Trấn Biên, Đồng Nai' },
      declaredValue: 600_000_000,
      quantity: null,
      payerCategory: 'student',
      onlinePaymentFlag: 0,
      paidAt: null,
      totalDue: 3_050_000,
    });
    expect(dossier.obligations).toEqual([
      expect.objectContaining({ lineNo: 1, kind: 'le_phi', feeCode: 'LPTB', amount: 3_000_000, status: 'unpaid', adjustment: null }),
      expect.objectContaining({ lineNo: 2, kind: 'phi', feeCode: 'PTD', amount: 50_000, status: 'unpaid' }),
    ]);
    for (const o of dossier.obligations) expect(o.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await expectJson(await get(code), 200)).toEqual(dossier);
  });

  it('answers the same body again with 200 and the identical dossier (updatedAt unchanged)', async () => {
    const { code, body, dossier } = await register(fixed);
    const again = await expectJson(await put(code, body), 200);
    expect(again).toEqual(dossier);
    // The same instant written another way is the same body.
    const sameInstant = await expectJson(await put(code, { ...body, receivedAt: '2026-11-20T02:30:00Z' }), 200);
    expect(sameInstant).toEqual(dossier);
    expect(await obligationRows(code)).toHaveLength(1);
  });

  it('changes only the applicant: 200, the same obligations (same ids)', async () => {
    const { code, body, dossier } = await register(withWaiver);
    const changed = await expectJson(await put(code, { ...body, applicant: { name: 'Trần Thị Bình', address: null } }), 200);
    expect(changed.applicant).toEqual({ name: 'Trần Thị Bình', address: null });
    expect(changed.obligations).toEqual(dossier.obligations);
    expect(changed.totalDue).toBe(dossier.totalDue);
    expect(changed.createdAt).toBe(dossier.createdAt);
    expect(await obligationRows(code)).toHaveLength(3);
    const none = await expectJson(await put(code, { ...body, applicant: null }), 200);
    expect(none.applicant).toBeNull();
    expect(none.obligations).toEqual(dossier.obligations);
  });

  it('recomputes the obligations when a fee input changes before payment', async () => {
    const { code, body, dossier } = await register(perUnit, { quantity: 2 });
    expect(dossier.totalDue).toBe(6_000);
    const changed = await expectJson(await put(code, { ...body, quantity: 5 }), 200);
    expect(changed.totalDue).toBe(15_000);
    expect(changed.obligations).toHaveLength(1);
    const oldIds = dossier.obligations.map((o: { id: string }) => o.id);
    for (const o of changed.obligations) expect(oldIds).not.toContain(o.id);
    // The superseded lines are kept (void), not deleted, and never shown.
    const rows = await obligationRows(code);
    expect(rows.filter((r) => oldIds.includes(r.id)).map((r) => r.status)).toEqual(['void']);
    const read = await expectJson(await get(code), 200);
    expect(read).toEqual(changed);
  });

  it('recomputes when the channel or payer category changes, and a freed intent does not lock', async () => {
    const { code, body, dossier } = await register(withWaiver);
    const intent = await expectJson(await createIntent(h, portal, code), 201);
    await expectJson(await h.request('POST', `/v1/payment-intents/${intent.id}/cancel`, { token: portal }), 200);
    const changed = await expectJson(await put(code, { ...body, payerCategory: 'poor_household' }), 200);
    expect(changed.totalDue).toBe(135_000);
    expect(changed.obligations.map((o: { id: string }) => o.id)).not.toContain(dossier.obligations[0].id);
    expect(changed.obligations[2]).toMatchObject({ feeCode: 'P03', amount: 0, status: 'waived', adjustment: 'Miễn cho hộ nghèo' });
  });

  it('keeps a zero-priced line as waived, outside the total due', async () => {
    const { dossier } = await register(withWaiver);
    expect(dossier.obligations.map((o: any) => [o.feeCode, o.amount, o.status])).toEqual([
      ['LP01', 135_000, 'unpaid'],
      ['P00', 0, 'waived'],
      ['P03', 70_000, 'unpaid'],
    ]);
    expect(dossier.totalDue).toBe(205_000);
    const poor = await register(withWaiver, { payerCategory: 'poor_household' });
    expect(poor.dossier.totalDue).toBe(135_000);
    expect(poor.dossier.obligations[2]).toMatchObject({ amount: 0, status: 'waived' });
  });

  it.each([
    ['2025-12-31T23:30:00+07:00', '2025-12-31', 100_000],
    ['2025-12-31T16:30:00Z', '2025-12-31', 100_000],
    ['2025-12-31T16:59:59Z', '2025-12-31', 100_000],
    ['2025-12-31T17:00:00Z', '2026-01-01', 150_000],
    ['2025-12-31T17:30:00Z', '2026-01-01', 150_000],
    ['2026-01-01T00:30:00+07:00', '2026-01-01', 150_000],
    ['2025-12-31T20:00:00-05:00', '2026-01-01', 150_000],
  ])('receivedAt %s is the Vietnamese date %s, and takes the fee valid then (%i đ)', async (receivedAt, date, amount) => {
    const { dossier } = await register(newYear, { receivedAt });
    expect(dossier.receivedDate).toBe(date);
    expect(dossier.receivedAt).toBe(new Date(receivedAt).toISOString());
    expect(dossier.obligations.map((o: { amount: number }) => o.amount)).toEqual([amount]);
    expect(dossier.totalDue).toBe(amount);
  });

  it('moving the receipt date across the rule change recomputes with the other rule', async () => {
    const { code, body } = await register(newYear, { receivedAt: '2025-12-31T16:30:00Z' });
    const moved = await expectJson(await put(code, { ...body, receivedAt: '2025-12-31T17:30:00Z' }), 200);
    expect(moved).toMatchObject({ receivedDate: '2026-01-01', totalDue: 150_000 });
  });

  it("a province principal reads and updates a commune's dossier", async () => {
    const { code, body } = await register(fixed);
    await expectJson(await get(code, province), 200);
    const updated = await expectJson(await put(code, { ...body, applicant: { name: 'Lê Văn Cường' } }, province), 200);
    expect(updated.applicant).toEqual({ name: 'Lê Văn Cường', address: null });
  });
});

describe('error', () => {
  /** Each invalid body, tried as a first registration and as an update of a registered dossier. */
  const invalid: Array<[string, (proc: { fixed: string; percentage: string }) => Record<string, unknown>, number, string, string?]> = [
    ['an unknown procedure', () => ({ procedureCode: '1.999999' }), 422, 'unknown-procedure', 'procedureCode'],
    ['an invalid procedure code', () => ({ procedureCode: 'TTHC-1' }), 400, 'validation-failed', 'procedureCode'],
    ["an agency outside the caller's scope", () => ({ agencyCode: AGENCIES.communeB }), 422, 'unknown-agency', 'agencyCode'],
    ['an agency of another province', () => ({ agencyCode: AGENCIES.otherProvince }), 422, 'unknown-agency', 'agencyCode'],
    ['an agency that does not exist', () => ({ agencyCode: '000.99.99.H19' }), 422, 'unknown-agency', 'agencyCode'],
    ['an invalid agency code', () => ({ agencyCode: "H19' OR '1'='1" }), 400, 'validation-failed', 'agencyCode'],
    [
      'no declared value for a percentage fee',
      (p) => ({ procedureCode: p.percentage, declaredValue: null }),
      422,
      'fee-input-missing',
      'declaredValue',
    ],
    ['an unknown field', () => ({ priority: 'high' }), 400, 'validation-failed'],
    ['an unknown applicant field', () => ({ applicant: { name: 'A', phone: '0909' } }), 400, 'validation-failed'],
    ['an unknown channel', () => ({ channel: 'fax' }), 400, 'validation-failed', 'channel'],
    ['a fractional declared value', () => ({ declaredValue: 1000.5 }), 400, 'validation-failed', 'declaredValue'],
    ['a declared value as a string', () => ({ declaredValue: '1000' }), 400, 'validation-failed', 'declaredValue'],
    ['a negative declared value', () => ({ declaredValue: -1 }), 400, 'validation-failed', 'declaredValue'],
    ['a declared value beyond exact integers', () => ({ declaredValue: 2 ** 53 }), 400, 'validation-failed', 'declaredValue'],
    ['a fractional quantity', () => ({ quantity: 1.5 }), 400, 'validation-failed', 'quantity'],
    ['a negative quantity', () => ({ quantity: -3 }), 400, 'validation-failed', 'quantity'],
    ['a zero quantity', () => ({ quantity: 0 }), 400, 'validation-failed', 'quantity'],
    ['a receivedAt without an offset', () => ({ receivedAt: '2026-11-20T09:30:00' }), 400, 'validation-failed', 'receivedAt'],
    ['a receivedAt that is not a time', () => ({ receivedAt: 'hôm qua' }), 400, 'validation-failed', 'receivedAt'],
    ['a receivedAt in year 0000', () => ({ receivedAt: '0000-06-01T00:00:00Z' }), 400, 'validation-failed', 'receivedAt'],
    ['a receivedAt whose VN date is in year 10000', () => ({ receivedAt: '9999-12-31T20:00:00Z' }), 400, 'validation-failed', 'receivedAt'],
    [
      'a NUL character in the applicant name',
      () => ({ applicant: { name: 'Nguyễn\u0000An' } }),
      400,
      'validation-failed',
      'applicant.name',
    ],
    [
      'an unpaired surrogate in the address',
      () => ({ applicant: { address: 'Đồng Nai \ud83d' } }),
      400,
      'validation-failed',
      'applicant.address',
    ],
    ['an empty applicant name', () => ({ applicant: { name: '   ' } }), 400, 'validation-failed', 'applicant.name'],
    ['an invalid payer category', () => ({ payerCategory: 'Hộ nghèo' }), 400, 'validation-failed', 'payerCategory'],
  ];

  it.each(invalid)('refuses %s as a first registration, and registers nothing', async (_name, change, status, code, path) => {
    const dossierCode = uniqueDossierCode();
    const problem = await expectProblem(
      await put(dossierCode, { ...dossierBody(fixed, { declaredValue: 500_000 }), ...change({ fixed, percentage }) }),
      status,
      code,
    );
    if (path) expect(problem.errors?.[0]?.path).toBe(path);
    await expectProblem(await get(dossierCode), 404, 'not-found');
    expect(await obligationRows(dossierCode)).toHaveLength(0);
  });

  it.each(invalid)('refuses %s as an update, and leaves the dossier as it was', async (_name, change, status, code, path) => {
    const { code: dossierCode, body } = await register(fixed, { declaredValue: 500_000 });
    const before = await expectJson(await get(dossierCode), 200);
    const rowsBefore = await obligationRows(dossierCode);
    const problem = await expectProblem(await put(dossierCode, { ...body, ...change({ fixed, percentage }) }), status, code);
    if (path) expect(problem.errors?.[0]?.path).toBe(path);
    expect(await expectJson(await get(dossierCode), 200)).toEqual(before);
    expect(await obligationRows(dossierCode)).toEqual(rowsBefore);
  });

  it('gives the same answer for an agency outside the scope and an unknown one', async () => {
    const code = uniqueDossierCode();
    const outside = await expectProblem(await put(code, dossierBody(fixed, { agencyCode: AGENCIES.communeB })), 422, 'unknown-agency');
    const unknown = await expectProblem(await put(code, dossierBody(fixed, { agencyCode: '000.99.99.H19' })), 422, 'unknown-agency');
    const strip = (p: Record<string, any>, agency: string) => ({ ...p, requestId: '', detail: p.detail.replace(agency, '<agency>') });
    expect(strip(outside, AGENCIES.communeB)).toEqual(strip(unknown, '000.99.99.H19'));
  });

  it('refuses fees beyond the exact VND range (422 fee-out-of-range), and registers nothing', async () => {
    const max = Number.MAX_SAFE_INTEGER;
    const twoHuge = await createProcedure(h.ctx, [
      rule({ formula: { type: 'fixed', amount: max } }),
      rule({ kind: 'phi', feeCode: 'P02', lineNo: 2, formula: { type: 'fixed', amount: max } }),
    ]);
    const perPage = await createProcedure(h.ctx, [
      rule({ formula: { type: 'per_unit', unit: 'trang', tiers: [{ fromUnit: 1, unitAmount: 2 ** 50 }] } }),
    ]);
    const sum = uniqueDossierCode();
    const total = await expectProblem(await put(sum, dossierBody(twoHuge)), 422, 'fee-out-of-range');
    expect(total.errors).toBeUndefined();
    await expectProblem(await get(sum), 404);
    const product = uniqueDossierCode();
    const line = await expectProblem(await put(product, dossierBody(perPage, { quantity: 100 })), 422, 'fee-out-of-range');
    expect(line.errors).toEqual([{ path: 'quantity', message: expect.any(String) }]);
    expect(await obligationRows(product)).toHaveLength(0);
    // Within range, the same rule is fine.
    expect((await expectJson(await put(product, dossierBody(perPage, { quantity: 7 })), 201)).totalDue).toBe(7 * 2 ** 50);
  });

  it('reports the missing input of a percentage fee by its field', async () => {
    const problem = await expectProblem(await put(uniqueDossierCode(), dossierBody(percentage)), 422, 'fee-input-missing');
    expect(problem.errors).toEqual([{ path: 'declaredValue', message: expect.any(String) }]);
  });

  it.each([
    ['a malformed code', 'not-a-dossier-code'],
    ['a code with a bad date part', `${AGENCIES.communeA}-2611-0001`],
    ['a code with a path separator', `${AGENCIES.communeA}-261120-0001%2F..`],
    ['an over-long code', `${'A'.repeat(60)}-261120-0001`],
  ])('refuses %s in the path (400), for PUT and GET', async (_name, code) => {
    const putProblem = await expectProblem(await put(code, dossierBody(fixed)), 400, 'validation-failed');
    expect(putProblem.errors?.[0]?.path).toBe('param.code');
    await expectProblem(await get(code), 400, 'validation-failed');
  });

  it('refuses a body that is not JSON, and a missing body', async () => {
    const code = uniqueDossierCode();
    await expectProblem(
      await h.request('PUT', `/v1/dossiers/${code}`, {
        token: portal,
        rawBody: '{"procedureCode":',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'malformed-json',
    );
    await expectProblem(await h.request('PUT', `/v1/dossiers/${code}`, { token: portal }), 400, 'validation-failed');
    await expectProblem(await get(code), 404);
  });

  it('answers 404 for a dossier that does not exist', async () => {
    await expectProblem(await get(uniqueDossierCode()), 404, 'not-found');
  });

  describe('fee inputs once money is asked for', () => {
    it('refuses a fee-input change while an intent is live (409), allows the applicant to change', async () => {
      const { code, body } = await register(perUnit, { quantity: 2 });
      const intent = await expectJson(await createIntent(h, portal, code), 201);
      const before = await expectJson(await get(code), 200);
      const rowsBefore = await obligationRows(code);

      const locked = await expectProblem(await put(code, { ...body, quantity: 3 }), 409, 'fee-inputs-locked');
      expect(locked.obligationIds).toEqual(before.obligations.map((o: { id: string }) => o.id));
      await expectProblem(await put(code, { ...body, channel: 'direct' }), 409, 'fee-inputs-locked');
      await expectProblem(await put(code, { ...body, receivedAt: '2026-11-21T09:30:00+07:00' }), 409, 'fee-inputs-locked');
      await expectProblem(await put(code, { ...body, procedureCode: fixed }), 409, 'fee-inputs-locked');
      expect(await expectJson(await get(code), 200)).toEqual(before);
      expect(await obligationRows(code)).toEqual(rowsBefore);

      const renamed = await expectJson(await put(code, { ...body, applicant: { name: 'Phạm Thị Dung' } }), 200);
      expect(renamed.obligations).toEqual(before.obligations);
      const still = await expectJson(await h.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }), 200);
      expect(still).toMatchObject({ status: 'pending', amount: 6_000 });
    });

    it('refuses a fee-input change after payment (409), and nothing moves', async () => {
      const { code, body } = await register(perUnit, { quantity: 4 });
      const intent = await expectJson(await createIntent(h, portal, code), 201);
      await pay(intent);
      const paid = await expectJson(await get(code), 200);
      expect(paid.obligations.map((o: { status: string }) => o.status)).toEqual(['paid']);
      expect(paid.totalDue).toBe(0);
      const rowsBefore = await obligationRows(code);

      await expectProblem(await put(code, { ...body, quantity: 1 }), 409, 'fee-inputs-locked');
      await expectProblem(await put(code, { ...body, payerCategory: 'student' }), 409, 'fee-inputs-locked');
      // The collecting agency is printed on the receipt: it is locked too.
      const province = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
      await expectProblem(await put(code, { ...body, agencyCode: AGENCIES.communeB }, province), 409, 'fee-inputs-locked');
      expect(await expectJson(await get(code), 200)).toEqual(paid);
      expect(await obligationRows(code)).toEqual(rowsBefore);
      // The same body stays a no-op, even now.
      expect(await expectJson(await put(code, body), 200)).toEqual(paid);
    });
  });
});

describe('security', () => {
  it('a sibling commune neither reads (404) nor overwrites the dossier (422: the code is not of its units), and it is unchanged', async () => {
    const { code, body } = await register(fixed);
    const before = await expectJson(await get(code), 200);
    const sibling = await mintToken({ role: 'portal', agencies: [AGENCIES.communeB] });
    await expectProblem(await get(code, sibling), 404, 'not-found');
    await expectProblem(
      await put(code, { ...body, agencyCode: AGENCIES.communeB, applicant: { name: 'Kẻ lạ' } }, sibling),
      422,
      'dossier-code-out-of-scope',
    );
    expect(await expectJson(await get(code), 200)).toEqual(before);
  });

  it('a treasury principal reads but may not write (403)', async () => {
    const { code, body } = await register(fixed);
    const treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province] });
    await expectJson(await get(code, treasury), 200);
    await expectProblem(await put(code, body, treasury), 403, 'forbidden');
  });
});
