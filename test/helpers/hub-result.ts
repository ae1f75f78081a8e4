import { createRemoteJWKSet, jwtVerify } from 'jose';
import { HUB_RESULT_TYPE } from '../../src/services/hub-result.ts';

/** Where a hub's return page sends the payer on (its meta refresh), unescaped; throws when it sends nowhere. */
export function portalRedirect(html: string): URL {
  const found = html.match(/<meta http-equiv="refresh" content="\d+;url=([^"]+)">/);
  if (!found) throw new Error(`the page sends the payer nowhere: ${html.slice(0, 300)}`);
  return new URL(found[1]!.replaceAll('&amp;', '&'));
}

/**
 * Verifies a hubResult as the README tells a portal to: the hub's keys fetched over HTTP from
 * /.well-known/jwks.json, the issuer (the hub's public base URL), the audience (the portal's
 * origin) and the token type checked.
 */
export function verifyHubResult(hub: string, token: string, audience: string, currentDate?: Date) {
  const keys = createRemoteJWKSet(new URL(`${hub}/.well-known/jwks.json`));
  return jwtVerify(token, keys, { issuer: hub, audience, typ: HUB_RESULT_TYPE, algorithms: ['ES256'], currentDate });
}
