import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { createInboundDedupe } from '../../src/lib/inbound-dedupe.ts';
import { cleanUp } from '../../src/scheduler/cleanup.ts';
import { createReplayGuard } from '../../src/platforms/dingtalk/replay-guard.ts';
import { robotSignature } from '../../src/platforms/dingtalk/verify.ts';
import { providers } from '../helpers/databases.ts';
import { openMigrated } from '../helpers/migrated-db.ts';

/**
 * Finding: a captured DingTalk (timestamp, sign) pair replayed with a new
 * body after a restart was accepted (the guard lived in one process's
 * memory), so `管理员 添加 @某人` under a secretary's id made a new secretary.
 * A restart is a new guard on the same database; so is another instance.
 */
describe.each(providers)('DingTalk signature replay guard on $name', ({ create }) => {
  let env: Awaited<ReturnType<typeof openMigrated>>;
  const clock = createManualClock('2026-11-29T01:00:00Z');
  beforeEach(async () => {
    env = await openMigrated(create);
  });
  afterEach(async () => env.close());
  // Each guard its own batcher, as each process or instance has.
  const dedupe = () => createInboundDedupe({ db: env.database.prisma, provider: env.database.provider, clock });

  it('refuses a signature already used, after a restart and on another instance', async () => {
    const sign = robotSignature(String(clock.now().getTime()), 'secret');
    const before = createReplayGuard({ dedupe: dedupe(), scope: 'robot' });
    expect(await before.accept(sign)).toBe(true);
    const afterRestart = createReplayGuard({ dedupe: dedupe(), scope: 'robot' });
    expect(await afterRestart.accept(sign)).toBe(false);
    // Card callbacks sign differently; the scopes never collide.
    expect(await createReplayGuard({ dedupe: dedupe(), scope: 'card' }).accept(sign)).toBe(true);
  });

  it('lets only one of two instances accept a signature raced at the same moment', async () => {
    const sign = robotSignature(String(clock.now().getTime() + 1), 'secret');
    const guards = Array.from({ length: 8 }, () => createReplayGuard({ dedupe: dedupe(), scope: 'robot' }));
    const results = await Promise.all(guards.map((g) => g.accept(sign)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('keeps a used signature for longer than it can be valid, then forgets it with the inbound keys', async () => {
    const sign = robotSignature(String(clock.now().getTime() + 2), 'secret');
    const guard = createReplayGuard({ dedupe: dedupe(), scope: 'robot' });
    await guard.accept(sign);
    clock.advance(2 * 3600_000 + 1); // past the ±1 h validity window
    await cleanUp(env.database.prisma, clock);
    expect(await guard.accept(sign)).toBe(false);
    clock.advance(8 * 3600_000);
    await cleanUp(env.database.prisma, clock);
    expect(await guard.accept(sign)).toBe(true);
  });
});
