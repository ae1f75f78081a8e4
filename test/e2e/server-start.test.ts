import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { generateReceiptKey } from '../../src/services/receipt-signer.ts';
import { onServer } from '../helpers/database.ts';

/**
 * `npm start` against a PostgreSQL server: it migrates, refuses to run without its secrets, and
 * never loads demo data unasked. Runs in the suite's server pass (DATABASE_URL set).
 */
describe.skipIf(!onServer)('a start on a server database', () => {
  const root = new URL('../..', import.meta.url).pathname;
  const name = `hub_start_${Date.now().toString(36)}`;
  // The describe body is collected even when skipped: no URL is needed then.
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://unused@127.0.0.1:5432/unused';
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let server: ChildProcess | undefined;

  afterAll(async () => {
    server?.kill('SIGTERM');
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  async function run(env: Record<string, string>, until: RegExp): Promise<{ output: string; code: number | null; child: ChildProcess }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: root,
      env: { ...process.env, JOBS_INTERVAL_SECONDS: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${until} in:\n${output}`)), 60_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (until.test(output)) {
          clearTimeout(timer);
          resolve({ output, code: null, child });
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ output, code, child });
      });
    });
  }

  it('refuses to start without its secrets, naming them', async () => {
    const { output, code } = await run({ DATABASE_URL: url.toString(), JWT_SECRET: '', RECEIPT_SIGNING_KEY: '', SESSION_SECRET: '' }, /$^/);
    expect(code).toBe(78);
    expect(output).toMatch(/JWT_SECRET/);
    expect(output).toMatch(/RECEIPT_SIGNING_KEY/);
    expect(output).toMatch(/SESSION_SECRET/);
  });

  it('migrates, serves, and loads no demo data', async () => {
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    await admin.end();
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const started = await run(
      {
        DATABASE_URL: url.toString(),
        PORT: String(port),
        JWT_SECRET: 'a-server-secret-that-is-long-enough-0123456789',
        RECEIPT_SIGNING_KEY: JSON.stringify(await generateReceiptKey()),
        SESSION_SECRET: 'a-session-secret-that-is-long-enough-0123456789',
      },
      /"msg":"listening"/,
    );
    server = started.child;
    expect(started.output).not.toContain('demo data loaded');
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
    const [counts] = await db<
      Array<{ agencies: number; dossiers: number }>
    >`SELECT (SELECT count(*)::int FROM agencies) AS agencies, (SELECT count(*)::int FROM dossiers) AS dossiers`;
    await db.end();
    expect(counts).toEqual({ agencies: 0, dossiers: 0 });
  });
});
