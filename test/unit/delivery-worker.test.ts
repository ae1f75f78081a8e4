import { describe, expect, it, vi } from 'vitest';
import type { ServiceContext } from '../../src/services/context.ts';
import type { ClaimedDelivery, DeliveryOutcome } from '../../src/services/webhook-delivery.ts';

/**
 * The delivery loop's bookkeeping, with the database's claim and the receiver replaced by
 * scripted ones so the interleaving that loses a wake-up can be produced every time: both
 * deliveries in flight are recorded while the next claim runs on a snapshot taken before, so that
 * claim finds nothing although the next event of a dossier has just become due.
 */

const script = vi.hoisted(() => ({
  claims: [] as Array<(limit: number) => Promise<Array<{ id: string }>>>,
  delivered: [] as string[],
  deliver: (_id: string): Promise<string> => Promise.resolve('succeeded'),
}));

vi.mock('../../src/services/webhook-delivery.ts', () => ({
  claimDeliveries: async (_ctx: unknown, limit: number) => {
    const next = script.claims.shift();
    return next ? next(limit) : [];
  },
  deliver: async (_ctx: unknown, delivery: { id: string }) => {
    const outcome = await script.deliver(delivery.id);
    script.delivered.push(delivery.id);
    return outcome;
  },
}));

const { deliverDue } = await import('../../src/jobs/delivery-worker.ts');

const ctx = {
  settings: { webhooks: { concurrency: 8, pollMs: 60_000 } },
  log: { error: () => {}, warn: () => {}, info: () => {} },
} as unknown as ServiceContext;

const claimed = (id: string) => ({ id }) as unknown as ClaimedDelivery;

describe('a job pass of the delivery worker', () => {
  it('claims again when a delivery was recorded during a claim that found nothing, instead of ending idle', async () => {
    const releases = new Map<string, () => void>();
    script.delivered = [];
    script.deliver = (id) => new Promise<DeliveryOutcome>((resolve) => releases.set(id, () => resolve('succeeded')));
    script.claims = [
      async () => [claimed('first-a'), claimed('second-a')],
      // second-a is recorded while this claim runs, on a snapshot taken before: it finds nothing.
      async () => {
        releases.get('second-a')!();
        await new Promise((r) => setTimeout(r, 20));
        return [];
      },
      // second-a's recording made the second dossier's next event due.
      async () => [claimed('second-b')],
    ];
    const pass = deliverDue(ctx);
    await vi.waitFor(() => expect(releases.size).toBe(2));
    releases.get('first-a')!(); // recorded: wakes the loop, which starts the second claim
    await vi.waitFor(() => expect(releases.has('second-b')).toBe(true), { timeout: 2_000 });
    releases.get('second-b')!();
    expect(await pass).toMatchObject({ sent: 3, succeeded: 3 });
    expect(script.delivered).toEqual(['first-a', 'second-a', 'second-b']);
  });
});
