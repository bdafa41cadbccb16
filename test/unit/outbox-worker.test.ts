import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/lib/clock.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createOutbox, type Outbox } from '../../src/outbox/outbox.ts';
import { createRateLimiter } from '../../src/outbox/rate-limiter.ts';
import { createOutboxWorker } from '../../src/outbox/worker.ts';
import { DeliveryError, type PlatformMessenger, type RateLimits, type Target } from '../../src/platforms/types.ts';
import { providers } from '../helpers/databases.ts';
import { openMigrated } from '../helpers/migrated-db.ts';

interface Call {
  target: Target;
  text: string;
  key: string;
}

function fakeMessenger(behaviour: (call: Call, n: number) => void, rateLimits?: RateLimits) {
  const calls: Call[] = [];
  const messenger: PlatformMessenger = {
    platform: 'feishu',
    rateLimits,
    async sendText(target, text, opts) {
      const call = { target, text, key: opts.idempotencyKey };
      calls.push(call);
      behaviour(call, calls.length);
      return { platformMessageId: `om_${opts.idempotencyKey}` };
    },
    async sendCard(target, _card, opts) {
      calls.push({ target, text: '[card]', key: opts.idempotencyKey });
      return { platformMessageId: `om_${opts.idempotencyKey}` };
    },
    async updateCard() {},
  };
  return { messenger, calls };
}

