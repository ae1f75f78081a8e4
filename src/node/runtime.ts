import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { type Config, ConfigError, parseConfig } from '../config.ts';
import { connectEmbedded } from '../db/embedded.ts';
import { connectServers } from '../db/server.ts';
import type { DatabaseHandle } from '../db/types.ts';
import { buildDeps as buildAppDeps, type Secrets } from '../deps.ts';
import type { AppDeps } from '../http/env.ts';
import type { Logger } from '../logger.ts';
import { generateReceiptKey } from '../services/receipt-signer.ts';
import { type DatabaseLock, DatabaseLockedError, lockDatabase } from './database-lock.ts';
import { createNodeLogger } from './logger.ts';
import { createSpreadsheets } from './spreadsheets.ts';

export { type Secrets, serviceContext } from '../deps.ts';

/** The secrets, and what the Node entry needs to know about them to host the demo's channels. */
export interface NodeSecrets extends Secrets {
  /**
   * The demo generated the VietQR notification secret, so the hosted "bank" may sign with it.
   * (The VNPay and national-platform emulators check that their gateway points at them.)
   */
  emulateVietqr?: boolean;
}

/**
 * Node-side wiring shared by the server and the scripts: configuration, the secrets the
 * embedded mode generates, the database, and the app's dependencies.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  try {
    return parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

interface StoredSecrets {
  jwtSecret: string;
  sandboxSecret: string;
  receiptSigningKey: string;
  /** Added with the real channels: a data folder from before has none, and gets them. */
  vnpaySecret?: string;
  vietqrSecret?: string;
  dvcqgKey?: string;
  /** Added with the dashboard's sessions. */
  sessionSecret?: string;
}

/**
 * The demo's gateway settings, under the same names an operator would set: every channel is
 * configured, pointing at the emulators the Node hub hosts beside its sandbox (no network needed:
 * ./emulators.ts).
 * A variable the environment sets wins.
 */
function demoGatewayEnv(base: string, stored: Required<StoredSecrets>): Record<'VNPAY' | 'VIETQR' | 'DVCQG', Record<string, string>> {
  return {
    VNPAY: {
      VNPAY_TMN_CODE: 'HUBDEMO1',
      VNPAY_HASH_SECRET: stored.vnpaySecret,
      VNPAY_PAYMENT_URL: `${base}/sandbox/vnpay/paymentv2/vpcpay.html`,
      VNPAY_API_URL: `${base}/sandbox/vnpay/merchant_webapi/api/transaction`,
    },
    VIETQR: { VIETQR_NOTIFY_SECRET: stored.vietqrSecret },
    DVCQG: {
      DVCQG_PARTNER_CODE: 'HUBDEMO',
      DVCQG_HASH_KEY: stored.dvcqgKey,
      DVCQG_INIT_URL: `${base}/sandbox/dvcqg/init`,
      DVCQG_QUERY_URL: `${base}/sandbox/dvcqg/query`,
    },
  };
}

/**
 * The embedded (demo) mode needs no configuration: it generates its secrets once and keeps them
 * in its data folder, so `npm run token` and `npm start` agree. A server database is production:
 * there, a missing secret refuses the start instead of inventing one.
 */
