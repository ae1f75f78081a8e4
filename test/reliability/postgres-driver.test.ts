import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OwnPostgres, ownPostgresUnavailable, startOwnPostgres } from '../helpers/own-postgres.ts';

const run = promisify(execFile);

/**
 * postgres.js 3.4.9 (and 3.4.10, the same code) loses a connection's queries when its socket
 * closes under them (porsager/postgres#1154, #1199, #1208, open upstream):
 * - a query sent between the socket's error and its close event is never answered: its deferred
 *   write is cancelled and the close does not reject it (here: the caller waits for ever);
 * - a query on the closed connection defers a write that then runs on a null socket: a TypeError
 *   thrown from a timer, which no request handler can catch, and the process exits;
 * - released, the dead reserved connection rejoins the open ones and fails the pool's next query.
 * patches/postgres+3.4.9.patch (applied at install: package.json postinstall, patch-package)
 * rejects such queries with CONNECTION_CLOSED and leaves the connection closed, to be connected
 * again on demand. The reproduction is upstream's (#1208): a reserved connection whose backend is
 * terminated, queried three times, released, then the pool queried. It runs in a child process,
 * so that a hang or the unpatched driver's exit is seen as such.
 */
const REPRO = `
import postgres from 'postgres';
const url = process.env.REPRO_URL;
const sql = postgres(url, { max: 2, onnotice: () => {} });
const killer = postgres(url, { max: 1, onnotice: () => {} });
const reserved = await sql.reserve();
const [{ pid }] = await reserved\`select pg_backend_pid() as pid\`;
await killer\`select pg_terminate_backend(\${pid})\`;
const outcomes = [];
for (let i = 0; i < 3; i++) {
  outcomes.push(await reserved\`select 1 as one\`.then(() => 'ok', (e) => e.code ?? e.message));
}
reserved.release();
// The pool still serves: the dead connection is replaced.
const [{ one }] = await sql\`select 1 as one\`;
console.log(JSON.stringify({ outcomes, after: one }));
await Promise.all([sql.end({ timeout: 1 }), killer.end({ timeout: 1 })]);
`;

const unavailable = ownPostgresUnavailable();
if (unavailable && process.env.CI !== 'true') console.warn(`postgres-driver.test.ts skipped: ${unavailable}`);

describe.skipIf(unavailable !== null && process.env.CI !== 'true')('postgres.js when a connection dies under a deferred write', () => {
  let pg: OwnPostgres;
  beforeAll(async () => {
    pg = await startOwnPostgres();
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  it('rejects the queries with CONNECTION_CLOSED and the process lives on', async () => {
    const child = await run(process.execPath, ['--input-type=module', '-e', REPRO], {
      cwd: process.cwd(),
      env: { ...process.env, REPRO_URL: pg.url },
      timeout: 20_000,
    }).catch((error: { code?: number; stderr?: string; stdout?: string }) => {
      throw new Error(`the process died (exit ${error.code}): ${error.stderr?.split('\n').slice(0, 6).join(' | ')}`);
    });
    const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { outcomes: string[]; after: number };
    expect(result.outcomes[0]).toMatch(/CONNECTION_(CLOSED|DESTROYED)|ECONNRESET|terminat/i);
    for (const outcome of result.outcomes) expect(outcome).not.toBe('ok');
    expect(result.after).toBe(1);
  });
});
