import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/hub-process.ts';

/**
 * A fresh clone's first start with the demo database made at install (scripts/prepare-demo.ts,
 * run by `npm install`; src/node/demo-template.ts): the hub copies it instead of seeding, serves
 * the same demo (300 dossiers, their payments and receipts), and publishes the key those receipts
 * were signed with. Real processes: the prepare script and `node --import tsx src/server.ts`.
 */
const root = new URL('../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'hub-template-'));
const templateDir = join(scratch, 'template');
const dataDir = join(scratch, 'data');
let port = 0;
let base = '';
let server: ChildProcess | undefined;
const output: string[] = [];
let prepared: { dossiers: number; paidOnline: number; day: string } | undefined;
let listeningAfterMs = 0;

const env = () => ({
  ...process.env,
  DATABASE_URL: '',
  NODE_ENV: 'development',
  DATA_DIR: dataDir,
  DEMO_TEMPLATE_DIR: templateDir,
  PORT: String(port),
  PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
  JOBS_INTERVAL_SECONDS: '0',
  LOG_LEVEL: 'info',
});

beforeAll(async () => {
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/prepare-demo.ts'], { cwd: root, env: env(), encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  prepared = JSON.parse(run.stdout.trim().split('\n').at(-1)!);

  const started = Date.now();
  server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: root, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the hub did not start:\n${output.join('')}`)), 120_000);
    server!.stdout!.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      if (chunk.toString().includes('"msg":"listening"')) {
        listeningAfterMs = Date.now() - started;
        clearTimeout(timer);
        resolve();
      }
    });
    server!.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
    server!.once('exit', (code) => reject(new Error(`the hub exited with ${code}:\n${output.join('')}`)));
  });
}, 240_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(scratch, { recursive: true, force: true });
});

describe('the demo database made at install', () => {
  let jwks: JSONWebKeySet | undefined;

  it('is copied by the first start instead of seeding, and the hub is ready on it', async () => {
    console.log(`[demo-template] listening ${listeningAfterMs} ms after the process started, on the template of ${prepared!.day}`);
    const log = output.join('');
    expect(prepared).toMatchObject({ dossiers: 300 });
    expect(log).toContain('"from":"the demo database made at install"');
    expect(log).not.toContain('demo template not used');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).status).toBe('ready');
    jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    // The secrets came with it: the hub's key is the one in the template's secrets.
    const templateKey = JSON.parse(JSON.parse(readFileSync(join(templateDir, 'secrets.json'), 'utf8')).receiptSigningKey);
    expect(jwks.keys.map((k) => k.x)).toContain(templateKey.x);
  });

  it("holds the demo's dossiers, and receipts signed with the key the hub publishes", async () => {
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server!.kill('SIGTERM');
    await exited;
    const db = new PGlite(join(dataDir, 'pglite'));
    try {
      const [dossiers] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM dossiers')).rows;
      expect(dossiers!.n).toBe(prepared!.dossiers);
      const signed = (await db.query<{ signature: string | null }>('SELECT signature FROM receipts ORDER BY number')).rows;
      expect(signed.length).toBeGreaterThanOrEqual(prepared!.paidOnline);
      const keys = createLocalJWKSet(jwks!);
      for (const { signature } of signed) await expect(compactVerify(signature!, keys)).resolves.toBeTruthy();
    } finally {
      await db.close();
    }
  });
});
