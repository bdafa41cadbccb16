import { describe, expect, it } from 'vitest';
import { createChatMembershipWrites } from '../../src/features/org/chat-membership-writes.ts';
import { providers } from '../helpers/databases.ts';
import { migratedPerTest } from '../helpers/migrated-db.ts';

describe.each(providers)('chat membership writes on $name', (provider) => {
  const database = migratedPerTest(provider.create);

  async function seed() {
    const db = database().prisma;
    await db.organisation.create({ data: { id: 'org', name: '第一支部' } });
    await db.chat.create({
      data: { id: 'chat', orgId: 'org', platform: 'feishu', platformChatId: 'oc_1', kind: 'group', title: '学习群' },
    });
    for (const id of ['m1', 'm2', 'm3'])
      await db.member.create({
        data: { id, orgId: 'org', platform: 'feishu', platformUserId: `ou_${id}`, displayName: id },
      });
  }

  it('records sightings written together, the latest time winning, and a bad row fails alone', async () => {
    await seed();
    const d = database();
    const writes = createChatMembershipWrites({ db: d.prisma, provider: d.provider, sql: d.sql });
    const at = (s: string) => new Date(`2026-11-23T01:00:${s}Z`);
    const outcomes = await Promise.allSettled([
      writes.record('chat', 'm1', at('01')),
      writes.record('chat', 'm1', at('05')),
      writes.record('chat', 'gone', at('02')), // a member deleted meanwhile: no such row to refer to
      writes.record('chat', 'm2', at('03')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const rows = await d.prisma.chatMember.findMany({ orderBy: { memberId: 'asc' } });
    expect(rows.map((r) => [r.memberId, r.seenAt.toISOString()])).toEqual([
      ['m1', at('05').toISOString()],
      ['m2', at('03').toISOString()],
    ]);
  });
});
