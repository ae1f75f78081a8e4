import {
  CompactSign,
  calculateJwkThumbprint,
  compactVerify,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';

/**
 * xmldsigjs works on any DOM and any WebCrypto: @xmldom/xmldom (pure JavaScript) and the
 * platform's crypto, the same on Node and on Workers. Loaded at the first XML signature, not at
 * start: the Node hub signs on its worker threads, and its main thread then never loads it.
 */
let xmlDsig:
  | Promise<{
      Parse: typeof import('xmldsigjs').Parse;
      SignedXml: typeof import('xmldsigjs').SignedXml;
      XMLSerializer: typeof import('@xmldom/xmldom').XMLSerializer;
    }>
  | undefined;
function loadXmlDsig() {
  xmlDsig ??= Promise.all([import('@xmldom/xmldom'), import('xml-core'), import('xmldsigjs'), import('xpath')]).then(
    ([xmldom, core, dsig, xpath]) => {
      const { DOMImplementation, DOMParser, XMLSerializer } = xmldom;
      core.setNodeDependencies({ DOMParser, XMLSerializer, DOMImplementation, xpath: xpath.default });
      dsig.Application.setEngine('WebCrypto', globalThis.crypto);
      return { Parse: dsig.Parse, SignedXml: dsig.SignedXml, XMLSerializer };
    },
  );
  return xmlDsig;
}

/**
 * Signs receipts: as compact JWS (ES256), and as the tax authority's XML with an enveloped XML
 * signature (ECDSA-SHA256 over the exclusively canonicalised data part, the public key in
 * KeyInfo). Anyone can verify either with the public key the hub publishes at
 * /.well-known/jwks.json; the key id is the key's RFC 7638 thumbprint.
 */
export interface ReceiptSigner {
  kid: string;
  alg: 'ES256';
  sign(payload: unknown): Promise<string>;
  verify(jws: string): Promise<unknown>;
  /**
   * A JWT (compact JWS, ES256) with exactly these claims (times included: nothing is added from
   * the machine's clock) and `typ` in its header, so that one kind of token is never taken for
   * another (the payer's return result, `hub-result+jwt`, is not a receipt).
   */
  signJwt(claims: JWTPayload, typ: string): Promise<string>;
  /**
   * `xml` with an enveloped ds:Signature over the element whose Id is `dataId`, placed in the
   * element `into` names: a path of child elements from the root (['DSCKS', 'TCThu']).
   */
  signXml(xml: string, dataId: string, into: readonly string[]): Promise<string>;
  publicJwk: JWK;
}

/** One receipt to sign: its JWS payload and its XML (signed at `dataId`, the signature placed in `into`), by the key `kid` names. */
export interface ReceiptSigningJob {
  kid: string;
  payload: unknown;
  xml: { document: string; dataId: string; into: readonly string[] };
}

/** A receipt's two signatures, or why it could not be signed (it is then left to the jobs). */
export type ReceiptSigningResult = { signature: string; xml: string } | { error: string };

/**
 * Signs receipts, as many as given: the in-thread way (Workers, scripts, tests), or the Node
 * hub's pool of worker threads (src/node/signing-pool.ts), where 2-10 ms of XML signing per
 * receipt does not hold the event loop that answers payments.
 */
type SignReceiptJobs = (jobs: readonly ReceiptSigningJob[]) => Promise<ReceiptSigningResult[]>;

/**
 * The keys receipts are signed with: each collecting organisation may have its own
 * (RECEIPT_AGENCY_KEYS); the others' receipts are signed with the hub's key, the hub issuing on
 * their behalf under the delegation recorded on the agency.
 */
export interface ReceiptSigners {
  hub: ReceiptSigner;
  /** The signer of an agency's receipts: its own key, or the hub's (then `onBehalf`). */
  forAgency(agencyCode: string): { signer: ReceiptSigner; onBehalf: boolean };
  /** Agencies with a key of their own. */
  ownKeyAgencies: readonly string[];
  byKid(kid: string): ReceiptSigner | undefined;
  jwks(): { keys: JWK[] };
  /** Signs receipts with the keys above (see SignReceiptJobs). */
  signJobs: SignReceiptJobs;
}

export async function generateReceiptKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return exportJWK(privateKey);
}

