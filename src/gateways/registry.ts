import type { Gateway, GatewayId } from './types.ts';

/** Every gateway id has an entry; an unconfigured one is `undefined` and refused at intent creation. */
export type GatewayRegistry = Record<GatewayId, Gateway | undefined>;

export function createRegistry(configured: Partial<Record<GatewayId, Gateway>>): GatewayRegistry {
  return {
    sandbox: configured.sandbox,
    vnpay: configured.vnpay,
    vietqr: configured.vietqr,
    dvcqg: configured.dvcqg,
  };
}
