import { describe, expect, it } from 'vitest';
import { createRateLimiter, Gcra } from '../../src/outbox/rate-limiter.ts';
import type { RateLimits } from '../../src/platforms/types.ts';

describe('GCRA token bucket', () => {
  it('lets a burst through, then spaces sends at the sustained rate', () => {
    const b = new Gcra({ rate: 5, perMs: 1000, burst: 5 });
    const times: number[] = [];
    for (let i = 0; i < 8; i++) {
      const at = b.availableAt(0);
      b.take(at);
      times.push(at);
    }
    expect(times).toEqual([0, 0, 0, 0, 0, 200, 400, 600]);
  });

  it('paces an undeclared burst to a tenth of the window', () => {
    const b = new Gcra({ rate: 50, perMs: 1000 });
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const at = b.availableAt(0);
      b.take(at);
      times.push(at);
    }
    expect(times).toEqual([0, 0, 0, 0, 0, 20, 40]);
  });

  it('refills while idle, up to the burst', () => {
    const b = new Gcra({ rate: 2, perMs: 1000, burst: 2 });
    b.take(b.availableAt(0));
    b.take(b.availableAt(0));
    expect(b.availableAt(0)).toBe(500);
    expect(b.availableAt(10_000)).toBe(10_000);
  });

  it('waits out a platform reset time', () => {
    const b = new Gcra({ rate: 50, perMs: 1000 });
    b.blockUntil(3000);
    expect(b.availableAt(100)).toBe(3000);
  });
});

describe('rate limiter per app, chat and user', () => {
  const limits: RateLimits = {
    perApp: [
      { rate: 2, perMs: 1000, burst: 2 },
      { rate: 3, perMs: 10_000, burst: 3 },
    ],
    perChat: [{ rate: 1, perMs: 1000 }],
  };

  it('holds every limit at once (e.g. Feishu 50/s AND 1000/min)', () => {
    let now = 0;
    const limiter = createRateLimiter({ limitsFor: () => limits, now: () => now });
    const at = [1, 2, 3, 4].map((i) => limiter.reserve('feishu', { kind: 'user', id: `u${i}` }, Infinity));
    // two at once (2/s burst), the third after 500 ms, the fourth when the 3-per-10 s bucket allows
    expect(at.slice(0, 3)).toEqual([0, 0, 500]);
    expect(at[3]).toBeCloseTo(10_000 / 3, 6);
    now = 100;
    expect(limiter.reserve('feishu', { kind: 'user', id: 'u5' }, 1000)).toBeNull();
  });

  it('limits one chat without slowing another', () => {
    const limiter = createRateLimiter({ limitsFor: () => ({ perChat: [{ rate: 1, perMs: 1000 }] }), now: () => 0 });
    expect(limiter.reserve('feishu', { kind: 'chat', id: 'a' }, 0)).toBe(0);
    expect(limiter.reserve('feishu', { kind: 'chat', id: 'a' }, 0)).toBeNull();
    expect(limiter.reserve('feishu', { kind: 'chat', id: 'b' }, 0)).toBe(0);
    // a refused reservation takes nothing: the chat is free again after its interval
    expect(limiter.reserve('feishu', { kind: 'chat', id: 'a' }, 1000)).toBe(1000);
  });

  it('keeps platforms apart and is unlimited where nothing is declared', () => {
    const limiter = createRateLimiter({
      limitsFor: (p) => (p === 'dingtalk' ? { perApp: [{ rate: 1, perMs: 1000 }] } : undefined),
      now: () => 0,
    });
    expect(limiter.reserve('dingtalk', { kind: 'chat', id: 'x' }, 0)).toBe(0);
    expect(limiter.reserve('dingtalk', { kind: 'chat', id: 'y' }, 0)).toBeNull();
    for (let i = 0; i < 100; i++) expect(limiter.reserve('sandbox', { kind: 'chat', id: 'x' }, 0)).toBe(0);
  });

  it('forgets idle per-user buckets so 70,000 members do not pile up in memory', () => {
    let now = 0;
    const limiter = createRateLimiter({
      limitsFor: () => ({ perUser: [{ rate: 5, perMs: 1000 }] }),
      now: () => now,
      maxBuckets: 1000,
    });
    for (let i = 0; i < 5000; i++) {
      now = i * 10;
      limiter.reserve('feishu', { kind: 'user', id: `u${i}` }, Infinity);
    }
    expect(limiter.size()).toBeLessThanOrEqual(1001);
  });
});

