import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * One process at a time on an embedded database, with the real entry points: while `npm start`
 * holds a data folder, a second start and `npm run jobs` get one line naming it and exit 75;
 * after a kill -9 the next start takes the folder over; a port in use is one line and exit 69;
 * a graceful stop leaves the folder free.
 */
const root = new URL('../..', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'hub-lock-e2e-'));
const lockFile = join(dataDir, 'pglite.lock');
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function env(port: number): NodeJS.ProcessEnv {
  // Not as an npm script: the holder is described by its script path alone.
  const { npm_lifecycle_event: _npm, ...rest } = process.env;
  return {
    ...rest,
    DATABASE_URL: '',
    // The process killed is the one holding the database: the hub alone, not its supervisor.
    HUB_SUPERVISE: '0',
    DATA_DIR: dataDir,
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    HOST: '',
    JOBS_INTERVAL_SECONDS: '0',
    LOG_LEVEL: 'info',
  };
}

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
}

function run(script: string, port: number): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, env: env(port), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const result: Run = { child, stdout: '', stderr: '', exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  child.stdout!.on('data', (chunk: Buffer) => (result.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (result.stderr += chunk.toString()));
  return result;
}

async function listening(server: Run): Promise<void> {
  const deadline = Date.now() + 150_000;
  while (!server.stdout.includes('"msg":"listening"')) {
    if (server.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the hub did not start:\n${server.stdout}\n${server.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

let first: Run;
let firstPort: number;
beforeAll(async () => {
  firstPort = await freePort();
  first = run('src/server.ts', firstPort);
  await listening(first);
}, 180_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('an embedded database held by `npm start`', () => {
  it('turns a second start away in one line naming the holder, with exit 75', async () => {
    const second = run('src/server.ts', await freePort());
    expect(await second.exited).toBe(75);
    expect(lines(second.stderr)).toHaveLength(1);
    expect(second.stderr).toContain(`in use by pid ${first.child.pid} (src/server.ts`);
    expect(second.stderr).toContain(`it serves http://127.0.0.1:${firstPort}`);
    expect(second.stderr).toContain(`kill ${first.child.pid}`);
    expect(second.stdout).not.toContain('"msg":"listening"');
    // The holder serves on, untouched.
    expect((await fetch(`http://127.0.0.1:${firstPort}/readyz`)).status).toBe(200);
  }, 60_000);

  it('turns `npm run jobs` away the same way, saying the server runs the jobs itself', async () => {
    const jobs = run('scripts/jobs.ts', firstPort);
    expect(await jobs.exited).toBe(75);
    expect(lines(jobs.stderr)).toHaveLength(1);
    expect(jobs.stderr).toMatch(new RegExp(`in use by pid ${first.child.pid} .*runs the jobs itself.*DATABASE_URL`));
    expect(jobs.stdout).toBe('');
  }, 60_000);

  it('after a kill -9 the lock is stale: the next opener takes it over, and a port in use is one line with exit 69', async () => {
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(lockFile)).toBe(true);
    const taken: Server = await new Promise((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => resolve(server));
    });
    const busyPort = (taken.address() as { port: number }).port;
    try {
      const blocked = run('src/server.ts', busyPort);
      expect(await blocked.exited).toBe(69);
      expect(lines(blocked.stderr)).toEqual([
        `port ${busyPort} is in use on 127.0.0.1 (another hub, or another program?): stop it, or set PORT to a free port`,
      ]);
      // It had taken the stale lock over, and gave it back on its way out.
      expect(existsSync(lockFile)).toBe(false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 120_000);

  it('a restart serves the same data; a graceful stop frees the folder for `npm run jobs`', async () => {
    const port = await freePort();
    const again = run('src/server.ts', port);
    await listening(again);
    expect(again.stdout).not.toContain('demo data loaded');
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
    const jobs = run('scripts/jobs.ts', port);
    expect(await jobs.exited, jobs.stderr).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
  }, 180_000);
});
