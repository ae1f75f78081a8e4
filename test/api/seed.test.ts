import { count, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agencies, dossiers, feeRules, obligations, paymentIntents, procedures, receipts } from '../../src/db/schema/index.ts';
import { recordSandboxChoice } from '../../src/emulators/sandbox-checkout.ts';
import { sandboxTransactions } from '../../src/emulators/schema.ts';
import { FeeRuleInputSchema } from '../../src/http/schemas.ts';
import { AGENCY, DISTRICTS_CLOSED, PROVINCE } from '../../src/seed/agencies.ts';
import { planDossiers } from '../../src/seed/dossiers.ts';
import { isDatabaseEmpty, type SeedReport, seedDemo } from '../../src/seed/index.ts';
import { DEMO_PROCEDURES } from '../../src/seed/procedures.ts';
import { databaseLabel } from '../helpers/database.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';

/**
 * The demo data set: loaded into an empty database through the real service paths, it carries
 * every fee shape, an agency tree of more than one level, several hundred recent dossiers with
 * a realistic share paid online, and loading it again adds dossiers without duplicating the
 * catalogue. The seeded rules then price new dossiers as the law says.
 */
const NOW = new Date('2026-11-20T10:00:00+07:00');
const DAY = 24 * 60 * 60 * 1000;

let h: Harness;
let admin: string;
let report: SeedReport;
let emptyBefore: boolean;

beforeAll(async () => {
  h = await createHarness();
  emptyBefore = await isDatabaseEmpty(h.ctx);
  const started = performance.now();
  report = await seedDemo(h.ctx, { now: NOW, recordSandboxChoice });
  console.info(`seedDemo (300 dossiers) on ${databaseLabel}: ${Math.round(performance.now() - started)} ms`);
  admin = await mintToken({ role: 'admin' });
});
afterAll(() => h.close());

const db = () => h.db.db;

