import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENCIES,
  createIntent,
  createProcedure,
  dossierBody,
  registerDossier,
  seedAgencyTree,
  uniqueDossierCode,
} from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';

/**
 * Careless requests get a clear answer (issue 14): one error per root cause with the form
 * expected, 405 with Allow for a method the path does not take, 415 naming the media type read,
 * and a replayed answer that says it is one.
 */
let h: Harness;
let admin: string;
let portal: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness();
  h.clock.now = new Date('2026-12-05T10:00:00+07:00');
  await seedAgencyTree(h.ctx);
  admin = await mintToken({ role: 'admin' });
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.communeA] });
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h?.close());

const campaign = (overrides: Record<string, unknown> = {}) => ({
  name: 'Chiến dịch 30 ngày',
  agencyCode: AGENCIES.province,
  startDate: '2026-12-01',
  targets: { dossierOnlinePayment: 0.7 },
  ...overrides,
});
let keys = 0;
const postCampaign = (body: unknown, headers: Record<string, string> = {}) =>
  h.request('POST', '/v1/campaigns', { token: admin, body, headers: { 'idempotency-key': `careless-${++keys}`, ...headers } });

describe('one error per root cause, saying the form expected', () => {
  it('a start date as 01/12/2026: one error, on startDate, saying dates are yyyy-mm-dd', async () => {
    for (const startDate of ['01/12/2026', '2026-13-01', 20261201]) {
      const problem = await expectProblem(await postCampaign(campaign({ startDate })), 400, 'validation-failed');
      expect(problem.errors, String(startDate)).toEqual([{ path: 'startDate', message: 'a date as yyyy-mm-dd, e.g. 2026-12-01' }]);
    }
    // A baseline date too, and a date before 1900 is told so (once).
    const baseline = await expectProblem(await postCampaign(campaign({ baseline: { from: '1/11/2026', to: '2026-11-30' } })), 400);
    expect(baseline.errors).toEqual([{ path: 'baseline.from', message: 'a date as yyyy-mm-dd, e.g. 2026-12-01' }]);
    const early = await expectProblem(await postCampaign(campaign({ startDate: '1899-12-01' })), 400);
    expect(early.errors).toEqual([{ path: 'startDate', message: 'a date from 1900 on' }]);
  });

  it('a target of 80: one error saying 80 % is 0.8', async () => {
    const problem = await expectProblem(await postCampaign(campaign({ targets: { dossierOnlinePayment: 80 } })), 400);
    expect(problem.errors).toEqual([{ path: 'targets.dossierOnlinePayment', message: '80 is not a fraction: a target of 80 % is 0.8' }]);
    const half = await expectProblem(
      await postCampaign(campaign({ targets: { dossierOnlinePayment: 0.7, procedureOnlinePayment: 72.5 } })),
      400,
    );
    expect(half.errors).toEqual([
      { path: 'targets.procedureOnlinePayment', message: '72.5 is not a fraction: a target of 72.5 % is 0.725' },
    ]);
    for (const target of [-0.5, 250]) {
      const odd = await expectProblem(await postCampaign(campaign({ targets: { dossierOnlinePayment: target } })), 400);
      expect(odd.errors, String(target)).toEqual([
        { path: 'targets.dossierOnlinePayment', message: 'a fraction from 0 to 1: a target of 70 % is 0.7' },
      ]);
    }
    // Two faults, two errors: each on its own field.
    const two = await expectProblem(await postCampaign(campaign({ startDate: '01/12/2026', targets: { dossierOnlinePayment: 80 } })), 400);
    expect(two.errors.map((e: { path: string }) => e.path)).toEqual(['startDate', 'targets.dossierOnlinePayment']);
    // And a valid campaign still goes through.
    await expectJson(await postCampaign(campaign()), 201);
  });

  it('a receipt time as 22/11/2026 09:30: one error, on receivedAt, with the form expected', async () => {
    const response = await h.request('PUT', `/v1/dossiers/${uniqueDossierCode()}`, {
      token: portal,
      body: dossierBody(procedure, { receivedAt: '22/11/2026 09:30' }),
    });
    const problem = await expectProblem(response, 400, 'validation-failed');
    expect(problem.errors).toEqual([
      { path: 'receivedAt', message: 'a time as yyyy-mm-ddThh:mm:ss with its offset, e.g. 2026-11-22T09:30:00+07:00' },
    ]);
  });
});

