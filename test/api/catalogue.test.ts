import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENCIES, registerDossier, rule, seedAgencyTree, uniqueProcedureCode } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';

/** The catalogue routes: agencies by scope, procedures with fee rules, and the admin's edits. */
let h: Harness;
let admin: string;
let portal: string;

beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  admin = await mintToken({ role: 'admin' });
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
});
afterAll(() => h.close());

const procedureBody = {
  name: 'Cấp đổi giấy phép lái xe',
  field: 'Giấy phép lái xe',
  level: 'tỉnh',
  integratedOnlinePayment: true,
  dataConfidence: 'confirmed',
  note: null,
};

const put = (code: string, body: unknown, token = admin) => h.request('PUT', `/v1/procedures/${code}`, { token, body });
const addRule = (code: string, body: unknown, token = admin) => h.request('POST', `/v1/procedures/${code}/fee-rules`, { token, body });

describe('agencies', () => {
  it("lists the caller's subtree, parents first; an admin sees every tree", async () => {
    const district = await mintToken({ role: 'campaign', agencies: [AGENCIES.district] });
    const mine = await expectJson(await h.request('GET', '/v1/agencies', { token: district }), 200);
    expect(mine.items.map((a: { code: string }) => a.code)).toEqual([AGENCIES.district, AGENCIES.districtCommune]);
    expect(mine.items[1]).toMatchObject({ parentCode: AGENCIES.district, depth: 2, level: 'commune', validTo: '2025-06-30' });

    const all = await expectJson(await h.request('GET', '/v1/agencies', { token: admin }), 200);
    const codes = all.items.map((a: { code: string }) => a.code);
    expect(codes).toEqual(expect.arrayContaining(Object.values(AGENCIES)));
    const depths = all.items.map((a: { depth: number }) => a.depth);
    expect(depths).toEqual([...depths].sort((a, b) => a - b));
  });

  it('a principal with no agencies sees none', async () => {
    const nobody = await mintToken({ role: 'portal', agencies: [] });
    expect((await expectJson(await h.request('GET', '/v1/agencies', { token: nobody }), 200)).items).toEqual([]);
  });
});

describe('procedures', () => {
  it('an admin creates (201) then updates (200) a procedure; everyone reads it', async () => {
    const code = uniqueProcedureCode();
    const created = await expectJson(await put(code, procedureBody), 201);
    expect(created).toMatchObject({ code, name: procedureBody.name, feeBearing: false, feeRules: [] });
    const updated = await expectJson(
      await put(code, { ...procedureBody, integratedOnlinePayment: false, note: 'Mức thu theo TT 37/2023' }),
      200,
    );
    expect(updated).toMatchObject({ integratedOnlinePayment: false, note: 'Mức thu theo TT 37/2023' });
    const read = await expectJson(await h.request('GET', `/v1/procedures/${code}`, { token: portal }), 200);
    expect(read).toEqual(updated);
  });

  it('adds fee rules with every field kept, orders them, and marks the procedure fee-bearing', async () => {
    const code = uniqueProcedureCode();
    await expectJson(await put(code, procedureBody), 201);
    const second = rule({
      kind: 'phi',
      feeCode: 'P02',
      name: 'Phí thẩm định',
      lineNo: 2,
      formula: { type: 'percentage', rate: '0.5', maximum: 500_000_000 },
      adjustments: [{ label: 'Miễn cho hộ nghèo', payerCategories: ['poor_household'], effect: { type: 'exempt' } }],
      rounding: { mode: 'down', unit: 1000 },
      validFrom: '2024-01-01',
      validTo: '2026-12-31',
      legalBasis: 'Nghị định 10/2022/NĐ-CP',
      collectionAccount: 'KBNN Đồng Nai 7111',
      setByProvince: true,
    });
    const first = rule({ feeCode: 'LP01', lineNo: 1, formula: { type: 'fixed', amount: 135_000 } });
    const added = await expectJson(await addRule(code, second), 201);
    expect(added).toEqual({ id: expect.any(String), ...second });
    await expectJson(await addRule(code, first), 201);
    const read = await expectJson(await h.request('GET', `/v1/procedures/${code}`, { token: portal }), 200);
    expect(read.feeBearing).toBe(true);
    expect(read.feeRules.map((r: { feeCode: string }) => r.feeCode)).toEqual(['LP01', 'P02']);
  });

  it("keeps each rule's budget classification, and refuses codes that are not digits or shares a lệ phí cannot keep", async () => {
    const code = uniqueProcedureCode();
    await expectJson(await put(code, procedureBody), 201);
    const phi = rule({
      kind: 'phi',
      feeCode: 'P01',
      budgetChapter: '426',
      budgetSubItem: '2663',
      budgetAccount: '7111',
      retainedPercent: '12.5',
      budgetCodesDemo: true,
    });
    const added = await expectJson(await addRule(code, phi), 201);
    // Stored as numeric(5,2): the share comes back with its two decimals.
    expect(added).toEqual({ id: expect.any(String), ...phi, retainedPercent: '12.50' });
    const lePhi = rule({
      feeCode: 'LP01',
      lineNo: 2,
      budgetChapter: '757',
      budgetSubItem: '2801',
      budgetAccount: '7111',
      retainedPercent: '0',
    });
    expect(await expectJson(await addRule(code, lePhi), 201)).toMatchObject({ retainedPercent: '0.00', budgetCodesDemo: false });
    const updated = await expectJson(
      await h.request('PUT', `/v1/procedures/${code}/fee-rules/${added.id}`, { token: admin, body: { ...phi, retainedPercent: '100' } }),
      200,
    );
    expect(updated.retainedPercent).toBe('100.00');

    const refused = async (body: unknown, path: string) => {
      const problem = await expectProblem(await addRule(code, body), 400, 'validation-failed');
      expect(problem.errors.map((e: { path: string }) => e.path)).toContain(path);
    };
    await refused({ ...phi, budgetChapter: '75A' }, 'budgetChapter');
    await refused({ ...phi, budgetChapter: '7570' }, 'budgetChapter');
    await refused({ ...phi, budgetSubItem: '28O1' }, 'budgetSubItem');
    await refused({ ...phi, budgetAccount: '711' }, 'budgetAccount');
    await refused({ ...phi, retainedPercent: '12.345' }, 'retainedPercent');
    await refused({ ...phi, retainedPercent: '-1' }, 'retainedPercent');
    await refused({ ...phi, retainedPercent: '100.01' }, 'retainedPercent');
    await refused({ ...phi, retainedPercent: 30 }, 'retainedPercent');
    // A lệ phí goes wholly to the state budget.
    await refused({ ...lePhi, feeCode: 'LP02', retainedPercent: '30' }, 'retainedPercent');
    const read = await expectJson(await h.request('GET', `/v1/procedures/${code}`, { token: portal }), 200);
    expect(read.feeRules).toHaveLength(2);
  });

  it('replaces a fee rule; dossiers already registered keep their amounts', async () => {
    const code = uniqueProcedureCode();
    await expectJson(await put(code, procedureBody), 201);
    const original = await expectJson(await addRule(code, rule({ formula: { type: 'fixed', amount: 50_000 } })), 201);
    const dossier = await registerDossier(h, portal, code);
    expect(dossier.totalDue).toBe(50_000);

    const { id: _id, ...body } = original;
    const changed = await expectJson(
      await h.request('PUT', `/v1/procedures/${code}/fee-rules/${original.id}`, {
        token: admin,
        body: { ...body, formula: { type: 'fixed', amount: 70_000 } },
      }),
      200,
    );
    expect(changed).toMatchObject({ id: original.id, formula: { type: 'fixed', amount: 70_000 } });
    const kept = await expectJson(await h.request('GET', `/v1/dossiers/${dossier.code}`, { token: portal }), 200);
    expect(kept.totalDue).toBe(50_000);
    const fresh = await registerDossier(h, portal, code);
    expect(fresh.totalDue).toBe(70_000);
  });

  it('filters the list by field', async () => {
    const code = uniqueProcedureCode();
    await expectJson(await put(code, { ...procedureBody, field: 'Lĩnh vực lọc thử' }), 201);
    const listed = await expectJson(
      await h.request('GET', `/v1/procedures?field=${encodeURIComponent('Lĩnh vực lọc thử')}`, { token: portal }),
      200,
    );
    expect(listed.items.map((p: { code: string }) => p.code)).toEqual([code]);
  });
});

