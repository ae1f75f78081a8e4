import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  clearStale,
  type DatabaseLock,
  DatabaseLockedError,
  describeCommand,
  type LockHolder,
  lockDatabase,
} from '../../src/node/database-lock.ts';

/**
 * The lock of an embedded database folder, in one process: who holds it, when a lock is stale,
 * and that racing openers end with one holder. test/e2e/embedded-lock.test.ts runs real processes.
 */
let dir: string;
let folder: string;
const taken: DatabaseLock[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hub-lock-'));
  folder = join(dir, 'pglite');
});
afterEach(() => {
  for (const lock of taken.splice(0)) lock.release();
  rmSync(dir, { recursive: true, force: true });
});

const take = async (command = 'test') => {
  const lock = await lockDatabase(folder, command);
  taken.push(lock);
  return lock;
};
const onDisk = () => JSON.parse(readFileSync(`${folder}.lock`, 'utf8')) as LockHolder;
const leave = (holder: Partial<LockHolder>) =>
  writeFileSync(
    `${folder}.lock`,
    JSON.stringify({ command: 'npm start', startedAt: '2026-11-20T03:00:00.000Z', nonce: 'left-behind', ...holder }),
  );
/** A pid that belonged to a process and no longer does. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;
const hasProc = existsSync('/proc/self/stat');

describe('the embedded database lock', () => {
  it('names its holder, refuses a second opener with that holder, and is free again once released', async () => {
    const lock = await take('npm start (src/server.ts)');
    expect(onDisk()).toMatchObject({ pid: process.pid, command: 'npm start (src/server.ts)' });
    await lock.update({ listening: 'http://127.0.0.1:3000' });
    const refused = await lockDatabase(folder, 'npm run jobs').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DatabaseLockedError);
    expect((refused as DatabaseLockedError).holder).toMatchObject({
      pid: process.pid,
      command: 'npm start (src/server.ts)',
      listening: 'http://127.0.0.1:3000',
    });
    lock.release();
    expect(existsSync(`${folder}.lock`)).toBe(false);
    lock.release();
    await take('again');
    expect(onDisk().command).toBe('again');
  });

  it("refuses while the holder lives (another process: the test runner's parent)", async () => {
    leave({ pid: process.ppid });
    await expect(lockDatabase(folder, 'x')).rejects.toMatchObject({ holder: { pid: process.ppid, command: 'npm start' } });
  });

  it('takes over the lock of a process that is gone (kill -9 leaves the file behind)', async () => {
    const pid = deadPid();
    leave({ pid });
    const lock = await take('after the crash');
    expect(onDisk()).toMatchObject({ pid: process.pid, command: 'after the crash', nonce: lock.holder.nonce });
  });

  it.runIf(hasProc)('takes over a lock whose pid now belongs to another process (a restarted container reuses pids)', async () => {
    leave({ pid: process.ppid, processStart: '1' });
    await take('new container');
    expect(onDisk().command).toBe('new container');
    // This process's own pid in a lock it did not take: an earlier process of the same pid.
    for (const l of taken.splice(0)) l.release();
    leave({ pid: process.pid, processStart: '1' });
    await take('same pid, later');
    expect(onDisk().command).toBe('same pid, later');
  });

  it("never takes a lock from another machine's process, which it cannot ask about", async () => {
    leave({ pid: deadPid(), host: 'another-container' });
    await expect(lockDatabase(folder, 'x')).rejects.toMatchObject({ holder: { host: 'another-container' } });
  });

  it.runIf(existsSync('/proc/sys/kernel/random/boot_id'))('takes over a live-looking pid of an earlier boot of this machine', async () => {
    leave({ pid: process.ppid, host: hostname(), bootId: 'an-earlier-boot' });
    await take('after a reboot');
    expect(onDisk().command).toBe('after a reboot');
  });

  it('takes a lock naming pid 0 as unreadable, not as a live process', async () => {
    leave({ pid: 0 });
    await take('after pid 0');
    expect(onDisk().command).toBe('after pid 0');
  });

  it('takes over an unreadable lock', async () => {
    writeFileSync(`${folder}.lock`, '{"pid":');
    await take('after a torn file');
    expect(onDisk().command).toBe('after a torn file');
  });

  it('openers at once on a stale lock end with exactly one holder, the one the file names', async () => {
    leave({ pid: deadPid() });
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => lockDatabase(folder, `opener ${i}`)));
    const winners = results.filter((r): r is PromiseFulfilledResult<DatabaseLock> => r.status === 'fulfilled').map((r) => r.value);
    taken.push(...winners);
    expect(winners).toHaveLength(1);
    expect(onDisk().nonce).toBe(winners[0]!.holder.nonce);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DatabaseLockedError);
  });

  it("clearing a dead holder's lock spares the lock another opener took in the meantime", async () => {
    // Two openers read the same dead holder; the first has cleared it and taken the lock when
    // the second clears "it": the second must leave the first's lock where it is.
    leave({ pid: process.ppid, nonce: 'taken-in-the-meantime' });
    await clearStale(`${folder}.lock`, 'the-dead-one');
    expect(onDisk().nonce).toBe('taken-in-the-meantime');
    await clearStale(`${folder}.lock`, 'taken-in-the-meantime');
    expect(existsSync(`${folder}.lock`)).toBe(false);
  });

  it('a release never removes a lock another holder has since taken', async () => {
    const lock = await take();
    leave({ pid: process.ppid, nonce: 'someone-else' });
    lock.release();
    expect(onDisk().nonce).toBe('someone-else');
  });
});

describe('describeCommand', () => {
  it('says how the user started the process', () => {
    const argv = [process.execPath, join(process.cwd(), 'src/server.ts')];
    expect(describeCommand({ npm_lifecycle_event: 'start' }, argv)).toBe('npm start (src/server.ts)');
    expect(describeCommand({ npm_lifecycle_event: 'jobs' }, [process.execPath, join(process.cwd(), 'scripts/jobs.ts')])).toBe(
      'npm run jobs (scripts/jobs.ts)',
    );
    expect(describeCommand({}, [...argv, '--flag'])).toBe('src/server.ts --flag');
  });
});
