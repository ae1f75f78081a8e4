import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm run import-statement` as a process: on a free embedded database it imports itself; beside
 * a running hub holding the database it uploads through the hub's API instead.
 */
const root = new URL('../..', import.meta.url).pathname;
const fixture = join(root, 'test/fixtures/statements/vnpay-daily.csv');
const dirs: string[] = [];
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function env(dataDir: string, port: number): NodeJS.ProcessEnv {
  const { npm_lifecycle_event: _npm, ...rest } = process.env;
  return {
    ...rest,
    DATABASE_URL: '',
    DATA_DIR: dataDir,
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    HOST: '',
    JOBS_INTERVAL_SECONDS: '0',
    LOG_LEVEL: 'info',
    // VNPay's statements belong to the province (no agency needs to exist for it).
    VNPAY_AGENCY_CODE: '000.00.00.H19',
  };
}

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

function run(script: string, args: string[], dataDir: string, port: number): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    env: env(dataDir, port),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const result: Run = { child, stdout: '', stderr: '', exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  child.stdout!.on('data', (chunk: Buffer) => (result.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (result.stderr += chunk.toString()));
  return result;
}

const importArgs = (date: string, ...more: string[]) => [fixture, '--source', 'vnpay', '--date', date, ...more];

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'hub-import-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('npm run import-statement', () => {
  it('imports into a free embedded database, says which lines it rejected, and knows a repeat', async () => {
    const dir = tempDir();
    const port = await freePort();
    const first = run('scripts/import-statement.ts', importArgs('2026-12-03'), dir, port);
    expect(await first.exited, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^statement [0-9a-f-]{36}: vnpay on 2026-12-03, current \(embedded database\)$/m);
    expect(first.stdout).toContain('lines: 6 read, 3 imported, 3 rejected');
    expect(first.stdout).toContain('credits 1.385.000 đ');
    expect(first.stdout).toContain('line 5: amount "135.5" has a fraction of a đồng');
    const id = /statement ([0-9a-f-]{36})/.exec(first.stdout)![1];

    const again = run('scripts/import-statement.ts', importArgs('2026-12-03', '--json'), dir, port);
    expect(await again.exited, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ id, repeat: true, linesRejected: 3 });

    const bad = run('scripts/import-statement.ts', importArgs('2026-13-03'), dir, port);
    expect(await bad.exited).toBe(1);
    expect(bad.stderr).toContain('refused (validation-failed)');

    const usage = run('scripts/import-statement.ts', [fixture, '--source', 'vnpay'], dir, port);
    expect(await usage.exited).toBe(64);
    expect(usage.stderr).toContain('--date is required');
  }, 120_000);

  it('beside a running hub on the same embedded database, uploads through its API', async () => {
    const dir = tempDir();
    const port = await freePort();
    const hub = run('src/server.ts', [], dir, port);
    const deadline = Date.now() + 150_000;
    while (!hub.stdout.includes('"msg":"listening"')) {
      if (hub.child.exitCode !== null || Date.now() > deadline) throw new Error(`the hub did not start:\n${hub.stdout}\n${hub.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const upload = run('scripts/import-statement.ts', importArgs('2026-12-04'), dir, port);
    expect(await upload.exited, upload.stderr).toBe(0);
    // The database is held by the hub's worker (npm start supervises it), the pid its "listening" line names.
    const holder = /"pid":(\d+)[^\n]*"msg":"listening"/.exec(hub.stdout)?.[1];
    expect(upload.stderr).toContain(`held by pid ${holder}; uploading through http://127.0.0.1:${port}`);
    expect(upload.stdout).toMatch(new RegExp(`vnpay on 2026-12-04, current \\(through http://127.0.0.1:${port}\\)`));
    expect(upload.stdout).toContain('lines: 6 read, 3 imported, 3 rejected');

    const repeat = run('scripts/import-statement.ts', importArgs('2026-12-04', '--json'), dir, port);
    expect(await repeat.exited, repeat.stderr).toBe(0);
    expect(JSON.parse(repeat.stdout)).toMatchObject({ repeat: true, source: 'vnpay', date: '2026-12-04' });
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
  }, 200_000);
});
