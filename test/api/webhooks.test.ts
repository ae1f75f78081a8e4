import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, obligations, outboxEvents, paymentReviews, webhookDeliveries } from '../../src/db/schema/index.ts';
import { queryRows } from '../../src/db/types.ts';
import { deliverDue, startDeliveryWorker } from '../../src/jobs/delivery-worker.ts';
import { expireDueIntents } from '../../src/jobs/expire-intents.ts';
import { applyOutcome } from '../../src/services/apply-outcome.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { chooseOnCheckout, deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';
import {
  closedPort,
  endpointFor,
  parseSignature,
  type Receiver,
  registerEndpoint,
  signedWith,
  startReceiver,
  waitFor,
} from '../helpers/webhooks.ts';

/**
 * Events to dossier systems (issue 13), to real HTTP receivers on loopback: signed, retried on
 * the schedule (TEST_WEBHOOKS: 60, 300, 1800 s; the tests move the clock), recorded, re-sendable,
 * in order per dossier, written in the transaction of the change; and the catch-up feed.
 */

const SECRET_A = 'whsec-a-long-random-secret-for-tests-0001';
const SECRET_B = 'whsec-b-the-rotated-secret-for-tests-0002';
const PAID_TYPES = ['obligation.paid', 'dossier.paid', 'receipt.issued'];

let h: Harness;
let portal: string;
let admin: string;
let treasury: string;
let procedure: string;
let twoLines: string;
const cleanup: Array<() => Promise<unknown>> = [];

/** The harness clock, only ever moved forward (deliveries become due as it passes them). */
const advance = (seconds: number) => {
  h.clock.now = new Date(h.ctx.now().getTime() + seconds * 1000);
};

async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(answer);
  cleanup.push(() => r.close());
  return r;
}

/** Registers an endpoint, deleted after the test (its pending deliveries then never go out). */
async function endpoint(url: string, events: string[], agencyCode: string = AGENCIES.province, secrets = [SECRET_A]) {
  const created = await endpointFor(h, admin, { url, agencyCode, events, secrets });
  cleanup.push(() => h.request('DELETE', `/v1/webhook-endpoints/${created.id}`, { token: admin }));
  return created;
}

/** A dossier of commune A paid through the sandbox callback. */
async function paidDossier(code = procedure) {
  const dossier = await registerDossier(h, portal, code);
  const intent = await expectJson(await createIntent(h, portal, dossier.code), 201);
  expect(await expectJson(await deliverSandboxCallback(h, sandboxEvent(intent)), 200)).toMatchObject({ result: 'applied' });
  return { dossier, intent };
}

const deliveriesOf = async (endpointId: string) =>
  (await expectJson(await h.request('GET', `/v1/webhook-endpoints/${endpointId}/deliveries`, { token: admin }), 200)).data;

beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  h.clock.now = new Date();
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  admin = await mintToken({ role: 'admin' });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-webhooks' });
  procedure = await createProcedure(h.ctx);
  twoLines = await createProcedure(h.ctx, [
    rule(),
    rule({ kind: 'phi', feeCode: 'P02', name: 'Phí thẩm định', lineNo: 2, formula: { type: 'fixed', amount: 50_000 } }),
  ]);
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(() => h.close());

