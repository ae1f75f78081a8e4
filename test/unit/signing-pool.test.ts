import { compactVerify, importJWK, type JWK } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { createSigningPool, type SigningPool } from '../../src/node/signing-pool.ts';
import { createReceiptSigners, generateReceiptKey, type ReceiptSigningJob } from '../../src/services/receipt-signer.ts';
import { xmlSignatureValid } from '../helpers/xml-signature.ts';

describe("the Node hub's receipt-signing threads", () => {
  let pool: SigningPool | undefined;
  afterAll(() => pool?.close());

  it('sign on worker threads with the same keys as the hub: every JWS and XML verifies, in the order asked, an unknown key answered with its error', async () => {
    const hubKey = await generateReceiptKey();
    const agencyKey = await generateReceiptKey();
    const signers = await createReceiptSigners(hubKey, { 'H01.01': agencyKey });
    // The main thread's signing refuses: whatever verifies below was signed on the pool's threads.
    const mainThread = () => Promise.reject(new Error('signed on the main thread'));
    pool = createSigningPool({ ...signers, signJobs: mainThread }, { hub: hubKey, agencies: { 'H01.01': agencyKey } }, 2);
    const agency = signers.forAgency('H01.01').signer;
    const jobs: ReceiptSigningJob[] = Array.from({ length: 21 }, (_, k) => ({
      kid: k % 3 === 0 ? agency.kid : signers.hub.kid,
      payload: { receiptId: `r-${k}`, total: `${(k + 1) * 1000}` },
      xml: {
        document: `<DSCKS><DLBLai Id="data"><SHDon>${k + 1}</SHDon></DLBLai><TCThu/></DSCKS>`,
        dataId: 'data',
        into: ['TCThu'],
      },
    }));
    jobs.push({ ...jobs[0]!, kid: 'no-such-key' });

    const results = await pool.signers.signJobs(jobs);

    expect(results).toHaveLength(jobs.length);
    expect(results.at(-1)).toEqual({ error: 'no receipt key no-such-key is configured' });
    for (const [k, result] of results.slice(0, -1).entries()) {
      if ('error' in result) throw new Error(result.error);
      const signer = k % 3 === 0 ? agency : signers.hub;
      const { payload, protectedHeader } = await compactVerify(result.signature, await importJWK(signer.publicJwk as JWK, 'ES256'));
      expect(protectedHeader.kid).toBe(signer.kid);
      expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(jobs[k]!.payload);
      expect(result.xml).toContain(`<SHDon>${k + 1}</SHDon>`);
      expect(xmlSignatureValid(result.xml, signer.publicJwk)).toBe(true);
    }
  });
});
