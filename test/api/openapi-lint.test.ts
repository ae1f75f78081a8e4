import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * The document at /openapi.json passes Redocly's recommended rules (redocly.yaml), examples
 * checked against their schemas, with no error and no warning. Redocly CLI is pinned in
 * package.json and runs from node_modules, without telemetry or update checks.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REDOCLY = join(ROOT, 'node_modules/.bin/redocly');

interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: Array<{ pointer: string }>;
}

let h: Harness;
let dir: string;

beforeAll(async () => {
  h = await createHarness();
  dir = await mkdtemp(join(tmpdir(), 'openapi-lint-'));
});
afterAll(async () => {
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the OpenAPI document, linted by Redocly CLI', () => {
  it('has no error and no warning', async () => {
    const response = await h.request('GET', '/openapi.json');
    expect(response.status).toBe(200);
    const file = join(dir, 'openapi.json');
    await writeFile(file, await response.text());

    const run = await promisify(execFile)(REDOCLY, ['lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format=json'], {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      maxBuffer: 32 * 1024 * 1024,
      timeout: 120_000,
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code ?? -1,
        stdout: error.stdout ?? '',
        stderr: error.stderr,
      }),
    );
    const start = run.stdout.indexOf('{');
    expect(start, `redocly printed no JSON (exit ${run.code}): ${run.stdout}${'stderr' in run ? run.stderr : ''}`).toBeGreaterThanOrEqual(
      0,
    );
    const report = JSON.parse(run.stdout.slice(start)) as { totals: { errors: number; warnings: number }; problems: LintProblem[] };
    const listed = report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
    expect(listed).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(run.code).toBe(0);
  }, 120_000);
});
