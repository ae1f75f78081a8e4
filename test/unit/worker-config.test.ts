import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.ts';
import { workerConfig } from '../../src/worker-config.ts';

const PRIMARY = 'postgres://hub:pw@hyperdrive.local:5432/hub';
const complete = {
  HYPERDRIVE: { connectionString: PRIMARY },
  NODE_ENV: 'production',
  PUBLIC_BASE_URL: 'https://hub.example.gov.vn',
  JWT_SECRET: 'a-production-secret-that-is-long-enough-0123456789',
  SESSION_SECRET: 'a-session-secret-that-is-long-enough-0123456789',
  RECEIPT_SIGNING_KEY: '{"kty":"EC","crv":"P-256","x":"x","y":"y","d":"d"}',
};

function issues(env: Record<string, unknown>): string[] {
  try {
    workerConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe("a Worker's configuration", () => {
  it('takes the database from the Hyperdrive bindings, the replica from HYPERDRIVE_READ', () => {
    const config = workerConfig({ ...complete, HYPERDRIVE_READ: { connectionString: 'postgres://hub:pw@replica.local:5432/hub' } });
    expect(config.database).toMatchObject({ kind: 'server', url: PRIMARY, readUrl: 'postgres://hub:pw@replica.local:5432/hub' });
    expect(config.publicBaseUrl).toBe('https://hub.example.gov.vn');
  });

  it('names every missing secret and the database at once', () => {
    expect(issues({ NODE_ENV: 'production' })).toEqual([
      'DATABASE_URL: required on Workers (or a HYPERDRIVE binding)',
      'RECEIPT_SIGNING_KEY: required on Workers (wrangler secret put RECEIPT_SIGNING_KEY)',
      'JWT_SECRET (or JWT_JWKS_URL): required on Workers',
      'SESSION_SECRET: required on Workers (wrangler secret put SESSION_SECRET)',
    ]);
  });

  it('takes a sandbox only where another hub hosts its checkout, and never in production', () => {
    const sandbox = { ...complete, NODE_ENV: 'development', SANDBOX_SECRETS: 'sandbox-secret-0123456789abcdef' };
    expect(issues(sandbox)).toEqual([expect.stringMatching(/^SANDBOX_SECRETS: .* set SANDBOX_URL/)]);
    expect(workerConfig({ ...sandbox, SANDBOX_URL: 'http://127.0.0.1:3000/' }).sandboxUrl).toBe('http://127.0.0.1:3000');
    expect(() => workerConfig({ ...sandbox, NODE_ENV: 'production', SANDBOX_URL: 'http://127.0.0.1:3000' })).toThrow(ConfigError);
  });
});
