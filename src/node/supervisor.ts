import cluster, { type Worker } from 'node:cluster';

/**
 * The Node entry supervises itself (`HUB_SUPERVISE`, on by default): the process started is a
 * small supervisor, and the hub runs in one worker it forks (node:cluster). A worker that dies
 * after it was serving (a crash the code could not catch, an out-of-memory kill, `kill -9`) is
 * replaced at once; its money is safe, every change being one transaction and the inbox keeping
 * what was received (the new worker's start-up processes what was left). A worker that dies before
 * it served (a configuration error, a port in use) is not restarted: the supervisor exits with its
 * code, the message already printed. SIGTERM and SIGINT go to the worker, which shuts down
 * cleanly; the supervisor exits with it. When the supervisor itself is killed, the worker's
 * channel to it closes and node:cluster ends the worker.
 */
export interface SupervisorLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** What a worker tells its supervisor once it listens. */
const LISTENING_MESSAGE = 'hub:listening';

/** Tells the supervisor (if any) that this worker serves. */
export function reportListening(): void {
  if (cluster.isWorker) process.send?.(LISTENING_MESSAGE);
}

/** Restarts this close together are a crash loop: the next waits, up to 5 s. */
const LOOP_WINDOW_MS = 10_000;

export function supervise(log: SupervisorLog): void {
  let stopping = false;
  let current: Worker | null = null;
  const recentRestarts: number[] = [];

  const start = () => {
    const worker = cluster.fork();
    current = worker;
    let served = false;
    worker.on('message', (message) => {
      if (message === LISTENING_MESSAGE) served = true;
    });
    worker.on('exit', (code, signal) => {
      if (current === worker) current = null;
      if (stopping) return process.exit(code ?? 0);
      if (!served) {
        // It never served: restarting would fail the same way.
        return process.exit(code ?? 1);
      }
      const now = Date.now();
      while (recentRestarts.length > 0 && recentRestarts[0]! < now - LOOP_WINDOW_MS) recentRestarts.shift();
      const delay = Math.min(5_000, recentRestarts.length * 500);
      recentRestarts.push(now);
      log.warn('hub worker died; starting another', { pid: worker.process.pid, code, signal, restartInMs: delay });
      setTimeout(start, delay);
    });
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (!current) process.exit(0);
    current.process.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  log.info('supervising the hub', { pid: process.pid });
  start();
}

/** Whether this process should be the supervisor: the primary, unless HUB_SUPERVISE=0. */
export function isSupervisor(env: NodeJS.ProcessEnv = process.env): boolean {
  return cluster.isPrimary && env.HUB_SUPERVISE !== '0' && env.HUB_SUPERVISE !== 'false';
}