describe('a platform pause (429 with a reset time)', () => {
  it('holds every send until the reset, then keeps the full rate instead of the per-minute pace', () => {
    let now = 0;
    const limiter = createRateLimiter({
      limitsFor: () => ({
        perApp: [
          { rate: 50, perMs: 1000, burst: 1 },
          { rate: 1000, perMs: 60_000, burst: 1000 },
        ],
      }),
      now: () => now,
    });
    const target = { kind: 'chat' as const, id: 'c' };
    limiter.blockUntil('feishu', target, 'app', 1000);
    now = 10;
    expect(limiter.reserve('feishu', target, 500)).toBeNull();
    now = 1000;
    const times = Array.from({ length: 5 }, () => limiter.reserve('feishu', target, Infinity));
    // 50/s after the pause (20 ms apart), not 1000/min (60 ms apart)
    expect(times).toEqual([1000, 1020, 1040, 1060, 1080]);
  });
});

describe('a sliding limit (Feishu: 1000 in any minute)', () => {
  it('lets the first 1000 go at the per-second pace, then holds each send until one leaves the window', () => {
    let now = 0;
    const limiter = createRateLimiter({
      limitsFor: () => ({
        perApp: [
          { rate: 50, perMs: 1000, burst: 1 },
          { rate: 1000, perMs: 60_000, sliding: true },
        ],
      }),
      now: () => now,
    });
    const target = { kind: 'chat' as const, id: 'c' };
    const times = Array.from({ length: 1002 }, () => limiter.reserve('feishu', target, Infinity)!);
    expect(times[999]).toBe(19_980);
    // the 1001st waits for the first to be a minute old, the 1002nd for the second
    expect(times[1000]).toBe(60_000);
    expect(times[1001]).toBe(60_020);
    // any minute holds at most 1000
    for (let i = 1000; i < times.length; i++) expect(times[i]! - times[i - 1000]!).toBeGreaterThanOrEqual(60_000);
    now = 10;
    expect(limiter.reserve('feishu', target, 59_000)).toBeNull();
  });
});

describe('amending a sliding window (a send put back, or one that left late)', () => {
  const minute = () => {
    let now = 0;
    const limiter = createRateLimiter({
      limitsFor: () => ({ perApp: [{ rate: 3, perMs: 60_000, sliding: true }] }),
      now: () => now,
    });
    return { limiter, at: (t: number) => (now = t) };
  };
  const target = { kind: 'chat' as const, id: 'c' };

  it('gives back the slot of a send that never left, instead of holding it for a minute', () => {
    const { limiter, at } = minute();
    const slots = [0, 10, 20].map((t) => (at(t), limiter.reserve('feishu', target, Infinity)!));
    at(30);
    expect(limiter.reserve('feishu', target, 59_000)).toBeNull();
    limiter.amend('feishu', target, slots[1]!, null);
    expect(limiter.reserve('feishu', target, 59_000)).toBe(30);
  });

  it('counts a late send from when it left, so the send a minute later is not refused', () => {
    const { limiter, at } = minute();
    const first = limiter.reserve('feishu', target, Infinity)!;
    at(10);
    limiter.reserve('feishu', target, Infinity);
    limiter.reserve('feishu', target, Infinity);
    // The first send reached the platform 150 ms after its slot (a token fetch on the way).
    limiter.amend('feishu', target, first, 150);
    expect(limiter.reserve('feishu', target, Infinity)).toBe(60_010);
    expect(limiter.reserve('feishu', target, Infinity)).toBe(60_010);
    expect(limiter.reserve('feishu', target, Infinity)).toBe(60_150);
  });

  it('leaves a per-second GCRA spend as it is and ignores a slot it never gave', () => {
    const limiter = createRateLimiter({
      limitsFor: () => ({ perApp: [{ rate: 1, perMs: 1000, burst: 1 }] }),
      now: () => 0,
    });
    expect(limiter.reserve('feishu', target, Infinity)).toBe(0);
    limiter.amend('feishu', target, 0, null);
    limiter.amend('feishu', target, 12_345, null);
    expect(limiter.reserve('feishu', target, Infinity)).toBe(1000);
  });
});