describe(`webhook deliveries on ${databaseLabel}`, () => {
  it("delivers a paid dossier's events signed (two secrets while rotating), only to the endpoints of its subtree and types", async () => {
    const main = await receiver();
    const elsewhere = await receiver();
    const otherTypes = await receiver();
    const subscribed = await endpoint(main.url, PAID_TYPES);
    await endpoint(elsewhere.url, PAID_TYPES, AGENCIES.otherProvince);
    await endpoint(otherTypes.url, ['payment.failed', 'payment.cancelled']);
    // Rotation: the new secret and the old, both sign every delivery.
    const rotated = await expectJson(
      await h.request('PATCH', `/v1/webhook-endpoints/${subscribed.id}`, { token: admin, body: { secrets: [SECRET_B, SECRET_A] } }),
      200,
    );
    expect(rotated.secretFingerprints).toHaveLength(2);
    expect(rotated.secretFingerprints[1]).toBe(subscribed.secretFingerprints[0]);
    expect(JSON.stringify(rotated)).not.toContain(SECRET_B);

    const { dossier, intent } = await paidDossier(twoLines);
    const report = await deliverDue(h.ctx);
    expect(report).toMatchObject({ sent: 4, succeeded: 4, failed: 0, retrying: 0 });
    expect(elsewhere.received).toEqual([]);
    expect(otherTypes.received).toEqual([]);

    const got = main.received;
    expect(got.map((r) => r.body.type)).toEqual(['obligation.paid', 'obligation.paid', 'dossier.paid', 'receipt.issued']);
    const at = Math.floor(h.ctx.now().getTime() / 1000);
    for (const r of got) {
      const header = String(r.headers['hub-signature']);
      const { t, v1 } = parseSignature(header);
      expect(Math.abs(t - at)).toBeLessThanOrEqual(5);
      expect(v1).toHaveLength(2);
      // Each v1 verifies with its own secret, computed here with node:crypto over `${t}.${rawBody}`.
      expect(signedWith(`t=${t},v1=${v1[0]}`, r.raw, SECRET_B)).toBe(true);
      expect(signedWith(`t=${t},v1=${v1[1]}`, r.raw, SECRET_A)).toBe(true);
      expect(signedWith(`t=${t},v1=${v1[0]}`, r.raw, SECRET_A)).toBe(false);
      expect(signedWith(header, r.raw, 'whsec-a-secret-nobody-registered-000')).toBe(false);
      // The body altered by one byte no longer verifies.
      expect(signedWith(header, r.raw.replace('"sandbox"', '"sandbax"'), SECRET_A)).toBe(false);
      expect(r.headers['hub-event-id']).toBe(r.body.id);
      expect(r.headers['hub-event-type']).toBe(r.body.type);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.body).toMatchObject({
        dossierCode: dossier.code,
        procedureCode: twoLines,
        agencyCode: AGENCIES.communeA,
        gateway: 'sandbox',
      });
      expect(typeof r.body.occurredAt).toBe('string');
      expect(Number.isNaN(Date.parse(r.body.occurredAt))).toBe(false);
      expect(typeof r.body.DuocThanhToanTrucTuyen).toBe('number');
      expect(typeof r.body.amount).toBe('number');
    }
    expect(new Set(got.map((r) => r.body.id)).size).toBe(4);
    const byType = (type: string) => got.filter((r) => r.body.type === type).map((r) => r.body);
    expect(byType('obligation.paid').map((e) => e.amount)).toEqual([135_000, 50_000]);
    expect(byType('obligation.paid').map((e) => e.data.obligation.feeCode)).toEqual(['LP01', 'P02']);
    expect(byType('dossier.paid')[0]).toMatchObject({ amount: 185_000, data: { intentId: intent.id, reference: intent.reference } });
    expect(byType('dossier.paid')[0]!.dossierAmounts).toEqual({ due: 185_000, paid: 185_000, unpaid: 0, refunded: 0 });
    const receipt = byType('receipt.issued')[0]!;
    expect(receipt).toMatchObject({ amount: 185_000, data: { intentId: intent.id, receipt: { kind: 'original' } } });
    expect(typeof receipt.data.receipt.seriesSymbol).toBe('string');
    expect(receipt.data.receipt.seriesSymbol.length).toBeGreaterThan(0);
    expect(receipt.data.receipt.number).toBeGreaterThan(0);
    expect(receipt.data.receipt.lookupUrl).toBe(`http://hub.test/receipts/lookup?code=${receipt.data.receipt.lookupCode}`);

    const deliveries = await deliveriesOf(subscribed.id);
    expect(deliveries.map((d: { state: string }) => d.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    // Nothing more to send.
    expect(await deliverDue(h.ctx)).toMatchObject({ sent: 0 });
  });

  it('retries a receiver that answers 500 three times, once after each delay, then stops at its 200', async () => {
    let failures = 3;
    const flaky = await receiver(() => (failures-- > 0 ? 500 : 200));
    const created = await endpoint(flaky.url, ['dossier.paid']);
    await paidDossier();
    const schedule = h.ctx.settings.webhooks.retrySchedule;
    expect(schedule).toEqual([60, 300, 1800]);

    await deliverDue(h.ctx);
    expect(flaky.received).toHaveLength(1);
    for (const [i, seconds] of schedule.entries()) {
      // Not before its time (the jitter is ±10 %)…
      advance(seconds * 0.85);
      await deliverDue(h.ctx);
      expect(flaky.received).toHaveLength(i + 1);
      // …and once after it.
      advance(seconds * 0.3);
      await deliverDue(h.ctx);
      expect(flaky.received).toHaveLength(i + 2);
    }
    advance(86_400);
    await deliverDue(h.ctx);
    expect(flaky.received).toHaveLength(4);
    expect(new Set(flaky.received.map((r) => r.body.id)).size).toBe(1);

    const [delivery] = await deliveriesOf(created.id);
    expect(delivery).toMatchObject({ state: 'succeeded', attempts: 4, lastStatus: 200, lastError: null, nextAttemptAt: null });
    expect(delivery.attemptLog.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500, 500, 200]);
    expect(delivery.attemptLog.map((a: { succeeded: boolean }) => a.succeeded)).toEqual([false, false, false, true]);
    expect(delivery.attemptLog[0].error).toMatch(/^HTTP 500/);
    for (const a of delivery.attemptLog) expect(a.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('a receiver down for the whole window ends failed; an admin re-sends it once it is up (audited); a succeeded one is 409', async () => {
    let up = false;
    const down = await receiver(() => (up ? 200 : 503));
    const closed = `http://127.0.0.1:${await closedPort()}/hub-events`;
    const downEndpoint = await endpoint(down.url, ['dossier.paid']);
    const closedEndpoint = await endpoint(closed, ['dossier.paid']);
    await paidDossier();
    const schedule = h.ctx.settings.webhooks.retrySchedule;
    await deliverDue(h.ctx);
    for (const seconds of schedule) {
      advance(seconds * 1.15);
      await deliverDue(h.ctx);
    }
    advance(86_400);
    await deliverDue(h.ctx);
    expect(down.received).toHaveLength(1 + schedule.length);

    const [failed] = await deliveriesOf(downEndpoint.id);
    expect(failed).toMatchObject({ state: 'failed', attempts: 1 + schedule.length, lastStatus: 503, nextAttemptAt: null });
    expect(failed.attemptLog.map((a: { statusCode: number }) => a.statusCode)).toEqual([503, 503, 503, 503]);
    const failedOnly = await expectJson(
      await h.request('GET', `/v1/webhook-endpoints/${downEndpoint.id}/deliveries?state=failed`, { token: admin }),
      200,
    );
    expect(failedOnly.data.map((d: { id: string }) => d.id)).toEqual([failed.id]);

    const [refused] = await deliveriesOf(closedEndpoint.id);
    expect(refused).toMatchObject({ state: 'failed', attempts: 1 + schedule.length, lastStatus: null });
    expect(refused.attemptLog.every((a: { statusCode: number | null; error: string | null }) => a.statusCode === null && a.error)).toBe(
      true,
    );

    // Only an admin re-sends.
    await expectProblem(await h.request('POST', `/v1/webhook-deliveries/${failed.id}/resend`, { token: treasury }), 403, 'forbidden');
    up = true;
    const resent = await expectJson(await h.request('POST', `/v1/webhook-deliveries/${failed.id}/resend`, { token: admin }), 200);
    expect(resent).toMatchObject({ id: failed.id, state: 'pending' });
    await deliverDue(h.ctx);
    expect(down.received).toHaveLength(2 + schedule.length);
    expect(down.received.at(-1)!.body.id).toBe(failed.eventId);
    const [succeeded] = await deliveriesOf(downEndpoint.id);
    expect(succeeded).toMatchObject({ state: 'succeeded', attempts: 2 + schedule.length, lastStatus: 200 });

    const audit = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'webhook_delivery.resend'), eq(auditLog.resourceId, failed.id)));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ resourceType: 'webhook_delivery', actor: 'admin:admin-user' });

    await expectProblem(await h.request('POST', `/v1/webhook-deliveries/${failed.id}/resend`, { token: admin }), 409, 'conflict');
    await expectProblem(
      await h.request('POST', '/v1/webhook-deliveries/00000000-0000-4000-8000-000000000000/resend', { token: admin }),
      404,
      'not-found',
    );
  });

  it("holds a dossier's later events while an earlier one is retrying, but not another dossier's", async () => {
    let healed = false;
    let first = '';
    const ordered = await receiver((r) => (!healed && r.body.dossierCode === first ? 500 : 200));
    await endpoint(ordered.url, ['obligation.paid', 'dossier.paid']);
    const registered = await registerDossier(h, portal, procedure);
    first = registered.code;
    const intent = await expectJson(await createIntent(h, portal, first), 201);
    await expectJson(await deliverSandboxCallback(h, sandboxEvent(intent)), 200);
    const { dossier: second } = await paidDossier();

    await deliverDue(h.ctx);
    const typesOf = (code: string) => ordered.received.filter((r) => r.body.dossierCode === code).map((r) => r.body.type);
    expect(typesOf(first)).toEqual(['obligation.paid']);
    expect(typesOf(second.code)).toEqual(['obligation.paid', 'dossier.paid']);
    // Still retrying: the next event of the first dossier waits (not due, nothing goes).
    advance(30);
    await deliverDue(h.ctx);
    expect(typesOf(first)).toEqual(['obligation.paid']);

    healed = true;
    advance(60);
    await deliverDue(h.ctx);
    expect(typesOf(first)).toEqual(['obligation.paid', 'obligation.paid', 'dossier.paid']);
    const firstEvents = ordered.received.filter((r) => r.body.dossierCode === first);
    const rows = await h.db.db.select().from(outboxEvents).where(eq(outboxEvents.dossierCode, first));
    const seqOf = new Map(rows.map((r) => [r.id, r.seq]));
    expect(seqOf.get(firstEvents[1]!.body.id)!).toBeLessThan(seqOf.get(firstEvents[2]!.body.id)!);
    expect(firstEvents[0]!.body.id).toBe(firstEvents[1]!.body.id);
  });

  it('writes events in the transaction of the change: a failed transaction leaves no paid line, event or delivery', async () => {
    const r = await receiver();
    await endpoint(r.url, PAID_TYPES);
    const dossier = await registerDossier(h, portal, procedure);
    const intent = await expectJson(await createIntent(h, portal, dossier.code), 201);
    let inside = -1;
    await expect(
      h.ctx.db.transaction(async (tx) => {
        const applied = await applyOutcome(
          { ...h.ctx, tx },
          {
            intentId: intent.id,
            outcome: { kind: 'succeeded', amount: intent.amount, transactionId: `TX-${intent.reference}` },
            source: 'callback',
          },
        );
        expect(applied.result).toBe('applied');
        const [row] = await queryRows<{ n: number }>(
          tx,
          sql`SELECT count(*)::int AS n FROM outbox_events WHERE dossier_code = ${dossier.code}`,
        );
        inside = Number(row!.n);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    // Written inside the transaction (the fee line's and the dossier's; the receipt's comes with its number), gone with it.
    expect(inside).toBe(2);
    const lines = await h.db.db.select().from(obligations).where(eq(obligations.dossierCode, dossier.code));
    expect(lines.map((l) => l.status)).toEqual(['unpaid']);
    expect(await h.db.db.select().from(outboxEvents).where(eq(outboxEvents.dossierCode, dossier.code))).toEqual([]);
    expect(await h.db.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.dossierCode, dossier.code))).toEqual([]);
    expect(await deliverDue(h.ctx)).toMatchObject({ sent: 0 });
    expect(r.received).toEqual([]);

    // The same payment committed: its events and deliveries are there.
    await expectJson(await deliverSandboxCallback(h, sandboxEvent(intent)), 200);
    expect(await h.db.db.select().from(outboxEvents).where(eq(outboxEvents.dossierCode, dossier.code))).toHaveLength(3);
    await deliverDue(h.ctx);
    expect(r.received.map((e) => e.body.type)).toEqual(PAID_TYPES);

    // Every paid intent of this database has its events.
    const missing = await queryRows<{ id: string }>(
      h.db.db,
      sql`SELECT i.id FROM payment_intents i WHERE i.status = 'succeeded' AND NOT EXISTS (
            SELECT 1 FROM outbox_events e WHERE e.type = 'dossier.paid' AND e.payload -> 'data' ->> 'intentId' = i.id::text)`,
    );
    const [paid] = await queryRows<{ n: number }>(h.db.db, sql`SELECT count(*)::int AS n FROM payment_intents WHERE status = 'succeeded'`);
    expect(Number(paid!.n)).toBeGreaterThan(3);
    expect(missing).toEqual([]);
    const [lineEvents] = await queryRows<{ lines: number; events: number }>(
      h.db.db,
      sql`SELECT (SELECT count(*) FROM obligations WHERE status = 'paid')::int AS lines,
                 (SELECT count(*) FROM outbox_events WHERE type = 'obligation.paid')::int AS events`,
    );
    expect(Number(lineEvents!.events)).toBe(Number(lineEvents!.lines));
  });
});

