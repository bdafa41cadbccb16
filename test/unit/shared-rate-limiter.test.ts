import { describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/lib/logger.ts';
import type { Database } from '../../src/lib/db.ts';
import { createSharedRateLimiter } from '../../src/outbox/shared-rate-limiter.ts';
import type { RateLimits, Target } from '../../src/platforms/types.ts';
import { providers } from '../helpers/databases.ts';
import { migratedPerTest } from '../helpers/migrated-db.ts';

/**
 * The send budget PostgreSQL instances share: amendments of a sliding window
 * (a send put back unsent, a send that left late) reach the other instances,
 * and the sweep of idle rows keeps a window that still counts sends.
 */
const postgres = providers.find((p) => p.name === 'postgresql');
const chat: Target = { kind: 'chat', id: 'oc_1' };

describe.skipIf(!postgres)('shared rate limiter (PostgreSQL; set TEST_DATABASE_URL)', () => {
  const db = migratedPerTest(postgres?.create ?? (() => Promise.reject(new Error('no PostgreSQL'))));
  const limiter = (database: Database, limits: RateLimits, sweepEvery?: number) =>
    createSharedRateLimiter({ db: database.prisma, log: createSilentLogger(), limitsFor: () => limits, sweepEvery });
  /** One plan that reserves `n` sends to `target` due within `withinMs`; the slots it got (null: none). */
  const reserve = (l: ReturnType<typeof limiter>, n: number, withinMs = 1000, target = chat) =>
    l.plan(['feishu'], async (planner) => {
      await planner.prepare([{ platform: 'feishu', target }]);
      return Array.from({ length: n }, () => planner.reserve('feishu', target, l.now() + withinMs));
    });
  const twoAMinute: RateLimits = { perApp: [{ rate: 2, perMs: 60_000, sliding: true }] };

  it('a slot one instance gives back is free for another once the first plans again', async () => {
    const a = limiter(db(), twoAMinute);
    const b = limiter(db(), twoAMinute);
    const [first] = await reserve(a, 2);
    expect(await reserve(b, 1)).toEqual([null]);
    a.amend('feishu', chat, first!, null);
    await reserve(a, 0);
    const [again] = await reserve(b, 1);
    expect(again).not.toBeNull();
    expect(await reserve(b, 1)).toEqual([null]);
  });

  it('a send that left late is counted from when it left in the shared window', async () => {
    const a = limiter(db(), twoAMinute);
    const [first, second] = await reserve(a, 2);
    a.amend('feishu', chat, first!, first! + 500);
    await reserve(a, 0);
    const row = await db().prisma.rateBucket.findUniqueOrThrow({ where: { key: 'feishu|app#0' } });
    const log = JSON.parse(row.log!) as number[];
    expect(log).toHaveLength(2);
    expect(Math.abs(log[1]! - log[0]! - (500 - (second! - first!)))).toBeLessThanOrEqual(2);
  });

  it('the sweep of idle chat rows keeps a per-chat minute window that still counts sends', async () => {
    // DingTalk: 20 messages a minute per group, counted exactly.
    const l = limiter(db(), { perChat: [{ rate: 2, perMs: 60_030, sliding: true }] }, 1);
    await reserve(l, 2);
    await reserve(l, 0); // a sweeping plan
    expect(await reserve(l, 1)).toEqual([null]);
    const gone = limiter(db(), { perChat: [{ rate: 1, perMs: 1, burst: 1 }] }, 1);
    const other: Target = { kind: 'chat', id: 'oc_idle' };
    await reserve(gone, 1, 1000, other);
    await new Promise((r) => setTimeout(r, 5));
    await reserve(gone, 0);
    expect(await db().prisma.rateBucket.count({ where: { key: { startsWith: 'feishu|chat|oc_idle' } } })).toBe(0);
  });
});
