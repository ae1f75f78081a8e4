import { eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dossiers, indicatorDaily, obligations } from '../../src/db/schema/index.ts';
import { queryRows } from '../../src/db/types.ts';
import { feeListDrift, rebuildRollups, rollupDrift } from '../../src/services/indicator-rollups.ts';
import { databaseLabel, onServer } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, dossierBody, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';

/**
 * The daily roll-ups are kept by the dossiers trigger in the writer's own transaction. Whatever
 * happens to dossiers (registration, new fee inputs, a move to another day, unit or procedure,
 * a payment, a deletion), and however many writers race, the roll-up table must equal a
 * recount made here from the dossiers and their obligations themselves.
 */
let h: Harness;
let portal: string;
const procedures = { charged: '', zeroOnline: '', exempt: '', noRules: '' };
const AGENCY_CODES = [AGENCIES.communeA, AGENCIES.communeB, AGENCIES.department, AGENCIES.districtCommune];
const DAYS = ['2026-11-02', '2026-11-03', '2026-10-31'];
let counter = 0;

beforeAll(async () => {
  h = await createHarness();
  await h.listen();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  procedures.charged = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 135_000 } })]);
  procedures.zeroOnline = await createProcedure(h.ctx, [
    rule({
      formula: { type: 'fixed', amount: 50_000 },
      adjustments: [{ label: 'Miễn khi nộp trực tuyến', channels: ['online'], effect: { type: 'exempt' } }],
    }),
  ]);
  procedures.exempt = await createProcedure(h.ctx, [rule({ formula: { type: 'exempt' } })]);
  // Its only rule starts long after every dossier here: no fee line at all.
  procedures.noRules = await createProcedure(h.ctx, [rule({ validFrom: '2030-01-01' })]);
});
afterAll(() => h?.close());

/** The roll-ups recounted from dossiers and obligations, keyed like the table. */
async function recount(): Promise<Map<string, number[]>> {
  const rows = await h.db.db.select().from(dossiers);
  const lines = await h.db.db
    .select({ dossierCode: obligations.dossierCode, amount: obligations.amount, status: obligations.status })
    .from(obligations);
  const live = new Map<string, number[]>();
  for (const l of lines) if (l.status !== 'void') live.set(l.dossierCode, [...(live.get(l.dossierCode) ?? []), l.amount]);
  const counts = new Map<string, number[]>();
  for (const d of rows) {
    const amounts = live.get(d.code) ?? [];
    const zero = amounts.length > 0 && amounts.every((a) => a === 0);
    const charged = amounts.some((a) => a > 0);
    const key = `${d.receivedDate}|${d.agencyCode}|${d.procedureCode}`;
    const c = counts.get(key) ?? [0, 0, 0, 0, 0, 0];
    c[0]! += 1;
    if (d.channel === 'online') c[1]! += 1;
    if (zero) c[2]! += 1;
    if (charged) c[3]! += 1;
    if ((d.onlinePaymentFlag === 1 || d.onlinePaymentFlag === 2) && !zero) c[4]! += 1;
    if (d.onlinePaymentFlag === 1 && !zero) c[5]! += 1;
    counts.set(key, c);
  }
  return counts;
}

async function rollups(): Promise<Map<string, number[]>> {
  const rows = await h.db.db.select().from(indicatorDaily);
  return new Map(
    rows
      // A row whose dossiers all moved away stays, at zero: it counts for nothing.
      .filter(
        (r) =>
          r.dossiers !== 0 || r.onlineSubmitted !== 0 || r.zeroFee !== 0 || r.charged !== 0 || r.paidOnline !== 0 || r.paidPlatform !== 0,
      )
      .map((r) => [
        `${r.receivedDate}|${r.agencyCode}|${r.procedureCode}`,
        [r.dossiers, r.onlineSubmitted, r.zeroFee, r.charged, r.paidOnline, r.paidPlatform],
      ]),
  );
}

const sorted = (m: Map<string, number[]>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));

function code(agency: string, day: string) {
  counter += 1;
  return `${agency}-${day.slice(2).replaceAll('-', '')}-${String(counter % 10_000).padStart(4, '0')}`;
}

const put = (dossierCode: string, body: Record<string, unknown>) =>
  h.request('PUT', `/v1/dossiers/${dossierCode}`, { token: portal, body });

