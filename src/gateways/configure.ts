import { createDvcqgGateway, type DvcqgSettings } from './dvcqg/adapter.ts';
import { createSandboxGateway } from './sandbox/adapter.ts';
import type { Gateway, GatewayId, PollingSchedule } from './types.ts';
import { createVietqrGateway, type VietqrSettings } from './vietqr/adapter.ts';
import { createVnpayGateway, type VnpaySettings } from './vnpay/adapter.ts';

export interface GatewayEnvironment {
  /** Where the hub is reached: return pages and callbacks are under it. */
  publicBaseUrl: string;
  fetch: typeof fetch;
  now: () => Date;
  callbackToleranceSeconds: number;
}

/**
 * Each channel's settings, in the adapters' own types: the hub's configuration parses the environment into
 * this shape (the configuration depends on the adapters, never the reverse).
 */
export interface GatewaysSettings {
  vnpay?: VnpaySettings;
  vietqr?: VietqrSettings;
  dvcqg?: DvcqgSettings;
  /** Outbound gateway calls (init, status query, refund) give up after this long: "unknown". */
  timeoutMs: number;
}

export interface GatewaySettings extends GatewaysSettings {
  sandbox?: { secrets: readonly string[]; polling: PollingSchedule; maxAmount?: number; hostedAt?: string };
}

/**
 * Every configured gateway, built from configuration: the one place adapters are constructed,
 * for the Node server, the scripts, Workers and the tests alike. A gateway left out of the
 * configuration is absent, and intent creation refuses it by name.
 */
export function buildGateways(settings: GatewaySettings, env: GatewayEnvironment): Partial<Record<GatewayId, Gateway>> {
  const base = env.publicBaseUrl;
  const common = { fetch: env.fetch, now: env.now, timeoutMs: settings.timeoutMs };
  const gateways: Partial<Record<GatewayId, Gateway>> = {};
  if (settings.sandbox?.secrets.length) {
    gateways.sandbox = createSandboxGateway({
      secrets: settings.sandbox.secrets,
      baseUrl: base,
      toleranceSeconds: env.callbackToleranceSeconds,
      polling: settings.sandbox.polling,
      maxAmount: settings.sandbox.maxAmount,
      hostedAt: settings.sandbox.hostedAt,
      ...common,
    });
  }
  if (settings.vnpay) gateways.vnpay = createVnpayGateway({ ...settings.vnpay, returnUrl: `${base}/v1/returns/vnpay`, ...common });
  if (settings.vietqr) gateways.vietqr = createVietqrGateway({ ...settings.vietqr, now: env.now });
  if (settings.dvcqg) {
    gateways.dvcqg = createDvcqgGateway({
      ...settings.dvcqg,
      returnUrl: `${base}/v1/returns/dvcqg`,
      callbackUrl: `${base}/v1/callbacks/dvcqg`,
      ...common,
    });
  }
  return gateways;
}
