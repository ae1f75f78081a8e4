import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConnectionError } from '../../src/db/errors.ts';
import { freePort } from '../helpers/hub-process.ts';
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

  /**
   * Several hosts, none that takes writes (the primary gone, its standby not yet promoted): libpq
   * tries each once and fails. postgres.js 3.4.9 never counted the hosts it tried and cycled
   * through them for ever, so a query waited until a primary came back (the failover test saw
   * requests hang instead of 503). The patch fails the connection after one pass.
   */
  it('fails a query at once when no host takes writes, and connects when one does', async () => {
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    await admin.unsafe('CREATE DATABASE read_only_probe');
    await admin.unsafe('ALTER DATABASE read_only_probe SET default_transaction_read_only = on');
    await admin.end();
    const closed = await freePort();
    const port = new URL(pg.url).port;
    const within = <T>(promise: Promise<T>, ms: number) =>
      Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms))]);
    for (const hosts of [`127.0.0.1:${closed},127.0.0.1:${port}`, `127.0.0.1:${port},127.0.0.1:${closed}`]) {
      const sql = postgres(`postgres://postgres@${hosts}/read_only_probe?target_session_attrs=read-write`, {
        max: 1,
        connect_timeout: 3,
        onnotice: () => {},
      });
      try {
        // Twice: the second query starts a new pass over the hosts, not a half-spent one.
        for (let i = 0; i < 2; i++) {
          const error = await within(sql`select 1`, 5_000).then(
            () => null,
            (e: Error) => e,
          );
          expect(error?.message).not.toMatch(/still waiting/);
          expect(isConnectionError(error), String(error)).toBe(true);
        }
      } finally {
        await sql.end({ timeout: 1 });
      }
    }
    // The same hosts with a writable database: the pass finds the one that takes writes.
    const writable = postgres(`postgres://postgres@127.0.0.1:${closed},127.0.0.1:${port}/postgres?target_session_attrs=read-write`, {
      max: 1,
      onnotice: () => {},
    });
    try {
      const [row] = await within(writable<{ port: string }[]>`select current_setting('port') as port`, 5_000);
      expect(row!.port).toBe(port);
    } finally {
      await writable.end({ timeout: 1 });
    }
  });
});
