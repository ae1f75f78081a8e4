import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { testDvcqgGateway } from '../helpers/dvcqg-gateway.ts';
import { AGENCIES, createProcedure, idempotencyKey, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectProblem } from '../helpers/problems.ts';

/**
 * Every line a request causes carries its request id (the request's child logger), the access
 * line of an error answer names the problem `code`, and a failed gateway (502) is a warning with
 * the reason. The national platform here never answers its init: the call times out.
 */
const TIMEOUT_MS = 200;

/** A platform that takes the request and never answers: the adapter's time limit ends it. */
const silentPlatform: typeof fetch = (_input, init) =>
  new Promise((_resolve, reject) => {
    const signal = init?.signal;
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

let h: Harness;
let portal: string;
let procedure: string;
beforeAll(async () => {
  h = await createHarness({
    fetch: silentPlatform,
    gateways: (env) => ({
      dvcqg: testDvcqgGateway({
        secrets: ['dvcqg-log-test-key'],
        returnUrl: `${env.baseUrl}/v1/returns/dvcqg`,
        callbackUrl: `${env.baseUrl}/v1/callbacks/dvcqg`,
        fetch: env.fetch,
        now: env.now,
        timeoutMs: TIMEOUT_MS,
      }),
    }),
  });
  await seedAgencyTree(h.ctx);
  await upsertAgency(h.ctx, {
    code: AGENCIES.province,
    name: 'UBND tỉnh Đồng Nai',
    level: 'province',
    parentCode: null,
    bankBin: '970415',
    accountNumber: '113000123456',
    accountName: 'UBND TINH DONG NAI',
  });
  procedure = await createProcedure(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province], subject: 'portal-logs' });
});
afterAll(() => h.close());

const linesOf = (requestId: string) => h.logs.filter((l) => l.requestId === requestId);

describe('request logs', () => {
  it('a gateway that times out: 502, and every line of the request carries its id, the warning and its reason included', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    const before = h.logs.length;
    const requestId = 'req-dvcqg-timeout-0001';
    const response = await h.request('POST', '/v1/payment-intents', {
      token: portal,
      headers: { 'idempotency-key': idempotencyKey(), 'x-request-id': requestId },
      body: { dossierCode: dossier.code, gateway: 'dvcqg', returnUrl: 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua' },
    });
    const problem = await expectProblem(response, 502, 'gateway-error');
    expect(problem.requestId).toBe(requestId);

    const written = h.logs.slice(before);
    // Nothing the request caused was written without a request id.
    expect(written.filter((l) => typeof l.requestId !== 'string')).toEqual([]);
    const lines = linesOf(requestId);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'gateway hand-over failed'],
      ['warn', 'request'],
    ]);
    expect(lines[0]).toMatchObject({ gateway: 'dvcqg', error: expect.stringMatching(/abort|timeout/i) });
    expect(lines[1]).toMatchObject({
      method: 'POST',
      route: '/v1/payment-intents',
      status: 502,
      code: 'gateway-error',
      detail: problem.detail,
      principal: 'portal:portal-logs',
    });
    expect(String(lines[1]!.detail)).toContain('dvcqg');
  });

  it('the access line of a 4xx answer names the problem code, at info; a success names none', async () => {
    const anonymous = await h.request('GET', '/v1/dossiers/000.21.32.H19-261122-0001', {
      headers: { 'x-request-id': 'req-no-token-0001' },
    });
    await expectProblem(anonymous, 401, 'unauthenticated');
    const missing = await h.request('GET', '/v1/dossiers/000.21.32.H19-261122-0002', {
      token: portal,
      headers: { 'x-request-id': 'req-missing-0001' },
    });
    await expectProblem(missing, 404, 'not-found');
    const fine = await h.request('GET', '/healthz', { headers: { 'x-request-id': 'req-healthz-0001' } });
    expect(fine.status).toBe(200);

    expect(linesOf('req-no-token-0001')).toMatchObject([
      { level: 'info', msg: 'request', status: 401, code: 'unauthenticated', principal: null },
    ]);
    expect(linesOf('req-missing-0001')).toMatchObject([
      { level: 'info', msg: 'request', status: 404, code: 'not-found', principal: 'portal:portal-logs' },
    ]);
    const [healthz] = linesOf('req-healthz-0001');
    expect(healthz).toMatchObject({ level: 'info', status: 200 });
    expect(healthz).not.toHaveProperty('code');
    // A 4xx's detail may quote the caller's input (a path, a code): it is not logged.
    expect(linesOf('req-missing-0001')[0]).not.toHaveProperty('detail');
  });

  it('two requests at once keep their own ids', async () => {
    const ids = ['req-parallel-000a', 'req-parallel-000b'];
    await Promise.all(ids.map((id) => h.request('GET', '/healthz', { headers: { 'x-request-id': id } })));
    for (const id of ids) expect(linesOf(id)).toHaveLength(1);
  });
});
