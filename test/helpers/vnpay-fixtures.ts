import { readFileSync } from 'node:fs';

/** A recorded VNPay message shape from test/fixtures/vnpay. */
export function vnpayFixture<T = Record<string, string>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/vnpay/${name}.json`, import.meta.url), 'utf8')) as T;
}
