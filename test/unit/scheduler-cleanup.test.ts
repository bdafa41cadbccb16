import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { cleanUp } from '../../src/scheduler/cleanup.ts';
import { providers } from '../helpers/databases.ts';
import { openMigrated } from '../helpers/migrated-db.ts';

const HOUR = 3600_000;

describe.each(providers)('housekeeping on $name', ({ create }) => {
  let env: Awaited<ReturnType<typeof openMigrated>>;
  beforeEach(async () => {
    env = await openMigrated(create);
  });
  afterEach(async () => {
    await env.close();
  });

  it('forgets inbound event keys after 8 h (Feishu retries for ~7.1 h), not before', async () => {
    const clock = createManualClock('2026-03-02T12:00:00Z');
    const db = env.database.prisma;
    const at = (h: number) => new Date(clock.now().getTime() - h * HOUR);
    await db.inboundEvent.createMany({
      data: [
        { platform: 'feishu', eventKey: 'fresh', receivedAt: at(1) },
        { platform: 'feishu', eventKey: 'retry-window', receivedAt: at(7.5) },
        { platform: 'feishu', eventKey: 'old', receivedAt: at(8.5) },
      ],
    });
    const deleted = await cleanUp(db, clock);
    expect(deleted.inboundEvents).toBe(1);
    expect((await db.inboundEvent.findMany()).map((e) => e.eventKey).sort()).toEqual(['fresh', 'retry-window']);
  });
});
