import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { unstable_readConfig } from 'wrangler';

const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

/** wrangler and Miniflare stay offline: no request for Cloudflare's request metadata, no metrics. */
const OFFLINE_ENV = { CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' } as const;

/**
 * postgres.js on Workers rejects a stream it cancelled itself after `end()` (postgres.js issues
 * 1196 and 1202): harmless, and the only uncaught error a passing run may print. Filtered by
 * this exact message, nothing broader.
 */
const KNOWN_HARMLESS = 'Stream was cancelled.';

/** The deployment's settings, read from wrangler.toml as `wrangler deploy` reads them. */
export function wranglerConfig() {
  return unstable_readConfig({ config: join(root, 'wrangler.toml') }, { hideWarnings: true });
}

/**
 * Bundles src/worker.ts exactly as a deploy does (`wrangler deploy --dry-run`, the same command
 * as `npm run build:worker`), into a folder of the test's own. Returns the bundle's path.
 */
export async function bundleWorker(): Promise<{ script: string; remove(): Promise<void> }> {
  const outdir = await mkdtemp(join(tmpdir(), 'hub-worker-'));
  await run(join(root, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
    cwd: root,
    env: { ...process.env, ...OFFLINE_ENV },
    maxBuffer: 16 * 1024 * 1024,
  });
  return { script: join(outdir, 'worker.js'), remove: () => rm(outdir, { recursive: true, force: true }) };
}

export interface Workerd {
  /** The worker's own HTTP address (workerd's socket, through Miniflare's entry). */
  url: string;
  /** One cron trigger, as Cloudflare fires it: the worker's `scheduled` handler with that expression. */
  scheduled(cron: string): Promise<{ outcome: string }>;
  /** What the worker wrote (its console logger's JSON lines, workerd's own messages). */
  output(): string;
  /** Uncaught errors workerd reported, less the one known harmless rejection. */
  uncaught(): string[];
  close(): Promise<void>;
}

/**
 * Loads a bundled worker into workerd (Miniflare 4, the same runtime `wrangler dev` uses) with
 * wrangler.toml's compatibility date, flags and vars, `bindings` on top (secrets, test settings),
 * and the Hyperdrive binding pointing at `databaseUrl`. Miniflare's Hyperdrive connects to that
 * database directly, as `localConnectionString` does; the URL must carry a password.
 */
export async function startWorkerd(options: {
  script: string;
  databaseUrl: string;
  /** The loopback port to answer on (its PUBLIC_BASE_URL is built from it before the start). */
  port: number;
  bindings: Record<string, string>;
}): Promise<Workerd> {
  const config = wranglerConfig();
  const hyperdrive = (config.hyperdrive as Array<{ binding: string }>).find((binding) => binding.binding === 'HYPERDRIVE');
  if (!hyperdrive) throw new Error('wrangler.toml declares no HYPERDRIVE binding');
  let output = '';
  const collect = (stream: NodeJS.ReadableStream) => stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const mf = new Miniflare({
    scriptPath: options.script,
    modules: true,
    // Module names are relative to this root: the bundle's own folder.
    modulesRoot: dirname(options.script),
    modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }],
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    bindings: { ...(config.vars as Record<string, string>), ...options.bindings },
    hyperdrives: { [hyperdrive.binding]: options.databaseUrl },
    host: '127.0.0.1',
    port: options.port,
    log: new Log(LogLevel.WARN),
    handleRuntimeStdio: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => {
      collect(stdout);
      collect(stderr);
    },
  });
  let url: string;
  try {
    url = (await mf.ready).origin;
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw new Error(`workerd did not start: ${(error as Error).message}\n${output}`);
  }
  // Miniflare's Fetcher, typed with Workers' types this project does not install: its scheduled() only.
  const worker = (await mf.getWorker()) as unknown as {
    scheduled(options: { cron: string; scheduledTime: Date }): Promise<{ outcome: string }>;
  };
  return {
    url,
    scheduled: async (cron) => {
      const result = await worker.scheduled({ cron, scheduledTime: new Date() });
      return { outcome: result.outcome };
    },
    output: () => output,
    uncaught: () =>
      output
        .split('\n')
        .filter((line) => /Uncaught|uncaught|Unhandled/.test(line) && !line.includes(KNOWN_HARMLESS))
        .map((line) => line.trim()),
    close: () => mf.dispose(),
  };
}
