import { createHmac } from 'node:crypto';
import { useSyncHmac } from '../gateways/hmac.ts';

/** Node's synchronous HMAC for the gateways' signatures (src/gateways/hmac.ts says why). */
export function useNodeCrypto(): void {
  useSyncHmac((algorithm, secret, message) =>
    createHmac(algorithm === 'SHA-256' ? 'sha256' : 'sha512', secret)
      .update(message, 'utf8')
      .digest('hex'),
  );
}