describe(`registering endpoints on ${databaseLabel}`, () => {
  const base = () => ({
    url: 'https://motcua.dossiers.example.gov.vn/hub-events',
    agencyCode: AGENCIES.province,
    events: ['dossier.paid'],
    secrets: [SECRET_A],
  });

  it('answers 201 with fingerprints, never the secrets; a replayed Idempotency-Key gives the same endpoint', async () => {
    const key = idempotencyKey();
    const first = await registerEndpoint(h, admin, base(), key);
    const text = await first.clone().text();
    const created = await expectJson(first, 201);
    cleanup.push(() => h.request('DELETE', `/v1/webhook-endpoints/${created.id}`, { token: admin }));
    expect(text).not.toContain(SECRET_A);
    expect(created).toMatchObject({ url: base().url, agencyCode: AGENCIES.province, events: ['dossier.paid'], active: true });
    expect(created.secretFingerprints).toEqual([expect.stringMatching(/^[0-9a-f]{12}$/)]);
    expect(created).not.toHaveProperty('secrets');
    const again = await expectJson(await registerEndpoint(h, admin, base(), key), 201);
    expect(again.id).toBe(created.id);
    const list = await expectJson(await h.request('GET', '/v1/webhook-endpoints', { token: admin }), 200);
    expect(list.data.filter((e: { id: string }) => e.id === created.id)).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(SECRET_A);
    const one = await expectJson(await h.request('GET', `/v1/webhook-endpoints/${created.id}`, { token: admin }), 200);
    expect(one).toEqual(created);
    const audit = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'webhook_endpoint.create'), eq(auditLog.resourceId, created.id)));
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(SECRET_A);
    // A portal may not register.
    await expectProblem(await registerEndpoint(h, portal, base()), 403, 'forbidden');
    await expectProblem(await h.request('POST', '/v1/webhook-endpoints', { token: admin, body: base() }), 400);
  });

  it.each([
    ['plain http to a public host', { url: 'http://motcua.dossiers.example.gov.vn/hub-events' }, /https/],
    ['a host outside WEBHOOK_ALLOWED_HOSTS', { url: 'https://evil.example.com/hub-events' }, /WEBHOOK_ALLOWED_HOSTS/],
    ['a look-alike host', { url: 'https://dossiers.example.gov.vn.evil.com/x' }, /WEBHOOK_ALLOWED_HOSTS/],
    ['credentials in the URL', { url: 'https://user:pw@motcua.dossiers.example.gov.vn/x' }, /credentials/],
    ['a bad event type', { events: ['dossier.unpaid'] }, /events/],
    ['no event', { events: [] }, /events/],
    ['a short secret', { secrets: ['too-short'] }, /secrets/],
    ['no secret', { secrets: [] }, /secrets/],
  ])('refuses %s (400 problem+json)', async (_name, change, pattern) => {
    const problem = await expectProblem(await registerEndpoint(h, admin, { ...base(), ...change } as never), 400, 'validation-failed');
    expect(JSON.stringify(problem)).toMatch(pattern);
  });

  it('accepts http to loopback in development, refuses it in production; an unknown agency is 422', async () => {
    const loopback = { ...base(), url: 'http://127.0.0.1:9/hub-events' };
    const ok = await expectJson(await registerEndpoint(h, admin, loopback), 201);
    cleanup.push(() => h.request('DELETE', `/v1/webhook-endpoints/${ok.id}`, { token: admin }));
    const settings = h.ctx.settings.webhooks;
    settings.allowLoopback = false;
    try {
      const problem = await expectProblem(await registerEndpoint(h, admin, loopback), 400, 'validation-failed');
      expect(problem.detail).toMatch(/loopback/);
      await expectProblem(await registerEndpoint(h, admin, { ...loopback, url: 'http://localhost:9/x' }), 400, 'validation-failed');
    } finally {
      settings.allowLoopback = true;
    }
    await expectProblem(await registerEndpoint(h, admin, { ...base(), agencyCode: '000.99.99.H19' }), 422, 'unknown-agency');
    await expectProblem(
      await h.request('PATCH', `/v1/webhook-endpoints/${ok.id}`, { token: admin, body: { url: 'https://evil.example.com/x' } }),
      400,
      'validation-failed',
    );
  });

  it('a host allowed at registration but removed from the allowed hosts later is not called', async () => {
    const created = await endpointFor(h, admin, base());
    cleanup.push(() => h.request('DELETE', `/v1/webhook-endpoints/${created.id}`, { token: admin }));
    let called = 0;
    const settings = h.ctx.settings.webhooks;
    const previous = settings.allowedHosts;
    const fetched = h.deps.fetch!;
    settings.allowedHosts = ['another.example.gov.vn'];
    // Were it called, it would go through the context's fetch: count that.
    h.deps.fetch = ((...args: Parameters<typeof fetch>) => {
      called++;
      return fetched(...args);
    }) as typeof fetch;
    try {
      await paidDossier();
      await deliverDue(h.ctx);
    } finally {
      settings.allowedHosts = previous;
      h.deps.fetch = fetched;
    }
    expect(called).toBe(0);
    const [delivery] = await deliveriesOf(created.id);
    expect(delivery).toMatchObject({ state: 'pending', attempts: 1, lastStatus: null });
    expect(delivery.attemptLog[0].error).toMatch(/^not sent: host motcua\.dossiers\.example\.gov\.vn is not under WEBHOOK_ALLOWED_HOSTS/);
  });

  it('DELETE marks pending deliveries failed and they are never sent', async () => {
    const r = await receiver();
    const created = await endpointFor(h, admin, { ...base(), url: r.url });
    const { dossier } = await paidDossier();
    await expectProblem(await h.request('DELETE', `/v1/webhook-endpoints/${created.id}`, { token: portal }), 403, 'forbidden');
    const deleted = await h.request('DELETE', `/v1/webhook-endpoints/${created.id}`, { token: admin });
    expect(deleted.status).toBe(204);
    const rows = await h.db.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, created.id));
    expect(rows.map((d) => [d.dossierCode, d.state, d.lastError])).toEqual([[dossier.code, 'failed', 'the endpoint was deleted']]);
    advance(86_400);
    await deliverDue(h.ctx);
    expect(r.received).toEqual([]);
    await expectProblem(await h.request('GET', `/v1/webhook-endpoints/${created.id}`, { token: admin }), 404, 'not-found');
    await expectProblem(await h.request('POST', `/v1/webhook-deliveries/${rows[0]!.id}/resend`, { token: admin }), 409, 'conflict');
    // Its events reach nobody new either.
    await paidDossier();
    expect(await h.db.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, created.id))).toHaveLength(1);
  });
});

