import { describe, expect, it } from 'vitest';
import { createYielder, forEachChunk, yieldToLoop } from '../../src/lib/loop-yield.ts';

/** Busy-waits `ms` of real time: the kind of work that holds the loop. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // hold the thread
  }
}

describe('createYielder', () => {
  it('does not yield while under budget', async () => {
    let t = 0;
    const yielder = createYielder({ budgetMs: 20, now: () => t });
    t = 19;
    await yielder.maybeYield();
    expect(yielder.yields).toBe(0);
  });

  it('yields once the budget is spent, and measures the next budget from that turn', async () => {
    let t = 0;
    const yielder = createYielder({ budgetMs: 20, now: () => t });
    t = 20;
    await yielder.maybeYield();
    expect(yielder.yields).toBe(1);
    t = 30;
    await yielder.maybeYield();
    expect(yielder.yields).toBe(1);
    t = 41;
    await yielder.maybeYield();
    expect(yielder.yields).toBe(2);
  });

  it('lets a due timer run in the middle of a long loop of awaited work', async () => {
    // The loop below awaits only resolved promises, as Prisma on SQLite does: without a
    // yielder the timer would fire only after all 40 steps (about 400 ms).
    let firedAtStep = -1;
    let step = 0;
    setTimeout(() => (firedAtStep = step), 0);
    const yielder = createYielder({ budgetMs: 20 });
    for (step = 0; step < 40; step++) {
      spin(10);
      await Promise.resolve();
      await yielder.maybeYield();
    }
    expect(firedAtStep).toBeGreaterThanOrEqual(0);
    expect(firedAtStep).toBeLessThan(5);
  });

  it('without a yielder the same loop starves the timer (the problem it solves)', async () => {
    let firedAtStep = -1;
    let step = 0;
    setTimeout(() => (firedAtStep = step), 0);
    for (step = 0; step < 10; step++) {
      spin(5);
      await Promise.resolve();
    }
    expect(firedAtStep).toBe(-1);
    await yieldToLoop();
    await new Promise((r) => setTimeout(r, 1));
    expect(firedAtStep).toBe(10);
  });
});

describe('forEachChunk', () => {
  it('visits every item in order, in chunks, with their offsets', async () => {
    const seen: [number, number[]][] = [];
    await forEachChunk([1, 2, 3, 4, 5], 2, (chunk, offset) => {
      seen.push([offset, [...chunk]]);
    });
    expect(seen).toEqual([
      [0, [1, 2]],
      [2, [3, 4]],
      [4, [5]],
    ]);
  });
});
