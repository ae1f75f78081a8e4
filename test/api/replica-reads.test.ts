import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectServer } from '../../src/db/server.ts';
import { type DatabaseHandle, queryRows } from '../../src/db/types.ts';
import { createTestDatabase, onServer } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { freePort } from '../helpers/hub-process.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';

/**
 * DATABASE_READ_URL (services/context.ts onReplica): reports read the replica, and a replica that
 * cannot be reached is not an outage (they are read from the primary, with a warning); what
 * decides money never reads it. (That reports do reach a real standby is shown by
 * test/failover/failover.test.ts, on the standby's pg_stat_activity.)
 */
const REPORTS = [
  `/v1/indicators/online-payment?from=2026-11-01&to=2026-11-30&agency=${AGENCIES.province}`,
  `/v1/indicators/online-payment/breakdown?from=2026-11-01&to=2026-11-30&by=agency&agency=${AGENCIES.province}`,
  // Collected today (the payment below).
  `/v1/reports/collections?date=${new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10)}`,
  '/v1/payment-intents',
];

describe('reports on a replica that cannot be reached', () => {
  let primary: DatabaseHandle;
  let away: DatabaseHandle;
  let h: Harness;
  let plain: Harness;
  let admin: string;
  let intentId: string;
  let campaignId: string;

  beforeAll(async () => {
    primary = await createTestDatabase();
    // A port nobody listens on: every connection is refused.
    away = connectServer(`postgres://postgres@127.0.0.1:${await freePort()}/test`, { connectTimeoutSeconds: 1 });
    h = await createHarness({ database: { ...primary, replica: away.db } });
    plain = await createHarness({ database: { ...primary, close: async () => {} } });
    await seedAgencyTree(h.ctx);
    const procedure = await createProcedure(h.ctx);
    const portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
    admin = await mintToken({ role: 'admin', agencies: [] });
    const dossier = await registerDossier(h, portal, procedure, { receivedAt: '2026-11-20T09:30:00+07:00' });
    const intent = await json(await createIntent(h, portal, dossier.code));
    intentId = intent.id;
    expect((await json(await deliverSandboxCallback(h, sandboxEvent(intent)))).result).toBe('applied');
    const campaign = await h.request('POST', '/v1/campaigns', {
      token: admin,
      headers: { 'idempotency-key': 'replica-campaign' },
      body: { name: 'Chiến dịch 30 ngày', agencyCode: AGENCIES.province, startDate: '2026-11-10', targets: { dossierOnlinePayment: 0.6 } },
    });
    campaignId = (await json(campaign)).id;
  });
  afterAll(async () => {
    await plain?.close();
    await h?.close();
    await away?.close();
  });

  const warnings = () => h.logs.filter((l) => l.msg === 'replica unreachable: the report is read from the primary').length;

  it('answers every report from the primary, as it answers without a replica, with a warning each', async () => {
    for (const path of [...REPORTS, `/v1/campaigns/${campaignId}/progress`]) {
      const before = warnings();
      const answer = await h.request('GET', path, { token: admin });
      expect(answer.status, `${path}: ${await answer.clone().text()}`).toBe(200);
      const { generatedAt: _, ...body } = await answer.json();
      const { generatedAt: __, ...fromPrimary } = await json(await plain.request('GET', path, { token: admin }));
      expect(body).toEqual(fromPrimary);
      expect(warnings(), path).toBe(before + 1);
    }
  });

  it('never reads it for what decides money: an intent, a dossier, a payment', async () => {
    const before = warnings();
    expect((await h.request('GET', `/v1/payment-intents/${intentId}`, { token: admin })).status).toBe(200);
    const portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
    const procedure = await createProcedure(h.ctx);
    const dossier = await registerDossier(h, portal, procedure);
    expect((await h.request('GET', `/v1/dossiers/${dossier.code}`, { token: portal })).status).toBe(200);
    const intent = await json(await createIntent(h, portal, dossier.code));
    expect((await json(await deliverSandboxCallback(h, sandboxEvent(intent)))).result).toBe('applied');
    expect(warnings()).toBe(before);
  });
});

// A replica takes no writes: campaign progress there answers without making the day's summary.
describe.skipIf(!onServer)('campaign progress on a read-only replica', () => {
  let primary: DatabaseHandle;
  let readOnly: DatabaseHandle;
  let h: Harness;

  beforeAll(async () => {
    primary = await createTestDatabase();
    const [{ name }] = (await queryRows<{ name: string }>(primary.db, sql`SELECT current_database() AS name`)) as [{ name: string }];
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${name}`;
    // The same database, in sessions whose transactions are read only, as a standby's are.
    url.searchParams.set('default_transaction_read_only', 'on');
    readOnly = connectServer(url.toString(), { poolMax: 2 });
    h = await createHarness({ database: { ...primary, replica: readOnly.db } });
    await seedAgencyTree(h.ctx);
  });
  afterAll(async () => {
    await h?.close();
    await readOnly?.close();
  });

  it('is counted from the roll-ups on the replica, and the summary is left to the primary', async () => {
    const admin = await mintToken({ role: 'admin', agencies: [] });
    const created = await json(
      await h.request('POST', '/v1/campaigns', {
        token: admin,
        headers: { 'idempotency-key': 'replica-ro-campaign' },
        body: {
          name: 'Chiến dịch 30 ngày',
          agencyCode: AGENCIES.province,
          startDate: '2026-11-10',
          targets: { dossierOnlinePayment: 0.6 },
        },
      }),
    );
    const answer = await h.request('GET', `/v1/campaigns/${created.id}/progress`, { token: admin });
    expect(answer.status, await answer.clone().text()).toBe(200);
    // Read on the replica without a write (a write there fails 25006 and would be read again from the primary, with a warning).
    expect(h.logs.filter((l) => String(l.msg).startsWith('replica unreachable'))).toEqual([]);
    const [row] = await queryRows<{ n: number }>(primary.db, sql`SELECT count(*)::int AS n FROM campaign_summaries`);
    expect(row!.n).toBe(0);
  });
});
