import * as client from 'openid-client';
import { AGENCY_CODE_PATTERN, type Principal, type Role, roles } from '../services/principal.ts';

/**
 * OpenID Connect sign-in for staff against the province's identity provider (IdP): the relying
 * party's settings, its discovered configuration, and how the IdP's claims become a principal.
 * openid-client (v6) runs on Web-standard APIs only (fetch, Web Crypto), so this module is safe
 * in the Workers request path.
 */
export interface OidcSettings {
  /** The IdP's issuer identifier; its metadata is discovered from `/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Sent with client_secret_basic; also keys the flow cookie's signature (see flowCookieKey). */
  clientSecret: string;
  /** Registered at the IdP; the callback route answers at its path. */
  redirectUri: string;
  /** Space-separated, `openid` among them. */
  scopes: string;
  /** Claim names: a top-level name, or a dotted path into nested claims (`realm_access.roles`). */
  roleClaim: string;
  agenciesClaim: string;
  subjectClaim: string;
  /** The IdP's role values → hub roles; absent: the claim's value must already be a hub role. */
  roleMap?: Readonly<Record<string, Role>>;
}

/** One IdP for the process (or the Workers isolate): its metadata is discovered once and kept. */
export interface OidcRelyingParty {
  settings: OidcSettings;
  /** The discovered configuration; a failed discovery is not kept, so the next sign-in tries again. */
  configuration(): Promise<client.Configuration>;
  /** The key the short-lived flow cookie is signed with. */
  flowCookieKey(): Promise<Uint8Array<ArrayBuffer>>;
}

const DISCOVERY_TIMEOUT_SECONDS = 10;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function createOidcRelyingParty(settings: OidcSettings, fetchImpl: typeof fetch): OidcRelyingParty {
  let discovered: Promise<client.Configuration> | undefined;
  let key: Promise<Uint8Array<ArrayBuffer>> | undefined;
  const issuer = new URL(settings.issuer);
  return {
    settings,
    configuration() {
      discovered ??= client
        .discovery(issuer, settings.clientId, undefined, client.ClientSecretBasic(settings.clientSecret), {
          [client.customFetch]: (url, options) => fetchImpl(url, options as RequestInit),
          timeout: DISCOVERY_TIMEOUT_SECONDS,
          // Plain HTTP only to an IdP on this machine (a test's, a developer's); config.ts refuses it elsewhere.
          execute: issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname) ? [client.allowInsecureRequests] : [],
        })
        .catch((error: unknown) => {
          discovered = undefined;
          throw error;
        });
      return discovered;
    },
    flowCookieKey() {
      // A key of its own, derived from the client secret (which only the hub and the IdP hold), so
      // that the sign-in needs no other secret and the client secret itself never signs anything.
      key ??= (async () => {
        const secret = await crypto.subtle.importKey(
          'raw',
          new TextEncoder().encode(settings.clientSecret),
          { name: 'HMAC', hash: 'SHA-256' },
          false,
          ['sign'],
        );
        return new Uint8Array(await crypto.subtle.sign('HMAC', secret, new TextEncoder().encode('fee-payment-hub oidc flow cookie v1')));
      })();
      return key;
    },
  };
}

/** Why a sign-in did not start a session: shown to the person as a page, in Vietnamese. */
export class SignInRefused extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 502 | 503,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'SignInRefused';
  }
}

type Claims = Record<string, unknown>;

/** A claim by its name, or by a dotted path when no top-level claim has that name. */
function claim(claims: Claims, name: string): unknown {
  if (name in claims) return claims[name];
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Claims)[part];
  }
  return value;
}

const strings = (value: unknown): string[] | undefined =>
  typeof value === 'string' ? [value] : Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;

/** The claims the mapping reads, so the route knows whether the ID token alone is enough. */
export function missingClaims(settings: OidcSettings, claims: Claims): string[] {
  return [settings.subjectClaim, settings.roleClaim, settings.agenciesClaim].filter((name) => claim(claims, name) === undefined);
}

/**
 * The hub principal for the IdP's claims, or a refusal: no role, several roles, a non-admin
 * with no agency, or an agency code the hub cannot take. Never a guess.
 */
export function principalFromClaims(settings: OidcSettings, claims: Claims): Principal {
  const rawSubject = claim(claims, settings.subjectClaim);
  const subject = typeof rawSubject === 'number' ? String(rawSubject) : typeof rawSubject === 'string' ? rawSubject.trim() : '';
  if (!subject || subject.length > 200) {
    throw new SignInRefused(
      403,
      'Không xác định được người dùng',
      `Máy chủ định danh không cung cấp mã người dùng (thuộc tính "${settings.subjectClaim}"). Vui lòng báo cho quản trị viên.`,
    );
  }

  const values = strings(claim(claims, settings.roleClaim)) ?? [];
  const mapped = new Set(
    values.map((v) => (settings.roleMap ? settings.roleMap[v] : (roles as readonly string[]).includes(v) ? (v as Role) : undefined)),
  );
  mapped.delete(undefined);
  if (mapped.size === 0) {
    throw new SignInRefused(
      403,
      'Tài khoản chưa được phân quyền',
      `Tài khoản ${subject} chưa được giao vai trò nào trong hệ thống thu phí (thuộc tính "${settings.roleClaim}"). Vui lòng liên hệ quản trị viên để được phân quyền.`,
    );
  }
  if (mapped.size > 1) {
    throw new SignInRefused(
      403,
      'Tài khoản có nhiều vai trò',
      `Tài khoản ${subject} được giao nhiều vai trò (${[...mapped].join(', ')}); mỗi người chỉ có một vai trò trong hệ thống thu phí. Vui lòng liên hệ quản trị viên.`,
    );
  }
  const role = [...mapped][0] as Role;

  const rawAgencies = claim(claims, settings.agenciesClaim);
  const listed = rawAgencies === undefined || rawAgencies === null ? [] : strings(rawAgencies);
  const agencies = [...new Set((listed ?? []).flatMap((v) => v.split(/[\s,]+/)).filter(Boolean))];
  const bad = listed === undefined ? [String(rawAgencies)] : agencies.filter((code) => !AGENCY_CODE_PATTERN.test(code));
  if (bad.length > 0) {
    throw new SignInRefused(
      403,
      'Đơn vị không hợp lệ',
      `Mã đơn vị của tài khoản ${subject} không hợp lệ (thuộc tính "${settings.agenciesClaim}": ${bad.join(', ').slice(0, 200)}). Vui lòng liên hệ quản trị viên.`,
    );
  }
  if (role !== 'admin' && agencies.length === 0) {
    throw new SignInRefused(
      403,
      'Tài khoản chưa được gán đơn vị',
      `Tài khoản ${subject} chưa được gán đơn vị nào (thuộc tính "${settings.agenciesClaim}"), nên không xem được dữ liệu nào. Vui lòng liên hệ quản trị viên.`,
    );
  }
  return { subject, role, agencies };
}
