import { createHmac, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { createVietqrGateway } from '../../src/gateways/vietqr/adapter.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { AGENCIES } from './factories.ts';
import type { GatewayEnv, Harness } from './harness.ts';

/**
 * VietQR bank credits for tests that need them beside other things (the treasury's desk): the
 * adapter with the standard layout, commune A's collecting account, and a signed notification.
 */
const VIETQR_SECRET = 'vietqr-notify-current-0123456789';
export const COMMUNE_A_ACCOUNT = { bankBin: '970415', accountNumber: '1014682259', accountName: 'UBND PHUONG TRAN BIEN' };

/** The harness option that adds the VietQR gateway. */
export const vietqrGateway = (env: GatewayEnv) => ({
  vietqr: createVietqrGateway({
    secrets: [VIETQR_SECRET],
    signatureHeader: 'x-signature',
    format: 'standard',
    service: 'QRIBFTTA',
    now: env.now,
  }),
});

/** Gives commune A (of the factories' tree) its collecting account. */
export function giveCommuneAnAccount(h: Harness) {
  return upsertAgency(h.ctx, {
    code: AGENCIES.communeA,
    name: 'UBND phường Trấn Biên',
    level: 'commune',
    parentCode: AGENCIES.province,
    ...COMMUNE_A_ACCOUNT,
  });
}

/** A new bank transaction id. */
export const bankTransactionId = () => `FT26338${randomUUID().replace(/\D/g, '').slice(0, 9)}`;

/** Delivers a signed credit notification (to commune A's account unless the body says otherwise); 200 expected. */
export async function bankCredit(h: Harness, body: Record<string, unknown>) {
  const raw = JSON.stringify({
    accountNumber: COMMUNE_A_ACCOUNT.accountNumber,
    transactionId: bankTransactionId(),
    time: h.ctx.now().toISOString(),
    ...body,
  });
  const response = await h.request('POST', '/v1/callbacks/vietqr', {
    rawBody: raw,
    headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', VIETQR_SECRET).update(raw, 'utf8').digest('hex') },
  });
  expect(response.status).toBe(200);
  return { raw, answer: await response.json() };
}
