import { asc, count, gt } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, feeRules, procedures } from '../../src/db/schema/index.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, registerDossier, rule, seedAgencyTree, uniqueProcedureCode } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { multipart } from '../helpers/statements.ts';

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

// ── Who receives a procedure, and the audit of an admin's edits ─────────────────────────────

/** The audit rows written after `afterId`, oldest first. */
async function auditSince(afterId: number) {
  return h.db.db.select().from(auditLog).where(gt(auditLog.id, afterId)).orderBy(asc(auditLog.id));
}
async function lastAuditId(): Promise<number> {
  const rows = await h.db.db.select({ id: auditLog.id }).from(auditLog).orderBy(asc(auditLog.id));
  return rows.at(-1)?.id ?? 0;
}

describe(`who receives a procedure (${databaseLabel})`, () => {
  it('is kept with the procedure, left as it is by an update that does not say, and audited with every edit', async () => {
    const code = uniqueProcedureCode();
    const before = await lastAuditId();
    const created = await expectJson(
      await put(code, { ...procedureBody, receivingLevels: ['commune'], receivingUnits: [AGENCIES.department] }),
      201,
    );
    expect(created).toMatchObject({ receivingLevels: ['commune'], receivingUnits: [AGENCIES.department] });
    const updated = await expectJson(await put(code, { ...procedureBody, note: 'Ghi chú' }), 200);
    expect(updated).toMatchObject({ receivingLevels: ['commune'], receivingUnits: [AGENCIES.department], note: 'Ghi chú' });
    const cleared = await expectJson(await put(code, { ...procedureBody, receivingLevels: [], receivingUnits: [] }), 200);
    expect(cleared).toMatchObject({ receivingLevels: [], receivingUnits: [] });
    const added = await expectJson(await addRule(code, rule({ formula: { type: 'fixed', amount: 20_000 } })), 201);
    const { id: _id, ...body } = added;
    await expectJson(
      await h.request('PUT', `/v1/procedures/${code}/fee-rules/${added.id}`, { token: admin, body: { ...body, name: 'Lệ phí đã sửa' } }),
      200,
    );

    const audit = await auditSince(before);
    expect(audit.map((a) => [a.action, a.resourceId])).toEqual([
      ['procedure.create', code],
      ['procedure.update', code],
      ['procedure.update', code],
      ['fee_rule.create', added.id],
      ['fee_rule.replace', added.id],
    ]);
    expect(audit.every((a) => a.actor === 'admin:admin-user')).toBe(true);
    expect(audit[1]!.before).toMatchObject({ note: null });
    expect(audit[1]!.after).toMatchObject({ note: 'Ghi chú', receivingLevels: ['commune'] });
    expect(audit[4]!.before).toMatchObject({ name: 'Lệ phí cấp giấy' });
    expect(audit[4]!.after).toMatchObject({ name: 'Lệ phí đã sửa', procedureCode: code });
  });

  it('refuses a level that is none and a unit that is not in the tree, changing nothing', async () => {
    const code = uniqueProcedureCode();
    const level = await expectProblem(await put(code, { ...procedureBody, receivingLevels: ['ward'] }), 400, 'validation-failed');
    expect(level.errors[0].path).toMatch(/^receivingLevels/);
    const unit = await expectProblem(await put(code, { ...procedureBody, receivingUnits: ['000.99.99.H19'] }), 422, 'unknown-agency');
    expect(unit.errors[0].path).toBe('receivingUnits');
    await expectProblem(await h.request('GET', `/v1/procedures/${code}`, { token: admin }), 404, 'not-found');
  });
});

// ── The catalogue import ────────────────────────────────────────────────────────────────────

type Cells = Record<string, string | number | boolean | object | null | undefined>;

/** A CSV file of these rows: the header is the union of their keys; objects are written as JSON. */
function csvFile(rows: Cells[], columns = [...new Set(rows.flatMap((r) => Object.keys(r)))]): Uint8Array {
  const cell = (v: Cells[string]) => {
    if (v === undefined || v === null) return '';
    const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\n;]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))];
  return new TextEncoder().encode(`\uFEFF${lines.join('\r\n')}\r\n`);
}

