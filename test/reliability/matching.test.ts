import { eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discrepancies, reconciliationResults } from '../../src/db/schema/index.ts';
import { queryRows } from '../../src/db/types.ts';
import { addDays } from '../../src/domain/dates.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson } from '../helpers/problems.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';
import { insertStatement, type LineInput } from '../helpers/statements.ts';

/**
 * Matching as a property (issue 11): random days of sandbox payments, and a statement derived
 * from them with mutations (a line dropped, doubled, its amount changed, its time moved, only its
 * amount and time left, the reference inside noisy transfer text, lines of pending intents, lines
 * the hub never saw, lines that are not money in). Whatever the mix: every counted line and every
 * hub payment of the day is in exactly one class, the sums on both sides are conserved, a re-run
 * changes nothing, and each mutation lands in the class it implies wherever that is unambiguous.
 */

/** The fee lines of the test procedure: one dossier holds one of each, each paid by its own intent. */
const FEES = [135_000, 50_000, 200_000] as const;
const WINDOW_MINUTES = 30;
const RUNS = Number(process.env.MATCHING_RUNS ?? 20);

let h: Harness;
let portal: string;
let treasury: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness({ treasuryDay: { sources: {}, missingFlagDays: 3, amountTimeWindowMinutes: WINDOW_MINUTES } });
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'ke-toan-an' });
  procedure = await createProcedure(
    h.ctx,
    FEES.map((amount, i) => rule({ feeCode: `LP0${i + 1}`, name: `Lệ phí ${i + 1}`, lineNo: i + 1, formula: { type: 'fixed', amount } })),
  );
});
afterAll(() => h.close());

/** VN 10:00 on `date` plus `minutes` (a day's payments stay between 10:00 and 19:00, moves within the day). */
const at = (date: string, minutes = 0) => new Date(new Date(`${date}T03:00:00Z`).getTime() + minutes * 60_000);

type PaidMutation = 'txn' | 'reference' | 'text' | 'drop' | 'duplicate' | 'amount' | 'time_only' | 'moved';
type PendingMutation = 'heal' | 'heal_wrong_amount' | 'none';
type UnknownKind = 'txn' | 'txn_twice' | 'plain';
type NotCounted = 'failed' | 'debit' | 'rejected' | 'pending';

interface DaySpec {
  paid: Array<{ fee: number; minute: number; mutation: PaidMutation; shift: number; delta: number; format: number }>;
  pending: Array<{ fee: number; minute: number; mutation: PendingMutation; delta: number }>;
  unknown: Array<{ kind: UnknownKind; fee: number; minute: number }>;
  notCounted: NotCounted[];
  shuffle: number;
}