describe(`the demo catalogue (${databaseLabel})`, () => {
  it('is loaded only into an empty database, and reports what it loaded', async () => {
    expect(emptyBefore).toBe(true);
    expect(await isDatabaseEmpty(h.ctx)).toBe(false);
    expect(report).toMatchObject({ agencies: expect.any(Number), procedures: DEMO_PROCEDURES.length, dossiers: 300 });
    expect(report.feeRules).toBe(DEMO_PROCEDURES.reduce((n, p) => n + p.rules.length, 0));
  });

  it('has the real procedures with rules of every fee shape, valid for the API', async () => {
    const { items } = await json(await h.request('GET', '/v1/procedures', { token: admin }));
    expect(items.length).toBeGreaterThanOrEqual(15);
    const codes = items.map((p: { code: string }) => p.code);
    for (const code of [
      '1.001193',
      '1.000894',
      '1.000656',
      '2.000815',
      '2.000884',
      '3.000333',
      '3.000347',
      '1.001456',
      '2.001195',
      '1.004222',
      '1.004194',
      '1.001612',
      '2.001610',
      '1.013225',
      '1.013831',
      '1.000377',
      '1.013855',
    ]) {
      expect(codes).toContain(code);
    }

    const rules = items.flatMap((p: { feeRules: Array<Record<string, any>> }) => p.feeRules);
    // Every seeded rule is one the admin API would have accepted.
    for (const { id: _id, ...rule } of rules) expect(() => FeeRuleInputSchema.parse(rule)).not.toThrow();
    for (const rule of rules) {
      expect(rule.legalBasis.length).toBeGreaterThan(5);
      expect(rule.validFrom).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }

    const formulas = new Set(rules.map((r: any) => r.formula.type));
    expect([...formulas].sort()).toEqual(['exempt', 'fixed', 'per_unit', 'percentage', 'table']);
    expect(rules.some((r: any) => r.formula.type === 'per_unit' && r.formula.tiers.length >= 2 && r.formula.cap > 0)).toBe(true);
    const adjustments = rules.flatMap((r: any) => r.adjustments);
    // A channel amount without dates, a dated window, and a payer-category reduction and exemption.
    expect(adjustments.some((a: any) => a.channels && !a.from && !a.to && !a.payerCategories)).toBe(true);
    expect(adjustments.some((a: any) => a.from && a.to)).toBe(true);
    expect(adjustments.some((a: any) => a.from && a.to && !a.channels)).toBe(true);
    expect(adjustments.some((a: any) => a.payerCategories && a.effect.type === 'amount')).toBe(true);
    expect(adjustments.some((a: any) => a.payerCategories && a.effect.type === 'exempt')).toBe(true);
    expect(rules.some((r: any) => r.kind === 'phi')).toBe(true);
    expect(rules.some((r: any) => r.kind === 'le_phi')).toBe(true);
    // Percentages stay decimal strings.
    expect(rules.find((r: any) => r.formula.type === 'percentage' && r.feeCode === 'LPTB').formula.rate).toBe('0.5');
  });

  it('classifies every fee line for the budget: the real codes where the law gives them, the rest marked demo', async () => {
    const { items } = await json(await h.request('GET', '/v1/procedures', { token: admin }));
    const rules = items.flatMap((p: { code: string; feeRules: Array<Record<string, unknown>> }) =>
      p.feeRules.map((r) => ({ procedure: p.code, ...r })),
    );
    for (const r of rules) {
      expect(r, `${r.procedure} ${r.feeCode}`).toMatchObject({
        budgetChapter: expect.stringMatching(/^\d{3}$/),
        budgetSubItem: expect.stringMatching(/^\d{4}$/),
        budgetAccount: '7111',
      });
      if (r.kind === 'le_phi') expect(r.retainedPercent).toBeNull();
    }
    const land = rules.find((r: Record<string, unknown>) => r.procedure === '1.013831' && r.feeCode === 'LPTB');
    expect(land).toMatchObject({ budgetChapter: '757', budgetSubItem: '2801', budgetAccount: '7111', budgetCodesDemo: false });
    const moto = rules.find((r: Record<string, unknown>) => r.procedure === '9.000001');
    expect(moto).toMatchObject({ budgetSubItem: '2802', budgetCodesDemo: false });
    expect(rules.find((r: Record<string, unknown>) => r.feeCode === 'LPCC')).toMatchObject({
      budgetSubItem: '2768',
      budgetCodesDemo: true,
    });
    expect(rules.find((r: Record<string, unknown>) => r.feeCode === 'LPKH')).toMatchObject({ budgetSubItem: '2771' });
    // Some phí keep a share, with two decimals.
    expect(
      rules
        .filter((r: Record<string, unknown>) => r.kind === 'phi')
        .every((r: Record<string, unknown>) => /^\d+\.\d\d$/.test(String(r.retainedPercent))),
    ).toBe(true);
  });

  it('marks how sure each procedure is, with demo values named in the note', async () => {
    const { items } = await json(await h.request('GET', '/v1/procedures', { token: admin }));
    for (const p of items) {
      expect(['confirmed', 'secondary', 'unconfirmed']).toContain(p.dataConfidence);
      if (p.dataConfidence === 'unconfirmed') expect(p.note).toMatch(/demo/);
    }
    expect(items.find((p: any) => p.code === '3.000347').dataConfidence).toBe('confirmed');
    expect(items.find((p: any) => p.code === '3.000333').dataConfidence).toBe('secondary');
    // Indicator b is not trivially 100 %: most, not all, fee-bearing procedures are integrated.
    const feeBearing = items.filter((p: any) => p.feeBearing);
    const integrated = feeBearing.filter((p: any) => p.integratedOnlinePayment);
    expect(integrated.length).toBeGreaterThan(feeBearing.length / 2);
    expect(integrated.length).toBeLessThan(feeBearing.length);
    // Fee-bearing as the portal counts it: any non-zero amount, base or adjustment.
    const bearing = (code: string) => items.find((p: any) => p.code === code).feeBearing;
    expect(bearing('1.001193')).toBe(false); // birth registration: always free
    expect(bearing('1.000656')).toBe(true); // death registration: free on time, charged late
    expect(bearing('3.000347')).toBe(true);
  });

  it('has an agency tree with departments, communes and a closed district with communes under it', async () => {
    const { items } = await json(await h.request('GET', '/v1/agencies', { token: admin }));
    expect(items[0]).toMatchObject({ code: PROVINCE, parentCode: null, depth: 0 });
    expect(Math.max(...items.map((a: any) => a.depth))).toBeGreaterThanOrEqual(2);
    expect(items.filter((a: any) => a.level === 'commune' && a.validTo === null).length).toBeGreaterThanOrEqual(10);
    expect(items.filter((a: any) => a.level === 'department').length).toBeGreaterThanOrEqual(5);
    const district = items.find((a: any) => a.level === 'district');
    expect(district.validTo).toBe(DISTRICTS_CLOSED);
    const underIt = items.filter((a: any) => a.parentCode === district.code);
    expect(underIt.length).toBeGreaterThan(0);
    expect(underIt.every((a: any) => a.depth === 2 && a.validTo === DISTRICTS_CLOSED && a.mergedInto)).toBe(true);

    // Every agency that received a dossier can issue receipts into its own collection account.
    const receiving = await db().selectDistinct({ code: dossiers.agencyCode }).from(dossiers);
    const rows = await db()
      .select()
      .from(agencies)
      .where(
        inArray(
          agencies.code,
          receiving.map((r) => r.code),
        ),
      );
    for (const a of rows) {
      expect(a.receiptFormSymbol && a.receiptSeriesSymbol && a.bankBin && a.accountNumber && a.accountName).toBeTruthy();
    }
  });
});

