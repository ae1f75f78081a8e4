import { CompactSign, calculateJwkThumbprint, compactVerify, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

/**
 * Signs receipts as compact JWS (ES256). Anyone can verify a receipt with the public key the hub
 * publishes at /.well-known/jwks.json; the key id is the key's RFC 7638 thumbprint.
 */
export interface ReceiptSigner {
  kid: string;
  alg: 'ES256';
  sign(payload: unknown): Promise<string>;
  verify(jws: string): Promise<unknown>;
  jwks(): { keys: JWK[] };
}

export async function generateReceiptKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return exportJWK(privateKey);
}

export async function createReceiptSigner(privateJwk: JWK | string): Promise<ReceiptSigner> {
  const jwk: JWK = typeof privateJwk === 'string' ? (JSON.parse(privateJwk) as JWK) : privateJwk;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d) {
    throw new Error('the receipt signing key must be a private EC P-256 JWK');
  }
  const { d: _d, ...publicJwk } = jwk;
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateKey = await importJWK({ ...jwk, alg: 'ES256' }, 'ES256');
  const publicKey = await importJWK({ ...publicJwk, alg: 'ES256' }, 'ES256');
  const published: JWK = { ...publicJwk, kid, alg: 'ES256', use: 'sig' };
  const encoder = new TextEncoder();
  return {
    kid,
    alg: 'ES256',
    sign: (payload) =>
      new CompactSign(encoder.encode(JSON.stringify(payload)))
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'receipt+jws' })
        .sign(privateKey),
    verify: async (jws) => JSON.parse(new TextDecoder().decode((await compactVerify(jws, publicKey)).payload)),
    jwks: () => ({ keys: [published] }),
  };
}
