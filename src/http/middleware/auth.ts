import { createMiddleware } from 'hono/factory';
import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { z } from 'zod';
import { ServiceError } from '../../services/errors.ts';
import { AGENCY_CODE_PATTERN, type Principal, type Role, roles } from '../../services/principal.ts';
import type { AppEnv } from '../env.ts';

export type TokenVerifier = (token: string) => Promise<Principal>;

const claimsSchema = z.object({
  sub: z.string().min(1).max(200),
  role: z.enum(roles),
  agencies: z.array(z.string().regex(AGENCY_CODE_PATTERN)).max(500).default([]),
});

const VERIFIED_CACHE_SIZE = 10_000;

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

/**
 * Bearer JWT verification with jose. HS256 tokens are checked against the configured secret,
 * asymmetric ones against the configured JWKS; each key accepts only its own algorithms, so
 * `alg: none` and algorithm confusion (a public key used as an HMAC secret) are refused.
 * `iss`, `aud` and `exp` are required and checked.
 */
export function createTokenVerifier(options: {
  secret?: string;
  jwksUrl?: string;
  jwks?: JWTVerifyGetKey;
  issuer: string;
  audience: string;
}): TokenVerifier {
  // Imported once: jose would otherwise import the raw secret on every request.
  const secret = options.secret
    ? crypto.subtle.importKey('raw', new TextEncoder().encode(options.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
    : undefined;
  const jwks = options.jwks ?? (options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined);
  if (!secret && !jwks) throw new Error('token verification needs JWT_SECRET or JWT_JWKS_URL');
  const common = { issuer: options.issuer, audience: options.audience, requiredClaims: ['exp', 'iss', 'aud', 'sub'] };

  // A portal sends the same token with many requests: a verified token is remembered until it
  // expires (at most a minute, so a rotated key takes effect quickly). Refusals are not cached.
  const verified = new Map<string, { principal: Principal; until: number }>();
  const remember = (token: string, principal: Principal, exp: number | undefined) => {
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
    verified.set(token, { principal, until: Math.min((exp ?? 0) * 1000, Date.now() + 60_000) });
  };

  return async (token) => {
    const known = verified.get(token);
    if (known && known.until > Date.now()) return known.principal;
    if (known) verified.delete(token);
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new ServiceError('unauthenticated', 'the bearer token is not a JWT');
    }
    let payload: JWTPayload;
    try {
      if (alg === 'HS256' && secret) {
        ({ payload } = await jwtVerify(token, await secret, { ...common, algorithms: ['HS256'] }));
      } else if (alg && ASYMMETRIC.includes(alg) && jwks) {
        ({ payload } = await jwtVerify(token, jwks, { ...common, algorithms: ASYMMETRIC }));
      } else {
        throw new Error(`algorithm ${alg ?? 'none'} not accepted`);
      }
    } catch (error) {
      const reason = error instanceof Error && 'code' in error ? String((error as { code: string }).code) : 'invalid token';
      throw new ServiceError('unauthenticated', `the bearer token was refused (${reason})`);
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new ServiceError('unauthenticated', 'the bearer token lacks valid role, agencies or sub claims');
    const principal: Principal = {
      subject: claims.data.sub,
      role: claims.data.role,
      agencies: claims.data.agencies,
      ...(typeof payload.iss === 'string' ? { issuer: payload.iss } : {}),
    };
    remember(token, principal, payload.exp);
    return principal;
  };
}

/** Requires a verified principal on the request. */
export function authenticate(verify: TokenVerifier) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i);
    if (!match) throw new ServiceError('unauthenticated', 'send Authorization: Bearer <JWT>');
    c.set('principal', await verify(match[1]!));
    await next();
  });
}

/** Refuses roles not listed; scope (agency subtree) is enforced by each service query. */
export function allow(...allowed: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.get('principal');
    if (!principal) throw new ServiceError('unauthenticated', 'send Authorization: Bearer <JWT>');
    if (!allowed.includes(principal.role)) {
      throw new ServiceError('forbidden', `the ${principal.role} role may not do this`);
    }
    await next();
  });
}

export function principalOf(c: { get(key: 'principal'): Principal | undefined }): Principal {
  const principal = c.get('principal');
  if (!principal) throw new ServiceError('unauthenticated', 'send Authorization: Bearer <JWT>');
  return principal;
}