describe(`the demo dossiers (${databaseLabel})`, () => {
  it('are several hundred, received in business hours over the 60 days before now, with valid codes', async () => {
    const rows = await db().select().from(dossiers);
    expect(rows.length).toBe(300);
    for (const d of rows) {
      expect(d.receivedAt.getTime()).toBeLessThan(NOW.getTime());
      expect(d.receivedAt.getTime()).toBeGreaterThanOrEqual(NOW.getTime() - 61 * DAY);
      // <receiving unit>-<yymmdd>-<daily sequence>
      expect(d.code).toBe(`${d.agencyCode}-${d.receivedDate.slice(2).replaceAll('-', '')}-${d.code.slice(-4)}`);
      expect(d.code.slice(-4)).toMatch(/^\d{4}$/);
      const hour = (d.receivedAt.getUTCHours() + 7) % 24;
      expect(hour).toBeGreaterThanOrEqual(7);
      expect(hour).toBeLessThan(17);
    }
    // Daily sequences start at 1 and have no holes within a unit's day.
    const byDay = new Map<string, number[]>();
    for (const d of rows) {
      const prefix = d.code.slice(0, -5);
      byDay.set(prefix, [...(byDay.get(prefix) ?? []), Number(d.code.slice(-4))]);
    }
    for (const seqs of byDay.values()) expect(seqs.sort((a, b) => a - b)).toEqual(seqs.map((_, i) => i + 1));

    expect(new Set(rows.map((d) => d.agencyCode)).size).toBeGreaterThanOrEqual(10);
    expect(new Set(rows.map((d) => d.procedureCode)).size).toBeGreaterThanOrEqual(15);
    const channels = rows.map((d) => d.channel);
    expect(channels.filter((c) => c === 'online').length).toBeGreaterThan(rows.length / 2);
    expect(channels).toContain('direct');
    expect(channels).toContain('postal');
    // The inputs the fees need are filled in.
    expect(rows.filter((d) => d.procedureCode === '2.000815').every((d) => d.quantity !== null && d.quantity > 0)).toBe(true);
    expect(rows.filter((d) => d.procedureCode === '1.013831').every((d) => d.declaredValue !== null && d.declaredValue > 0)).toBe(true);
    expect(rows.some((d) => d.payerCategories.length > 0)).toBe(true);
    expect(rows.every((d) => d.applicantName && d.applicantAddress?.endsWith('tỉnh Đồng Nai'))).toBe(true);
  });

  it('are partly paid online through the sandbox, with obligations paid and receipts issued', async () => {
    const paid = await db().select().from(dossiers).where(eq(dossiers.onlinePaymentFlag, 2));
    expect(paid.length).toBe(report.paidOnline);
    expect(paid.length).toBeGreaterThan(50);
    const lines = await db()
      .select()
      .from(obligations)
      .where(
        inArray(
          obligations.dossierCode,
          paid.map((d) => d.code),
        ),
      );
    expect(lines.every((o) => o.status === 'paid' || o.status === 'waived')).toBe(true);
    for (const d of paid) {
      expect(d.paidAt!.getTime()).toBeGreaterThan(d.receivedAt.getTime());
      expect(d.paidAt!.getTime()).toBeLessThan(NOW.getTime());
    }

    const intents = await db().select().from(paymentIntents);
    const succeeded = intents.filter((i) => i.status === 'succeeded');
    expect(succeeded.length).toBe(report.paidOnline);
    expect(intents.some((i) => i.status === 'expired')).toBe(true);
    expect(intents.some((i) => i.status === 'cancelled')).toBe(true);
    // Nothing is left live for the expiry job to trip over, and no obligation is held.
    expect(intents.filter((i) => i.status === 'pending' || i.status === 'created')).toEqual([]);
    const [{ held } = { held: -1 }] = await db()
      .select({ held: count() })
      .from(obligations)
      .where(
        inArray(
          obligations.liveIntentId,
          intents.map((i) => i.id),
        ),
      );
    expect(held).toBe(0);

    const [{ n } = { n: 0 }] = await db().select({ n: count() }).from(receipts);
    expect(n).toBe(succeeded.length);
    const receipt = await json(await h.request('GET', `/v1/payment-intents/${succeeded[0]!.id}/receipt`, { token: admin }));
    expect(receipt).toMatchObject({
      total: succeeded[0]!.amount,
      gatewayTransactionId: `SBX${succeeded[0]!.reference}`,
      number: expect.any(Number),
    });
    expect(receipt.totalInWords).toMatch(/đồng$/);

    // The sandbox's ledger tells the same history (its settlement file is written from it).
    const ledger = await db().select().from(sandboxTransactions);
    const byReference = new Map(ledger.map((t) => [t.reference, t]));
    expect(ledger.filter((t) => t.status === 'succeeded')).toHaveLength(succeeded.length);
    for (const i of succeeded) {
      expect(byReference.get(i.reference)).toMatchObject({
        transactionId: i.gatewayTransactionId,
        amount: i.amount,
        createdAt: i.succeededAt,
      });
    }
    expect(ledger.filter((t) => t.status === 'declined')).toHaveLength(intents.filter((i) => i.status === 'failed').length);
  });

  it('pay online in a realistic share that differs from unit to unit', async () => {
    // 766 indicator (c): dossiers paid online over dossiers with something to pay.
    const rows = await db().select({ code: dossiers.code, agency: dossiers.agencyCode, flag: dossiers.onlinePaymentFlag }).from(dossiers);
    const priced = new Set(
      (
        await db()
          .selectDistinct({ code: obligations.dossierCode })
          .from(obligations)
          .where(inArray(obligations.status, ['unpaid', 'paid']))
      ).map((r) => r.code),
    );
    const owing = rows.filter((d) => priced.has(d.code));
    const share = owing.filter((d) => d.flag === 2).length / owing.length;
    expect(share).toBeGreaterThanOrEqual(0.4);
    expect(share).toBeLessThanOrEqual(0.7);

    const byUnit = new Map<string, { owing: number; paid: number }>();
    for (const d of owing) {
      const unit = byUnit.get(d.agency) ?? { owing: 0, paid: 0 };
      unit.owing++;
      if (d.flag === 2) unit.paid++;
      byUnit.set(d.agency, unit);
    }
    const shares = [...byUnit.values()].filter((u) => u.owing >= 8).map((u) => u.paid / u.owing);
    expect(Math.max(...shares) - Math.min(...shares)).toBeGreaterThan(0.3);
  });

  it('are planned deterministically from the seed and now', () => {
    const options = { count: 50, now: NOW, seed: 766, intentTtlMinutes: 30 };
    expect(planDossiers(options)).toEqual(planDossiers(options));
    expect(planDossiers({ ...options, seed: 767 })).not.toEqual(planDossiers(options));
  });
});

