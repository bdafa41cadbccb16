import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDirectory, type Directory } from '../../src/features/org/directory.ts';
import { createManualClock, type ManualClock } from '../../src/lib/clock.ts';
import type { Database } from '../../src/lib/db.ts';
import type { ChatMemberInfo, MessageEvent, Platform } from '../../src/platforms/types.ts';
import { providers } from '../helpers/databases.ts';
import { openMigrated } from '../helpers/migrated-db.ts';

const ORG = 'org-1';

/** A message as a platform adapter would hand it to the dispatcher. */
function message(platform: Platform, chatId: string, senderId: string, name?: string): MessageEvent {
  return {
    type: 'message',
    platform,
    tenant: 'tenant-1',
    eventKey: `${senderId}-${Math.random()}`,
    chat: { id: chatId, kind: 'group', title: '学习群' },
    sender: { id: senderId, ...(name ? { name } : {}) },
    receivedAt: new Date(),
    text: '我是谁',
    mentions: [],
    mentionedBot: true,
  };
}

describe.each(providers)('org directory on $name', (provider) => {
  let opened: Awaited<ReturnType<typeof openMigrated>>;
  let db: Database;
  let clock: ManualClock;
  /** What the fake platform answers for a chat's members; a function to make it fail. */
  let roster: Record<string, ChatMemberInfo[] | (() => never)>;
  let listCalls: number;
  let directory: Directory;

  const make = (opts: { fast?: boolean; ttl?: number; admins?: { platform: string; userId: string }[] } = {}) =>
    createDirectory({
      db: db.prisma,
      // As main.ts wires it: a known group speaker is read in one statement.
      ...(opts.fast === false ? {} : { sql: db.sql }),
      ...(opts.ttl === undefined ? {} : { identityTtlMs: opts.ttl }),
      defaultTimezone: 'Asia/Shanghai',
      admins: opts.admins ?? [],
      defaultOrgName: '测试组织',
      clock,
      // As main.ts wires it: first contact writes with JSON multi-row inserts.
      provider: db.provider,
      // Feishu and the sandbox can list a chat; DingTalk cannot (undefined), as in main.ts.
      listChatMembers: (platform, chatId) => {
        if (platform === 'dingtalk') return undefined;
        return (async () => {
          listCalls++;
          const r = roster[chatId];
          if (typeof r === 'function') r();
          if (!r) throw new Error('chat not found');
          return r as ChatMemberInfo[];
        })();
      },
    });

  beforeEach(async () => {
    opened = await openMigrated(provider.create);
    db = opened.database;
    clock = createManualClock('2026-03-02T01:00:00Z');
    roster = {};
    listCalls = 0;
    await db.prisma.organisation.create({ data: { id: ORG, name: '第一支部' } });
    for (const platform of ['feishu', 'dingtalk'] as const) {
      await db.prisma.tenantLink.create({ data: { platform, tenant: 'tenant-1', orgId: ORG } });
    }
    await db.prisma.unit.createMany({
      data: [
        { id: 'u-office', orgId: ORG, name: '办公室' },
        { id: 'u-study', orgId: ORG, name: '学习科' },
      ],
    });
    directory = make();
  });
  afterEach(async () => {
    await opened.close();
  });

  const names = (list: { displayName: string }[]) => list.map((m) => m.displayName).sort();
  const recorded = async (platformChatId: string) => {
    const chat = await db.prisma.chat.findFirstOrThrow({ where: { platformChatId } });
    const rows = await db.prisma.chatMember.findMany({ where: { chatId: chat.id }, include: { member: true } });
    return rows.map((r) => r.member.displayName).sort();
  };

  describe('unit roles', () => {
    it('grants a head and contacts once each, lists them in order, and revokes one role or all', async () => {
      const li = await directory.ensureMember(ORG, 'feishu', 'ou_li', '李明');
      const zhang = await directory.ensureMember(ORG, 'feishu', 'ou_zhang', '张华');
      expect(await directory.grantUnitRole('u-office', li.id, 'head', 'sec')).toBe('granted');
      clock.advance(1000);
      expect(await directory.grantUnitRole('u-office', zhang.id, 'contact', 'sec')).toBe('granted');
      clock.advance(1000);
      expect(await directory.grantUnitRole('u-office', li.id, 'contact', 'sec')).toBe('granted');
      expect(await directory.grantUnitRole('u-office', li.id, 'head', 'sec')).toBe('already');

      const roles = await directory.unitRoles('u-office');
      expect(roles.map((r) => [r.displayName, r.role])).toEqual([
        ['李明', 'head'],
        ['张华', 'contact'],
        ['李明', 'contact'],
      ]);
      expect(roles[0]).toMatchObject({ grantedBy: 'sec', grantedAt: new Date('2026-03-02T01:00:00Z') });
      expect(await directory.unitRoles('u-study')).toEqual([]);

      expect(await directory.revokeUnitRole('u-office', li.id, 'contact')).toBe(1);
      expect(await directory.revokeUnitRole('u-office', li.id, 'contact')).toBe(0);
      expect(await directory.revokeUnitRole('u-office', zhang.id)).toBe(1);
      expect((await directory.unitRoles('u-office')).map((r) => r.displayName)).toEqual(['李明']);
    });

    it('summarises units by name with member counts, heads and contacts', async () => {
      const li = await directory.ensureMember(ORG, 'feishu', 'ou_li', '李明');
      const zhang = await directory.ensureMember(ORG, 'feishu', 'ou_zhang', '张华');
      expect(await directory.setMemberUnit(li.id, 'u-office')).toBe('moved');
      expect(await directory.setMemberUnit(li.id, 'u-office')).toBe('already');
      await directory.setMemberUnit(zhang.id, 'u-office');
      await directory.grantUnitRole('u-office', li.id, 'head', 'sec');
      await directory.grantUnitRole('u-study', zhang.id, 'contact', 'sec');
      const units = await directory.units(ORG);
      expect(units.map((u) => u.name)).toEqual(['办公室', '学习科']);
      expect(units[0]).toMatchObject({ memberCount: 2, heads: [{ displayName: '李明' }], contacts: [] });
      expect(units[1]).toMatchObject({ memberCount: 0, heads: [], contacts: [{ displayName: '张华' }] });
      expect(await directory.createUnit(ORG, '财务科')).toMatchObject({ created: true });
      expect(await directory.createUnit(ORG, '财务科')).toMatchObject({ created: false });
      expect(await directory.findUnit(ORG, '财务科')).toMatchObject({ name: '财务科' });
      expect(await directory.findUnit(ORG, '不存在')).toBeNull();
    });

    it("shows the speaker's unit roles in the identity, and a change at once despite the identity cache", async () => {
      const event = message('feishu', 'oc_1', 'ou_li', '李明');
      const before = await directory.resolve(event);
      expect(before.unitRoles).toEqual([]);
      await directory.grantUnitRole('u-office', before.memberId, 'head', 'sec');
      expect((await directory.resolve(event)).unitRoles).toEqual([
        { unitId: 'u-office', unitName: '办公室', role: 'head' },
      ]);
      await directory.setMemberUnit(before.memberId, 'u-study');
      expect((await directory.resolve(event)).unitName).toBe('学习科');
      await directory.revokeUnitRole('u-office', before.memberId);
      expect((await directory.resolve(event)).unitRoles).toEqual([]);
    });
  });

  describe('identity of a known group speaker (one statement)', () => {
    it('is what the general path answers: unit, secretary, unit roles, configured admin, a renamed member', async () => {
      const admins = [{ platform: 'feishu', userId: 'ou_admin' }];
      const fast = make({ ttl: 0, admins });
      const general = make({ ttl: 0, admins, fast: false });
      let statements = 0;
      const query = db.sql.query.bind(db.sql);
      db.sql.query = (text, ...args) => {
        if (text.includes('"RoleGrant"')) statements++;
        return query(text, ...args);
      };
      // First contact registers the chat and the members (the general path).
      const li = await fast.resolve(message('feishu', 'oc_1', 'ou_li', '李明'));
      const zhang = await fast.resolve(message('feishu', 'oc_1', 'ou_zhang', '张华'));
      await fast.resolve(message('feishu', 'oc_1', 'ou_admin', '管理员'));
      await fast.setMemberUnit(li.memberId, 'u-office');
      await db.prisma.roleGrant.create({ data: { id: 'g1', orgId: ORG, memberId: zhang.memberId, role: 'secretary' } });
      await fast.grantUnitRole('u-study', li.memberId, 'contact', 'sec');
      clock.advance(1000);
      await fast.grantUnitRole('u-office', li.memberId, 'head', 'sec');
      statements = 0;
      for (const [id, name] of [
        ['ou_li', '李明'],
        ['ou_zhang', '张华'],
        ['ou_admin', '管理员'],
      ] as const) {
        const event = message('feishu', 'oc_1', id, name);
        expect(await fast.resolve(event)).toEqual(await general.resolve(event));
      }
      expect(statements).toBe(3);
      expect(await fast.resolve(message('feishu', 'oc_1', 'ou_li', '李明'))).toMatchObject({
        displayName: '李明',
        unitName: '办公室',
        role: 'member',
        unitRoles: [
          { unitId: 'u-study', unitName: '学习科', role: 'contact' },
          { unitId: 'u-office', unitName: '办公室', role: 'head' },
        ],
      });
      expect((await fast.resolve(message('feishu', 'oc_1', 'ou_zhang', '张华'))).role).toBe('secretary');
      expect((await fast.resolve(message('feishu', 'oc_1', 'ou_admin', '管理员'))).role).toBe('secretary');
      // A new name is written (the general path), and read back by both.
      const renamed = message('feishu', 'oc_1', 'ou_li', '李明明');
      expect((await fast.resolve(renamed)).displayName).toBe('李明明');
      expect(await general.resolve(renamed)).toEqual(await fast.resolve(renamed));
      // Someone new in a known chat, and a known person in a new chat: registered as before.
      const chen = await fast.resolve(message('feishu', 'oc_1', 'ou_chen', '陈静'));
      expect(chen).toMatchObject({ displayName: '陈静', orgId: ORG, role: 'member', unitRoles: [] });
      const elsewhere = await fast.resolve(message('feishu', 'oc_2', 'ou_li', '李明明'));
      expect(elsewhere).toMatchObject({ memberId: li.memberId, unitName: '办公室' });
      expect(await recorded('oc_2')).toEqual(['李明明']);
    });
  });

  describe('chat members', () => {
    it("registers the platform's members on first contact and records who is in the chat", async () => {
      await directory.resolve(message('feishu', 'oc_1', 'ou_li', '李明')); // registers the chat
      roster.oc_1 = [
        { id: 'ou_li', name: '李明' },
        { id: 'ou_zhang', name: '张华' },
        { id: 'ou_chen', name: '陈静' },
      ];
      const members = await directory.chatMembers(ORG, 'feishu', 'oc_1');
      expect(names(members)).toEqual(['张华', '李明', '陈静'].sort());
      expect(members.every((m) => m.platform === 'feishu' && m.id)).toBe(true);
      expect(await db.prisma.member.count({ where: { orgId: ORG } })).toBe(3);
      expect(await recorded('oc_1')).toEqual(['张华', '李明', '陈静'].sort());
    });

    it('asks the platform at most once in a few minutes, then again; who left is dropped', async () => {
      await directory.resolve(message('feishu', 'oc_1', 'ou_li', '李明'));
      roster.oc_1 = [
        { id: 'ou_li', name: '李明' },
        { id: 'ou_zhang', name: '张华' },
      ];
      await Promise.all([directory.chatMembers(ORG, 'feishu', 'oc_1'), directory.chatMembers(ORG, 'feishu', 'oc_1')]);
      await directory.chatMembers(ORG, 'feishu', 'oc_1');
      expect(listCalls).toBe(1);
      roster.oc_1 = [
        { id: 'ou_li', name: '李明（办公室）' },
        { id: 'ou_wu', name: '吴刚' },
      ];
      clock.advance(4 * 60_000);
      const members = await directory.chatMembers(ORG, 'feishu', 'oc_1');
      expect(listCalls).toBe(2);
      expect(names(members)).toEqual(['吴刚', '李明（办公室）'].sort());
      expect(await recorded('oc_1')).toEqual(['吴刚', '李明（办公室）'].sort());
      // 张华 left the chat, not the organisation.
      expect(await db.prisma.member.count({ where: { orgId: ORG, platformUserId: 'ou_zhang' } })).toBe(1);
    });

    it('falls back to those seen in the chat when the platform fails', async () => {
      await directory.resolve(message('feishu', 'oc_1', 'ou_li', '李明'));
      await directory.resolve(message('feishu', 'oc_1', 'ou_zhang', '张华'));
      await directory.resolve(message('feishu', 'oc_2', 'ou_chen', '陈静')); // another chat
      roster.oc_1 = () => {
        throw new Error('rate limited');
      };
      expect(names(await directory.chatMembers(ORG, 'feishu', 'oc_1'))).toEqual(['张华', '李明'].sort());
    });

    it('on DingTalk, which cannot list an ordinary group, answers with those seen there, newcomers at once', async () => {
      await directory.resolve(message('dingtalk', 'cid_1', 'staff-li', '李明'));
      expect(names(await directory.chatMembers(ORG, 'dingtalk', 'cid_1'))).toEqual(['李明']);
      // A card click counts as being seen too.
      await directory.resolve({
        type: 'action',
        platform: 'dingtalk',
        tenant: 'tenant-1',
        eventKey: 'click-1',
        chat: { id: 'cid_1', kind: 'group' },
        sender: { id: 'staff-zhang', name: '张华' },
        receivedAt: new Date(),
        actionId: 'x',
        payload: {},
        card: { messageId: 'm' },
      });
      expect(names(await directory.chatMembers(ORG, 'dingtalk', 'cid_1'))).toEqual(['张华', '李明'].sort());
      expect(listCalls).toBe(0);
      expect(await directory.chatMembers(ORG, 'dingtalk', 'cid_unknown')).toEqual([]);
    });

    it('commits the first sightings of a moment together, each speaker still recorded', async () => {
      await directory.resolve(message('dingtalk', 'cid_1', 'staff-0', '党员0'));
      // Count the membership writes the directory makes (as main.ts wires it, through db.sql).
      let writes = 0;
      const counted = {
        ...db.sql,
        execute: (text: string, ...args: unknown[]) => {
          if (text.includes('INSERT INTO "ChatMember"')) writes++;
          return db.sql.execute(text, ...args);
        },
      };
      const watched = createDirectory({
        db: db.prisma,
        sql: counted,
        defaultTimezone: 'Asia/Shanghai',
        admins: [],
        defaultOrgName: '测试组织',
        clock,
        provider: db.provider,
      });
      const speakers = Array.from({ length: 20 }, (_, i) => `staff-${i + 1}`);
      await Promise.all(speakers.map((id, i) => watched.resolve(message('dingtalk', 'cid_1', id, `党员${i + 1}`))));
      // One commit each before: 20 writes for 20 first clicks at 09:00. Now those arriving
      // together share one: 1 on SQLite. On PostgreSQL the speakers' reads are round trips that
      // finish apart, so how many share a write depends on the machine's load (4 on an idle
      // one, 12 in a CI run beside other work): there, fewer writes than speakers.
      expect(writes).toBeLessThan(db.provider === 'sqlite' ? speakers.length / 2 : speakers.length);
      expect(await db.prisma.chatMember.count()).toBe(21);
      expect(names(await watched.chatMembers(ORG, 'dingtalk', 'cid_1'))).toHaveLength(21);
    });

    it('registers a big group in batches', async () => {
      await directory.resolve(message('feishu', 'oc_big', 'ou_0', '党员0'));
      roster.oc_big = Array.from({ length: 1_234 }, (_, i) => ({ id: `ou_${i}`, name: `党员${i}` }));
      const members = await directory.chatMembers(ORG, 'feishu', 'oc_big');
      expect(members).toHaveLength(1_234);
      expect(await db.prisma.chatMember.count()).toBe(1_234);
      expect(await db.prisma.member.count({ where: { orgId: ORG } })).toBe(1_234);
    });
  });
});
