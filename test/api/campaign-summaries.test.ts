import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/types.ts';
import { summedProgressRows } from '../../src/services/campaign-summaries.ts';
import { campaignProgress, refreshCampaignSummaries } from '../../src/services/campaigns.ts';
import { rebuildRollups } from '../../src/services/indicator-rollups.ts';
import { resolveScope } from '../../src/services/indicators.ts';
import type { Principal } from '../../src/services/principal.ts';
import { databaseLabel, onServer } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { expectJson } from '../helpers/problems.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';

/**
 * A campaign's progress summed ahead (services/campaign-summaries.ts) is the progress counted from
 * the roll-ups, whatever happened since the summary was made: dossiers registered, paid, a
 * refresh by the jobs, a payment committing across a refresh, a catalogue change, a rebuild.
 */
const TODAY = new Date('2026-11-20T15:00:00+07:00');
const START = '2026-11-10';
const RECEIVERS = [AGENCIES.department, AGENCIES.communeA, AGENCIES.communeB, AGENCIES.districtCommune, AGENCIES.province];
const DAYS = Array.from({ length: 41 }, (_, k) => new Date(Date.parse('2026-10-11T09:00:00+07:00') + k * 86_400_000));

let h: Harness;
let portal: string;
let campaignId: string;
const procedures: string[] = [];
const unpaid: Array<{ code: string }> = [];
let n = 0;
const principal: Principal = { subject: 'test', role: 'campaign', agencies: [AGENCIES.province] };

const summed = () => campaignProgress(h.ctx, principal, campaignId);
const live = () => campaignProgress(h.ctx, principal, campaignId, undefined, 'live');

async function register(agency: string, procedure: string, day: Date, channel: 'online' | 'direct'): Promise<string> {
  const code = `${agency}-261120-${String(++n).padStart(4, '0')}`;
  const response = await h.request('PUT', `/v1/dossiers/${code}`, {
    token: portal,
    body: { procedureCode: procedure, agencyCode: agency, channel, receivedAt: day.toISOString() },
  });
  expect(response.status, await response.clone().text()).toBe(201);
  if ((await response.json()).totalDue > 0) unpaid.push({ code });
  return code;
}

async function pay(code: string): Promise<void> {
  const intent = await json(await createIntent(h, portal, code));
  expect((await json(await deliverSandboxCallback(h, sandboxEvent(intent)))).result).toBe('applied');
}

/** The summary's read, with no refresh: null when there is none for today. */
async function summaryRead() {
  const scope = await resolveScope(h.ctx, principal, AGENCIES.province);
  const baseline = { from: '2026-10-11', to: '2026-11-09' };
  return summedProgressRows(h.ctx, campaignId, { scope, baseline, counted: { from: START, to: '2026-11-20' }, today: '2026-11-20' });
}

beforeAll(async () => {
  h = await createHarness();
  h.clock.now = TODAY;
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  const admin = await mintToken({ role: 'admin' });
  procedures.push(
    await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 100_000 } })]),
    await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 20_000 } })]),
    await createProcedure(h.ctx, [rule({ formula: { type: 'exempt' } })]),
  );
  for (let k = 0; k < 30; k++) {
    const code = await register(
      RECEIVERS[k % RECEIVERS.length]!,
      procedures[k % 3]!,
      DAYS[(k * 7) % DAYS.length]!,
      k % 2 ? 'online' : 'direct',
    );
    if (k % 3 === 0 && unpaid.at(-1)?.code === code) await pay(unpaid.pop()!.code);
  }
  const created = await h.request('POST', '/v1/campaigns', {
    token: admin,
    headers: { 'idempotency-key': 'summaries' },
    body: { name: 'Chiến dịch 30 ngày', agencyCode: AGENCIES.province, startDate: START, targets: { dossierOnlinePayment: 0.6 } },
  });
  campaignId = (await expectJson(created, 201)).id;
}, 120_000);

afterAll(() => h?.close());

describe(`a campaign's summed progress (${databaseLabel})`, () => {
  it('is made by the first request and equals the progress counted from the roll-ups', async () => {
    expect(await summaryRead()).toBeNull();
    const first = await summed();
    expect(await summaryRead()).not.toBeNull();
    expect(first).toEqual(await live());
    expect(first.current.dossierOnlinePayment.denominator).toBeGreaterThan(0);
  });

  it('stays equal to it through any interleaving of registrations, payments and the jobs’ refreshes', async () => {
    const step = fc.oneof(
      fc.record({
        op: fc.constant('register' as const),
        agency: fc.constantFrom(...RECEIVERS),
        procedure: fc.nat({ max: 2 }),
        day: fc.nat({ max: DAYS.length - 1 }),
        online: fc.boolean(),
      }),
      fc.record({ op: fc.constant('pay' as const), pick: fc.nat() }),
      fc.record({ op: fc.constant('refresh' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        for (const s of steps) {
          if (s.op === 'register') await register(s.agency, procedures[s.procedure]!, DAYS[s.day]!, s.online ? 'online' : 'direct');
          else if (s.op === 'pay' && unpaid.length > 0) await pay(unpaid.splice(s.pick % unpaid.length, 1)[0]!.code);
          else if (s.op === 'refresh') await refreshCampaignSummaries(h.ctx);
        }
        // Read from the summary (not made again: the deltas since it are few), then counted afresh.
        expect((await summaryRead())?.pending).toBeGreaterThanOrEqual(0);
        expect(await summed()).toEqual(await live());
      }),
      { numRuns: onServer ? 10 : 6 },
    );
  }, 120_000);

  it('keeps no delta every summary has counted, after the jobs', async () => {
    await refreshCampaignSummaries(h.ctx);
    expect((await summaryRead())?.pending).toBe(0);
    const [left] = await queryRows<{ n: number }>(h.db.db, sql`SELECT count(*)::int AS n FROM indicator_deltas`);
    expect(left!.n).toBe(0);
  });

  it.skipIf(!onServer)('counts a payment whose transaction was still running when the summary was made', async () => {
    const code = unpaid.pop()!.code;
    let refreshed = false;
    // Another connection pays (sets the 766 flag, as a payment does) and keeps its transaction
    // open across a refresh: the summary's snapshot does not see it; its delta is read once it commits.
    await h.db.db.transaction(async (tx) => {
      await tx.execute(sql`UPDATE dossiers SET online_payment_flag = 2 WHERE code = ${code}`);
      const [result] = await Promise.all([refreshCampaignSummaries(h.ctx)]);
      refreshed = result.refreshed === 1;
    });
    expect(refreshed).toBe(true);
    const after = await summed();
    expect(after).toEqual(await live());
    const [flag] = await queryRows<{ f: number }>(h.db.db, sql`SELECT online_payment_flag AS f FROM dossiers WHERE code = ${code}`);
    expect(flag!.f).toBe(2);
  });

  it('is dropped by a catalogue change and by a roll-up rebuild, and made again', async () => {
    await summed();
    expect(await summaryRead()).not.toBeNull();
    await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 5_000 } })]);
    expect(await summaryRead()).toBeNull();
    expect(await summed()).toEqual(await live());
    expect(await summaryRead()).not.toBeNull();
    await rebuildRollups(h.db.db);
    expect(await summaryRead()).toBeNull();
    expect(await summed()).toEqual(await live());
  });
});
