/**
 * A receipt-signing worker thread of the Node hub's pool (src/node/signing-pool.ts): it imports
 * the receipt keys once, when the thread starts, and signs the jobs it is given, in-thread.
 */

import type { JWK } from 'jose';
import { workerData } from 'piscina';
import { createReceiptSigners, type ReceiptSigningJob, type ReceiptSigningResult } from '../services/receipt-signer.ts';

const keys = workerData as { hub: JWK | string; agencies: Record<string, JWK | string> };
const signers = createReceiptSigners(keys.hub, keys.agencies);

export default async function sign(jobs: ReceiptSigningJob[]): Promise<ReceiptSigningResult[]> {
  return (await signers).signJobs(jobs);
}
