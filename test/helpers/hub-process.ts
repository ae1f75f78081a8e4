import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { generateReceiptKey } from '../../src/services/receipt-signer.ts';

const root = new URL('../..', import.meta.url).pathname;
export const HUB_JWT_SECRET = 'a-process-test-secret-that-is-long-enough-0123456789';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A real `src/server.ts` (supervised unless HUB_SUPERVISE=0), as `npm start` runs it. */
export interface HubProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
  output(): string;
  /** The pids that have logged "listening" so far (the supervised workers, or the process itself). */
  workers(): number[];
}

export async function startHubProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<HubProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      JWT_SECRET: HUB_JWT_SECRET,
      RECEIPT_SIGNING_KEY: JSON.stringify(await generateReceiptKey()),
      SESSION_SECRET: 'a-session-secret-that-is-long-enough-0123456789',
      JOBS_INTERVAL_SECONDS: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const workers = () =>
    output
      .split('\n')
      .filter((line) => line.includes('"msg":"listening"'))
      .map((line) => Number(/"pid":(\d+)/.exec(line)?.[1]));
  const deadline = Date.now() + 90_000;
  while (workers().length === 0) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the hub did not start:\n${output}`);
    }
    await sleep(50);
  }
  return { child, url: `http://127.0.0.1:${port}`, exited, output: () => output, workers };
}

/** Stops a hub process and waits for it (SIGKILL after 10 s). */
export async function stopHubProcess(hub: HubProcess | undefined): Promise<void> {
  if (!hub || hub.child.exitCode !== null || hub.child.signalCode !== null) return;
  hub.child.kill('SIGTERM');
  const timer = setTimeout(() => hub.child.kill('SIGKILL'), 10_000);
  await hub.exited;
  clearTimeout(timer);
}