describe(`fees of the seeded rules, through the API (${databaseLabel})`, () => {
  let n = 9000;
  async function register(procedureCode: string, agencyCode: string, body: Record<string, unknown>) {
    const received = String(body.receivedAt);
    const yymmdd = received.slice(2, 10).replaceAll('-', '');
    const code = `${agencyCode}-${yymmdd}-${String(++n).padStart(4, '0')}`;
    // A receipt is dated at most tomorrow: a dossier of a later day is registered on its day.
    h.clock.now = Date.parse(received) > Date.now() ? new Date(received) : null;
    const response = await h.request('PUT', `/v1/dossiers/${code}`, {
      token: admin,
      body: {
        procedureCode,
        agencyCode,
        applicant: { name: 'Trần Thị Bích', address: '5 Đồng Khởi, phường Tam Hiệp, tỉnh Đồng Nai' },
        ...body,
      },
    });
    expect(response.status).toBe(201);
    return json(response);
  }
  const amounts = (d: { obligations: Array<{ amount: number }> }) => d.obligations.map((o) => o.amount);

  it('driving licence 3.000347: 115.000 online until the end of 2025, 135.000 otherwise', async () => {
    const online2025 = await register('3.000347', AGENCY.trafficPolice, { channel: 'online', receivedAt: '2025-06-10T09:00:00+07:00' });
    expect(amounts(online2025)).toEqual([115_000]);
    expect(online2025.obligations[0].adjustment).toMatch(/trực tuyến/);
    const online2026 = await register('3.000347', AGENCY.trafficPolice, { channel: 'online', receivedAt: '2026-01-05T09:00:00+07:00' });
    expect(amounts(online2026)).toEqual([135_000]);
    const direct2025 = await register('3.000347', AGENCY.trafficPolice, { channel: 'direct', receivedAt: '2025-06-10T09:00:00+07:00' });
    expect(amounts(direct2025)).toEqual([135_000]);
  });

  it('copies 2.000815: 2.000 a page, 1.000 from page 3, at most 200.000', async () => {
    const five = await register('2.000815', AGENCY.tranBien, { channel: 'direct', receivedAt: '2026-11-19T09:00:00+07:00', quantity: 5 });
    expect(amounts(five)).toEqual([2 * 2_000 + 3 * 1_000]);
    const many = await register('2.000815', AGENCY.tranBien, { channel: 'direct', receivedAt: '2026-11-19T09:05:00+07:00', quantity: 300 });
    expect(amounts(many)).toEqual([200_000]);
  });

  it('judicial record 3.000333: 100.000 for a student, waived for a child', async () => {
    const student = await register('3.000333', AGENCY.recordsPolice, {
      channel: 'online',
      receivedAt: '2026-11-19T09:00:00+07:00',
      payerCategory: 'student',
    });
    expect(amounts(student)).toEqual([100_000]);
    const child = await register('3.000333', AGENCY.recordsPolice, {
      channel: 'online',
      receivedAt: '2026-11-19T09:10:00+07:00',
      payerCategory: 'child',
    });
    expect(child.obligations).toMatchObject([{ amount: 0, status: 'waived' }]);
    expect(child.totalDue).toBe(0);
    const adult = await register('3.000333', AGENCY.recordsPolice, { channel: 'online', receivedAt: '2026-11-19T09:20:00+07:00' });
    expect(amounts(adult)).toEqual([200_000]);
  });

  it('ID card 2.001195: half online in early 2025, half on every channel from July 2025 to 2026', async () => {
    const cases: Array<[string, string, number]> = [
      ['online', '2025-03-10', 25_000],
      ['direct', '2025-03-10', 50_000],
      ['direct', '2025-08-01', 25_000],
      ['online', '2026-12-31', 25_000],
      ['online', '2027-01-04', 50_000],
    ];
    for (const [channel, date, amount] of cases) {
      const d = await register('2.001195', AGENCY.residencePolice, { channel, receivedAt: `${date}T10:00:00+07:00` });
      expect(amounts(d), `${channel} ${date}`).toEqual([amount]);
    }
  });

  it('land transfer 1.013831: lệ phí trước bạ is 0.5 % of the declared value, beside the fixed lines', async () => {
    const d = await register('1.013831', AGENCY.landRegistry, {
      channel: 'direct',
      receivedAt: '2026-11-19T14:00:00+07:00',
      declaredValue: 2_345_678_901,
    });
    expect(amounts(d)).toEqual([50_000, 500_000, 11_728_395]); // 0.5 % of 2.345.678.901 = 11.728.394,505 → half up
  });

  it('food safety 1.013855: a table on the number of meals', async () => {
    const small = await register('1.013855', AGENCY.health, { channel: 'online', receivedAt: '2026-11-19T09:00:00+07:00', quantity: 199 });
    expect(amounts(small)).toEqual([700_000]);
    const large = await register('1.013855', AGENCY.health, { channel: 'online', receivedAt: '2026-11-19T09:30:00+07:00', quantity: 200 });
    expect(amounts(large)).toEqual([1_000_000]);
  });

  it('private enterprise 2.001610: the lệ phí is waived online and halved to 31/12/2026 at the counter, the publication fee is not', async () => {
    const online = await register('2.001610', AGENCY.finance, { channel: 'online', receivedAt: '2026-11-19T09:00:00+07:00' });
    expect(online.obligations).toMatchObject([
      { amount: 0, status: 'waived' },
      { amount: 100_000, status: 'unpaid' },
    ]);
    const direct = await register('2.001610', AGENCY.finance, { channel: 'direct', receivedAt: '2026-11-19T09:30:00+07:00' });
    expect(amounts(direct)).toEqual([25_000, 100_000]);
    const nextYear = await register('2.001610', AGENCY.finance, { channel: 'direct', receivedAt: '2027-01-04T09:30:00+07:00' });
    expect(amounts(nextYear)).toEqual([50_000, 100_000]);
  });
});