function parseJwk(privateJwk: JWK | string, what: string): JWK {
  const jwk: JWK = typeof privateJwk === 'string' ? (JSON.parse(privateJwk) as JWK) : privateJwk;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d) throw new Error(`${what} must be a private EC P-256 JWK`);
  return jwk;
}

async function createReceiptSigner(privateJwk: JWK | string, what = 'the receipt signing key'): Promise<ReceiptSigner> {
  const jwk = parseJwk(privateJwk, what);
  const { d: _d, ...publicJwk } = jwk;
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateKey = await importJWK({ ...jwk, alg: 'ES256' }, 'ES256');
  const publicKey = await importJWK({ ...publicJwk, alg: 'ES256' }, 'ES256');
  const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' };
  const xmlPrivate = await crypto.subtle.importKey('jwk', { ...jwk, key_ops: ['sign'] }, ecdsa, false, ['sign']);
  const xmlPublic = await crypto.subtle.importKey('jwk', { ...publicJwk, key_ops: ['verify'] }, ecdsa, true, ['verify']);
  const published: JWK = { ...publicJwk, kid, alg: 'ES256', use: 'sig' };
  const encoder = new TextEncoder();
  return {
    kid,
    alg: 'ES256',
    publicJwk: published,
    sign: (payload) =>
      new CompactSign(encoder.encode(JSON.stringify(payload)))
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'receipt+jws' })
        .sign(privateKey),
    signJwt: (claims, typ) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ }).sign(privateKey),
    verify: async (jws) => JSON.parse(new TextDecoder().decode((await compactVerify(jws, publicKey)).payload)),
    async signXml(xml, dataId, into) {
      const { Parse, SignedXml, XMLSerializer } = await loadXmlDsig();
      const doc = Parse(xml);
      const signature = await new SignedXml().Sign({ name: 'ECDSA', hash: 'SHA-256' } as Algorithm, xmlPrivate, doc, {
        keyValue: xmlPublic,
        references: [{ uri: `#${dataId}`, hash: 'SHA-256', transforms: ['enveloped', 'exc-c14n'] }],
      });
      let target: Element | undefined = doc.documentElement;
      for (const tag of into)
        target =
          target && Array.from(target.childNodes as Iterable<Node>).find((n): n is Element => n.nodeType === 1 && n.nodeName === tag);
      const element = signature.GetXml();
      if (!target || !element) throw new Error(`no ${into.join('/')} to hold the XML signature`);
      target.appendChild(element);
      return new XMLSerializer().serializeToString(doc as never);
    },
  };
}

/** The hub's signer and the agencies' own (agency code → private JWK). */
export async function createReceiptSigners(hubJwk: JWK | string, agencyJwks: Record<string, JWK | string> = {}): Promise<ReceiptSigners> {
  const hub = await createReceiptSigner(hubJwk);
  const own = new Map<string, ReceiptSigner>();
  for (const [code, jwk] of Object.entries(agencyJwks)) own.set(code, await createReceiptSigner(jwk, `the receipt key of agency ${code}`));
  const byKid = new Map([hub, ...own.values()].map((s) => [s.kid, s]));
  return {
    signJobs: (jobs) => signJobsWith(byKid, jobs),
    hub,
    forAgency: (code) => {
      const signer = own.get(code);
      return signer ? { signer, onBehalf: false } : { signer: hub, onBehalf: true };
    },
    ownKeyAgencies: [...own.keys()],
    byKid: (kid) => byKid.get(kid),
    jwks: () => ({ keys: [...byKid.values()].map((s) => s.publicJwk) }),
  };
}

/** The jobs signed here, one after another; a job whose key is unknown or whose signing fails is answered with its error. */
async function signJobsWith(
  byKid: ReadonlyMap<string, ReceiptSigner>,
  jobs: readonly ReceiptSigningJob[],
): Promise<ReceiptSigningResult[]> {
  const results: ReceiptSigningResult[] = [];
  for (const job of jobs) {
    const signer = byKid.get(job.kid);
    if (!signer) {
      results.push({ error: `no receipt key ${job.kid} is configured` });
      continue;
    }
    try {
      const signature = await signer.sign(job.payload);
      const xml = await signer.signXml(job.xml.document, job.xml.dataId, job.xml.into);
      results.push({ signature, xml });
    } catch (error) {
      results.push({ error: error instanceof Error ? error.message : String(error) });
    }
  }
  return results;
}
