import { Hono } from 'hono';
import type { EmulatorDeps } from './common.ts';
import { createDvcqgEmulator, type DvcqgEmulatorSettings } from './dvcqg.ts';
import { createSandboxCheckout } from './sandbox-checkout.ts';
import { createVietqrBank, type VietqrBankSettings } from './vietqr-bank.ts';
import { createVnpayEmulator, type VnpayEmulatorSettings } from './vnpay.ts';

export type { EmulatorDeps } from './common.ts';

/**
 * What to emulate: the sandbox gateway's hosted checkout, and the channels (VNPay, the national
 * platform, a bank), with the same settings as the gateways the hub is configured with.
 */
export interface EmulatorSettings {
  sandbox?: { secrets: readonly string[]; toleranceSeconds: number };
  vnpay?: VnpayEmulatorSettings;
  dvcqg?: DvcqgEmulatorSettings;
  vietqr?: VietqrBankSettings;
}

/**
 * The demo's outside world, mounted by the Node entry and the tests (never by src/app.ts, so never
 * on Workers, and never in production). An emulator signs whatever its page is asked to, with the
 * channel's secret: VNPay's and the platform's are mounted only where the hub's gateway points at
 * them, so a real channel's credentials can never be used to fake a payment. VietQR has no
 * endpoint to check; it is emulated whenever its settings are passed.
 */
export function createEmulators(deps: EmulatorDeps, settings: EmulatorSettings) {
  const app = new Hono();
  const here = (url: string, channel: string) => {
    if (url.startsWith(`${deps.publicBaseUrl}/sandbox/${channel}/`)) return true;
    deps.log.warn('channel emulator not mounted: the gateway points elsewhere', { channel, url });
    return false;
  };
  if (settings.sandbox) app.route('/', createSandboxCheckout({ ...deps, ...settings.sandbox }));
  if (settings.vnpay && here(settings.vnpay.paymentUrl, 'vnpay')) app.route('/', createVnpayEmulator({ ...deps, config: settings.vnpay }));
  if (settings.dvcqg && here(settings.dvcqg.initUrl, 'dvcqg')) app.route('/', createDvcqgEmulator({ ...deps, config: settings.dvcqg }));
  if (settings.vietqr) app.route('/', createVietqrBank({ ...deps, config: settings.vietqr }));
  return app;
}
