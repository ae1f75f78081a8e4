import { z } from 'zod';

/**
 * The environment, parsed once by this schema at the entry point (Node: server.ts and the
 * scripts; Workers: worker.ts). Nothing else reads `process.env`. A bad value stops the start
 * with a message naming the variable.
 */
const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

const optionalString = z
  .string()
  .optional()
  .transform((s) => (s && s.trim() !== '' ? s.trim() : undefined));

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default('0.0.0.0'),
    /** postgres://… selects the server database (postgres.js); absent selects embedded PGlite. */
    DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    /** Prepared statements save a round trip per query; turn off behind a transaction-mode pooler. */
    DATABASE_PREPARE: z.enum(['true', 'false']).default('true'),
    /** Embedded database folder, and where the embedded mode keeps the secrets it generates. */
    DATA_DIR: z.string().default('.data'),
    /** Base URL the hub is reached at: gateways call back here, checkout pages link here. */
    PUBLIC_BASE_URL: optionalString.pipe(z.url().optional()),
    JWT_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
    JWT_JWKS_URL: optionalString.pipe(z.url().optional()),
    JWT_ISSUER: z.string().min(1).default('fee-payment-hub'),
    JWT_AUDIENCE: z.string().min(1).default('fee-payment-hub'),
    /** Private JWK (JSON) the hub signs receipts with; its public half is at /.well-known/jwks.json. */
    RECEIPT_SIGNING_KEY: optionalString,
    /** Sandbox gateway secrets, comma-separated: the first signs, every one verifies (rotation). */
    SANDBOX_SECRETS: optionalString.pipe(list.optional()),
    INTENT_TTL_MINUTES: z.coerce.number().int().min(1).max(7 * 24 * 60).default(30),
    CALLBACK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
    /** After its expiry, an intent whose gateway cannot be asked stays pending this long. */
    EXPIRY_UNKNOWN_GRACE_MINUTES: z.coerce.number().int().min(0).default(24 * 60),
    /** In-process job interval on Node (0 turns it off; `npm run jobs` runs them once). */
    JOBS_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(60),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  });

export type Env = z.input<typeof envSchema>;

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  database: { kind: 'embedded'; dataDir: string } | { kind: 'server'; url: string; poolMax: number; prepare: boolean };
  dataDir: string;
  publicBaseUrl: string;
  auth: { secret?: string; jwksUrl?: string; issuer: string; audience: string };
  receiptSigningKey?: string;
  sandbox: { secrets: string[] } | undefined;
  intentTtlMinutes: number;
  callbackToleranceSeconds: number;
  expiryUnknownGraceMinutes: number;
  jobsIntervalSeconds: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && e.SANDBOX_SECRETS?.length) {
    // The sandbox's "pay" button marks real obligations paid, with signed receipts, and no money.
    throw new ConfigError(['SANDBOX_SECRETS: the sandbox gateway cannot be enabled when NODE_ENV is production']);
  }
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    database: e.DATABASE_URL
      ? { kind: 'server', url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX, prepare: e.DATABASE_PREPARE === 'true' }
      : { kind: 'embedded', dataDir: `${e.DATA_DIR}/pglite` },
    dataDir: e.DATA_DIR,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    auth: { secret: e.JWT_SECRET, jwksUrl: e.JWT_JWKS_URL, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    receiptSigningKey: e.RECEIPT_SIGNING_KEY,
    sandbox: e.SANDBOX_SECRETS && e.SANDBOX_SECRETS.length > 0 ? { secrets: e.SANDBOX_SECRETS } : undefined,
    intentTtlMinutes: e.INTENT_TTL_MINUTES,
    callbackToleranceSeconds: e.CALLBACK_TOLERANCE_SECONDS,
    expiryUnknownGraceMinutes: e.EXPIRY_UNKNOWN_GRACE_MINUTES,
    jobsIntervalSeconds: e.JOBS_INTERVAL_SECONDS,
    logLevel: e.LOG_LEVEL,
  };
}
