import { type GatewaysConfig, parseConfig } from '../../src/config.ts';

/** The demo's channel credentials, as the tests configure them. */
export const DEMO_CHANNELS = {
  vnpayTmn: 'DEMOV210',
  vnpaySecret: 'VNPAYDEMOSECRET0123456789ABCDEFG',
  dvcqgKey: 'dvcqg-demo-partner-key-0123456789',
  vietqrSecret: 'vietqr-demo-notify-secret-0123456789',
} as const;

/** The environment that points every gateway at the hub's own emulators at `base` (a hub process's, or parseConfig's). */
export function demoGatewayEnv(base: string): Record<string, string> {
  return {
    PUBLIC_BASE_URL: base,
    VNPAY_TMN_CODE: DEMO_CHANNELS.vnpayTmn,
    VNPAY_HASH_SECRET: DEMO_CHANNELS.vnpaySecret,
    VNPAY_PAYMENT_URL: `${base}/sandbox/vnpay/paymentv2/vpcpay.html`,
    VNPAY_API_URL: `${base}/sandbox/vnpay/merchant_webapi/api/transaction`,
    VIETQR_NOTIFY_SECRET: DEMO_CHANNELS.vietqrSecret,
    DVCQG_PARTNER_CODE: 'HCC_DONGNAI',
    DVCQG_HASH_KEY: DEMO_CHANNELS.dvcqgKey,
    DVCQG_INIT_URL: `${base}/sandbox/dvcqg/init`,
    DVCQG_QUERY_URL: `${base}/sandbox/dvcqg/query`,
    GATEWAY_TIMEOUT_MS: '5000',
  };
}

/** What the demo start configures: every gateway pointing at the hub's own emulators at `base`. */
export function demoGateways(base: string, overrides: Record<string, string> = {}): GatewaysConfig {
  return parseConfig({
    ...demoGatewayEnv(base),
    VNPAY_HASH_SECRET: `${DEMO_CHANNELS.vnpaySecret},VNPAYPREVIOUSSECRET9876543210XYZ`,
    ...overrides,
  }).gateways;
}
