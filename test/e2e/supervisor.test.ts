import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { onServer } from '../helpers/database.ts';
import { type HubProcess, startHubProcess, stopHubProcess } from '../helpers/hub-process.ts';

/**
 * `npm start` supervises itself (src/node/supervisor.ts): a hub worker killed with SIGKILL (what
 * an uncaught error or the kernel's OOM killer does to it) is replaced at once, the service back
 * without anyone restarting it; SIGTERM to the supervisor stops both. Once per run, on the
 * embedded database (the replacement takes over the dead worker's lock on the data folder).
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(onServer)('the supervised hub', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hub-supervisor-'));
  let hub: HubProcess | undefined;
  afterAll(async () => {
    await stopHubProcess(hub);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('replaces a killed worker at once and stops cleanly on SIGTERM', async () => {
    hub = await startHubProcess('', { DATA_DIR: dataDir });
    const [first] = hub.workers();
    expect(first).not.toBe(hub.child.pid);
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);

    const killedAt = Date.now();
    process.kill(first!, 'SIGKILL');
    let replaced = 0;
    while (Date.now() - killedAt < 60_000) {
      const [, second] = hub.workers();
      if (second) {
        const res = await fetch(`${hub.url}/readyz`).catch(() => null);
        if (res?.status === 200) {
          replaced = Date.now() - killedAt;
          break;
        }
      }
      await sleep(50);
    }
    console.log(`[supervisor] a new worker ready ${replaced} ms after the kill`);
    expect(replaced).toBeGreaterThan(0);
    expect(hub.output()).toContain('hub worker died; starting another');
    expect(hub.child.exitCode).toBeNull();

    const [, second] = hub.workers();
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
    // The worker went with it.
    expect(() => process.kill(second!, 0)).toThrow();
  }, 120_000);
});
