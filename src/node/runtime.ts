import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, parseConfig, type Config } from '../config.ts';
import { connectEmbedded } from '../db/embedded.ts';
import { connectServer } from '../db/server.ts';
import type { DatabaseHandle } from '../db/types.ts';
import { generateReceiptKey } from '../services/receipt-signer.ts';
import type { Secrets } from '../deps.ts';

export { buildDeps, serviceContext, type Secrets } from '../deps.ts';

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
}

/**
 * The embedded (demo) mode needs no configuration: it generates its secrets once and keeps them
 * in its data folder, so `npm run token` and `npm start` agree. A server database is production:
 * there, a missing secret refuses the start instead of inventing one.
 */
export async function resolveSecrets(config: Config): Promise<Secrets> {
  if (config.database.kind === 'server') {
    const missing: string[] = [];
    if (!config.auth.secret && !config.auth.jwksUrl) missing.push('JWT_SECRET (or JWT_JWKS_URL)');
    if (!config.receiptSigningKey) missing.push('RECEIPT_SIGNING_KEY');
    if (missing.length > 0) {
      throw new ConfigError(missing.map((m) => `${m}: required with DATABASE_URL (a server database never runs on generated secrets)`));
    }
    return { jwtSecret: config.auth.secret, sandboxSecrets: config.sandbox?.secrets, receiptSigningKey: config.receiptSigningKey! };
  }
  const file = join(config.dataDir, 'secrets.json');
  let stored: StoredSecrets;
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as StoredSecrets;
  } catch {
    stored = {
      jwtSecret: randomBytes(32).toString('base64url'),
      sandboxSecret: randomBytes(32).toString('base64url'),
      receiptSigningKey: JSON.stringify(await generateReceiptKey()),
    };
    await mkdir(dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, JSON.stringify(stored, null, 2), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
  return {
    jwtSecret: config.auth.secret ?? stored.jwtSecret,
    sandboxSecrets: config.sandbox?.secrets ?? [stored.sandboxSecret],
    receiptSigningKey: config.receiptSigningKey ?? stored.receiptSigningKey,
  };
}

export async function openDatabase(config: Config): Promise<DatabaseHandle> {
  if (config.database.kind === 'server') return connectServer(config.database.url, { poolMax: config.database.poolMax, prepare: config.database.prepare });
  await mkdir(config.database.dataDir, { recursive: true });
  return connectEmbedded(config.database.dataDir);
}

/** Prints a configuration error as one readable message and exits, instead of a stack trace. */
export function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  throw error;
}