describe('a method the path does not take', () => {
  const allowOf = (response: Response) => response.headers.get('allow')?.split(', ').sort();

  it('answers 405 with Allow listing the methods of the path, path parameters included', async () => {
    const code = (await registerDossier(h, portal, procedure)).code;
    const intent = await json(await createIntent(h, portal, code));
    const cases: Array<[string, string, string | null, string[]]> = [
      ['DELETE', '/v1/campaigns', admin, ['GET', 'HEAD', 'POST']],
      ['PATCH', '/v1/campaigns/0b6c5e0e-6f0a-4d1e-9a57-3f1c2b7d8e90', admin, ['GET', 'HEAD', 'PUT']],
      ['POST', `/v1/dossiers/${code}`, portal, ['GET', 'HEAD', 'PUT']],
      ['GET', `/v1/payment-intents/${intent.id}/cancel`, portal, ['POST']],
      ['POST', '/healthz', null, ['GET', 'HEAD']],
    ];
    for (const [method, path, token, allowed] of cases) {
      const response = await h.request(method, path, { token });
      const problem = await expectProblem(response, 405, 'method-not-allowed');
      expect(allowOf(response), `${method} ${path}`).toEqual(allowed);
      expect(problem.detail).toBe(`${method} is not a method of ${path}; it takes ${response.headers.get('allow')}`);
    }
    // The method of the path still works, and the same method on a resource that is not there is 404.
    expect((await h.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal })).status).toBe(200);
  });

  it('keeps 404 for a path the hub does not have, and for a missing resource of a method it takes', async () => {
    await expectProblem(await h.request('DELETE', '/v1/no-such-thing', { token: admin }), 404, 'not-found');
    await expectProblem(await h.request('GET', '/nowhere'), 404, 'not-found');
    await expectProblem(await h.request('GET', '/v1/dossiers/000.21.32.H19-261122-0999', { token: portal }), 404, 'not-found');
  });
});

describe('a JSON operation given another media type', () => {
  it('answers 415 naming application/json, for text, a form and a multipart body', async () => {
    const bodies: Array<[string, string]> = [
      ['text/plain', JSON.stringify(campaign())],
      ['application/x-www-form-urlencoded', 'name=Chi%E1%BA%BFn+d%E1%BB%8Bch&startDate=2026-12-01'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nA\r\n--x--\r\n'],
    ];
    for (const [type, raw] of bodies) {
      const response = await h.request('POST', '/v1/campaigns', {
        token: admin,
        rawBody: raw,
        headers: { 'content-type': type, 'idempotency-key': `media-${type.split(';')[0]}` },
      });
      const problem = await expectProblem(response, 415, 'unsupported-media-type');
      expect(problem.detail, type).toBe('this operation reads application/json');
      expect(problem.errors, type).toEqual([{ path: 'content-type', message: 'expected application/json' }]);
    }
  });
});

describe('a replayed answer', () => {
  it('carries Idempotent-Replayed: true, and a first answer or a refusal does not', async () => {
    const code = (await registerDossier(h, portal, procedure)).code;
    const first = await createIntent(h, portal, code, {}, 'replayed-intent');
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await createIntent(h, portal, code, {}, 'replayed-intent');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await json(again)).id).toBe((await json(first)).id);
    // The same key with another body is refused, and says nothing of a replay.
    const reused = await createIntent(h, portal, code, { returnUrl: 'https://other.example.gov.vn/back' }, 'replayed-intent');
    await expectProblem(reused, 409, 'idempotency-key-reused');
    expect(reused.headers.get('idempotent-replayed')).toBeNull();

    // Another kind of creation: a campaign.
    const body = campaign({ name: 'Chiến dịch phát lại' });
    const created = await postCampaign(body, { 'idempotency-key': 'replayed-campaign' });
    expect(created.status).toBe(201);
    expect(created.headers.get('idempotent-replayed')).toBeNull();
    const replayed = await postCampaign(body, { 'idempotency-key': 'replayed-campaign' });
    expect(replayed.status).toBe(201);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect((await json(replayed)).id).toBe((await json(created)).id);
  });
});