const fee = fc.integer({ min: 0, max: FEES.length - 1 });
// Payments close together, so that amounts and times collide within the matching window.
const minute = fc.integer({ min: 0, max: 90 });
const delta = fc.integer({ min: -20_000, max: 20_000 }).filter((d) => d !== 0);
const daySpec: fc.Arbitrary<DaySpec> = fc.record({
  paid: fc.array(
    fc.record({
      fee,
      minute,
      mutation: fc.constantFrom<PaidMutation>('txn', 'reference', 'text', 'drop', 'duplicate', 'amount', 'time_only', 'moved'),
      // Minutes a line's time is moved by: across the matching window's edge both ways.
      shift: fc.integer({ min: -2 * WINDOW_MINUTES, max: 2 * WINDOW_MINUTES }),
      delta,
      format: fc.nat(),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  pending: fc.array(fc.record({ fee, minute, mutation: fc.constantFrom<PendingMutation>('heal', 'heal_wrong_amount', 'none'), delta }), {
    maxLength: 2,
  }),
  unknown: fc.array(fc.record({ kind: fc.constantFrom<UnknownKind>('txn', 'txn_twice', 'plain'), fee, minute }), { maxLength: 2 }),
  notCounted: fc.array(fc.constantFrom<NotCounted>('failed', 'debit', 'rejected', 'pending'), { maxLength: 2 }),
  shuffle: fc.nat(),
});

/** The hub reference as a payer or a bank leaves it in transfer text: case, separators, diacritics and words around it. */
function noisyText(reference: string, format: number): string {
  const spaced = `${reference.slice(0, 2)} ${reference.slice(2, 7)}-${reference.slice(7)}`;
  const shapes = [reference, reference.toLowerCase(), spaced, `${reference.slice(0, 6)}.${reference.slice(6)}`];
  const before = ['MBVCB.8812345.IBFT', 'CT DEN:0123456789', 'Thanh toán lệ phí HS', 'NGUYEN VAN AN CHUYEN TIEN'];
  const after = ['thanh toan le phi', 'Nguyễn Văn An nộp', '', 'FT26123 HP TRANSFER'];
  const shape = shapes[format % shapes.length]!;
  return `${before[Math.floor(format / 4) % before.length]} ${shape} ${after[Math.floor(format / 16) % after.length]}`.trim();
}

/** A deterministic permutation (the order of a statement's lines is the bank's, not ours). */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

interface Intent {
  id: string;
  reference: string;
  amount: number;
}

/** Tags a statement line carries in the test (never written): which spec made it. */
type Tagged = LineInput & { tag: string };

let days = 0;

async function makeDay(spec: DaySpec) {
  days += 1;
  const date = addDays('2027-03-01', days);
  // One dossier per k-th use of a fee line: its intent pays that one obligation.
  const dossiers: Array<{ code: string; obligations: Array<{ id: string; amount: number }> }> = [];
  const used = new Map<number, number>();
  async function intentFor(feeIndex: number, minutes: number): Promise<Intent> {
    const k = used.get(feeIndex) ?? 0;
    used.set(feeIndex, k + 1);
    h.clock.now = at(date, minutes);
    if (!dossiers[k]) dossiers[k] = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeA });
    const obligation = dossiers[k]!.obligations.find((o) => o.amount === FEES[feeIndex]);
    return expectJson(await createIntent(h, portal, dossiers[k]!.code, { obligationIds: [obligation!.id] }), 201);
  }

  const lines: Tagged[] = [];
  const paid: Array<{ intent: Intent; txn: string; paidAt: Date; spec: DaySpec['paid'][number] }> = [];
  for (const [i, p] of spec.paid.entries()) {
    const intent = await intentFor(p.fee, p.minute);
    const txn = `SBX${intent.reference}`;
    const paidAt = at(date, p.minute);
    h.clock.now = paidAt;
    const response = await deliverSandboxCallback(h, sandboxEvent(intent, { occurredAt: paidAt.toISOString(), transactionId: txn }));
    expect(response.status).toBe(200);
    paid.push({ intent, txn, paidAt, spec: p });
    const tag = `paid:${i}`;
    const line: Tagged = { tag, transactionId: txn, amount: intent.amount, occurredAt: paidAt, status: 'paid' };
    switch (p.mutation) {
      case 'txn':
        lines.push(line);
        break;
      case 'reference':
        lines.push({ tag, reference: intent.reference, amount: intent.amount, occurredAt: paidAt, status: 'paid' });
        break;
      case 'text':
        lines.push({ tag, text: noisyText(intent.reference, p.format), amount: intent.amount, occurredAt: paidAt });
        break;
      case 'drop':
        break;
      case 'duplicate':
        lines.push(line, { ...line });
        break;
      case 'amount':
        lines.push({ ...line, amount: intent.amount + p.delta });
        break;
      case 'time_only':
        lines.push({ tag, amount: intent.amount, occurredAt: at(date, p.minute + p.shift) });
        break;
      case 'moved':
        lines.push({ ...line, occurredAt: at(date, p.minute + p.shift * 5) });
        break;
    }
  }
  const pending: Array<{ intent: Intent; spec: DaySpec['pending'][number] }> = [];
  for (const [i, p] of spec.pending.entries()) {
    const intent = await intentFor(p.fee, p.minute);
    pending.push({ intent, spec: p });
    const tag = `pending:${i}`;
    const base = { tag, transactionId: `SBX-LOST-${intent.reference}`, reference: intent.reference, occurredAt: at(date, p.minute + 1) };
    if (p.mutation === 'heal') lines.push({ ...base, amount: intent.amount, status: 'paid' });
    if (p.mutation === 'heal_wrong_amount') lines.push({ ...base, amount: intent.amount + p.delta, status: 'paid' });
  }
  for (const [i, u] of spec.unknown.entries()) {
    const tag = `unknown:${i}`;
    const txn = `SBX-UNKNOWN-${date}-${i}`;
    // The same amounts as the hub's payments, near their times: only the transaction id tells them apart.
    if (u.kind === 'txn') lines.push({ tag, transactionId: txn, amount: FEES[u.fee], occurredAt: at(date, u.minute), status: 'paid' });
    if (u.kind === 'txn_twice') {
      const line: Tagged = { tag, transactionId: txn, amount: FEES[u.fee], occurredAt: at(date, u.minute), status: 'paid' };
      lines.push(line, { ...line });
    }
    // No id at all, and an amount no fee of the hub has.
    if (u.kind === 'plain') lines.push({ tag, amount: 77_000 + i, occurredAt: at(date, u.minute), text: 'CHUYEN TIEN' });
  }
  for (const [i, kind] of spec.notCounted.entries()) {
    const tag = `notCounted:${i}`;
    const line: Tagged = { tag, transactionId: `SBX-NC-${date}-${i}`, amount: FEES[0], occurredAt: at(date, 100) };
    if (kind === 'failed') lines.push({ ...line, status: 'failed' });
    if (kind === 'pending') lines.push({ ...line, status: 'pending' });
    if (kind === 'debit') lines.push({ ...line, direction: 'debit' });
    if (kind === 'rejected') lines.push({ ...line, amount: null, error: 'amount: not a number' });
  }
  const ordered = shuffled(lines, spec.shuffle);
  await insertStatement(h, { source: 'sandbox', date, lines: ordered.map(({ tag: _, ...line }) => line) });
  // Line numbers start at 2 (after the header line).
  const tagOf = new Map(ordered.map((l, i) => [i + 2, l]));
  return { date, paid, pending, tagOf };
}

const run = (date: string) => h.request('POST', '/v1/reconciliations', { token: treasury, body: { source: 'sandbox', date } });
const itemsOf = async (id: string) =>
  (await h.db.db.select().from(reconciliationResults).where(eq(reconciliationResults.reconciliationId, id))).map((i) => ({
    lineNo: i.lineNo,
    intentId: i.intentId,
    class: i.class,
    rule: i.rule,
    statementAmount: i.statementAmount,
    hubAmount: i.hubAmount,
  }));
const sortItems = <T extends { lineNo: number | null; intentId: string | null }>(items: T[]) =>
  [...items].sort((a, b) => (a.lineNo ?? 1e9) - (b.lineNo ?? 1e9) || String(a.intentId).localeCompare(String(b.intentId)));

/** The hub's payments of the day, read from the intents (not from the code under test). */
async function hubPayments(date: string) {
  return queryRows<{ id: string; amount: string }>(
    h.db.db,
    sql`SELECT id, coalesce(received_amount, amount) AS amount FROM payment_intents
        WHERE gateway = 'sandbox' AND status IN ('succeeded', 'partially_refunded', 'refunded')
          AND to_char(succeeded_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD') = ${date}`,
  );
}

describe(`matching a day, as a property (${databaseLabel})`, () => {
  it('puts every counted line and every payment of the day in exactly one class, conserves both sums, is idempotent, and classes each mutation as it implies', async () => {
    await fc.assert(
      fc.asyncProperty(daySpec, async (spec) => {
        const day = await makeDay(spec);
        h.clock.now = at(day.date, 720);
        const first = await expectJson(await run(day.date), 200);
        const items = await itemsOf(first.id);

        // Every counted line in exactly one item; nothing else from the statement.
        const counted = [...day.tagOf.entries()].filter(
          ([, l]) =>
            !l.error &&
            l.amount != null &&
            (l.direction ?? 'credit') === 'credit' &&
            ['paid', 'refunded', undefined].includes(l.status ?? undefined),
        );
        const lineItems = items.filter((i) => i.lineNo !== null);
        expect(lineItems.map((i) => i.lineNo).sort((a, b) => a! - b!)).toEqual(counted.map(([n]) => n).sort((a, b) => a - b));
        // The statement side's sum is conserved: what each class holds adds up to the counted lines.
        expect(lineItems.reduce((s, i) => s + (i.statementAmount ?? 0), 0)).toBe(counted.reduce((s, [, l]) => s + l.amount!, 0));
        for (const [n, l] of counted) expect(lineItems.find((i) => i.lineNo === n)?.statementAmount).toBe(l.amount);

        // Every payment of the day (healed ones included) in exactly one class besides `duplicate`,
        // and the hub side's sum conserved.
        const hub = await hubPayments(day.date);
        const hubIds = new Set(hub.map((p) => p.id));
        for (const p of hub) {
          const own = items.filter((i) => i.intentId === p.id && i.class !== 'duplicate');
          expect(own, `payment ${p.id}`).toHaveLength(1);
          expect(own[0]!.hubAmount).toBe(Number(p.amount));
        }
        const hubItems = items.filter((i) => i.intentId !== null && hubIds.has(i.intentId) && i.class !== 'duplicate');
        expect(hubItems.reduce((s, i) => s + (i.hubAmount ?? 0), 0)).toBe(hub.reduce((s, p) => s + Number(p.amount), 0));
        // An item without a line is a payment of the day no line names.
        for (const i of items.filter((i) => i.lineNo === null)) expect(hubIds.has(i.intentId!)).toBe(true);
        // A line naming an intent that is not a payment of the day says why: its status or its amount.
        for (const i of lineItems.filter((i) => i.intentId && !hubIds.has(i.intentId)))
          expect(['status_mismatch', 'amount_mismatch', 'duplicate']).toContain(i.class);

        // What each mutation implies.
        const lineClasses = (tag: string) =>
          [...day.tagOf.entries()]
            .filter(([, l]) => l.tag === tag)
            .map(([n]) => items.find((i) => i.lineNo === n))
            .map((i) => `${i?.class}:${i?.rule ?? '-'}`)
            .sort();
        const paymentClass = (id: string) => {
          const i = items.find((x) => x.intentId === id && x.class !== 'duplicate');
          return `${i?.class}:${i?.rule ?? '-'}`;
        };
        const candidates = (amount: number) => ({
          lines: day.paid.filter((p) => p.intent.amount === amount && p.spec.mutation === 'time_only').length,
          payments: day.paid.filter((p) => p.intent.amount === amount && ['time_only', 'drop'].includes(p.spec.mutation)).length,
        });
        for (const [i, p] of day.paid.entries()) {
          const tag = `paid:${i}`;
          const m = p.spec.mutation;
          if (m === 'txn' || m === 'moved') expect(lineClasses(tag), m).toEqual(['matched:transaction_id']);
          if (m === 'reference') expect(lineClasses(tag), m).toEqual(['matched:reference']);
          if (m === 'text')
            expect(lineClasses(tag), `text "${day.tagOf.get([...day.tagOf].find(([, l]) => l.tag === tag)![0])?.text}"`).toEqual([
              'matched:text_reference',
            ]);
          if (m === 'duplicate') expect(lineClasses(tag), m).toEqual(['duplicate:transaction_id', 'matched:transaction_id']);
          if (m === 'amount') expect(lineClasses(tag), m).toEqual(['amount_mismatch:transaction_id']);
          if (['txn', 'moved', 'reference', 'text', 'duplicate'].includes(m)) expect(paymentClass(p.intent.id)).toMatch(/^matched:/);
          if (m === 'amount') expect(paymentClass(p.intent.id)).toBe('amount_mismatch:transaction_id');
          const c = candidates(p.intent.amount);
          if (m === 'drop' && c.lines === 0) expect(paymentClass(p.intent.id), m).toBe('missing_in_statement:-');
          if (m === 'time_only' && c.lines === 1 && c.payments === 1) {
            if (Math.abs(p.spec.shift) <= WINDOW_MINUTES) {
              expect(lineClasses(tag), `shift ${p.spec.shift}`).toEqual(['matched:amount_time']);
              expect(paymentClass(p.intent.id)).toBe('matched:amount_time');
            } else {
              expect(lineClasses(tag), `shift ${p.spec.shift}`).toEqual(['missing_in_hub:-']);
              expect(paymentClass(p.intent.id)).toBe('missing_in_statement:-');
            }
          }
          if (m === 'time_only' || m === 'drop') {
            expect(['matched:amount_time', 'missing_in_statement:-']).toContain(paymentClass(p.intent.id));
          }
        }
        for (const [i, p] of day.pending.entries()) {
          const tag = `pending:${i}`;
          if (p.spec.mutation === 'heal') {
            // A lost callback healed by its line: paid now, and matched on the reference.
            expect(lineClasses(tag)).toEqual(['matched:reference']);
            expect(hubIds.has(p.intent.id)).toBe(true);
            expect(first.healed.map((x: { intentId: string }) => x.intentId)).toContain(p.intent.id);
          } else if (p.spec.mutation === 'heal_wrong_amount') {
            expect(lineClasses(tag)).toEqual(['amount_mismatch:reference']);
            expect(hubIds.has(p.intent.id)).toBe(false);
          } else {
            expect(items.some((x) => x.intentId === p.intent.id)).toBe(false);
          }
        }
        for (const [i, u] of spec.unknown.entries()) {
          const expected = u.kind === 'txn_twice' ? ['duplicate:-', 'missing_in_hub:-'] : ['missing_in_hub:-'];
          expect(lineClasses(`unknown:${i}`), u.kind).toEqual(expected);
        }

        // Every class but `matched` is an open discrepancy of the day.
        const open = await h.db.db.select().from(discrepancies).where(eq(discrepancies.businessDate, day.date));
        expect(
          open
            .filter((d) => d.status === 'open')
            .map((d) => d.class)
            .sort(),
        ).toEqual(
          items
            .filter((i) => i.class !== 'matched')
            .map((i) => i.class)
            .sort(),
        );

        // Each line's discrepancy carries the line's facts, as the statement has them.
        for (const d of open.filter((d) => d.lineNo !== null)) {
          const line = day.tagOf.get(d.lineNo!)!;
          const facts = Object.fromEntries(
            Object.entries({
              transactionId: line.transactionId?.trim() || undefined,
              reference: line.reference?.trim().toUpperCase() || undefined,
              text: line.text?.slice(0, 500) || undefined,
            }).filter(([, v]) => v !== undefined),
          );
          expect(d.detail, `the discrepancy of line ${d.lineNo}`).toMatchObject(facts);
          if (!line.transactionId?.trim()) expect(d.detail).not.toHaveProperty('transactionId');
        }

        // A re-run: the same items, nothing healed again, no new discrepancy, none resolved. (A healed
        // line may now match on the transaction id its payment took from it, so the rule is not compared.)
        h.clock.now = at(day.date, 780);
        const second = await expectJson(await run(day.date), 200);
        expect(second.healed).toEqual([]);
        expect(second.resolved).toEqual({ rematch: 0, laterStatement: 0 });
        const withoutRule = (list: typeof items) => sortItems(list).map(({ rule: _, ...i }) => i);
        expect(withoutRule(await itemsOf(first.id))).toEqual(withoutRule(items));
        const again = await h.db.db.select().from(discrepancies).where(eq(discrepancies.businessDate, day.date));
        expect(again.map((d) => [d.id, d.status]).sort()).toEqual(open.map((d) => [d.id, d.status]).sort());
      }),
      { numRuns: RUNS },
    );
  });
});
