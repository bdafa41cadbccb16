import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import type { Database } from '../../src/lib/db.ts';
import { createEventScope } from '../../src/lib/event-scope.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createInbox, type Inbox } from '../../src/inbox/inbox.ts';
import { providers } from '../helpers/databases.ts';
import { openMigrated } from '../helpers/migrated-db.ts';

describe.each(providers)('the inbox on $name', (provider) => {
  let env: Awaited<ReturnType<typeof openMigrated>>;
  let db: Database;
  const clock = createManualClock('2026-03-02T01:00:00Z');
  const inboxes: Inbox[] = [];
  beforeEach(async () => {
    env = await openMigrated(provider.create);
    db = env.database;
  });
  afterEach(async () => {
    for (const i of inboxes.splice(0)) await i.stop();
    await env.close();
  });

  function inbox(owner: string, seen: string[]) {
    const i = createInbox({
      db: db.prisma,
      provider: db.provider,
      clock,
      log: createSilentLogger(),
      scope: createEventScope(),
      owner,
      options: { leaseMs: 10_000 },
    });
    i.handle('sandbox', async (payload, meta) => {
      // Slow enough that two instances' recovery passes overlap.
      await new Promise((r) => setTimeout(r, 5));
      seen.push(`${owner}:${meta.eventKey}:${JSON.stringify(payload)}`);
    });
    inboxes.push(i);
    return i;
  }

  it('records a key once, even twice in one batch, and processes it once', async () => {
    const seen: string[] = [];
    const a = inbox('a', seen);
    const results = await Promise.all([
      a.record('sandbox', 'k1', { n: 1 }),
      a.record('sandbox', 'k1', { n: 2 }),
      a.record('sandbox', 'k2', { n: 3 }),
    ]);
    expect(results.map((r) => r.fresh)).toEqual([true, false, true]);
    await a.drain();
    // Later, a re-push of a processed message.
    expect((await a.record('sandbox', 'k2', { n: 4 })).fresh).toBe(false);
    await a.drain();
    expect(seen.sort()).toEqual(['a:k1:{"n":1}', 'a:k2:{"n":3}']);
    expect(await db.prisma.inboxMessage.count({ where: { processedAt: null } })).toBe(0);
  });

  it('two instances recovering at once each take different rows: every row is processed once', async () => {
    const at = new Date(clock.now().getTime() - 60_000);
    await db.prisma.inboxMessage.createMany({
      data: Array.from({ length: 60 }, (_, i) => ({
        id: `row-${i}`,
        platform: 'sandbox',
        eventKey: `key-${i}`,
        payload: JSON.stringify({ i }),
        receivedAt: at,
        leaseOwner: 'dead-instance',
        leaseUntil: new Date(at.getTime() + 10_000),
      })),
    });
    const seen: string[] = [];
    const a = inbox('a', seen);
    const b = inbox('b', seen);
    await Promise.all([a.recover(), b.recover(), a.recover(), b.recover()]);
    await Promise.all([a.drain(), b.drain()]);
    const keys = seen.map((s) => s.split(':')[1]);
    expect(keys).toHaveLength(60);
    expect(new Set(keys).size).toBe(60);
    expect(await db.prisma.inboxMessage.count({ where: { processedAt: null } })).toBe(0);
  });

  it('a message that keeps failing is given up after its attempts, with the error kept', async () => {
    const a = createInbox({
      db: db.prisma,
      provider: db.provider,
      clock,
      log: createSilentLogger(),
      scope: createEventScope(),
      owner: 'a',
      options: { leaseMs: 1_000, maxAttempts: 2 },
    });
    inboxes.push(a);
    let calls = 0;
    a.handle('sandbox', async () => {
      calls++;
      throw new Error('the platform is down');
    });
    await a.record('sandbox', 'poison', {});
    await a.drain();
    expect(await db.prisma.inboxMessage.count({ where: { processedAt: null } })).toBe(1);
    clock.advance(1_001);
    await a.recover();
    await a.drain();
    expect(calls).toBe(2);
    const row = await db.prisma.inboxMessage.findFirstOrThrow();
    expect(row.processedAt).not.toBeNull();
    expect(row.lastError).toBe('the platform is down');
  });
});
