import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { resolveSecrets } from '../../src/node/runtime.ts';

/**
 * The embedded demo configures every channel against the hub's emulators, but only channels
 * the operator left alone, and never in production.
 */
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function resolve(env: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'hub-demo-'));
  dirs.push(dir);
  const full = { DATA_DIR: dir, PUBLIC_BASE_URL: 'http://localhost:3000', ...env };
  return resolveSecrets(parseConfig(full), full);
}

describe('the embedded demo configuration', () => {
  it('configures all three channels against the hosted emulators, with generated secrets', async () => {
    const secrets = await resolve({});
    expect(secrets.gateways?.vnpay).toMatchObject({
      tmnCode: 'HUBDEMO1',
      paymentUrl: 'http://localhost:3000/sandbox/vnpay/paymentv2/vpcpay.html',
    });
    expect(secrets.gateways?.dvcqg).toMatchObject({
      initUrl: 'http://localhost:3000/sandbox/dvcqg/init',
      queryUrl: 'http://localhost:3000/sandbox/dvcqg/query',
    });
    expect(secrets.gateways?.vietqr?.secrets).toHaveLength(1);
    expect(secrets.emulateVietqr).toBe(true);
    expect(secrets.sandboxSecrets).toHaveLength(1);
  });

  it("leaves a channel the operator configured as configured: VNPay's own sandbox, not the emulator", async () => {
    const secrets = await resolve({
      VNPAY_TMN_CODE: 'REALTMN1',
      VNPAY_HASH_SECRET: 'the-operators-secret',
      VIETQR_NOTIFY_SECRET: 'bank-secret',
    });
    expect(secrets.gateways?.vnpay).toMatchObject({
      tmnCode: 'REALTMN1',
      secrets: ['the-operators-secret'],
      paymentUrl: 'https://sandbox.vnpayment.vn/paymentv2/vpcpay.html',
      apiUrl: 'https://sandbox.vnpayment.vn/merchant_webapi/api/transaction',
    });
    // The hosted "bank" would sign with the operator's secret: not mounted.
    expect(secrets.emulateVietqr).toBe(false);
    expect(secrets.gateways?.dvcqg?.initUrl).toBe('http://localhost:3000/sandbox/dvcqg/init');
  });

  it('is never a demo in production: no sandbox, no emulated channel', async () => {
    const secrets = await resolve({ NODE_ENV: 'production' });
    expect(secrets.sandboxSecrets).toBeUndefined();
    expect(secrets.gateways).toMatchObject({ vnpay: undefined, vietqr: undefined, dvcqg: undefined });
    expect(secrets.emulateVietqr).toBeFalsy();
  });
});
