/**
 * Whether the database is reachable, as the requests found it. The first request that fails on a
 * lost or refused connection opens the breaker; from then on every request that needs the
 * database is answered 503 at once (with Retry-After) instead of queueing behind connection
 * attempts, and a probe (`probe`, a `SELECT 1` bounded by `probeTimeoutMs`) runs every
 * `probeIntervalMs` until one succeeds, which closes it: the hub serves again within an interval
 * of the database's return, without a restart. Plain timers, no Node module: per process on
 * Node, per isolate on Workers.
 */
export interface AvailabilitySettings {
  probeIntervalMs: number;
  probeTimeoutMs: number;
  /** What a 503 tells the client to wait, in seconds. */
  retryAfterSeconds: number;
}

const DEFAULT_AVAILABILITY: AvailabilitySettings = { probeIntervalMs: 500, probeTimeoutMs: 1_000, retryAfterSeconds: 2 };

export class DatabaseAvailability {
  private downSince: number | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly probe: () => Promise<unknown>,
    readonly settings: AvailabilitySettings = DEFAULT_AVAILABILITY,
    private readonly onChange: (up: boolean, downForMs: number) => void = () => {},
  ) {}

  get down(): boolean {
    return this.downSince !== null;
  }

  /** A request met a connection error: stop sending requests to the database until a probe works. */
  reportFailure(): void {
    if (this.closed || this.downSince !== null) return;
    this.downSince = Date.now();
    this.onChange(false, 0);
    this.schedule();
  }

  /** Stops probing (the process is shutting down). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.check(), this.settings.probeIntervalMs);
  }

  private async check(): Promise<void> {
    this.timer = null;
    let timeout: ReturnType<typeof setTimeout> | undefined;
    const ok = await Promise.race([
      this.probe().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => {
        timeout = setTimeout(() => resolve(false), this.settings.probeTimeoutMs);
      }),
    ]);
    clearTimeout(timeout);
    if (this.closed) return;
    if (ok) {
      const downFor = Date.now() - (this.downSince ?? Date.now());
      this.downSince = null;
      this.onChange(true, downFor);
    } else this.schedule();
  }
}
