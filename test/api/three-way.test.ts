import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';
import { insertStatement } from '../helpers/statements.ts';

/**
 * The three-way view (issue 11): for a gateway's day, the hub's payments, the gateway's statement
 * and the credits of the bank account the gateway settles into, with both differences; a missing
 * statement is null, never a zero that would read as "nothing collected".
 */
const FEE = 135_000;
/** The settlement account as configuration writes it (separators included) and as the bank's statement names it. */
const SETTLEMENT_CONFIGURED = '1900 1234.5678';
const SETTLEMENT = '190012345678';
let h: Harness;
let portal: string;
let treasury: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness({
    treasuryDay: {
      sources: { sandbox: { agencyCode: AGENCIES.province, settlementAccount: SETTLEMENT_CONFIGURED } },
      missingFlagDays: 3,
      amountTimeWindowMinutes: 30,
    },
  });
  await seedAgencyTree(h.ctx);
  await upsertAgency(h.ctx, {
    code: AGENCIES.province,
    name: 'UBND tỉnh Đồng Nai',
    level: 'province',
    parentCode: null,
    bankBin: '970418',
    accountNumber: SETTLEMENT,
    accountName: 'UBND TINH DONG NAI',
  });
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'ke-toan-an' });
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h.close());

/** VN midnight of `date` plus `minutes`. */
const at = (date: string, minutes: number) => new Date(new Date(`${date}T00:00:00+07:00`).getTime() + minutes * 60_000);

async function intentAt(paidAt: Date) {
  h.clock.now = paidAt;
  const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeA });
  return expectJson(await createIntent(h, portal, dossier.code), 201);
}

/** A sandbox payment whose gateway pay time is `paidAt`. */
async function paidAt(paidAt: Date) {
  const intent = await intentAt(paidAt);
  expect((await deliverSandboxCallback(h, sandboxEvent(intent, { occurredAt: paidAt.toISOString() }))).status).toBe(200);
  return intent;
}

const threeWay = (query: string, token = treasury) => h.request('GET', `/v1/reports/three-way?${query}`, { token });

describe(`the three-way view (${databaseLabel})`, () => {
  const day = '2027-01-12';
  const noStatementDay = '2027-01-13';
  const emptyDay = '2027-01-14';

  it("gives the hub's, the statement's and the settlement account's totals of a day, with both differences", async () => {
    // The hub: three payments of the day (the last a minute before midnight); not a pending intent,
    // not a payment of the next day a minute after midnight.
    await paidAt(at(day, 9 * 60));
    await paidAt(at(day, 14 * 60));
    await paidAt(at(day, 24 * 60 - 1));
    await intentAt(at(day, 15 * 60));
    await paidAt(at(noStatementDay, 1));

    // A first statement, replaced by a corrected one: only the current one counts.
    await insertStatement(h, { source: 'sandbox', date: day, lines: [{ transactionId: 'SBX-OLD', amount: 999_000, status: 'paid' }] });
    await insertStatement(h, {
      source: 'sandbox',
      date: day,
      lines: [
        { transactionId: 'SBX-A', amount: FEE, occurredAt: at(day, 540), status: 'paid' },
        { transactionId: 'SBX-B', amount: FEE, occurredAt: at(day, 840), status: 'refunded' }, // collected, refunded later: counted
        { transactionId: 'SBX-C', amount: 50_000, occurredAt: at(day, 900), status: 'paid' },
        { transactionId: 'SBX-D', amount: FEE, occurredAt: at(day, 910), status: 'failed' }, // not money in
        { transactionId: 'SBX-E', amount: FEE, occurredAt: at(day, 920), status: 'paid', direction: 'debit' }, // not money in
        { amount: null, error: 'amount: not a number' }, // rejected
      ],
    });
    // The settlement account's bank statement: the gateway's settlement and another credit, and a debit.
    await insertStatement(h, {
      source: `bank:${SETTLEMENT}`,
      date: day,
      lines: [
        { transactionId: 'FT1', amount: 318_000, occurredAt: at(day, 1000), text: 'SANDBOX SETTLEMENT 12/01' },
        { transactionId: 'FT2', amount: 7_000, occurredAt: at(day, 1010), text: 'LAI TIEN GUI' },
        { transactionId: 'FT3', amount: 40_000, occurredAt: at(day, 1020), direction: 'debit' },
      ],
    });

    const { items } = await expectJson(await threeWay(`date=${day}&source=sandbox`), 200);
    expect(items).toEqual([
      {
        date: day,
        source: 'sandbox',
        agencyCode: AGENCIES.province,
        hub: { count: 3, amount: 3 * FEE },
        statement: { count: 3, amount: 2 * FEE + 50_000 },
        bank: { account: SETTLEMENT, count: 2, amount: 325_000 },
        differences: { statementMinusHub: 2 * FEE + 50_000 - 3 * FEE, bankMinusStatement: 325_000 - (2 * FEE + 50_000) },
      },
    ]);

    // Every source of the day in scope: the gateway as above, and the settlement account as a
    // source of its own (its statement is the bank's, with no bank column of its own).
    const all = await expectJson(await threeWay(`date=${day}`), 200);
    expect(all.items.find((r: { source: string }) => r.source === 'sandbox')).toEqual(items[0]);
    expect(all.items.find((r: { source: string }) => r.source === `bank:${SETTLEMENT}`)).toEqual({
      date: day,
      source: `bank:${SETTLEMENT}`,
      agencyCode: AGENCIES.province,
      hub: { count: 0, amount: 0 },
      statement: { count: 2, amount: 325_000 },
      bank: null,
      differences: { statementMinusHub: 325_000, bankMinusStatement: null },
    });
  });

  it('says null, not zero, for a statement that was not imported', async () => {
    // The next day: the payment a minute after midnight, and only the bank's statement.
    await insertStatement(h, {
      source: `bank:${SETTLEMENT}`,
      date: noStatementDay,
      lines: [{ transactionId: 'FT9', amount: FEE, occurredAt: at(noStatementDay, 600) }],
    });
    const next = await expectJson(await threeWay(`date=${noStatementDay}&source=sandbox`), 200);
    expect(next.items).toEqual([
      {
        date: noStatementDay,
        source: 'sandbox',
        agencyCode: AGENCIES.province,
        hub: { count: 1, amount: FEE },
        statement: null,
        bank: { account: SETTLEMENT, count: 1, amount: FEE },
        differences: { statementMinusHub: null, bankMinusStatement: null },
      },
    ]);
    const empty = await expectJson(await threeWay(`date=${emptyDay}&source=sandbox`), 200);
    expect(empty.items).toEqual([
      {
        date: emptyDay,
        source: 'sandbox',
        agencyCode: AGENCIES.province,
        hub: { count: 0, amount: 0 },
        statement: null,
        bank: null,
        differences: { statementMinusHub: null, bankMinusStatement: null },
      },
    ]);
  });

  it('keeps another province out of the source, and refuses a source that is none', async () => {
    const outsider = await mintToken({ role: 'treasury', agencies: [AGENCIES.otherProvince], subject: 'ke-toan-khac' });
    await expectProblem(await threeWay(`date=${day}&source=sandbox`, outsider), 404, 'not-found');
    expect((await expectJson(await threeWay(`date=${day}`, outsider), 200)).items).toEqual([]);
    await expectProblem(await threeWay(`date=${day}&source=bank:00`), 422);
  });
});