describe(`the catch-up feed on ${databaseLabel}`, () => {
  const feed = async (query: string, token = portal) => expectJson(await h.request('GET', `/v1/events${query}`, { token }), 200);

  it('is scoped, filters by dossier and type, and pages every event exactly once', async () => {
    const { dossier } = await paidDossier(twoLines);
    await paidDossier();
    const all = await feed('?limit=1000');
    expect(all.data.length).toBeGreaterThanOrEqual(5);
    expect(new Set(all.data.map((e: { id: string }) => e.id)).size).toBe(all.data.length);

    for (const agency of [AGENCIES.otherProvince, AGENCIES.communeB]) {
      const outsider = await mintToken({ role: 'portal', agencies: [agency] });
      expect((await feed('?limit=1000', outsider)).data).toEqual([]);
      expect((await feed(`?dossier=${dossier.code}`, outsider)).data).toEqual([]);
    }

    const ofDossier = await feed(`?dossier=${dossier.code}`);
    expect(ofDossier.data.map((e: { type: string }) => e.type)).toEqual([
      'obligation.paid',
      'obligation.paid',
      'dossier.paid',
      'receipt.issued',
    ]);
    expect(ofDossier.data.every((e: { dossierCode: string }) => e.dossierCode === dossier.code)).toBe(true);
    const seqs = ofDossier.data.map((e: { seq: number }) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);

    const paid = await feed('?type=dossier.paid&limit=1000');
    expect(paid.data.length).toBeGreaterThanOrEqual(2);
    expect(paid.data.every((e: { type: string }) => e.type === 'dossier.paid')).toBe(true);
    expect(paid.data.map((e: { dossierCode: string }) => e.dossierCode)).toContain(dossier.code);

    // Page by page, two at a time, following `next`: every event once, in the same order.
    const seen: string[] = [];
    let since = '';
    for (let page = 0; page < 500; page++) {
      const body = await feed(`?limit=2${since ? `&since=${since}` : ''}`);
      if (body.data.length === 0) {
        expect(body.next).toBe(since);
        break;
      }
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((e: { id: string }) => e.id));
      since = body.next;
    }
    expect(seen).toEqual(all.data.map((e: { id: string }) => e.id));

    // Nothing new since the last cursor; a new event comes after it, once.
    const { dossier: later } = await paidDossier();
    const after = await feed(`?since=${since}&limit=1000`);
    expect(after.data.map((e: { dossierCode: string }) => e.dossierCode)).toEqual([later.code, later.code, later.code]);

    for (const bad of ['not-a-cursor', 'MTIz', '%2F%2F%2F']) {
      await expectProblem(await h.request('GET', `/v1/events?since=${bad}`, { token: portal }), 400, 'validation-failed');
    }
    await expectProblem(await h.request('GET', '/v1/events?type=dossier.unpaid', { token: portal }), 400, 'validation-failed');
    await expectProblem(await h.request('GET', '/v1/events', { token: await mintToken({ role: 'campaign', agencies: [] }) }), 403);
  });
});