describe(`loading the demo again (${databaseLabel})`, () => {
  it('adds dossiers with fresh codes and leaves the catalogue as it was', async () => {
    const size = async () => ({
      agencies: (await db().select({ n: count() }).from(agencies))[0]!.n,
      procedures: (await db().select({ n: count() }).from(procedures))[0]!.n,
      feeRules: (await db().select({ n: count() }).from(feeRules))[0]!.n,
    });
    const before = await size();
    const oldCodes = new Set((await db().select({ code: dossiers.code }).from(dossiers)).map((r) => r.code));

    // The same `now` and seed plan the same units and days again: the codes must move on.
    const again = await seedDemo(h.ctx, { now: NOW, dossiers: 30 });
    expect(again.dossiers).toBe(30);
    expect(await size()).toEqual(before);

    const all = (await db().select({ code: dossiers.code }).from(dossiers)).map((r) => r.code);
    const added = all.filter((code) => !oldCodes.has(code));
    expect(added.length).toBe(30);
    const lastOld = new Map<string, number>();
    for (const code of oldCodes) lastOld.set(code.slice(0, -5), Math.max(lastOld.get(code.slice(0, -5)) ?? 0, Number(code.slice(-4))));
    const continued = added.filter((code) => lastOld.has(code.slice(0, -5)));
    expect(continued.length).toBeGreaterThan(0);
    for (const code of continued) expect(Number(code.slice(-4))).toBeGreaterThan(lastOld.get(code.slice(0, -5))!);
  });
});
