import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discrepancies } from '../../src/db/schema/index.ts';
import { addDays } from '../../src/domain/dates.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson } from '../helpers/problems.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';
import { insertStatement } from '../helpers/statements.ts';

/**
 * A payment its gateway settles late (issue 11): missing from its own day's statement, flagged
 * again once it is still missing `missingFlagDays` later (and not before), then resolved — never
 * deleted — when a later day's statement has it, where the line is not new money.
 */
const FEE = 135_000;
const DAY = '2027-03-10';
let h: Harness;
let portal: string;
let treasury: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness({ treasuryDay: { sources: {}, missingFlagDays: 3, amountTimeWindowMinutes: 30 } });
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'ke-toan-mai' });
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h.close());

const at = (date: string, minutes = 0) => new Date(new Date(`${date}T03:00:00Z`).getTime() + minutes * 60_000);
const run = async (date: string) =>
  expectJson(await h.request('POST', '/v1/reconciliations', { token: treasury, body: { source: 'sandbox', date } }), 200);

async function paidOn(date: string, minutes: number) {
  h.clock.now = at(date, minutes);
  const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeA });
  const intent = await expectJson(await createIntent(h, portal, dossier.code), 201);
  expect((await deliverSandboxCallback(h, sandboxEvent(intent, { occurredAt: at(date, minutes).toISOString() }))).status).toBe(200);
  return intent as { id: string; reference: string };
}

const line = (intent: { reference: string }, date: string, minutes: number) => ({
  transactionId: `SBX${intent.reference}`,
  reference: intent.reference,
  amount: FEE,
  occurredAt: at(date, minutes),
  status: 'paid' as const,
});

describe(`a payment settled on a later day's statement (${databaseLabel})`, () => {
  it('is missing on its day, flagged again after the configured days only, and resolved by the later statement', async () => {
    const settled = await paidOn(DAY, 0);
    const late = await paidOn(DAY, 10);
    await insertStatement(h, { source: 'sandbox', date: DAY, lines: [line(settled, DAY, 0)] });
    h.clock.now = at(DAY, 600);
    const first = await run(DAY);
    expect(first.summary.missing_in_statement).toMatchObject({ count: 1, amount: FEE });
    const missing = () =>
      h.db.db
        .select()
        .from(discrepancies)
        .where(and(eq(discrepancies.class, 'missing_in_statement'), eq(discrepancies.intentId, late.id)));
    expect((await missing()).map((d) => [d.businessDate, d.status, d.flagCount])).toEqual([[DAY, 'open', 0]]);

    // Two days later it is still missing, but not yet for the configured three days: not flagged.
    const other = await paidOn(addDays(DAY, 2), 0);
    await insertStatement(h, { source: 'sandbox', date: addDays(DAY, 2), lines: [line(other, addDays(DAY, 2), 0)] });
    h.clock.now = at(addDays(DAY, 2), 600);
    expect((await run(addDays(DAY, 2))).flagged).toBe(0);
    expect((await missing())[0]!.flagCount).toBe(0);

    // Three days later, still missing: flagged again, once for that day however often it is run.
    const third = await paidOn(addDays(DAY, 3), 0);
    await insertStatement(h, { source: 'sandbox', date: addDays(DAY, 3), lines: [line(third, addDays(DAY, 3), 0)] });
    h.clock.now = at(addDays(DAY, 3), 600);
    expect((await run(addDays(DAY, 3))).flagged).toBe(1);
    expect((await run(addDays(DAY, 3))).flagged).toBe(0);
    const [flagged] = await missing();
    expect(flagged).toMatchObject({ status: 'open', flagCount: 1 });
    expect(flagged!.flaggedAt).not.toBeNull();

    // The gateway settles it on day four: the old difference is resolved by that statement, and
    // the line is not counted as money the hub lacks.
    const fourth = addDays(DAY, 4);
    await insertStatement(h, { source: 'sandbox', date: fourth, lines: [line(late, DAY, 10)] });
    h.clock.now = at(fourth, 600);
    const found = await run(fourth);
    expect(found.resolved.laterStatement).toBe(1);
    expect(found.summary.missing_in_hub).toBeUndefined();
    const [resolved] = await missing();
    expect(resolved).toMatchObject({ status: 'resolved', flagCount: 1 });
    expect(resolved!.resolution).toMatchObject({ resolution: 'auto', by: 'later_statement' });
    // Its own day is clean now: nothing of it open, so it can be closed.
    const day = await run(DAY);
    expect(day.open).toEqual({ discrepancies: 0, reviews: 0 });
    await expectJson(await h.request('POST', `/v1/reconciliations/${day.id}/close`, { token: treasury }), 200);
  });
});
