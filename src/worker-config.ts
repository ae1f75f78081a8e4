import { type Config, ConfigError, parseConfig } from './config.ts';

/** A Worker's bindings: vars and secrets (strings), and the Hyperdrive configurations. */
export interface WorkerEnv {
  HYPERDRIVE?: { connectionString: string };
  /** A second Hyperdrive configuration, on a replica: reports read there (DATABASE_READ_URL). */
  HYPERDRIVE_READ?: { connectionString: string };
  [name: string]: unknown;
}

/**
 * The hub's configuration from a Worker's bindings, with the same schema as Node's environment
 * (src/config.ts): the HYPERDRIVE binding's connection string is DATABASE_URL, HYPERDRIVE_READ's
 * DATABASE_READ_URL. What Node may generate for the embedded demo, Workers must be given: every
 * missing secret is named at once. A sandbox gateway needs SANDBOX_URL, since no Worker hosts its
 * checkout (the Node hub does: src/emulators/).
 */
export function workerConfig(env: WorkerEnv): Config {
  const vars: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') vars[k] = v;
  if (env.HYPERDRIVE) vars.DATABASE_URL = env.HYPERDRIVE.connectionString;
  if (env.HYPERDRIVE_READ) vars.DATABASE_READ_URL = env.HYPERDRIVE_READ.connectionString;
  const config = parseConfig(vars);
  const issues: string[] = [];
  if (config.database.kind !== 'server') issues.push('DATABASE_URL: required on Workers (or a HYPERDRIVE binding)');
  if (!config.receiptSigningKey) issues.push('RECEIPT_SIGNING_KEY: required on Workers (wrangler secret put RECEIPT_SIGNING_KEY)');
  if (!config.auth.secret && !config.auth.jwksUrl) issues.push('JWT_SECRET (or JWT_JWKS_URL): required on Workers');
  if (!config.session.secret) issues.push('SESSION_SECRET: required on Workers (wrangler secret put SESSION_SECRET)');
  if (config.sandbox && config.sandboxUrl === config.publicBaseUrl)
    issues.push(
      "SANDBOX_SECRETS: the sandbox's hosted checkout is served by a Node hub (npm start), not by Workers: set SANDBOX_URL to that hub's base URL",
    );
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}