export async function resolveSecrets(config: Config, env: Record<string, string | undefined> = process.env): Promise<NodeSecrets> {
  if (config.database.kind === 'server') {
    const missing: string[] = [];
    if (!config.auth.secret && !config.auth.jwksUrl) missing.push('JWT_SECRET (or JWT_JWKS_URL)');
    if (!config.receiptSigningKey) missing.push('RECEIPT_SIGNING_KEY');
    if (!config.session.secret) missing.push('SESSION_SECRET');
    if (missing.length > 0) {
      throw new ConfigError(missing.map((m) => `${m}: required with DATABASE_URL (a server database never runs on generated secrets)`));
    }
    return {
      jwtSecret: config.auth.secret,
      sandboxSecrets: config.sandbox?.secrets,
      receiptSigningKey: config.receiptSigningKey!,
      sessionSecret: config.session.secret,
      gateways: config.gateways,
    };
  }
  const file = join(config.dataDir, 'secrets.json');
  const secret = () => randomBytes(32).toString('base64url');
  let stored: StoredSecrets | undefined;
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as StoredSecrets;
  } catch {
    stored = undefined;
  }
  const complete: Required<StoredSecrets> = {
    jwtSecret: stored?.jwtSecret ?? secret(),
    sandboxSecret: stored?.sandboxSecret ?? secret(),
    receiptSigningKey: stored?.receiptSigningKey ?? JSON.stringify(await generateReceiptKey()),
    vnpaySecret: stored?.vnpaySecret ?? secret(),
    vietqrSecret: stored?.vietqrSecret ?? secret(),
    dvcqgKey: stored?.dvcqgKey ?? secret(),
    sessionSecret: stored?.sessionSecret ?? secret(),
  };
  if (JSON.stringify(stored) !== JSON.stringify(complete)) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, JSON.stringify(complete, null, 2), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
  if (config.env === 'production') {
    // Never a demo in production: no generated sandbox, no emulated channel, only what is set.
    return {
      jwtSecret: config.auth.secret ?? complete.jwtSecret,
      sandboxSecrets: config.sandbox?.secrets,
      receiptSigningKey: config.receiptSigningKey ?? complete.receiptSigningKey,
      sessionSecret: config.session.secret ?? complete.sessionSecret,
      gateways: config.gateways,
    };
  }
  // A channel the environment says nothing about takes the demo's values (a channel with any
  // of its variables set is the operator's, as configured); the result is parsed by the same schema.
  const filled = { ...env };
  for (const [channel, values] of Object.entries(demoGatewayEnv(config.publicBaseUrl, complete))) {
    if (Object.keys(env).some((name) => name.startsWith(`${channel}_`) && env[name]?.trim())) continue;
    Object.assign(filled, values);
  }
  return {
    jwtSecret: config.auth.secret ?? complete.jwtSecret,
    sandboxSecrets: config.sandbox?.secrets ?? [complete.sandboxSecret],
    receiptSigningKey: config.receiptSigningKey ?? complete.receiptSigningKey,
    sessionSecret: config.session.secret ?? complete.sessionSecret,
    gateways: parseConfig(filled).gateways,
    emulateVietqr: filled.VIETQR_NOTIFY_SECRET === complete.vietqrSecret,
  };
}

/** The app's dependencies, logging through pino unless told otherwise (the benchmarks keep quiet). */
export async function buildDeps(
  config: Config,
  handle: DatabaseHandle,
  secrets: Secrets,
  log: Logger = createNodeLogger(config.logLevel),
): Promise<AppDeps> {
  return buildAppDeps(config, handle, secrets, log, createSpreadsheets());
}

/** An embedded database comes with the lock that keeps other processes off its folder. */
type NodeDatabase = DatabaseHandle & { lock?: DatabaseLock };

/**
 * Opens the configured database. An embedded one is first locked (database-lock.ts): a second
 * process on its folder gets one line naming the holder and exits, instead of PGlite aborting.
 * Closing the handle releases the lock; so does the process's exit.
 */
export async function openDatabase(
  config: Config,
  options: {
    /** The one line to print instead of the usual one, when what the script does has another way beside a running hub. */
    whenLocked?: (error: DatabaseLockedError) => string;
    /** Throw the DatabaseLockedError instead of exiting: the script has another way (npm run import-statement uploads to the hub). */
    throwWhenLocked?: boolean;
    /** Runs with an embedded folder's lock held, before the database opens (the hub adopts the install's demo template there). */
    whileLocked?: () => Promise<void>;
  } = {},
): Promise<NodeDatabase> {
  if (config.database.kind === 'server') {
    const { url, readUrl, poolMax, prepare, connectTimeoutSeconds } = config.database;
    return connectServers(url, readUrl, { poolMax, prepare, connectTimeoutSeconds });
  }
  const folder = config.database.dataDir;
  const lock = await lockDatabase(folder).catch((error) => {
    if (options.throwWhenLocked && error instanceof DatabaseLockedError) throw error;
    return exitOnLocked(error, options.whenLocked ?? lockedMessage);
  });
  try {
    await options.whileLocked?.();
    await mkdir(folder, { recursive: true });
    const handle = await connectEmbedded(folder);
    return {
      ...handle,
      lock,
      close: async () => {
        try {
          await handle.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** The one line a second opener of an embedded database gets: who holds it, and what to do. */
function lockedMessage(error: DatabaseLockedError): string {
  const { holder } = error;
  const local = relative(process.cwd(), error.folder);
  const folder = local && !local.startsWith('..') ? local : error.folder;
  const serving = holder.listening ? `; it serves ${holder.listening} and runs the jobs itself` : '';
  return (
    `the embedded database ${folder} is in use by pid ${holder.pid} (${holder.command}, since ${holder.startedAt})${serving}. ` +
    `Stop it first (kill ${holder.pid}), or set DATABASE_URL to a PostgreSQL server, which several processes can share.`
  );
}

function exitOnLocked(error: unknown, message: (error: DatabaseLockedError) => string): never {
  if (error instanceof DatabaseLockedError) {
    console.error(message(error));
    process.exit(75); // EX_TEMPFAIL: it works once the holder has stopped
  }
  throw error;
}

/** Prints a configuration error as one readable message and exits, instead of a stack trace. */
export function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  throw error;
}