describe('errors', () => {
  it('refuses invalid procedures and fee rules with the fields at fault (400)', async () => {
    const code = uniqueProcedureCode();
    const missing = await expectProblem(await put(code, { name: 'x' }), 400, 'validation-failed');
    expect(missing.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['field', 'level']));
    await expectProblem(await put('not-a-code', procedureBody), 400, 'validation-failed');
    await expectJson(await put(code, procedureBody), 201);

    const floatAmount = await expectProblem(
      await addRule(code, rule({ formula: { type: 'fixed', amount: 1.5 } })),
      400,
      'validation-failed',
    );
    expect(floatAmount.errors[0].path).toMatch(/^formula/);
    await expectProblem(
      await addRule(code, rule({ formula: { type: 'percentage', rate: 0.5 as unknown as string } })),
      400,
      'validation-failed',
    );
    await expectProblem(
      await addRule(code, rule({ formula: { type: 'per_unit', unit: 'trang', tiers: [{ fromUnit: 3, unitAmount: 1000 }] } })),
      400,
      'validation-failed',
    );
    const backwards = await expectProblem(
      await addRule(code, rule({ validFrom: '2026-01-01', validTo: '2025-01-01' })),
      400,
      'validation-failed',
    );
    expect(backwards.errors[0].path).toBe('validTo');
    expect((await expectJson(await h.request('GET', `/v1/procedures/${code}`, { token: admin }), 200)).feeRules).toEqual([]);
  });

  it('answers 404 for unknown procedures and rules', async () => {
    await expectProblem(await h.request('GET', `/v1/procedures/${uniqueProcedureCode()}`, { token: portal }), 404, 'not-found');
    await expectProblem(await addRule(uniqueProcedureCode(), rule()), 404, 'not-found');
    const code = uniqueProcedureCode();
    await expectJson(await put(code, procedureBody), 201);
    const { id: _id, ...body } = { id: '', ...rule() };
    await expectProblem(
      await h.request('PUT', `/v1/procedures/${code}/fee-rules/${crypto.randomUUID()}`, { token: admin, body }),
      404,
      'not-found',
    );
  });

  it('only an admin edits the catalogue (403)', async () => {
    const code = uniqueProcedureCode();
    await expectProblem(await put(code, procedureBody, portal), 403, 'forbidden');
    await expectProblem(await h.request('GET', `/v1/procedures/${code}`, { token: admin }), 404, 'not-found');
  });
});