function importFile(bytes: Uint8Array, options: { dryRun?: boolean; name?: string; type?: string; token?: string } = {}) {
  const { body, contentType } = multipart({}, { name: options.name ?? 'danh-muc.csv', bytes, type: options.type ?? 'text/csv' });
  return h.request('POST', `/v1/catalogue/imports${options.dryRun ? '?dryRun=true' : ''}`, {
    token: options.token ?? admin,
    rawBody: body,
    headers: { 'content-type': contentType },
  });
}

const dossierOn = (code: string, date: string, over: Record<string, unknown> = {}) => {
  const receivedAt = `${date}T10:00:00+07:00`;
  // A receipt is dated at most tomorrow: a dossier of a later day is registered on its day.
  h.clock.now = Date.parse(receivedAt) > Date.now() ? new Date(receivedAt) : null;
  return registerDossier(h, portal, code, { channel: 'direct', receivedAt, ...over });
};

/** Everything the catalogue holds: what must not move when an import is refused. */
async function catalogueState() {
  const [p] = await h.db.db.select({ n: count() }).from(procedures);
  const rules = await h.db.db.select().from(feeRules).orderBy(asc(feeRules.id));
  return { procedures: p!.n, rules: rules.map((r) => [r.id, r.validTo, r.legalBasis, r.updatedAt.getTime()]), audit: await lastAuditId() };
}