interface Op {
  kind: 'register' | 'update' | 'pay' | 'delete' | 'reprice' | 'void';
  procedure: keyof typeof procedures;
  agency: string;
  day: string;
  time: string;
  channel: 'online' | 'direct' | 'postal';
  target: number;
}

const op = fc.record<Op>({
  kind: fc.constantFrom('register', 'register', 'update', 'pay', 'pay', 'delete', 'reprice', 'void'),
  procedure: fc.constantFrom('charged', 'charged', 'zeroOnline', 'exempt', 'noRules'),
  agency: fc.constantFrom(...AGENCY_CODES),
  day: fc.constantFrom(...DAYS),
  // 23:30 in Vietnam is still that day; 00:10 is the next one.
  time: fc.constantFrom('T09:30:00+07:00', 'T23:30:00+07:00', 'T00:10:00+07:00'),
  channel: fc.constantFrom('online', 'direct', 'postal'),
  target: fc.nat(),
});

describe(`daily roll-ups on ${databaseLabel}`, () => {
  const known: string[] = [];

  it('equal a recount after any sequence of registrations, changes, moves, payments and deletions (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        for (const o of ops) {
          const body = dossierBody(procedures[o.procedure], { agencyCode: o.agency, channel: o.channel, receivedAt: `${o.day}${o.time}` });
          if (o.kind === 'register' || known.length === 0) {
            const c = code(o.agency, o.day);
            const response = await put(c, body);
            expect(response.status, await response.clone().text()).toBe(201);
            known.push(c);
            continue;
          }
          const target = known[o.target % known.length]!;
          if (o.kind === 'update') {
            // Refused (409) once something is paid or held: the roll-ups must not move then either.
            const response = await put(target, body);
            expect([200, 409]).toContain(response.status);
          } else if (o.kind === 'pay') {
            const created = await createIntent(h, portal, target);
            if (created.status !== 201) continue; // nothing to pay, or already held
            const intent = await json(created);
            expect((await json(await deliverSandboxCallback(h, sandboxEvent(intent)))).result).toBe('applied');
          } else if (o.kind === 'reprice' || o.kind === 'void') {
            // A correction made by hand in SQL to lines nobody is paying: the fee list follows.
            const set = o.kind === 'void' ? sql`status = 'void'` : o.channel === 'online' ? sql`amount = 0` : sql`amount = 70000`;
            await h.db.db.execute(sql`UPDATE obligations SET ${set}
                                      WHERE dossier_code = ${target} AND status IN ('unpaid', 'waived') AND live_intent_id IS NULL`);
          } else {
            // Only a dossier nothing refers to can go (by hand, in SQL: the hub never deletes).
            const deleted = await queryRows<{ code: string }>(
              h.db.db,
              sql`DELETE FROM dossiers d WHERE d.code = ${target}
                  AND NOT EXISTS (SELECT 1 FROM obligations o WHERE o.dossier_code = d.code)
                  AND NOT EXISTS (SELECT 1 FROM payment_intents i WHERE i.dossier_code = d.code) RETURNING d.code`,
            );
            if (deleted.length > 0) known.splice(known.indexOf(target), 1);
          }
        }
        expect(sorted(await rollups())).toEqual(sorted(await recount()));
      }),
      { numRuns: onServer ? 25 : 15 },
    );
  }, 240_000);

  it('are what the rebuild function recounts', async () => {
    const before = sorted(await rollups());
    await h.db.db.execute(sql`SELECT * FROM indicator_daily_rebuild()`);
    expect(sorted(await rollups())).toEqual(before);
    // A range rebuild leaves the other days alone.
    await h.db.db.execute(sql`SELECT * FROM indicator_daily_rebuild('2026-11-02', '2026-11-02')`);
    expect(sorted(await rollups())).toEqual(before);
  });

  it("are checked and set right by the operators' tools after a change made by hand", async () => {
    expect(await rollupDrift(h.db.db)).toEqual([]);
    expect(await feeListDrift(h.db.db)).toEqual([]);
    // A roll-up edited in SQL, and a dossier's fee list edited behind its obligations' back.
    const [row] = await h.db.db.select().from(indicatorDaily).limit(1);
    await h.db.db.execute(sql`UPDATE indicator_daily SET paid_online = paid_online + 2
                              WHERE received_date = ${row!.receivedDate} AND agency_code = ${row!.agencyCode} AND procedure_code = ${row!.procedureCode}`);
    const [charged] = await h.db.db.select({ code: dossiers.code }).from(dossiers).where(eq(dossiers.feeList, 'charged')).limit(1);
    await h.db.db.execute(sql`ALTER TABLE dossiers DISABLE TRIGGER USER`);
    await h.db.db.update(dossiers).set({ feeList: 'zero' }).where(eq(dossiers.code, charged!.code));
    await h.db.db.execute(sql`ALTER TABLE dossiers ENABLE TRIGGER USER`);

    const drift = await rollupDrift(h.db.db);
    expect(drift.map((d) => [d.receivedDate, d.agencyCode, d.procedureCode])).toContainEqual([
      row!.receivedDate,
      row!.agencyCode,
      row!.procedureCode,
    ]);
    expect(await feeListDrift(h.db.db)).toEqual([{ code: charged!.code, recorded: 'zero', obligations: 'charged' }]);
    expect(await rebuildRollups(h.db.db)).toMatchObject({ feeListsFixed: 1 });
    expect(await rollupDrift(h.db.db)).toEqual([]);
    expect(await feeListDrift(h.db.db)).toEqual([]);
    expect(sorted(await rollups())).toEqual(sorted(await recount()));
  });

  it('are rebuilt by two operators at once without either failing', async () => {
    const before = sorted(await rollups());
    const both = await Promise.all([rebuildRollups(h.db.db), rebuildRollups(h.db.db)]);
    expect(both.map((b) => b.feeListsFixed)).toEqual([0, 0]);
    expect(sorted(await rollups())).toEqual(before);
  });

  it('count every one of many simultaneous registrations and payments of the same day, unit and procedure', async () => {
    const day = '2026-11-20';
    const codes = Array.from({ length: 30 }, () => code(AGENCIES.communeA, day));
    const body = dossierBody(procedures.charged, { receivedAt: `${day}T10:00:00+07:00` });
    const registered = await Promise.all(codes.map((c) => put(c, body)));
    expect(registered.map((r) => r.status)).toEqual(Array(30).fill(201));
    const intents = await Promise.all(codes.slice(0, 20).map(async (c) => json(await createIntent(h, portal, c))));
    const paid = await Promise.all(intents.map(async (i) => json(await deliverSandboxCallback(h, sandboxEvent(i)))));
    expect(paid.every((p) => p.result === 'applied')).toBe(true);
    const [row] = await h.db.db
      .select()
      .from(indicatorDaily)
      .where(
        sql`${indicatorDaily.receivedDate} = ${day} AND ${indicatorDaily.agencyCode} = ${AGENCIES.communeA} AND ${indicatorDaily.procedureCode} = ${procedures.charged}`,
      );
    expect(row).toMatchObject({ dossiers: 30, onlineSubmitted: 30, charged: 30, zeroFee: 0, paidOnline: 20, paidPlatform: 0 });
    expect(sorted(await rollups())).toEqual(sorted(await recount()));
  });

  it('moves dossiers between two days in opposite directions at once without a deadlock', async () => {
    const [first, second] = ['2026-11-24', '2026-11-25'];
    const a = code(AGENCIES.communeB, first!);
    const b = code(AGENCIES.communeB, second!);
    const at = (day: string) => dossierBody(procedures.charged, { agencyCode: AGENCIES.communeB, receivedAt: `${day}T08:00:00+07:00` });
    expect((await put(a, at(first!))).status).toBe(201);
    expect((await put(b, at(second!))).status).toBe(201);
    for (let round = 0; round < 10; round++) {
      const [x, y] = round % 2 === 0 ? [second!, first!] : [first!, second!];
      const answers = await Promise.all([put(a, at(x)), put(b, at(y))]);
      expect(answers.map((r) => r.status)).toEqual([200, 200]);
    }
    const counts = await h.db.db.select().from(indicatorDaily).where(eq(indicatorDaily.agencyCode, AGENCIES.communeB));
    const total = (day: string) => counts.filter((r) => r.receivedDate === day).reduce((n, r) => n + r.dossiers, 0);
    expect(total(first!) + total(second!)).toBe(2);
    expect(sorted(await rollups())).toEqual(sorted(await recount()));
  });
});
