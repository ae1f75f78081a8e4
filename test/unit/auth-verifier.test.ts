import { createLocalJWKSet, exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { createTokenVerifier } from '../../src/http/middleware/auth.ts';
import { resolveSecrets } from '../../src/node/runtime.ts';
import { ServiceError } from '../../src/services/errors.ts';

/** Token verification with asymmetric keys (JWKS), and the attacks it must refuse. */
const issuer = 'fee-payment-hub';
const audience = 'fee-payment-hub';

async function identityProvider() {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256' };
  return { privateKey, publicKey, jwks: createLocalJWKSet({ keys: [jwk] }), spki: await exportSPKI(publicKey), jwk };
}

const claims = { role: 'treasury', agencies: ['000.00.00.H19'] };

async function refused(promise: Promise<unknown>) {
  await expect(promise).rejects.toBeInstanceOf(ServiceError);
  await expect(promise).rejects.toMatchObject({ code: 'unauthenticated' });
}

describe('JWKS-verified tokens', () => {
  it('accepts an ES256 token from the configured key set', async () => {
    const idp = await identityProvider();
    const verify = createTokenVerifier({ jwks: idp.jwks, issuer, audience });
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
      .setSubject('thu-quy-01')
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('5m')
      .sign(idp.privateKey);
    await expect(verify(token)).resolves.toEqual({ subject: 'thu-quy-01', role: 'treasury', agencies: ['000.00.00.H19'], issuer });
  });

  it('refuses an HS256 token signed with the public key (algorithm confusion)', async () => {
    const idp = await identityProvider();
    const verify = createTokenVerifier({ jwks: idp.jwks, issuer, audience });
    for (const secret of [idp.spki, JSON.stringify(idp.jwk)]) {
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: 'idp-1' })
        .setSubject('attacker')
        .setIssuer(issuer)
        .setAudience(audience)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));
      await refused(verify(forged));
    }
  });

  it('refuses a token signed by another key, and one without exp', async () => {
    const idp = await identityProvider();
    const other = await identityProvider();
    const verify = createTokenVerifier({ jwks: idp.jwks, issuer, audience });
    const foreign = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
      .setSubject('x')
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('5m')
      .sign(other.privateKey);
    await refused(verify(foreign));
    const eternal = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
      .setSubject('x')
      .setIssuer(issuer)
      .setAudience(audience)
      .sign(idp.privateKey);
    await refused(verify(eternal));
  });

  it('refuses asymmetric tokens when only a shared secret is configured', async () => {
    const idp = await identityProvider();
    const verify = createTokenVerifier({ secret: 'a-shared-secret-that-is-long-enough-0123456789', issuer, audience });
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
      .setSubject('x')
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('5m')
      .sign(idp.privateKey);
    await refused(verify(token));
  });
});

describe('secrets on a server database', () => {
  it('refuses to start without a token secret, receipt key or session key, naming them', async () => {
    const config = parseConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/never-used' });
    await expect(resolveSecrets(config)).rejects.toThrow(/JWT_SECRET[\s\S]*RECEIPT_SIGNING_KEY[\s\S]*SESSION_SECRET/);
  });

  it('starts with configured secrets and never generates any', async () => {
    const config = parseConfig({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/never-used',
      JWT_SECRET: 'a-shared-secret-that-is-long-enough-0123456789',
      RECEIPT_SIGNING_KEY: '{"kty":"EC"}',
      SESSION_SECRET: 'a-session-secret-that-is-long-enough-0123456789',
    });
    const secrets = await resolveSecrets(config);
    expect(secrets.jwtSecret).toBe('a-shared-secret-that-is-long-enough-0123456789');
    expect(secrets.sandboxSecrets).toBeUndefined();
  });
});

describe('remembering verified tokens', () => {
  const secret = 'a-shared-secret-that-is-long-enough-0123456789';
  const mint = (exp: number) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('cong-dvc')
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(secret));

  it('stops accepting a remembered token the moment it expires', async () => {
    // The clock (the cache's and jose's) moves past the expiry instead of the test waiting for it.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const verify = createTokenVerifier({ secret, issuer, audience });
      const exp = Math.floor(Date.now() / 1000) + 2;
      const token = await mint(exp);
      await expect(verify(token)).resolves.toMatchObject({ subject: 'cong-dvc' });
      await expect(verify(token)).resolves.toMatchObject({ subject: 'cong-dvc' });
      vi.setSystemTime(exp * 1000 + 50);
      await refused(verify(token));
    } finally {
      vi.useRealTimers();
    }
  });

  it('never remembers a refusal', async () => {
    const verify = createTokenVerifier({ secret, issuer, audience });
    const token = await mint(Math.floor(Date.now() / 1000) + 60);
    const tampered = `${token.slice(0, -2)}${token.endsWith('A') ? 'B' : 'A'}A`;
    await refused(verify(tampered));
    await refused(verify(tampered));
    await expect(verify(token)).resolves.toMatchObject({ role: 'treasury' });
  });
});
