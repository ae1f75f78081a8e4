import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, isAbsolute, relative } from 'node:path';

/**
 * One process at a time on an embedded database. PGlite has no lock of its own: a second
 * process on the same folder (`npm run jobs` beside `npm start`) reads pages the first is
 * writing and aborts, or worse, writes too. So the folder `X` is held through a file `X.lock`
 * naming its holder.
 *
 * Why not proper-lockfile: it tells a dead holder by a lock's age (an mtime it refreshes on a
 * timer, at least every 5 s), so a restart after a crash waits that long, and a PGlite query
 * that blocks the event loop longer than that (a roll-up rebuild) makes a live lock look stale.
 * A pid answers "is the holder alive?" at once and without a timer: the lock is stale when its
 * process is gone, or when its pid now belongs to another process (a container restarted:
 * pids repeat, start times do not).
 */
export interface LockHolder {
  pid: number;
  /** The process's start time from /proc/<pid>/stat (Linux), to tell a reused pid. */
  processStart?: string;
  /**
   * The machine and its boot (Linux's boot id): a pid means something only there. A folder shared
   * with another machine or container is never taken from a holder this process cannot see.
   */
  host?: string;
  bootId?: string;
  /** What the holder is, as its user typed it: `npm start`, `npm run jobs`, `scripts/seed.ts`. */
  command: string;
  startedAt: string;
  /** Where the holder serves, once it listens. */
  listening?: string;
  /** Tells this holding from any other, whatever the pid. */
  nonce: string;
}

export class DatabaseLockedError extends Error {
  constructor(
    readonly folder: string,
    readonly holder: LockHolder,
  ) {
    super(`${folder} is in use by pid ${holder.pid} (${holder.command})`);
    this.name = 'DatabaseLockedError';
  }
}

export interface DatabaseLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Records where the holder listens, for the message another opener gets. */
  update(fields: Pick<LockHolder, 'listening'>): Promise<void>;
  /** Synchronous, so that it can run in an 'exit' handler. Releasing twice is harmless. */
  release(): void;
}

/** Takes the lock of `folder` or throws DatabaseLockedError naming the live holder. */
export async function lockDatabase(folder: string, command: string = describeCommand()): Promise<DatabaseLock> {
  const path = `${folder}.lock`;
  await mkdir(dirname(path), { recursive: true });
  const me: LockHolder = {
    pid: process.pid,
    processStart: processStart(process.pid),
    host: hostname(),
    bootId: bootId(),
    command,
    startedAt: new Date().toISOString(),
    nonce: randomUUID(),
  };
  // A few rounds: each either takes the lock, names a live holder, or clears a dead one.
  for (let round = 0; round < 5; round++) {
    if (await create(path, me)) return held(path, me);
    const holder = await readHolder(path);
    if (holder === 'absent') continue;
    if (holder !== 'unreadable' && isAlive(holder)) throw new DatabaseLockedError(folder, holder);
    await clearStale(path, holder === 'unreadable' ? undefined : holder.nonce);
  }
  throw new Error(`could not take ${path}: other processes keep taking and dropping it`);
}

/** The lock file appears whole or not at all: written aside, then hard-linked (fails if it exists). */
async function create(path: string, me: LockHolder): Promise<boolean> {
  const aside = `${path}.${me.pid}.${me.nonce}`;
  await writeFile(aside, JSON.stringify(me));
  try {
    await link(aside, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(aside, { force: true });
  }
}

async function readHolder(path: string): Promise<LockHolder | 'absent' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
  try {
    const holder = JSON.parse(text) as LockHolder;
    return Number.isInteger(holder.pid) && holder.pid > 0 && typeof holder.nonce === 'string' ? holder : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/**
 * Removes the dead holder's lock, and only it: two openers may find the same dead holder, and
 * the second must not remove the lock the first has just taken. The lock is moved aside
 * (atomic), then checked: if it was not the dead one, it goes back.
 */
export async function clearStale(path: string, deadNonce: string | undefined): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readHolder(aside);
  const wasDead = moved === 'unreadable' ? deadNonce === undefined : moved !== 'absent' && moved.nonce === deadNonce;
  if (!wasDead) await link(aside, path).catch(() => undefined);
  await rm(aside, { force: true });
}

function isAlive(holder: LockHolder): boolean {
  // Another machine's (or container's) process cannot be asked about: taken as alive.
  if (holder.host !== undefined && holder.host !== hostname()) return true;
  // The same machine, booted since: every process of that boot is gone.
  const boot = bootId();
  if (holder.bootId !== undefined && boot !== undefined && holder.bootId !== boot) return false;
  if (holder.pid === process.pid) {
    // Only this very process (same start) holds it; an earlier process with this pid is gone.
    return holder.processStart !== undefined && holder.processStart === processStart(process.pid);
  }
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: alive, another user's process.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = processStart(holder.pid);
  return holder.processStart === undefined || start === undefined || start === holder.processStart;
}

/** This boot of this machine (Linux); undefined elsewhere. */
function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat, the start time in clock ticks since boot; undefined off Linux. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count after its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function held(path: string, me: LockHolder): DatabaseLock {
  let holder = me;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      // Never another's: after a takeover, the file may name a new holder.
      if ((JSON.parse(readFileSync(path, 'utf8')) as LockHolder).nonce === me.nonce) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.on('exit', release);
  return {
    path,
    get holder() {
      return holder;
    },
    async update(fields) {
      if (released) return;
      holder = { ...holder, ...fields };
      const aside = `${path}.${me.pid}.${me.nonce}`;
      await writeFile(aside, JSON.stringify(holder));
      await rename(aside, path);
    },
    release,
  };
}

/**
 * How the user started this process: the script's path, after the npm script that ran it
 * (`npm start (src/server.ts)`): npm's variable is inherited by whatever an npm script spawns,
 * so the path keeps the description true for a process further down.
 */
export function describeCommand(env: Record<string, string | undefined> = process.env, argv: string[] = process.argv): string {
  const script = argv
    .slice(1)
    .map((arg) => (isAbsolute(arg) ? relative(process.cwd(), arg) || arg : arg))
    .join(' ');
  const npm = env.npm_lifecycle_event;
  if (!npm) return script;
  return `${npm === 'start' ? 'npm start' : `npm run ${npm}`} (${script})`;
}
