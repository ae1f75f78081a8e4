import { createPublicKey, verify as verifyBytes } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import type { JWK } from 'jose';
import { SignedXml } from 'xml-crypto';
import xpath from 'xpath';

/** The public key of a JWK as PEM, for node:crypto. */
const pemOf = (jwk: JWK) =>
  createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } as never, format: 'jwk' }).export({
    type: 'spki',
    format: 'pem',
  }) as string;

const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';

/**
 * Verifies the XML's enveloped signature with xml-crypto (reference digests, canonicalisation,
 * SignedInfo), the key from the hub's published JWKS. xml-crypto has no ECDSA of its own: the
 * primitive is node:crypto's, in XML-DSig's raw r||s form.
 */
export function xmlSignatureValid(xml: string, publicJwk: JWK): boolean {
  const verifier = new SignedXml({ publicCert: pemOf(publicJwk), getCertFromKeyInfo: () => null });
  (verifier.SignatureAlgorithms as Record<string, unknown>)[ECDSA_SHA256] = class {
    getSignature(): string {
      throw new Error('verification only');
    }
    verifySignature(material: string, key: string, value: string) {
      return verifyBytes('sha256', Buffer.from(material), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(value, 'base64'));
    }
    getAlgorithmName() {
      return ECDSA_SHA256;
    }
  };
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const signature = xpath.select1("//*[local-name(.)='Signature' and namespace-uri(.)='http://www.w3.org/2000/09/xmldsig#']", doc as never);
  verifier.loadSignature(signature as never);
  try {
    return verifier.checkSignature(xml);
  } catch {
    // xml-crypto throws on a signature value that does not verify.
    return false;
  }
}
