import type { Db } from '../../lib/db.ts';

/**
 * The demo organisation the sandbox page offers (ids are a contract in
 * DESIGN.md). Idempotent: safe on every start.
 */
export const DEMO = {
  orgId: 'demo-org',
  platform: 'sandbox',
  tenant: 'demo',
  units: [
    { id: 'demo-unit-office', name: '办公室' },
    { id: 'demo-unit-study', name: '学习科' },
  ],
  members: [
    { userId: 'sec-wang', name: '王书记', unit: 'demo-unit-office', secretary: true },
    { userId: 'm-li', name: '李明', unit: 'demo-unit-office', secretary: false },
    { userId: 'm-zhang', name: '张华', unit: 'demo-unit-study', secretary: false },
    { userId: 'm-chen', name: '陈静', unit: 'demo-unit-study', secretary: false },
  ],
  chats: [
    { chatId: 'group-a', title: '第一党支部学习群' },
    { chatId: 'group-b', title: '学习科工作群' },
  ],
} as const;

export async function seedDemoOrganisation(db: Db, orgName: string, timezone: string): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.organisation.upsert({
      where: { id: DEMO.orgId },
      create: { id: DEMO.orgId, name: orgName, timezone },
      update: {},
    });
    await tx.tenantLink.upsert({
      where: { platform_tenant: { platform: DEMO.platform, tenant: DEMO.tenant } },
      create: { platform: DEMO.platform, tenant: DEMO.tenant, orgId: DEMO.orgId },
      update: {},
    });
    for (const u of DEMO.units) {
      await tx.unit.upsert({ where: { id: u.id }, create: { id: u.id, orgId: DEMO.orgId, name: u.name }, update: {} });
    }
    for (const m of DEMO.members) {
      const id = `demo-member-${m.userId}`;
      await tx.member.upsert({
        where: { id },
        create: {
          id,
          orgId: DEMO.orgId,
          platform: DEMO.platform,
          platformUserId: m.userId,
          displayName: m.name,
          unitId: m.unit,
        },
        update: {},
      });
      if (m.secretary) {
        await tx.roleGrant.upsert({
          where: { orgId_memberId_role: { orgId: DEMO.orgId, memberId: id, role: 'secretary' } },
          create: { id: `demo-grant-${m.userId}`, orgId: DEMO.orgId, memberId: id, role: 'secretary' },
          update: {},
        });
      }
    }
    for (const c of DEMO.chats) {
      await tx.chat.upsert({
        where: { platform_platformChatId: { platform: DEMO.platform, platformChatId: c.chatId } },
        create: {
          id: `demo-chat-${c.chatId}`,
          orgId: DEMO.orgId,
          platform: DEMO.platform,
          platformChatId: c.chatId,
          kind: 'group',
          title: c.title,
        },
        update: {},
      });
    }
  });
}