describe(`the catalogue import (${databaseLabel})`, () => {
  it('a dry run says what would change and writes nothing; applying makes those changes, audited; the same file again changes nothing', async () => {
    // A procedure with the rule the hub charged so far: 10.000 đ, 7.000 đ online.
    const residence = uniqueProcedureCode();
    await expectJson(await put(residence, { ...procedureBody, name: 'Đăng ký tạm trú', level: 'xã' }), 201);
    const old = await expectJson(
      await addRule(
        residence,
        rule({
          feeCode: 'LPTMT',
          formula: { type: 'fixed', amount: 10_000 },
          adjustments: [{ label: 'Trực tuyến', channels: ['online'], effect: { type: 'amount', amount: 7_000 } }],
          validFrom: '2023-02-05',
          legalBasis: 'Thông tư 75/2022/TT-BTC',
        }),
      ),
      201,
    );
    const enterprise = uniqueProcedureCode();
    const file = csvFile([
      {
        procedureCode: residence,
        receivingLevels: 'commune',
        feeCode: 'LPTMT',
        kind: 'le_phi',
        feeName: 'Lệ phí đăng ký tạm trú',
        formula: { type: 'fixed', amount: 15_000 },
        adjustments: [{ label: 'Trực tuyến: 7.000 đ', channels: ['online'], effect: { type: 'amount', amount: 7_000 } }],
        validFrom: '15/08/2026',
        legalBasis: 'Thông tư 75/2022/TT-BTC: 15.000 đ/lần đăng ký',
        budgetChapter: '418',
        budgetSubItem: '2769',
        budgetAccount: '7111',
      },
      {
        procedureCode: enterprise,
        procedureName: 'Đăng ký thành lập doanh nghiệp tư nhân',
        field: 'Thành lập và hoạt động doanh nghiệp',
        level: 'tỉnh',
        receivingUnits: AGENCIES.department,
        integratedOnlinePayment: 'có',
        dataConfidence: 'secondary',
        feeCode: 'LPDKDN',
        kind: 'le_phi',
        feeName: 'Lệ phí đăng ký doanh nghiệp',
        lineNo: 1,
        formula: { type: 'fixed', amount: 50_000 },
        adjustments: [
          { label: 'Qua mạng: miễn', channels: ['online'], effect: { type: 'exempt' } },
          { label: 'Giảm 50% đến 31/12/2026', from: '2025-07-01', to: '2026-12-31', effect: { type: 'percent_of_base', percent: '50' } },
        ],
        validFrom: '2025-07-01',
        legalBasis: 'Thông tư 47/2019/TT-BTC; Thông tư 64/2025/TT-BTC',
        setByProvince: 'false',
      },
      { procedureCode: enterprise, note: 'Giảm 50% đến hết 2026' },
    ]);

    const stateBefore = await catalogueState();
    const dry = await expectJson(await importFile(file, { dryRun: true }), 200);
    expect(dry).toMatchObject({
      dryRun: true,
      applied: false,
      file: { name: 'danh-muc.csv', format: 'csv', rows: 3 },
      summary: { procedures: { created: 1, updated: 1, unchanged: 0 }, feeRules: { created: 2, updated: 0, closed: 1, unchanged: 0 } },
      errors: [],
    });
    expect(dry.file.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(dry.changes.map((c: any) => [c.row, c.resource, c.action, c.procedureCode, c.feeCode ?? null])).toEqual([
      [2, 'procedure', 'updated', residence, null],
      [2, 'fee_rule', 'closed', residence, 'LPTMT'],
      [2, 'fee_rule', 'created', residence, 'LPTMT'],
      [3, 'procedure', 'created', enterprise, null],
      [3, 'fee_rule', 'created', enterprise, 'LPDKDN'],
    ]);
    const closing = dry.changes.find((c: any) => c.action === 'closed');
    expect(closing).toMatchObject({
      id: old.id,
      validFrom: '2023-02-05',
      fields: ['validTo'],
      before: { validTo: null },
      after: { validTo: '2026-08-14' },
    });
    expect(dry.changes[0]).toMatchObject({
      fields: ['receivingLevels'],
      before: { receivingLevels: [] },
      after: { receivingLevels: ['commune'] },
    });
    expect(dry.changes[3].after).toMatchObject({
      name: 'Đăng ký thành lập doanh nghiệp tư nhân',
      receivingUnits: [AGENCIES.department],
      integratedOnlinePayment: true,
      dataConfidence: 'secondary',
      note: 'Giảm 50% đến hết 2026',
    });
    expect(dry.changes[2]).toMatchObject({ id: null, validFrom: '2026-08-15', after: { formula: { type: 'fixed', amount: 15_000 } } });
    // Nothing was written.
    expect(await catalogueState()).toEqual(stateBefore);
    await expectProblem(await h.request('GET', `/v1/procedures/${enterprise}`, { token: admin }), 404, 'not-found');

    const applied = await expectJson(await importFile(file), 200);
    expect(applied).toMatchObject({ dryRun: false, applied: true, summary: dry.summary, errors: [] });
    expect(applied.changes.map((c: any) => [c.row, c.resource, c.action])).toEqual(
      dry.changes.map((c: any) => [c.row, c.resource, c.action]),
    );
    expect(applied.changes.every((c: any) => c.resource === 'procedure' || typeof c.id === 'string')).toBe(true);

    const read = await expectJson(await h.request('GET', `/v1/procedures/${residence}`, { token: portal }), 200);
    expect(read.receivingLevels).toEqual(['commune']);
    expect(read.feeRules.map((r: any) => [r.validFrom, r.validTo, r.formula.amount])).toEqual([
      ['2023-02-05', '2026-08-14', 10_000],
      ['2026-08-15', null, 15_000],
    ]);
    // Closed, not overwritten: a dossier is priced by the rule in force on its date.
    expect((await dossierOn(residence, '2026-08-14')).totalDue).toBe(10_000);
    expect((await dossierOn(residence, '2026-08-15')).totalDue).toBe(15_000);
    expect((await dossierOn(residence, '2026-12-04', { channel: 'online' })).totalDue).toBe(7_000);
    expect((await dossierOn(enterprise, '2026-12-31')).totalDue).toBe(25_000);
    expect((await dossierOn(enterprise, '2027-01-01')).totalDue).toBe(50_000);
    expect((await dossierOn(enterprise, '2026-12-04', { channel: 'online' })).obligations).toMatchObject([{ amount: 0, status: 'waived' }]);

    const audit = await auditSince(stateBefore.audit);
    expect(audit.map((a) => [a.action, a.resourceType])).toEqual([
      ['procedure.update', 'procedure'],
      ['procedure.create', 'procedure'],
      ['fee_rule.close', 'fee_rule'],
      ['fee_rule.create', 'fee_rule'],
      ['fee_rule.create', 'fee_rule'],
      ['catalogue.import', 'catalogue_import'],
    ]);
    expect(audit.every((a) => a.actor === 'admin:admin-user' && a.reason?.includes(applied.file.sha256))).toBe(true);
    expect(audit.find((a) => a.action === 'fee_rule.close')).toMatchObject({
      resourceId: old.id,
      before: { validTo: null },
      after: { validTo: '2026-08-14' },
    });
    expect(audit.at(-1)!.after).toMatchObject({ summary: applied.summary });

    // The same file again: nothing to change, and nothing changed but the record of the import.
    const stateAfter = await catalogueState();
    const again = await expectJson(await importFile(file), 200);
    expect(again).toMatchObject({
      applied: true,
      changes: [],
      summary: { procedures: { created: 0, updated: 0, unchanged: 2 }, feeRules: { created: 0, updated: 0, closed: 0, unchanged: 2 } },
    });
    expect({ ...(await catalogueState()), audit: 0 }).toEqual({ ...stateAfter, audit: 0 });
    expect((await auditSince(stateAfter.audit)).map((a) => a.action)).toEqual(['catalogue.import']);
  });

  it('changes of a rule that exists are only what does not price a dossier, or its end', async () => {
    const code = uniqueProcedureCode();
    await expectJson(await put(code, procedureBody), 201);
    const existing = await expectJson(await addRule(code, rule({ feeCode: 'LP01', validFrom: '2024-01-01' })), 201);
    const base = {
      procedureCode: code,
      feeCode: 'LP01',
      kind: 'le_phi',
      feeName: existing.name,
      formula: existing.formula,
      validFrom: '2024-01-01',
    };
    const described = await expectJson(
      await importFile(
        csvFile([{ ...base, legalBasis: 'Thông tư mới ghi rõ', budgetChapter: '418', budgetSubItem: '2766', budgetAccount: '7111' }]),
        {
          dryRun: true,
        },
      ),
      200,
    );
    expect(described.summary.feeRules).toEqual({ created: 0, updated: 1, closed: 0, unchanged: 0 });
    expect(described.changes[0]).toMatchObject({
      action: 'updated',
      fields: ['legalBasis', 'budgetChapter', 'budgetSubItem', 'budgetAccount'],
    });

    const closed = await expectJson(await importFile(csvFile([{ ...base, legalBasis: existing.legalBasis, validTo: '2026-12-31' }])), 200);
    expect(closed.changes).toMatchObject([{ action: 'closed', fields: ['validTo'], after: { validTo: '2026-12-31' } }]);

    // New amounts on the same rule: refused, and nothing else of the file happens.
    const state = await catalogueState();
    const overwrite = await expectProblem(
      await importFile(
        csvFile([
          { ...base, formula: { type: 'fixed', amount: 200_000 }, legalBasis: existing.legalBasis, validTo: '2026-12-31' },
          { ...base, validFrom: '2027-01-01', formula: { type: 'fixed', amount: 200_000 }, legalBasis: 'Thông tư mới' },
        ]),
      ),
      400,
      'validation-failed',
    );
    expect(overwrite.errors).toEqual([{ path: 'row 2.formula', message: expect.stringMatching(/never overwritten/) }]);
    expect(overwrite.rowErrors).toEqual([{ row: 2, column: 'formula', message: expect.any(String) }]);
    // A successor that starts before the end the file gives its predecessor.
    const overlap = await expectProblem(
      await importFile(
        csvFile([
          { ...base, legalBasis: existing.legalBasis, validTo: '2026-12-31' },
          { ...base, validFrom: '2026-07-01', formula: { type: 'fixed', amount: 200_000 }, legalBasis: 'Thông tư mới' },
        ]),
      ),
      400,
      'validation-failed',
    );
    expect(overlap.errors.map((e: any) => e.path)).toEqual(['row 3.validFrom']);
    expect(await catalogueState()).toEqual(state);
  });

  it('a bad file is refused whole with the rows at fault (problem+json), and nothing is written; a dry run lists the same errors', async () => {
    const taken = uniqueProcedureCode();
    await expectJson(await put(taken, procedureBody), 201);
    await expectJson(await addRule(taken, rule({ feeCode: 'LP01', validFrom: '2024-01-01' })), 201);
    const fresh = uniqueProcedureCode();
    const good = {
      procedureCode: fresh,
      procedureName: 'Thủ tục mới',
      field: 'Thử nghiệm',
      level: 'xã',
      feeCode: 'LP01',
      kind: 'le_phi',
      feeName: 'Lệ phí',
      formula: { type: 'fixed', amount: 30_000 },
      validFrom: '2026-01-01',
      legalBasis: 'Nghị quyết HĐND tỉnh',
    };
    const file = csvFile([
      good,
      { ...good, feeCode: 'LP02', formula: '{"type":"fixed","amount":' },
      {
        procedureCode: taken,
        feeCode: 'LP01',
        kind: 'le_phi',
        feeName: 'Lệ phí cấp giấy',
        formula: { type: 'fixed', amount: 1 },
        validFrom: '2024-01-01',
        legalBasis: 'x',
      },
      { procedureCode: uniqueProcedureCode(), procedureName: 'Khác', field: 'x', level: 'xã', receivingUnits: '000.99.99.H19' },
      { ...good, feeCode: 'LP03', validFrom: '31/02/2026' },
      { ...good, feeCode: 'LP04', kind: 'fee' },
      { ...good, feeCode: 'LP05', formula: { type: 'fixed', amount: 1.5 } },
      { ...good, feeCode: 'LP06', kind: 'le_phi', retainedPercent: '30' },
      { procedureCode: 'not-a-code' },
      {
        procedureCode: uniqueProcedureCode(),
        feeCode: 'LP01',
        kind: 'le_phi',
        feeName: 'x',
        formula: { type: 'exempt' },
        validFrom: '2026-01-01',
        legalBasis: 'x',
      },
      { procedureCode: fresh, level: 'tỉnh' },
    ]);
    const state = await catalogueState();
    const problem = await expectProblem(await importFile(file), 400, 'validation-failed');
    expect(problem.detail).toMatch(/nothing was changed/);
    const expectedErrors = [
      [3, 'formula'],
      [4, 'formula'],
      [5, 'receivingUnits'],
      [6, 'validFrom'],
      [7, 'kind'],
      [8, 'formula'],
      [9, 'retainedPercent'],
      [10, 'procedureCode'],
      [11, 'procedureName'],
      [11, 'field'],
      [11, 'level'],
      [12, 'level'],
    ];
    expect(problem.rowErrors.map((e: any) => [e.row, e.column])).toEqual(expectedErrors);
    expect(problem.errors.map((e: any) => e.path)).toEqual(expectedErrors.map(([row, column]) => `row ${row}.${column}`));
    expect(await catalogueState()).toEqual(state);
    await expectProblem(await h.request('GET', `/v1/procedures/${fresh}`, { token: admin }), 404, 'not-found');

    const dry = await expectJson(await importFile(file, { dryRun: true }), 200);
    expect(dry.applied).toBe(false);
    expect(dry.errors.map((e: any) => [e.row, e.column])).toEqual(expectedErrors);
    // What the good rows would do is still said.
    expect(dry.changes.filter((c: any) => c.procedureCode === fresh).map((c: any) => [c.row, c.resource, c.action])).toEqual([
      [2, 'procedure', 'created'],
      [2, 'fee_rule', 'created'],
    ]);
    expect(await catalogueState()).toEqual(state);
  });

  it.each<[string, () => { bytes: Uint8Array; name?: string; type?: string }, number, string, string]>([
    ['an unknown column', () => ({ bytes: csvFile([{ procedureCode: '1.000001', amount: 5 }]) }), 400, 'validation-failed', 'row 1.amount'],
    ['no procedureCode column', () => ({ bytes: csvFile([{ feeCode: 'LP01' }]) }), 400, 'validation-failed', 'row 1.procedureCode'],
    ['an empty file', () => ({ bytes: new Uint8Array(0) }), 400, 'validation-failed', 'file'],
    [
      'a quote left open',
      () => ({ bytes: new TextEncoder().encode('procedureCode,note\n1.000001,"open\n') }),
      400,
      'validation-failed',
      'file',
    ],
    ['text that is not UTF-8', () => ({ bytes: new Uint8Array([0x70, 0x72, 0x6f, 0xe0, 0x0a]) }), 400, 'validation-failed', 'file'],
    [
      'a PDF',
      () => ({ bytes: new TextEncoder().encode('%PDF-1.7'), name: 'danh-muc.pdf', type: 'application/pdf' }),
      415,
      'unsupported-media-type',
      'file',
    ],
    [
      'an XLSX that is not a workbook',
      () => ({ bytes: new TextEncoder().encode('procedureCode\n'), name: 'danh-muc.xlsx' }),
      415,
      'unsupported-media-type',
      '',
    ],
  ])('refuses %s', async (_, make, status, code, path) => {
    const state = await catalogueState();
    const { bytes, name, type } = make();
    const problem = await expectProblem(await importFile(bytes, { name, type }), status, code);
    if (path) expect(problem.errors.map((e: any) => e.path)).toContain(path);
    expect(await catalogueState()).toEqual(state);
  });

  it('refuses a body that is not multipart, and every role but admin', async () => {
    await expectProblem(
      await h.request('POST', '/v1/catalogue/imports', {
        token: admin,
        rawBody: 'procedureCode\n',
        headers: { 'content-type': 'text/csv' },
      }),
      415,
      'unsupported-media-type',
    );
    for (const role of ['portal', 'treasury', 'campaign'] as const) {
      const token = await mintToken({ role, agencies: [AGENCIES.province] });
      await expectProblem(await importFile(csvFile([{ procedureCode: uniqueProcedureCode() }]), { token }), 403, 'forbidden');
    }
  });

  it('reads an XLSX workbook: real dates, booleans and numbers in their cells', async () => {
    const code = uniqueProcedureCode();
    const columns = [
      'procedureCode',
      'procedureName',
      'field',
      'level',
      'receivingLevels',
      'integratedOnlinePayment',
      'feeCode',
      'kind',
      'feeName',
      'lineNo',
      'formula',
      'validFrom',
      'legalBasis',
    ];
    const bytes = await h.ctx.spreadsheets!.write({
      sheets: [
        {
          name: 'Danh mục',
          columns: columns.map((header) => ({ header })),
          rows: [
            [
              code,
              'Chứng thực bản sao',
              'Chứng thực',
              'xã',
              'commune',
              true,
              'PCTBS',
              'phi',
              'Phí chứng thực bản sao',
              1,
              JSON.stringify({
                type: 'per_unit',
                unit: 'trang',
                tiers: [
                  { fromUnit: 1, unitAmount: 2_000 },
                  { fromUnit: 3, unitAmount: 1_000 },
                ],
                cap: 200_000,
                perCopy: true,
              }),
              new Date(Date.UTC(2017, 0, 1)),
              'Thông tư 226/2016/TT-BTC',
            ],
          ],
        },
      ],
    });
    const applied = await expectJson(
      await importFile(bytes, { name: 'danh-muc.xlsx', type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }),
      200,
    );
    expect(applied).toMatchObject({
      applied: true,
      file: { format: 'xlsx', rows: 1 },
      summary: { procedures: { created: 1 }, feeRules: { created: 1 } },
    });
    const read = await expectJson(await h.request('GET', `/v1/procedures/${code}`, { token: portal }), 200);
    expect(read).toMatchObject({ receivingLevels: ['commune'], integratedOnlinePayment: true });
    expect(read.feeRules).toMatchObject([{ kind: 'phi', validFrom: '2017-01-01', formula: { perCopy: true, cap: 200_000 } }]);
    // 5 pages, 3 copies: 7.000 đ a copy.
    expect((await registerDossier(h, portal, code, { quantity: 5, copies: 3 })).totalDue).toBe(21_000);
  });
});
