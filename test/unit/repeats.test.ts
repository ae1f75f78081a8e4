import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RepeatFinder } from '../../src/services/repeats.ts';

describe('RepeatFinder', () => {
  it('names every id given more than once, whatever the ids and their order', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }), { maxLength: 300 }), (ids) => {
        const finder = new RepeatFinder();
        for (const id of ids) finder.offer(id);
        const suspects = new Set(finder.result());
        const times = new Map<string, number>();
        for (const id of ids) if (id) times.set(id, (times.get(id) ?? 0) + 1);
        for (const [id, n] of times) if (n > 1) expect(suspects.has(id)).toBe(true);
        // A suspect is an id that was given.
        for (const id of suspects) expect(times.has(id)).toBe(true);
      }),
    );
  });

  it('a million distinct ids make few innocent suspects; a repeat among them is named', () => {
    const finder = new RepeatFinder();
    for (let n = 0; n < 1_000_000; n++) finder.offer(String(200_000_000 + n));
    finder.offer('200123456');
    const suspects = finder.result()!;
    expect(suspects).toContain('200123456');
    expect(suspects.length).toBeLessThan(2_000);
  });

  it('more suspects than its limit is "unknown" (null), not a short list', () => {
    const finder = new RepeatFinder(10);
    for (let round = 0; round < 2; round++) for (let n = 0; n < 11; n++) finder.offer(`T${n}`);
    expect(finder.result()).toBeNull();
    const within = new RepeatFinder(10);
    for (let round = 0; round < 2; round++) for (let n = 0; n < 10; n++) within.offer(`T${n}`);
    expect(within.result()).toHaveLength(10);
    // No id and an empty one are no ids.
    within.offer(null);
    within.offer('');
    within.offer('');
    expect(within.result()).toHaveLength(10);
  });
});
