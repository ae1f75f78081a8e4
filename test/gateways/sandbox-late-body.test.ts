import nock from 'nock';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSandboxGateway } from '../../src/gateways/sandbox/adapter.ts';

// The sandbox adapter reads status answers within its time limit, body included. A fetch that
// does not tie the signal to a body still arriving (nock 15's; "mocks, some runtimes", as the
// VNPay and DVCQG adapters put it) must not have a late answer applied instead of "unknown".
beforeAll(() => nock.disableNetConnect());
afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

it('a paid status whose body arrives after timeoutMs is unknown, never a payment', async () => {
  const reference = 'HP0000000001';
  nock('http://hub.test')
    .get(`/sandbox/api/payments/${reference}`)
    .delay(800) // nock 15: headers at once, body after 800 ms
    .reply(200, { reference, status: 'succeeded', amount: 185_000, transactionId: `SBX${reference}` });
  const sandbox = createSandboxGateway({
    secrets: ['sandbox-current-secret-0123456789'],
    baseUrl: 'http://hub.test',
    toleranceSeconds: 300,
    fetch: (input, init) => fetch(input, init),
    now: () => new Date(),
    timeoutMs: 200,
  });
  const started = Date.now();
  const answer = await sandbox.queryStatus!({
    id: 'x',
    reference,
    amount: 185_000,
    createdAt: new Date(),
    gatewayReference: null,
    gatewayTransactionId: null,
    succeededAt: null,
  });
  expect(answer.kind).toBe('unknown');
  expect(Date.now() - started).toBeLessThan(600);
});