describe.each(providers)('outbox worker on $name', ({ create }) => {
  let env: Awaited<ReturnType<typeof openMigrated>>;
  let clock: ManualClock;
  let outbox: Outbox;
  beforeEach(async () => {
    env = await openMigrated(create);
    clock = createManualClock('2026-03-02T01:00:00Z');
    outbox = createOutbox({ db: env.database.prisma, clock });
  });
  afterEach(async () => {
    await env.close();
  });

  const make = (messenger: PlatformMessenger, options = {}) =>
    createOutboxWorker({
      db: env.database.prisma,
      clock,
      log: createSilentLogger(),
      messengers: new Map([['feishu', messenger]]),
      options,
    });
  const send = (text: string, chat = 'oc_1') =>
    outbox.enqueue({ platform: 'feishu', target: { kind: 'chat', id: chat }, kind: 'text', body: { text } });
  const row = (id: string) => env.database.prisma.outboxMessage.findUniqueOrThrow({ where: { id } });

  it('sends each message once, in order per chat, with the outbox id as the idempotency key', async () => {
    const { messenger, calls } = fakeMessenger(() => {});
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await send(`m${i}`)).id);
    const worker = make(messenger);
    await worker.drain();
    expect(calls.map((c) => c.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(calls.map((c) => c.key)).toEqual(ids.map((x) => x));
    const sent = await row(ids[0]!);
    expect(sent.status).toBe('sent');
    expect(sent.platformMessageId).toBe(`om_${ids[0]}`);
    await worker.drain();
    expect(calls).toHaveLength(5);
  });

  it('honours a reset header: no retry before retryAfterMs, then delivered', async () => {
    const { messenger, calls } = fakeMessenger((_c, n) => {
      if (n === 1) throw new DeliveryError('HTTP 429 99991400', 'retry', 7000);
    });
    const { id } = await send('hello');
    const worker = make(messenger);
    await worker.runOnce();
    const after = await row(id);
    expect(after.status).toBe('pending');
    expect(after.nextAttemptAt.getTime() - clock.now().getTime()).toBeGreaterThanOrEqual(7000);
    expect(worker.stats().throttled).toBe(1);
    clock.advance(6000);
    await worker.runOnce();
    expect(calls).toHaveLength(1);
    clock.advance(2000);
    await worker.drain();
    expect(calls).toHaveLength(2);
    expect((await row(id)).status).toBe('sent');
  });

  it('backs off exponentially with jitter on 5xx and dead-letters after maxAttempts', async () => {
    const { messenger, calls } = fakeMessenger(() => {
      throw new DeliveryError('HTTP 503', 'retry');
    });
    const { id } = await send('doomed');
    const worker = make(messenger, { maxAttempts: 4, baseBackoffMs: 1000 });
    const gaps: number[] = [];
    for (let i = 0; i < 4; i++) {
      await worker.runOnce();
      const r = await row(id);
      gaps.push(r.nextAttemptAt.getTime() - clock.now().getTime());
      clock.set(r.nextAttemptAt);
    }
    expect(calls).toHaveLength(4);
    const r = await row(id);
    expect(r.status).toBe('dead');
    expect(r.lastError).toBe('HTTP 503');
    // attempt 1: 0.5-1 s, attempt 2: 1-2 s, attempt 3: 2-4 s
    expect(gaps[0]).toBeGreaterThanOrEqual(500);
    expect(gaps[0]).toBeLessThanOrEqual(1000);
    expect(gaps[1]).toBeGreaterThanOrEqual(1000);
    expect(gaps[1]).toBeLessThanOrEqual(2000);
    expect(gaps[2]).toBeGreaterThanOrEqual(2000);
    expect(gaps[2]).toBeLessThanOrEqual(4000);
    expect(worker.stats()).toMatchObject({ failed: 1, retried: 3 });
  });

  it('gives up at once on a permanent error', async () => {
    const { messenger } = fakeMessenger(() => {
      throw new DeliveryError('230002 bot not in group', 'permanent');
    });
    const { id } = await send('x');
    await make(messenger).drain();
    expect((await row(id)).status).toBe('dead');
  });

  it('claims only what the rate limits let it send soon, leaving the rest for later or another instance', async () => {
    const { messenger, calls } = fakeMessenger(() => {}, { perChat: [{ rate: 1, perMs: 60_000, burst: 1 }] });
    const a = [await send('a1', 'oc_a'), await send('a2', 'oc_a'), await send('a3', 'oc_a')];
    const b = await send('b1', 'oc_b');
    await make(messenger).runOnce();
    expect(calls.map((c) => c.text).sort()).toEqual(['a1', 'b1']);
    const waiting = await row(a[1]!.id);
    expect(waiting.status).toBe('pending');
    expect(waiting.attempts).toBe(0);
    expect(waiting.leaseOwner).toBeNull();
    expect((await row(b.id)).status).toBe('sent');
  });

  describe('a minute window (3 sends in any minute, counted by the platform)', () => {
    const perMinute: RateLimits = { perApp: [{ rate: 3, perMs: 60_000, sliding: true }] };

    it('a send the platform refused as too fast gives its slot back: it goes once the pause is over, not a minute later', async () => {
      const { messenger, calls } = fakeMessenger((call, n) => {
        if (n === 1) throw DeliveryError.throttle('HTTP 230020 group limit', 50, 'chat');
      }, perMinute);
      const a = await send('a', 'oc_a');
      await send('b', 'oc_b');
      await send('c', 'oc_c');
      const worker = make(messenger);
      await worker.runOnce();
      expect(calls.map((c) => c.text).sort()).toEqual(['a', 'b', 'c']);
      expect((await row(a.id)).status).toBe('pending');
      clock.advance(100);
      await new Promise((r) => setTimeout(r, 60));
      await worker.runOnce();
      expect(calls.map((c) => c.text)).toHaveLength(4);
      expect((await row(a.id)).status).toBe('sent');
    });

    it('a send that left late is counted from its answer, so the send a minute after it is not refused', async () => {
      let now = 0;
      const limiter = createRateLimiter({
        limitsFor: () => ({ perApp: [{ rate: 1, perMs: 60_000, sliding: true }] }),
        now: () => now,
      });
      // The first send fetches a token on the way: it answers 200 ms after its slot.
      const { messenger } = fakeMessenger(() => {
        now += 200;
      });
      await send('first');
      const worker = createOutboxWorker({
        db: env.database.prisma,
        clock,
        log: createSilentLogger(),
        messengers: new Map([['feishu', messenger]]),
        rateLimiter: limiter,
      });
      await worker.runOnce();
      expect(worker.stats().sent).toBe(1);
      expect(limiter.reserve('feishu', { kind: 'chat', id: 'oc_1' }, Infinity)).toBe(60_200);
    });
  });

  it('resends a message whose sender crashed (lease ran out) with the same idempotency key', async () => {
    const { messenger, calls } = fakeMessenger(() => {});
    const { id } = await send('in flight');
    // What a crashed instance leaves behind: claimed, maybe sent, never recorded.
    await env.database.prisma.outboxMessage.update({
      where: { id },
      data: {
        status: 'sending',
        leaseOwner: 'dead-host:1',
        leaseUntil: new Date(clock.now().getTime() + 30_000),
        attempts: 1,
      },
    });
    const worker = make(messenger);
    await worker.runOnce();
    expect(calls).toHaveLength(0);
    clock.advance(30_001);
    await worker.drain();
    expect(calls).toEqual([{ target: { kind: 'chat', id: 'oc_1' }, text: 'in flight', key: id }]);
    expect((await row(id)).status).toBe('sent');
  });

  it('two workers on one database never send a message twice', async () => {
    const { messenger, calls } = fakeMessenger(() => {});
    for (let i = 0; i < 200; i++) await send(`m${i}`, `oc_${i % 17}`);
    const w1 = make(messenger, { batchSize: 50 });
    const w2 = make(messenger, { batchSize: 50 });
    await Promise.all([w1.drain(), w2.drain()]);
    expect(calls).toHaveLength(200);
    expect(new Set(calls.map((c) => c.key)).size).toBe(200);
    expect(w1.stats().sent + w2.stats().sent).toBe(200);
  });
});
