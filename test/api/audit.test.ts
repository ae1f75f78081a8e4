import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEmbedded } from '../../src/db/embedded.ts';
import { pgError } from '../../src/db/errors.ts';
import { queryRows } from '../../src/db/types.ts';
import { lockDatabase } from '../../src/node/database-lock.ts';
import { appendAudit, GENESIS_HASH } from '../../src/services/audit.ts';
import { withTransaction } from '../../src/services/context.ts';
import { onServer } from '../helpers/database.ts';
import { AGENCIES, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';

/**
 * The audit log's read side: GET /v1/audit (scoped, filtered, a page at a time), and the chain
 * check, by the route and by `npm run audit -- verify` run as a real process, after the log was
 * tampered with the way someone with rights on the database could: around the trigger that
 * refuses UPDATE and DELETE.
 */
const root = new URL('../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'hub-audit-'));

let h: Harness;
let admin: string;
let province: string;
/** The ids of the five rows appended, oldest first. */
let rows: number[] = [];

const entries = [
  {
    at: '2026-11-20T09:00:00+07:00',
    actor: 'treasury:ke-toan-a',
    action: 'decide',
    type: 'payment_review',
    id: 'R1',
    agency: AGENCIES.communeA,
  },
  {
    at: '2026-11-20T10:00:00+07:00',
    actor: 'treasury:ke-toan-b',
    action: 'refund.request',
    type: 'refund',
    id: 'F1',
    agency: AGENCIES.communeB,
  },
  { at: '2026-11-21T08:00:00+07:00', actor: 'admin:van-hanh', action: 'statement.import', type: 'statement', id: 'S1', agency: null },
  {
    at: '2026-11-22T00:15:00+07:00',
    actor: 'treasury:ke-toan-c',
    action: 'approve',
    type: 'payment_review',
    id: 'R1',
    agency: AGENCIES.communeA,
  },
  {
    at: '2026-11-22T11:00:00+07:00',
    actor: 'treasury:ke-toan-a',
    action: 'refund.approve',
    type: 'refund',
    id: 'F2',
    agency: AGENCIES.communeA,
  },
] as const;

const get = async (path: string, token = province) => expectJson(await h.request('GET', path, { token }), 200);
const ids = (page: { items: Array<{ id: number }> }) => page.items.map((i) => i.id);
const exec = (query: ReturnType<typeof sql>) => h.db.db.execute(query);

/** Runs `npm run audit -- verify` as its own process on the given database settings. */
function runAudit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { npm_lifecycle_event: _npm, ...rest } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/audit.ts', 'verify'], {
    cwd: root,
    env: { ...rest, DATABASE_URL: '', DATA_DIR: join(scratch, 'unused'), LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/**
 * The script against this test's database: on the server, the database itself; on PGlite (in
 * memory here), a copy of it in a data folder, as a stopped embedded hub would leave it.
 */
async function auditScript() {
  if (onServer) {
    const [database] = await queryRows<{ name: string }>(h.db.db, sql`SELECT current_database() AS name`);
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${database!.name}`;
    return runAudit({ DATABASE_URL: url.toString() });
  }
  const dataDir = mkdtempSync(join(scratch, 'copy-'));
  const dump = await (h.db as unknown as { client: PGlite }).client.dumpDataDir('none');
  const copy = await connectEmbedded(join(dataDir, 'pglite'), { loadDataDir: dump });
  await copy.close();
  return runAudit({ DATA_DIR: dataDir });
}

/** Does to a row what the trigger forbids, with the trigger out of the way for that one statement. */
async function aroundTrigger(statement: ReturnType<typeof sql>) {
  await exec(sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`);
  try {
    await exec(statement);
  } finally {
    await exec(sql`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`);
  }
}

beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  admin = await mintToken({ role: 'admin' });
  province = await mintToken({ role: 'treasury', agencies: [AGENCIES.province] });
  for (const e of entries) {
    h.clock.now = new Date(e.at);
    await withTransaction(h.ctx, (ctx) =>
      appendAudit(ctx, e.actor, {
        action: e.action,
        resourceType: e.type,
        resourceId: e.id,
        agencyCode: e.agency,
        reason: `Lý do ${e.action}`,
        before: { status: 'open' },
        after: { status: 'resolved' },
      }),
    );
  }
  h.clock.now = null;
  rows = (await get('/v1/audit', admin)).items.map((i: { id: number }) => i.id).reverse();
  expect(rows).toHaveLength(5);
}, 120_000);
afterAll(async () => {
  await h?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('GET /v1/audit', () => {
  it('lists the log newest first, each row with who, what, on what, why, before and after, and its hashes', async () => {
    const page = await get('/v1/audit', admin);
    expect(ids(page)).toEqual([...rows].reverse());
    expect(page.nextCursor).toBeNull();
    expect(page.items.at(-1)).toMatchObject({
      id: rows[0],
      at: new Date(entries[0].at).toISOString(),
      actor: 'treasury:ke-toan-a',
      action: 'decide',
      resourceType: 'payment_review',
      resourceId: 'R1',
      agencyCode: AGENCIES.communeA,
      reason: 'Lý do decide',
      before: { status: 'open' },
      after: { status: 'resolved' },
      prevHash: GENESIS_HASH,
    });
    expect(page.items[0].prevHash).toBe(page.items[1].hash);
  });

  it("is scoped by the row's agency; rows of the province as a whole are an admin's only", async () => {
    expect(ids(await get('/v1/audit'))).toEqual([rows[4], rows[3], rows[1], rows[0]]);
    expect(ids(await get('/v1/audit', await mintToken({ role: 'treasury', agencies: [AGENCIES.communeB] })))).toEqual([rows[1]]);
    expect(await get('/v1/audit', await mintToken({ role: 'treasury', agencies: [AGENCIES.otherProvince] }))).toEqual({
      items: [],
      nextCursor: null,
    });
    await expectProblem(
      await h.request('GET', '/v1/audit', { token: await mintToken({ role: 'portal', agencies: [AGENCIES.province] }) }),
      403,
      'forbidden',
    );
  });

  it('filters by resource, actor and Vietnamese dates', async () => {
    const list = async (query: string) => ids(await get(`/v1/audit?${query}`, admin));
    expect(await list('resourceType=payment_review&resourceId=R1')).toEqual([rows[3], rows[0]]);
    expect(await list('resourceType=refund')).toEqual([rows[4], rows[1]]);
    expect(await list('actor=treasury:ke-toan-a')).toEqual([rows[4], rows[0]]);
    expect(await list('from=2026-11-21&to=2026-11-21')).toEqual([rows[2]]);
    // 00:15 on the 22nd in Vietnam is still the 21st in UTC.
    expect(await list('from=2026-11-22')).toEqual([rows[4], rows[3]]);
  });

  it('pages by id without duplicates or gaps', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Array<{ id: number }>; nextCursor: string | null } = await get(
        `/v1/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        admin,
      );
      seen.push(...ids(page));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...rows].reverse());
  });

  it.each(['from=2026-11-31', 'from=2026-11-22&to=2026-11-21', 'resourceType=DROP%20TABLE', 'cursor=abc', 'limit=1000'])(
    'refuses %s with 400',
    async (query) => {
      await expectProblem(await h.request('GET', `/v1/audit?${query}`, { token: admin }), 400, 'validation-failed');
    },
  );
});

describe('the hash chain', () => {
  it('holds as written, by the route (admins only) and by `npm run audit -- verify`', async () => {
    expect(await get('/v1/audit/verification', admin)).toMatchObject({ ok: true, checked: 5, firstBroken: null });
    await expectProblem(await h.request('GET', '/v1/audit/verification', { token: province }), 403, 'forbidden');
    const run = await auditScript();
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, checked: 5, firstBroken: null });
  }, 60_000);

  it('cannot be edited or cut through SQL: the trigger refuses UPDATE, DELETE and TRUNCATE', async () => {
    for (const statement of [
      sql`UPDATE audit_log SET reason = 'sửa lại' WHERE id = ${rows[2]}`,
      sql`DELETE FROM audit_log WHERE id = ${rows[2]}`,
      sql`TRUNCATE audit_log`,
    ]) {
      const error = await exec(statement).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(pgError(error)).toMatchObject({ code: '42501', message: expect.stringContaining('append-only') });
    }
    expect(await get('/v1/audit/verification', admin)).toMatchObject({ ok: true, checked: 5 });
  });

  it('names an edited row as the first broken one, by the route and by the script (exit 1)', async () => {
    const [original] = await queryRows<{ reason: string }>(h.db.db, sql`SELECT reason FROM audit_log WHERE id = ${rows[2]}`);
    await aroundTrigger(sql`UPDATE audit_log SET reason = 'Không có gì' WHERE id = ${rows[2]}`);
    const verdict = await get('/v1/audit/verification', admin);
    expect(verdict).toMatchObject({ ok: false, checked: 2, firstBroken: { id: rows[2], reason: 'hash-mismatch' } });
    const run = await auditScript();
    expect(run.code, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual(verdict);
    expect(run.stderr).toContain(`audit log broken at row ${rows[2]} (hash-mismatch)`);
    // Put back as it was, the row holds again: the hash is over the content, nothing else.
    await aroundTrigger(sql`UPDATE audit_log SET reason = ${original!.reason} WHERE id = ${rows[2]}`);
    expect(await get('/v1/audit/verification', admin)).toMatchObject({ ok: true, checked: 5 });
  }, 60_000);

  it('names the row after a deleted one as broken (its link points at a row no longer there)', async () => {
    await aroundTrigger(sql`DELETE FROM audit_log WHERE id = ${rows[2]}`);
    const verdict = await get('/v1/audit/verification', admin);
    expect(verdict).toMatchObject({ ok: false, checked: 2, firstBroken: { id: rows[3], reason: 'broken-link' } });
    const run = await auditScript();
    expect(run.code, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout).firstBroken).toEqual(verdict.firstBroken);
  }, 60_000);
});

describe('`npm run audit -- verify` beside a running embedded hub', () => {
  it('says in one line that the hub holds the database and where to ask it instead, with exit 75', async () => {
    const dataDir = mkdtempSync(join(scratch, 'held-'));
    const lock = await lockDatabase(join(dataDir, 'pglite'), 'npm start');
    await lock.update({ listening: 'http://127.0.0.1:8787' });
    try {
      const run = await runAudit({ DATA_DIR: dataDir });
      expect(run.code).toBe(75);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain(`held by pid ${process.pid} (npm start)`);
      expect(run.stderr).toContain('GET http://127.0.0.1:8787/v1/audit/verification');
    } finally {
      lock.release();
    }
  }, 60_000);
});
