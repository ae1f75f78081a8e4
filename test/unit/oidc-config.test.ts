import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';
import { type OidcSettings, principalFromClaims, SignInRefused } from '../../src/web/oidc.ts';

const IDP = { OIDC_ISSUER: 'https://id.example.gov.vn/realms/h19', OIDC_CLIENT_ID: 'fee-hub', OIDC_CLIENT_SECRET: 's3cret' };

function issues(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('OIDC_* configuration', () => {
  it('is off unless issuer, client id and secret are all given, and refuses a half configuration', () => {
    expect(parseConfig({}).oidc).toBeUndefined();
    expect(issues({ OIDC_ISSUER: IDP.OIDC_ISSUER, OIDC_CLIENT_ID: 'fee-hub' })).toEqual([
      'OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET: set all of them to enable the OpenID Connect sign-in, or none (missing: OIDC_CLIENT_SECRET)',
    ]);
  });

  it('has defaults for everything but the IdP itself', () => {
    expect(parseConfig({ ...IDP, PUBLIC_BASE_URL: 'https://thuphi.example.gov.vn/' }).oidc).toEqual({
      issuer: IDP.OIDC_ISSUER,
      clientId: 'fee-hub',
      clientSecret: 's3cret',
      redirectUri: 'https://thuphi.example.gov.vn/dashboard/oidc/callback',
      scopes: 'openid profile',
      roleClaim: 'role',
      roleMap: undefined,
      agenciesClaim: 'agencies',
      subjectClaim: 'sub',
    });
  });

  it('reads the role map, scopes and claim names', () => {
    const oidc = parseConfig({
      ...IDP,
      OIDC_ROLE_MAP: 'ke-toan:treasury, lanh-dao:campaign,urn:x:quan-tri:admin',
      OIDC_SCOPES: 'openid profile hub',
      OIDC_ROLE_CLAIM: 'realm_access.roles',
      OIDC_SUBJECT_CLAIM: 'preferred_username',
      OIDC_REDIRECT_URI: 'https://hub.example/dashboard/oidc/callback',
    }).oidc!;
    expect(oidc.roleMap).toEqual({ 'ke-toan': 'treasury', 'lanh-dao': 'campaign', 'urn:x:quan-tri': 'admin' });
    expect(oidc.scopes).toBe('openid profile hub');
    expect(oidc.roleClaim).toBe('realm_access.roles');
    expect(oidc.subjectClaim).toBe('preferred_username');
    expect(oidc.redirectUri).toBe('https://hub.example/dashboard/oidc/callback');
  });

  it('refuses a role map naming no hub role, scopes without openid, and a plain-http IdP elsewhere than this machine', () => {
    expect(issues({ ...IDP, OIDC_ROLE_MAP: 'ke-toan:accountant' })[0]).toMatch(/^OIDC_ROLE_MAP: expected "idpValue:role,…"/);
    expect(issues({ ...IDP, OIDC_ROLE_MAP: 'a:admin,a:treasury' })[0]).toMatch(/^OIDC_ROLE_MAP/);
    expect(issues({ ...IDP, OIDC_SCOPES: 'profile email' })).toEqual(['OIDC_SCOPES: must include openid']);
    expect(issues({ ...IDP, OIDC_ISSUER: 'http://id.example.gov.vn' })).toEqual([
      'OIDC_ISSUER: must be https:// (plain http only for localhost)',
    ]);
    expect(parseConfig({ ...IDP, OIDC_ISSUER: 'http://127.0.0.1:8080' }).oidc?.issuer).toBe('http://127.0.0.1:8080');
  });
});

describe('claims to principal', () => {
  const settings: OidcSettings = {
    issuer: IDP.OIDC_ISSUER,
    clientId: 'fee-hub',
    clientSecret: 's3cret',
    redirectUri: 'https://hub.example/dashboard/oidc/callback',
    scopes: 'openid',
    roleClaim: 'role',
    agenciesClaim: 'agencies',
    subjectClaim: 'sub',
  };
  const refusal = (s: OidcSettings, claims: Record<string, unknown>) => {
    try {
      principalFromClaims(s, claims);
    } catch (error) {
      if (error instanceof SignInRefused) return { status: error.status, title: error.title };
      throw error;
    }
    return undefined;
  };

  it('takes a hub role as it is when there is no map, and agencies as an array or a list in one string', () => {
    expect(principalFromClaims(settings, { sub: 'u1', role: 'treasury', agencies: ['000.00.32.H19', '000.00.32.H19'] })).toEqual({
      subject: 'u1',
      role: 'treasury',
      agencies: ['000.00.32.H19'],
    });
    expect(principalFromClaims(settings, { sub: 'u1', role: 'campaign', agencies: '000.00.32.H19, 000.00.33.H19' }).agencies).toEqual([
      '000.00.32.H19',
      '000.00.33.H19',
    ]);
  });

  it('reads nested claims by a dotted path, and a claim whose own name has dots first', () => {
    const keycloak = {
      ...settings,
      roleClaim: 'realm_access.roles',
      subjectClaim: 'preferred_username',
      roleMap: { 'ke-toan': 'treasury' as const },
    };
    expect(
      principalFromClaims(keycloak, {
        sub: 'f81d',
        preferred_username: 'nguyenvana',
        realm_access: { roles: ['offline_access', 'ke-toan'] },
        agencies: ['000.00.32.H19'],
      }),
    ).toEqual({ subject: 'nguyenvana', role: 'treasury', agencies: ['000.00.32.H19'] });
    const namespaced = { ...settings, roleClaim: 'https://hub.example/role' };
    expect(principalFromClaims(namespaced, { sub: 'a', 'https://hub.example/role': 'admin' }).role).toBe('admin');
  });

  it('refuses no role, several roles, a bad agency code, a non-admin without agencies and a missing subject', () => {
    expect(refusal(settings, { sub: 'u1', role: 'ke-toan', agencies: ['H19'] })).toEqual({
      status: 403,
      title: 'Tài khoản chưa được phân quyền',
    });
    expect(refusal(settings, { sub: 'u1', agencies: ['H19'] })?.title).toBe('Tài khoản chưa được phân quyền');
    expect(refusal(settings, { sub: 'u1', role: ['treasury', 'admin'] })?.title).toBe('Tài khoản có nhiều vai trò');
    expect(refusal(settings, { sub: 'u1', role: 'treasury', agencies: ["H19' OR 1=1"] })?.title).toBe('Đơn vị không hợp lệ');
    expect(refusal(settings, { sub: 'u1', role: 'treasury', agencies: { code: 'H19' } })?.title).toBe('Đơn vị không hợp lệ');
    expect(refusal(settings, { sub: 'u1', role: 'treasury', agencies: [] })?.title).toBe('Tài khoản chưa được gán đơn vị');
    expect(refusal(settings, { role: 'admin' })?.title).toBe('Không xác định được người dùng');
    expect(principalFromClaims(settings, { sub: 'root', role: 'admin' })).toEqual({ subject: 'root', role: 'admin', agencies: [] });
  });
});
