import { Hono } from 'hono';
import type { EmulatorDeps } from './common.ts';
import { createDvcqgEmulator, type DvcqgEmulatorSettings } from './dvcqg.ts';
import { createVietqrBank, type VietqrBankSettings } from './vietqr.ts';
import { createVnpayEmulator, type VnpayEmulatorSettings } from './vnpay.ts';

/** The channels to emulate: the same settings as the gateways the hub is configured with. */
export interface EmulatorSettings {
  vnpay?: VnpayEmulatorSettings;
  dvcqg?: DvcqgEmulatorSettings;
  vietqr?: VietqrBankSettings;
}

/**
 * The channel emulators, mounted beside the sandbox host (never in production). An emulator
 * signs whatever its page is asked to, with the channel's secret: it is mounted only where the
 * hub's gateway points at it, so a real channel's credentials can never be used to fake a payment.
 * VietQR has no endpoint to check; it is emulated whenever its settings are passed.
 */
export function createEmulators(deps: EmulatorDeps, settings: EmulatorSettings) {
  const app = new Hono();
  const here = (url: string, channel: string) => {
    if (url.startsWith(`${deps.publicBaseUrl}/sandbox/${channel}/`)) return true;
    deps.log.warn('channel emulator not mounted: the gateway points elsewhere', { channel, url });
    return false;
  };
  if (settings.vnpay && here(settings.vnpay.paymentUrl, 'vnpay')) app.route('/', createVnpayEmulator({ ...deps, config: settings.vnpay }));
  if (settings.dvcqg && here(settings.dvcqg.initUrl, 'dvcqg')) app.route('/', createDvcqgEmulator({ ...deps, config: settings.dvcqg }));
  if (settings.vietqr) app.route('/', createVietqrBank({ ...deps, config: settings.vietqr }));
  return app;
}
