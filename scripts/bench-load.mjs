// Load generator for scripts/bench.ts, run in a worker thread so it does not share the hub's
// event loop. Keeps `concurrency` requests in flight for `seconds`, records each latency.
import { parentPort, workerData } from 'node:worker_threads';

const { baseUrl, concurrency, seconds, kind, token, dossierCodes, intentIds, paths, warmupSeconds } = workerData;
let next = 0;
const latencies = [];
let errors = 0;
const statusCounts = {};

function request() {
  if (kind === 'insert') {
    return fetch(`${baseUrl}/bench/insert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n: next++, note: 'baseline' }),
    });
  }
  if (kind === 'create-intent') {
    const code = dossierCodes[next++];
    if (!code) throw new Error('ran out of dossiers: give the bench more');
    return fetch(`${baseUrl}/v1/payment-intents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': `bench-${code}` },
      body: JSON.stringify({
        dossierCode: code,
        gateway: workerData.gateway ?? 'sandbox',
        returnUrl: 'https://dichvucong.dongnai.gov.vn/ket-qua',
      }),
    });
  }
  if (kind === 'get-intent') {
    const id = intentIds[next++ % intentIds.length];
    return fetch(`${baseUrl}/v1/payment-intents/${id}`, { headers: { authorization: `Bearer ${token}` } });
  }
  if (kind === 'get-once' || kind === 'get-cycle') {
    // VNPay IPNs are GETs with signed query strings: each used once (first delivery), or cycled
    // over ones already applied (VNPay delivering again).
    const path = kind === 'get-once' ? paths[next++] : paths[next++ % paths.length];
    if (!path) throw new Error('ran out of IPNs: give the bench more');
    return fetch(`${baseUrl}${path}`);
  }
  throw new Error(`unknown kind ${kind}`);
}

async function run(untilMs, record) {
  const workers = Array.from({ length: concurrency }, async () => {
    while (Date.now() < untilMs) {
      const started = performance.now();
      try {
        const response = await request();
        const body = await response.text();
        if (record) {
          statusCounts[response.status] = (statusCounts[response.status] ?? 0) + 1;
          // An answer of the wrong kind (a VNPay 97 where 00 was due) is an error, not a rate.
          if (response.status >= 300 || (workerData.expectBody && !body.includes(workerData.expectBody))) errors++;
          else latencies.push(performance.now() - started);
        }
      } catch (error) {
        if (record) errors++;
        if (String(error).includes('ran out')) throw error;
      }
    }
  });
  await Promise.all(workers);
}

await run(Date.now() + warmupSeconds * 1000, false);
const started = performance.now();
await run(Date.now() + seconds * 1000, true);
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? null;
parentPort.postMessage({
  ok: latencies.length,
  errors,
  statusCounts,
  seconds: elapsed,
  rate: latencies.length / elapsed,
  p50: q(0.5),
  p95: q(0.95),
  p99: q(0.99),
});
