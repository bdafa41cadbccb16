import { describe, expect, it } from 'vitest';
import { isUniqueViolation } from '../../src/lib/db.ts';
import { addAssignee, recordOnce } from '../../src/features/supervision/store.ts';
import { providers } from '../helpers/databases.ts';
import { openMigrated } from '../helpers/migrated-db.ts';

describe.each(providers)('supervision store on $name', (provider) => {
  it('keeps one claim per task and one event per once-key, by the database', async () => {
    const { database, close } = await openMigrated(provider.create);
    const db = database.prisma;
    try {
      const now = new Date('2026-12-07T01:00:00Z');
      await db.organisation.create({ data: { id: 'org', name: 'x' } });
      await db.member.createMany({
        data: ['a', 'b'].map((id) => ({ id, orgId: 'org', platform: 'sandbox', platformUserId: id, displayName: id })),
      });
      const task = { id: 'task-1', orgId: 'org' };
      await db.supervisionTask.create({
        data: {
          ...task,
          seq: 1,
          title: 't',
          dueAt: now,
          timezone: 'Asia/Shanghai',
          claimable: true,
          platform: 'sandbox',
          createdBy: 'a',
          createdAt: now,
        },
      });
      // Two claims in two transactions at once: the unique claimOf key lets one through.
      const results = await Promise.allSettled(
        ['a', 'b'].map((m) =>
          db.$transaction((tx) => addAssignee(tx, task, { kind: 'member', memberId: m, name: m }, now, task.id)),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(isUniqueViolation(failed.reason)).toBe(true);
      expect(await db.supervisionAssignee.count()).toBe(1);

      const once = (key: string) =>
        db.$transaction((tx) =>
          recordOnce(tx, { ...{ orgId: 'org', taskId: 'task-1' }, kind: 'warning', at: now, onceKey: key }),
        );
      expect(await once('warning:3:x')).toBe(true);
      expect(await once('warning:3:x')).toBe(false);
      expect(await once('warning:1:x')).toBe(true);
      await expect(
        db.supervisionEvent.create({
          data: { id: 'dup', orgId: 'org', taskId: 'task-1', kind: 'warning', at: now, onceKey: 'warning:1:x' },
        }),
      ).rejects.toSatisfy(isUniqueViolation);
    } finally {
      await close();
    }
  });
});
