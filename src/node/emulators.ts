import type { Hono } from 'hono';
import type { Config } from '../config.ts';
import { serviceContext } from '../deps.ts';
import { createEmulators } from '../emulators/index.ts';
import type { AppDeps } from '../http/env.ts';
import type { NodeSecrets } from './runtime.ts';

/**
 * The demo's outside world for the Node hub: the sandbox's hosted checkout and, where the
 * gateways point at them, the channel emulators. Only with a sandbox configured, as the demo
 * does: never in production (the configuration refuses SANDBOX_SECRETS there, and production
 * generates none). Workers mounts none of this (src/worker.ts).
 */
export function demoEmulators(config: Config, secrets: NodeSecrets, deps: AppDeps): Hono[] {
  if (!secrets.sandboxSecrets?.length) return [];
  const gateways = secrets.gateways ?? config.gateways;
  const { fetch, now } = serviceContext(deps);
  // A sandbox hosted elsewhere (SANDBOX_URL) is that host's to serve, as a channel emulator is.
  const hostsSandbox = config.sandboxUrl === config.publicBaseUrl;
  if (!hostsSandbox) deps.log.warn('sandbox checkout not mounted: SANDBOX_URL points elsewhere', { url: config.sandboxUrl });
  return [
    createEmulators(
      { db: deps.db, publicBaseUrl: config.publicBaseUrl, fetch, log: deps.log, now },
      {
        sandbox: hostsSandbox ? { secrets: secrets.sandboxSecrets, toleranceSeconds: config.callbackToleranceSeconds } : undefined,
        vnpay: gateways.vnpay,
        dvcqg: gateways.dvcqg,
        vietqr: secrets.emulateVietqr ? gateways.vietqr : undefined,
      },
    ),
  ];
}
