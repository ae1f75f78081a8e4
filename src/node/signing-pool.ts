import { availableParallelism } from 'node:os';
import type { JWK } from 'jose';
import { Piscina } from 'piscina';
import type { ReceiptSigners, ReceiptSigningJob, ReceiptSigningResult } from '../services/receipt-signer.ts';

/** Jobs sent to a thread in one message: few enough to spread a batch over the threads, enough to make a message worth it. */
const JOBS_PER_TASK = 8;

/** The Node hub's receipt signing, and how to stop it. */
export interface SigningPool {
  signers: ReceiptSigners;
  close(): Promise<void>;
  /** Starts a thread now, so that the first receipt does not wait for one (called once the hub serves). */
  warm(): void;
}

/**
 * Receipts signed on worker threads (piscina's pool) instead of the hub's event loop: signing a
 * receipt's XML costs 2-10 ms of JavaScript (xmldsigjs over xmldom), which on the main thread
 * delays every payment answered meanwhile. Each thread imports the same keys once, at its start;
 * the signers' other uses (verifying, the payer's return token) stay in this thread. Node only:
 * Workers sign in the request's isolate (services/receipt-signer.ts).
 *
 * `threads`: RECEIPT_SIGNING_THREADS, else one fewer than the machine's cores (at least one), so
 * that the event loop keeps a core.
 */
export function createSigningPool(
  signers: ReceiptSigners,
  keys: { hub: JWK | string; agencies: Record<string, JWK | string> },
  threads = Math.max(1, availableParallelism() - 1),
): SigningPool {
  const pool = new Piscina({
    filename: new URL('./signing-worker.ts', import.meta.url).href,
    workerData: keys,
    // The worker is TypeScript: its thread loads it through tsx, as the hub itself is (under tsx, already in execArgv).
    execArgv: process.execArgv.some((arg) => arg.includes('tsx')) ? process.execArgv : [...process.execArgv, '--import', 'tsx'],
    // No thread at start (loading xmldsigjs would compete with the hub's own start); warm() makes the first.
    minThreads: 0,
    maxThreads: threads,
    // An idle thread stays: starting one (loading xmldsigjs, importing keys) costs more than it keeps.
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  const signJobs = async (jobs: readonly ReceiptSigningJob[]): Promise<ReceiptSigningResult[]> => {
    const tasks: Promise<ReceiptSigningResult[]>[] = [];
    for (let k = 0; k < jobs.length; k += JOBS_PER_TASK) {
      const chunk = jobs.slice(k, k + JOBS_PER_TASK);
      // A thread that died answers its jobs with the error: they are left to the jobs' signer.
      tasks.push(pool.run(chunk).catch((error: unknown) => chunk.map(() => ({ error: `signing thread: ${String(error)}` }))));
    }
    return (await Promise.all(tasks)).flat();
  };
  return {
    signers: { ...signers, signJobs },
    close: () => pool.close(),
    warm: () => void pool.run([]).catch(() => undefined),
  };
}
