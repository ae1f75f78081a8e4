import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { hmacHex, useSyncHmac } from '../../src/gateways/hmac.ts';
import { useNodeCrypto } from '../../src/node/crypto.ts';

/** The Node entry's synchronous HMAC (node:crypto) says exactly what Web Crypto's says, which Workers use. */
describe("Node's HMAC", () => {
  afterEach(() => useSyncHmac(null));

  it('equals Web Crypto for any secret and message, in SHA-256 and SHA-512', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('SHA-256' as const, 'SHA-512' as const),
        fc.string({ minLength: 1, maxLength: 80, unit: 'grapheme' }),
        fc.string({ maxLength: 400, unit: 'grapheme' }),
        async (algorithm, secret, message) => {
          useSyncHmac(null);
          const web = await hmacHex(algorithm, secret, message);
          useNodeCrypto();
          expect(await hmacHex(algorithm, secret, message)).toBe(web);
        },
      ),
      { numRuns: 300 },
    );
  });
});
