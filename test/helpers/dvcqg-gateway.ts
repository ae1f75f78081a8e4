import { ANSWER_FIELDS, CONFIRM_FIELDS, INIT_FIELDS } from '../../src/emulators/protocol/dvcqg.ts';
import { createDvcqgGateway, type DvcqgOptions } from '../../src/gateways/dvcqg/adapter.ts';

/** The fake platform the adapter tests talk to (nock), and the partner enrolled with it. */
export const PLATFORM = 'https://paymentplatform.dichvucong.test';
export const PARTNER = 'HCC_DONGNAI';

/** The adapter as the tests configure it: the fake platform's URLs, the documented layouts and checksum (SHA256-KEY). */
export function testDvcqgGateway(
  options: Pick<DvcqgOptions, 'secrets' | 'returnUrl' | 'callbackUrl' | 'fetch' | 'now' | 'timeoutMs'> & Partial<DvcqgOptions>,
) {
  return createDvcqgGateway({
    partnerCode: PARTNER,
    initUrl: `${PLATFORM}/api/v1/init`,
    queryUrl: `${PLATFORM}/api/v1/query`,
    version: '1.0.6',
    algorithm: 'SHA256-KEY',
    initFields: INIT_FIELDS,
    confirmFields: CONFIRM_FIELDS,
    answerFields: ANSWER_FIELDS,
    redirectField: 'UrlThanhToan',
    polling: { startDelaySeconds: 600, intervalSeconds: 900, maxAttempts: 8 },
    ...options,
  });
}
