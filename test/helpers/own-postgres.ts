import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A PostgreSQL server of a test's own, made with PostgreSQL's own tools (initdb, pg_ctl) on a
 * loopback port of its own, so a test may stop, kill or restart it: the machine's shared server
 * on 5432 is never touched. initdb refuses root, so as root the tools run as `postgres`
 * (runuser). fsync is off: the data is the test's, and a crash of the *hub* is what is tested.
 */
export interface OwnPostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  start(): Promise<void>;
  /** `fast`: sessions ended cleanly; `immediate`: as a crash would (no shutdown checkpoint). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops the server (if running) and removes its data folder. */
  destroy(): Promise<void>;
  /** A standby's promotion to primary (`pg_ctl promote`, waiting until it accepts writes). */
  promote(): Promise<void>;
}

/** The binaries folder of the newest PostgreSQL installed the Debian way, or null. */
function postgresBinaries(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

/** Why a test needing its own server cannot run here, or null when it can. */
export function ownPostgresUnavailable(): string | null {
  if (!postgresBinaries()) return 'no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)';
  if (process.getuid?.() === 0 && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser'))
    return 'running as root without runuser';
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * `settings`: more `-c name=value` options. `primary`: a replication primary (WAL for a standby,
 * full-page writes, commits waiting for the synchronous standby once it is named). `standbyOf`:
 * instead of initdb, a base backup of that primary, started as its streaming standby under
 * `cluster_name` (the application name the primary's `synchronous_standby_names` matches).
 */
export interface OwnPostgresOptions {
  primary?: boolean;
  standbyOf?: { port: number; clusterName: string };
}

export async function startOwnPostgres(own: OwnPostgresOptions = {}): Promise<OwnPostgres> {
  const bin = postgresBinaries();
  if (!bin) throw new Error(ownPostgresUnavailable() ?? 'no PostgreSQL');
  const asRoot = process.getuid?.() === 0;
  const tool = (name: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, name), ...args]) : run(join(bin, name), args);

  const folder = await mkdtemp(join(tmpdir(), 'hub-own-pg-'));
  if (asRoot) {
    await chown(
      folder,
      Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
      Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
    );
  }
  await chmod(folder, 0o700);
  const data = join(folder, 'data');
  if (own.standbyOf) {
    // -R writes standby.signal and primary_conninfo; WAL streamed during the copy.
    await tool('pg_basebackup', [
      '-D',
      data,
      '-h',
      '127.0.0.1',
      '-p',
      String(own.standbyOf.port),
      '-U',
      'postgres',
      '-X',
      'stream',
      '-R',
      '--no-sync',
    ]);
  } else await tool('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const replicated = own.primary || own.standbyOf;
  const options = [
    `-p ${port}`,
    `-k ${folder}`,
    "-c listen_addresses='127.0.0.1'",
    // The machine does not crash in these tests, a server does: its OS cache survives it.
    '-c fsync=off',
    '-c max_connections=60',
    // A primary's commit waits for its synchronous standby (once named); a base backup needs full-page writes.
    ...(replicated
      ? ['-c synchronous_commit=on', '-c full_page_writes=on', '-c wal_level=replica', '-c max_wal_senders=5', '-c hot_standby=on']
      : ['-c synchronous_commit=off', '-c full_page_writes=off']),
    ...(own.standbyOf ? [`-c cluster_name=${own.standbyOf.clusterName}`] : []),
  ].join(' ');
  let running = false;
  const self: OwnPostgres = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await tool('pg_ctl', ['-D', data, '-o', options, '-l', join(folder, 'log'), '-w', '-t', '30', 'start']);
      running = true;
    },
    async stop(mode = 'fast') {
      if (!running) return;
      await tool('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']);
      running = false;
    },
    async destroy() {
      await self.stop('immediate').catch(() => {});
      await rm(folder, { recursive: true, force: true });
    },
    async promote() {
      await tool('pg_ctl', ['-D', data, '-w', '-t', '30', 'promote']);
    },
  };
  await self.start();
  return self;
}
