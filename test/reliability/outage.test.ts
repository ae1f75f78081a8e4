import { afterAll, describe, expect, it } from 'vitest';
import { onServer } from '../helpers/database.ts';
import { mintToken } from '../helpers/harness.ts';
import { HUB_JWT_SECRET, type HubProcess, startHubProcess, stopHubProcess } from '../helpers/hub-process.ts';
import { type OwnPostgres, ownPostgresUnavailable, startOwnPostgres } from '../helpers/own-postgres.ts';

/**
 * The database stopped for 10 s under load from 20 clients (issue 14), against the real
 * `src/server.ts` (supervised, as `npm start` runs it) on a PostgreSQL of the test's own:
 * - the process lives: the worker that served before the outage serves after it;
 * - every answer during the outage is 503 problem+json with Retry-After, never a 500, and comes
 *   within 5 s; /readyz answers 503 at once;
 * - after the database is back, the hub answers from it within 2 s, without a restart.
 * Before the driver patch and the breaker, the process exited (postgres.js writing to a closed
 * socket from a timer) or answered 500 after queueing for up to 19 s.
 */
const CLIENTS = 20;
const OUTAGE_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  sentAt: number;
  ms: number;
  status: number;
  contentType: string;
  retryAfter: string | null;
  code?: string;
}

const unavailable = ownPostgresUnavailable();
const skip = onServer || (unavailable !== null && process.env.CI !== 'true');
if (unavailable && !skip) console.warn(`outage.test.ts: ${unavailable}`);
if (unavailable && process.env.CI !== 'true' && !onServer) console.warn(`outage.test.ts skipped: ${unavailable}`);

describe.skipIf(skip)('the database stopped for 10 s under load', () => {
  let pg: OwnPostgres | undefined;
  let hub: HubProcess | undefined;
  afterAll(async () => {
    await stopHubProcess(hub);
    await pg?.destroy();
  });

  it('answers 503 with Retry-After within 5 s, never dies, and serves again within 2 s of its return', async () => {
    pg = await startOwnPostgres();
    hub = await startHubProcess(pg.url);
    const [worker] = hub.workers();
    const token = await mintToken({ role: 'portal', agencies: ['000.00.00.H00'], secret: HUB_JWT_SECRET });
    const answers: Answer[] = [];
    let running = true;
    const ask = async (path: string): Promise<Answer> => {
      const sentAt = Date.now();
      const res = await fetch(`${hub!.url}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15_000) });
      const text = await res.text();
      let code: string | undefined;
      try {
        code = (JSON.parse(text) as { code?: string }).code;
      } catch {}
      return {
        sentAt,
        ms: Date.now() - sentAt,
        status: res.status,
        contentType: res.headers.get('content-type') ?? '',
        retryAfter: res.headers.get('retry-after'),
        code,
      };
    };
    // An authenticated read that reaches the database: an intent that does not exist (404).
    const client = async () => {
      while (running) {
        answers.push(await ask(`/v1/payment-intents/${crypto.randomUUID()}`));
        await sleep(5);
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    await sleep(1_500);
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((a) => a.status === 404)).toBe(true);

    const stoppedAt = Date.now();
    await pg.stop('fast');
    await sleep(3_000);
    const readyz = await ask('/readyz');
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));
    await pg.start();
    const startedAt = Date.now();
    let backAfter: number | null = null;
    while (Date.now() - startedAt < 10_000) {
      if (answers.some((a) => a.sentAt >= startedAt && a.status === 404)) {
        backAfter = Math.min(...answers.filter((a) => a.sentAt >= startedAt && a.status === 404).map((a) => a.sentAt + a.ms)) - startedAt;
        break;
      }
      await sleep(50);
    }
    running = false;
    await Promise.all(clients);

    const during = answers.filter((a) => a.sentAt >= stoppedAt && a.sentAt < startedAt);
    const unavailableAnswers = during.filter((a) => a.status === 503);
    const others = answers.filter((a) => a.status !== 404 && a.status !== 503);
    console.log(
      `[outage] ${answers.length} answers; during the ${OUTAGE_MS / 1000} s outage ${during.length} (${unavailableAnswers.length} 503, slowest ${Math.max(...during.map((a) => a.ms))} ms); /readyz ${readyz.status} in ${readyz.ms} ms; served again ${backAfter} ms after the database; other statuses: ${others.length}`,
    );
    expect(others.map((a) => `${a.status} ${a.code}`)).toEqual([]);
    expect(unavailableAnswers.length).toBeGreaterThan(CLIENTS);
    for (const a of unavailableAnswers) {
      expect(a.contentType).toBe('application/problem+json');
      expect(a.code).toBe('service-unavailable');
      expect(Number(a.retryAfter)).toBeGreaterThan(0);
    }
    expect(Math.max(...during.map((a) => a.ms))).toBeLessThanOrEqual(5_000);
    expect(readyz.status).toBe(503);
    expect(readyz.ms).toBeLessThan(1_000);
    expect(backAfter).not.toBeNull();
    expect(backAfter!).toBeLessThanOrEqual(2_000);
    // The same worker throughout: nothing crashed, nothing was restarted.
    expect(hub.workers()).toEqual([worker]);
    expect(hub.child.exitCode).toBeNull();
  }, 120_000);
});