describe(`a receiver that hangs, on ${databaseLabel}`, () => {
  let slow: Harness;
  afterAll(() => slow?.close());

  it("does not delay another endpoint's events; its attempt records the time limit", async () => {
    slow = await createHarness({ webhooks: { timeoutMs: 1500 } });
    await seedAgencyTree(slow.ctx);
    const code = await createProcedure(slow.ctx);
    const hanging = await startReceiver(() => 'hang');
    const quick = await startReceiver();
    try {
      const a = await expectJson(
        await registerEndpoint(slow, admin, {
          url: hanging.url,
          agencyCode: AGENCIES.province,
          events: ['dossier.paid'],
          secrets: [SECRET_A],
        }),
        201,
      );
      await expectJson(
        await registerEndpoint(slow, admin, {
          url: quick.url,
          agencyCode: AGENCIES.province,
          events: ['dossier.paid'],
          secrets: [SECRET_A],
        }),
        201,
      );
      for (let i = 0; i < 3; i++) {
        const dossier = await registerDossier(slow, portal, code);
        const intent = await expectJson(await createIntent(slow, portal, dossier.code), 201);
        await expectJson(await deliverSandboxCallback(slow, sandboxEvent(intent)), 200);
      }
      const started = Date.now();
      const worker = startDeliveryWorker(slow.ctx);
      try {
        await waitFor(() => quick.received.length === 3 && hanging.received.length === 3, 3000);
        // B has all of its events well before A's time limit.
        expect(Date.now() - started).toBeLessThan(1000);
        const rows = () => slow.db.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, a.id));
        expect((await rows()).every((d) => d.attempts === 0)).toBe(true);
        await waitFor(async () => (await rows()).every((d) => d.attempts === 1), 5000);
        expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      } finally {
        await worker.stop();
      }
      const deliveries = (await expectJson(await slow.request('GET', `/v1/webhook-endpoints/${a.id}/deliveries`, { token: admin }), 200))
        .data;
      expect(deliveries).toHaveLength(3);
      for (const d of deliveries) {
        expect(d).toMatchObject({ state: 'pending', attempts: 1, lastStatus: null, lastError: 'no answer within 1500 ms' });
        expect(d.attemptLog[0]).toMatchObject({ statusCode: null, error: 'no answer within 1500 ms', succeeded: false });
        expect(d.attemptLog[0].latencyMs).toBeGreaterThanOrEqual(1400);
      }
    } finally {
      await hanging.close();
      await quick.close();
    }
  });
});

