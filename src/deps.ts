import type { Config, GatewaysConfig } from './config.ts';
import type { DatabaseHandle } from './db/types.ts';
import { buildGateways } from './gateways/configure.ts';
import { createRegistry } from './gateways/registry.ts';
import type { AppDeps } from './http/env.ts';
import { createTokenVerifier } from './http/middleware/auth.ts';
import { RateLimits } from './http/middleware/rate-limits.ts';
import type { Logger } from './logger.ts';
import type { ServiceContext } from './services/context.ts';
import { createReceiptSigners } from './services/receipt-signer.ts';
import type { Spreadsheets } from './services/spreadsheets.ts';
import { createOidcRelyingParty } from './web/oidc.ts';

/** Secrets the hub runs with, from configuration (or, embedded only, generated: node/runtime.ts). */
export interface Secrets {
  jwtSecret?: string;
  sandboxSecrets?: string[];
  receiptSigningKey: string;
  /**
   * The dashboard session's key. The Node server and Workers require it (node/runtime.ts,
   * worker.ts); the scripts, which serve no pages, may go without: they get a throwaway one.
   */
  sessionSecret?: string;
  /** Gateways as configured, or (embedded demo only) completed with test values: node/runtime.ts. */
  gateways?: GatewaysConfig;
}

/** Everything but the database: built once per process (or per Workers isolate). */
export type StaticDeps = Omit<AppDeps, 'db' | 'databaseKind'>;

/**
 * `log` is pino on Node (src/node/logger.ts) and the console logger on Workers (src/logger.ts);
 * `spreadsheets` is ExcelJS on Node (src/node/spreadsheets.ts) and none on Workers.
 */
export async function buildStaticDeps(config: Config, secrets: Secrets, log: Logger, spreadsheets?: Spreadsheets): Promise<StaticDeps> {
  const now = () => new Date();
  const gatewayConfig = secrets.gateways ?? config.gateways;
  const gateways = buildGateways(
    {
      ...gatewayConfig,
      sandbox: secrets.sandboxSecrets?.length
        ? {
            secrets: secrets.sandboxSecrets,
            polling: config.sandboxPolling,
            maxAmount: config.sandboxMaxAmount,
            hostedAt: config.sandboxUrl,
          }
        : undefined,
    },
    {
      publicBaseUrl: config.publicBaseUrl,
      fetch: (input, init) => fetch(input, init),
      now,
      callbackToleranceSeconds: config.callbackToleranceSeconds,
    },
  );
  return {
    settings: {
      publicBaseUrl: config.publicBaseUrl,
      intentTtlMinutes: config.intentTtlMinutes,
      expiryUnknownGraceMinutes: config.expiryUnknownGraceMinutes,
      refundApprovalThreshold: config.refundApprovalThreshold,
      reviewApprovalThreshold: config.reviewApprovalThreshold,
      dossierLimits: config.dossierLimits,
      treasuryDay: config.treasuryDay,
      indicators: config.indicators,
      collectionForms: config.collectionForms,
      receipts: config.receipts,
      webhooks: config.webhooks,
      inbox: config.inbox,
    },
    rateLimits: new RateLimits(config.rateLimits),
    gateways: createRegistry(gateways),
    // Built once per process (per isolate on Workers), so the IdP's metadata is discovered once.
    oidc: config.oidc && createOidcRelyingParty(config.oidc, (input, init) => fetch(input, init)),
    oidcEnabled: config.oidc !== undefined,
    signer: await createReceiptSigners(secrets.receiptSigningKey, config.receipts.agencyKeys as never),
    verifier: createTokenVerifier({ ...config.auth, secret: secrets.jwtSecret }),
    session: { secret: secrets.sessionSecret ?? throwawaySecret(), ttlMinutes: config.session.ttlMinutes },
    log,
    spreadsheets,
    now,
  };
}

function throwawaySecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes));
}

/** The app's dependencies from configuration: shared by the Node entry, the scripts and Workers. */
export async function buildDeps(
  config: Config,
  handle: DatabaseHandle,
  secrets: Secrets,
  log: Logger,
  spreadsheets?: Spreadsheets,
): Promise<AppDeps> {
  return withDatabase(await buildStaticDeps(config, secrets, log, spreadsheets), handle);
}

export function withDatabase(deps: StaticDeps, handle: DatabaseHandle): AppDeps {
  return { ...deps, db: handle.db, replica: handle.replica, databaseKind: handle.kind };
}

/** The service context for scripts and jobs, outside any request. */
export function serviceContext(deps: AppDeps): ServiceContext {
  return {
    db: deps.db,
    replica: deps.replica,
    settings: deps.settings,
    gateways: deps.gateways,
    signer: deps.signer,
    log: deps.log,
    spreadsheets: deps.spreadsheets,
    now: deps.now ?? (() => new Date()),
    fetch: deps.fetch ?? ((input, init) => fetch(input, init)),
    receiptsInBackground: deps.receiptsInBackground,
  };
}
