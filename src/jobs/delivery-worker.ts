import { describeError } from '../db/errors.ts';
import type { ServiceContext } from '../services/context.ts';
import { type ClaimedDelivery, claimDeliveries, type DeliveryOutcome, deliver } from '../services/webhook-delivery.ts';

export interface DeliveryReport {
  sent: number;
  succeeded: number;
  retrying: number;
  failed: number;
}

export interface DeliveryWorker {
  /** Stops claiming, waits for the deliveries in flight to be recorded, and says what was done. */
  stop(): Promise<DeliveryReport>;
  /** Settles when the worker stops (by itself when `untilIdle`, or on stop()). */
  done: Promise<DeliveryReport>;
}

/**
 * Keeps up to `concurrency` deliveries in flight, claims more as soon as one is recorded (the
 * next event of its dossier may be waiting for it), and looks again every `pollMs` when there is
 * nothing to do. A receiver that hangs holds only its own slots (at most `endpointConcurrency`)
 * until the time limit; everything else goes on.
 *
 * The Node hub runs one for its life; a job pass (the Workers cron, `npm run jobs`) runs one
 * `untilIdle`: it ends when nothing is due or in flight, or at `deadlineMs`.
 */
export function startDeliveryWorker(ctx: ServiceContext, options: { untilIdle?: boolean; deadlineMs?: number } = {}): DeliveryWorker {
  const { concurrency, pollMs } = ctx.settings.webhooks;
  const report: DeliveryReport = { sent: 0, succeeded: 0, retrying: 0, failed: 0 };
  const inFlight = new Set<Promise<unknown>>();
  const deadline = options.deadlineMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.deadlineMs;
  let stopped = false;
  // A job pass reports a claim that failed (its run is logged as failed); the Node worker waits and tries again.
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | null = null;
  // Counts recorded deliveries: one recorded while a claim was running may have freed the next
  // event of its dossier after the claim's snapshot was taken, so the loop claims again at once.
  let recorded = 0;
  const nudge = () => {
    wake?.();
    wake = null;
  };
  const count = (outcome: DeliveryOutcome) => {
    report.sent++;
    if (outcome === 'succeeded') report.succeeded++;
    else if (outcome === 'failed') report.failed++;
    else report.retrying++;
  };

  const start = (delivery: ClaimedDelivery) => {
    const running: Promise<unknown> = deliver(ctx, delivery)
      .then(count)
      .catch((error) => ctx.log.error('webhook delivery not recorded', { deliveryId: delivery.id, error: describeError(error) }))
      .finally(() => {
        inFlight.delete(running);
        recorded++;
        nudge();
      });
    inFlight.add(running);
  };

  const loop = (async () => {
    while (!stopped && Date.now() < deadline) {
      let claimed = 0;
      const recordedBefore = recorded;
      const free = concurrency - inFlight.size;
      if (free > 0) {
        try {
          const deliveries = await claimDeliveries(ctx, free);
          claimed = deliveries.length;
          for (const delivery of deliveries) start(delivery);
        } catch (error) {
          if (options.untilIdle) {
            failure = { error };
            break;
          }
          // The database may be restarting: the worker waits and tries again, it does not stop.
          ctx.log.warn('webhook deliveries not claimed', { error: describeError(error) });
        }
      }
      if (stopped) break;
      if (claimed > 0 && claimed === free) continue;
      if (recorded !== recordedBefore) continue;
      if (options.untilIdle && claimed === 0 && inFlight.size === 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    return report;
  })();

  return {
    done: loop,
    async stop() {
      stopped = true;
      nudge();
      return loop;
    },
  };
}

/**
 * One job pass (the Workers cron, `npm run jobs`): delivers until nothing is due, within 25 s,
 * well inside a cron invocation's time.
 */
export function deliverDue(ctx: ServiceContext): Promise<DeliveryReport> {
  return startDeliveryWorker(ctx, { untilIdle: true, deadlineMs: 25_000 }).done;
}