describe(`every event type from its path, on ${databaseLabel}`, () => {
  let p: Harness;
  afterAll(() => p?.close());

  it('decline, cancel, expiry, refund, review, counter payment and replacement each tell their event', async () => {
    p = await createHarness();
    await p.listen();
    await seedAgencyTree(p.ctx);
    const code = await createProcedure(p.ctx);
    const all = await startReceiver();
    try {
      await expectJson(
        await registerEndpoint(p, admin, {
          url: all.url,
          agencyCode: AGENCIES.province,
          events: [
            'obligation.paid',
            'dossier.paid',
            'payment.failed',
            'payment.expired',
            'payment.cancelled',
            'payment.needs_review',
            'payment.review_resolved',
            'payment.refunded',
            'receipt.issued',
            'receipt.adjusted',
            'receipt.replaced',
            'offline_payment.recorded',
          ],
          secrets: [SECRET_A],
        }),
        201,
      );
      const newIntent = async () => {
        const dossier = await registerDossier(p, portal, code);
        return expectJson(await createIntent(p, portal, dossier.code), 201);
      };
      const typesOf = async (dossierCode: string) =>
        (await expectJson(await p.request('GET', `/v1/events?dossier=${dossierCode}`, { token: portal }), 200)).data.map(
          (e: { type: string }) => e.type,
        );

      const declined = await newIntent();
      await expectJson(await deliverSandboxCallback(p, sandboxEvent(declined, { type: 'payment.declined' })), 200);
      expect(await typesOf(declined.dossierCode)).toEqual(['payment.failed']);

      const cancelled = await newIntent();
      await expectJson(await p.request('POST', `/v1/payment-intents/${cancelled.id}/cancel`, { token: portal }), 200);
      expect(await typesOf(cancelled.dossierCode)).toEqual(['payment.cancelled']);

      const refunded = await newIntent();
      expect((await chooseOnCheckout(refunded.nextAction.url, 'pay')).status).toBe(303);
      const refund = await expectJson(
        await p.request('POST', `/v1/payment-intents/${refunded.id}/refunds`, {
          token: treasury,
          headers: { 'idempotency-key': idempotencyKey() },
          body: { amount: refunded.amount, expectedRefundable: refunded.amount, reason: 'Hồ sơ bị trả lại' },
        }),
        201,
      );
      expect(refund.status).toBe('succeeded');
      expect(await typesOf(refunded.dossierCode)).toEqual([
        'obligation.paid',
        'dossier.paid',
        'receipt.issued',
        'payment.refunded',
        'receipt.adjusted',
      ]);

      const mismatched = await newIntent();
      await expectJson(await deliverSandboxCallback(p, sandboxEvent(mismatched, { amount: mismatched.amount - 1_000 })), 200);
      expect(await typesOf(mismatched.dossierCode)).toEqual(['payment.needs_review']);
      const [review] = await p.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, mismatched.id));
      await expectJson(
        await p.request('POST', `/v1/payment-reviews/${review!.id}/decision`, {
          token: treasury,
          headers: { 'idempotency-key': idempotencyKey() },
          body: { action: 'accept', amount: mismatched.amount - 1_000, note: 'Chấp nhận số đã nhận' },
        }),
        200,
      );
      const reviewed = await typesOf(mismatched.dossierCode);
      expect(reviewed[0]).toBe('payment.needs_review');
      expect(reviewed).toContain('payment.review_resolved');

      const counter = await registerDossier(p, portal, code);
      const recorded = await p.request('POST', `/v1/dossiers/${counter.code}/offline-payments`, {
        token: portal,
        headers: { 'idempotency-key': idempotencyKey() },
        body: { lines: [1], method: 'cash', collector: 'Nguyễn Thị Lan', paperReceiptNumber: '0000042' },
      });
      expect(recorded.status, await recorded.clone().text()).toBe(201);
      expect(await typesOf(counter.code)).toContain('offline_payment.recorded');

      const replaced = await newIntent();
      await expectJson(await deliverSandboxCallback(p, sandboxEvent(replaced)), 200);
      const receipt = await expectJson(await p.request('GET', `/v1/payment-intents/${replaced.id}/receipt`, { token: portal }), 200);
      await expectJson(
        await p.request('POST', `/v1/receipts/${receipt.id}/replacements`, {
          token: treasury,
          body: { payer: { name: 'Nguyễn Văn Ân' }, reason: 'Sai tên người nộp' },
        }),
        201,
      );
      const replacedTypes = await typesOf(replaced.dossierCode);
      expect(replacedTypes.at(-1)).toBe('receipt.replaced');
      const [replacing] = (
        await expectJson(await p.request('GET', `/v1/events?dossier=${replaced.dossierCode}&type=receipt.replaced`, { token: portal }), 200)
      ).data;
      expect(replacing.data.receipt).toMatchObject({ kind: 'replacing', originalId: receipt.id });

      // Expiry last: the clock moves two days on, past the intent's time and the grace for asking the gateway.
      const expiring = await newIntent();
      p.clock.now = new Date(Date.now() + 2 * 86_400_000);
      await expireDueIntents(p.ctx);
      expect(await typesOf(expiring.dossierCode)).toEqual(['payment.expired']);

      // Every one of them reaches the subscribed receiver.
      await deliverDue(p.ctx);
      const types = new Set(all.received.map((r) => r.body.type));
      expect([...types].sort()).toEqual(
        [
          'obligation.paid',
          'dossier.paid',
          'payment.failed',
          'payment.expired',
          'payment.cancelled',
          'payment.needs_review',
          'payment.review_resolved',
          'payment.refunded',
          'receipt.issued',
          'receipt.adjusted',
          'receipt.replaced',
          'offline_payment.recorded',
        ].sort(),
      );
      for (const r of all.received) expect(signedWith(String(r.headers['hub-signature']), r.raw, SECRET_A)).toBe(true);
    } finally {
      await all.close();
    }
  });
});
