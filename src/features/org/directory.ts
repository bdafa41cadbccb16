import type { ActionEvent, ChatMemberInfo, MessageEvent, Platform } from '../../platforms/types.ts';
import type { Identity, IdentityResolver, Role, UnitRoleName } from '../../bot/context.ts';
import { createSystemClock, type Clock } from '../../lib/clock.ts';
import type { Db, Provider, SqlExec, Tx } from '../../lib/db.ts';
import { isUniqueViolation } from '../../lib/db.ts';
import { newId } from '../../lib/ids.ts';
import type { Logger } from '../../lib/logger.ts';
import { createYielder } from '../../lib/loop-yield.ts';
import { jsonInsert, sqlStamp } from '../../lib/sql-insert.ts';
import { CHAT_MEMBER_UPSERT, createChatMembershipWrites } from './chat-membership-writes.ts';
import { createGroupSpeakerQuery } from './identity-query.ts';

/** A member as the directory hands them out (attendance lists, escalations). */
export interface DirectoryMember {
  id: string;
  platform: string;
  platformUserId: string;
  displayName: string;
  unitId: string | null;
}

export interface UnitRoleHolder {
  memberId: string;
  displayName: string;
  platform: string;
  platformUserId: string;
  role: UnitRoleName;
  grantedBy: string | null;
  grantedAt: Date;
}

export interface UnitSummary {
  id: string;
  name: string;
  memberCount: number;
  heads: UnitRoleHolder[];
  contacts: UnitRoleHolder[];
}

/**
 * Lists a chat's members on its platform; `undefined` when the platform
 * offers no way to (main.ts wires it: features cannot import platforms).
 */
export type ListChatMembers = (platform: Platform, platformChatId: string) => Promise<ChatMemberInfo[]> | undefined;

const IN_CHUNK = 500;
function chunks<T>(list: T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * Organisations, chats, members and roles. Resolves who sent an event,
 * registering chats and members on first contact so a branch can start
 * without an import step (decisions.md: "first contact registers").
 */
export interface Directory extends IdentityResolver {
  /** Secretaries named in SHUXIANG_ADMINS are secretaries in every organisation they appear in. */
  isConfiguredAdmin(platform: string, userId: string): boolean;
  ensureMember(
    orgId: string,
    platform: Platform,
    userId: string,
    name?: string,
  ): Promise<{ id: string; displayName: string }>;
  grantSecretary(orgId: string, memberId: string, grantedBy: string): Promise<'granted' | 'already'>;
  /** Inside `tx` when given; call `rolesChanged()` after that transaction commits. */
  revokeSecretary(orgId: string, memberId: string, tx?: Tx): Promise<boolean>;
  /** Drops cached identities after a role change committed in a caller's transaction. */
  rolesChanged(): void;
  /** Read inside `tx` when given (it then sees the transaction's own changes). */
  secretaries(
    orgId: string,
    tx?: Tx,
  ): Promise<{ memberId: string; displayName: string; platformUserId: string; platform: string; viaConfig: boolean }[]>;
  registerChat: NonNullable<IdentityResolver['registerChat']>;
  /**
   * Who is in a group chat: the platform's list where it has one (unknown
   * people are registered, as on first contact, and the recorded membership
   * is replaced by the list), otherwise everyone the bot has seen speaking or
   * clicking there. Kept for a few minutes, so a card clicked again and again
   * does not list the group each time.
   */
  chatMembers(orgId: string, platform: Platform, platformChatId: string): Promise<DirectoryMember[]>;

  /** The organisation's units with their member counts, heads and contacts, by name. */
  units(orgId: string): Promise<UnitSummary[]>;
  findUnit(orgId: string, name: string): Promise<{ id: string; name: string } | null>;
  createUnit(orgId: string, name: string): Promise<{ id: string; created: boolean }>;
  /** Puts a member in a unit (null: in none); 'already' when they were in it. */
  setMemberUnit(memberId: string, unitId: string | null): Promise<'moved' | 'already'>;
  /** In a transaction, pass it: the read then sees what the transaction wrote. */
  unitRoles(unitId: string, client?: Tx | Db): Promise<UnitRoleHolder[]>;
  grantUnitRole(
    unitId: string,
    memberId: string,
    role: UnitRoleName,
    grantedBy: string,
  ): Promise<'granted' | 'already'>;
  /** Removes one role, or every role the member holds in the unit; returns how many went. */
  revokeUnitRole(unitId: string, memberId: string, role?: UnitRoleName): Promise<number>;
}

export function createDirectory(deps: {
  db: Db;
  defaultTimezone: string;
  admins: { platform: string; userId: string }[];
  defaultOrgName: string;
  /**
   * How long a resolved identity is reused (0 turns the cache off). Every
   * card click and command resolves its sender; at quiz rush hour that is
   * thousands a second, so identities are kept briefly in memory. This
   * process drops them on any role change it makes; another instance sees
   * such a change within twice this time (entries are refreshed behind).
   */
  identityTtlMs?: number;
  /** Lists a chat's members on its platform; absent, every chat falls back to who was seen there. */
  listChatMembers?: ListChatMembers;
  /** How long a chat's member list is reused (default 3 minutes). */
  chatMembersTtlMs?: number;
  clock?: Clock;
  log?: Logger;
  /**
   * First contact registers people with JSON multi-row inserts in the
   * provider's SQL (ON CONFLICT DO NOTHING, 500 rows a statement).
   */
  provider: Provider;
  /** The fast path for a known group speaker's identity (one statement); absent, Prisma's reads. */
  sql?: SqlExec;
}): Directory {
  const { db } = deps;
  const groupSpeaker = deps.sql ? createGroupSpeakerQuery(deps.sql, deps.provider) : undefined;
  const memberInsert = jsonInsert<Record<string, unknown>>(deps.provider, {
    table: 'Member',
    columns: [
      ['id', 'text'],
      ['orgId', 'text'],
      ['platform', 'text'],
      ['platformUserId', 'text'],
      ['displayName', 'text'],
      ['createdAt', 'timestamp(3)'],
      ['updatedAt', 'timestamp(3)'],
    ],
    onConflict: 'ON CONFLICT ("orgId","platform","platformUserId") DO NOTHING',
  });
  const chatMemberUpsert = jsonInsert<Record<string, unknown>>(deps.provider, CHAT_MEMBER_UPSERT);
  const membershipWrites = createChatMembershipWrites({ db, provider: deps.provider, sql: deps.sql });
  const clock = deps.clock ?? createSystemClock();
  const chatMembersTtlMs = deps.chatMembersTtlMs ?? 3 * 60_000;
  const identityTtlMs = deps.identityTtlMs ?? 5_000;
  const identities = new Map<string, { at: number; identity: Identity }>();
  const forget = () => identities.clear();
  const adminKeys = new Set(deps.admins.map((a) => `${a.platform}:${a.userId}`));
  const isConfiguredAdmin = (platform: string, userId: string) => adminKeys.has(`${platform}:${userId}`);

  async function orgForTenant(platform: Platform, tenant: string, name: string): Promise<string> {
    const link = await db.tenantLink.findUnique({ where: { platform_tenant: { platform, tenant } } });
    if (link) return link.orgId;
    const orgId = newId();
    try {
      await db.$transaction([
        db.organisation.create({ data: { id: orgId, name, timezone: deps.defaultTimezone } }),
        db.tenantLink.create({ data: { platform, tenant, orgId } }),
      ]);
      return orgId;
    } catch (err) {
      // Another event for the same tenant won the race; use its organisation.
      if (!isUniqueViolation(err)) throw err;
      const again = await db.tenantLink.findUniqueOrThrow({ where: { platform_tenant: { platform, tenant } } });
      return again.orgId;
    }
  }

  async function registerChat(input: Parameters<Directory['registerChat']>[0]) {
    const existing = await db.chat.findUnique({
      where: { platform_platformChatId: { platform: input.platform, platformChatId: input.platformChatId } },
    });
    if (existing) return { chatId: existing.id, orgId: existing.orgId, created: false };
    const orgId = await orgForTenant(input.platform, input.tenant, deps.defaultOrgName);
    const chat = await db.chat.upsert({
      where: { platform_platformChatId: { platform: input.platform, platformChatId: input.platformChatId } },
      create: {
        id: newId(),
        orgId,
        platform: input.platform,
        platformChatId: input.platformChatId,
        kind: input.kind,
        title: input.title,
      },
      update: {},
    });
    return { chatId: chat.id, orgId: chat.orgId, created: true };
  }

  async function ensureMember(orgId: string, platform: Platform, userId: string, name?: string) {
    const where = { orgId_platform_platformUserId: { orgId, platform, platformUserId: userId } };
    const found = await db.member.findUnique({ where, select: { id: true, displayName: true } });
    if (found && (!name || found.displayName === name)) return found;
    // No cache flush needed: the cache key holds the name, and a new member had no entry.
    return db.member.upsert({
      where,
      create: { id: newId(), orgId, platform, platformUserId: userId, displayName: name ?? userId },
      update: name ? { displayName: name } : {},
      select: { id: true, displayName: true },
    });
  }

  const refreshing = new Set<string>();

  async function resolve(event: MessageEvent | ActionEvent): Promise<Identity> {
    if (identityTtlMs <= 0) return resolveFresh(event);
    const key = [
      event.platform,
      event.tenant,
      event.chat.kind,
      event.chat.id,
      event.sender.id,
      event.sender.name ?? '',
    ].join('\u0000');
    const hit = identities.get(key);
    const age = hit ? Date.now() - hit.at : Infinity;
    if (hit && age < identityTtlMs) return hit.identity;
    if (hit && age < 2 * identityTtlMs) {
      // Slightly old: answer now and refresh behind, so that entries made together
      // do not all expire into a burst of queries in the middle of a quiz.
      if (!refreshing.has(key)) {
        refreshing.add(key);
        void resolveFresh(event)
          .then((identity) => identities.set(key, { at: Date.now(), identity }))
          .catch(() => identities.delete(key))
          .finally(() => refreshing.delete(key));
      }
      return hit.identity;
    }
    const identity = await resolveFresh(event);
    if (identities.size >= 50_000) identities.clear();
    identities.set(key, { at: Date.now(), identity });
    return identity;
  }

  async function resolveFresh(event: MessageEvent | ActionEvent): Promise<Identity> {
    if (groupSpeaker && event.chat.kind === 'group') {
      const known = await groupSpeaker(event.platform, event.chat.id, event.sender.id);
      // The same answer the general path gives, when nothing needs writing but the chat membership.
      if (known?.memberId && (!event.sender.name || known.displayName === event.sender.name)) {
        await recordSeen(known.chatId, known.memberId, event.platform, event.chat.id);
        const unitRoles = known.hasUnitRoles ? await speakerUnitRoles(known.memberId) : [];
        return {
          orgId: known.orgId,
          orgName: known.orgName,
          timezone: known.timezone,
          memberId: known.memberId,
          displayName: known.displayName!,
          unitId: known.unitId,
          unitName: known.unitName,
          role: known.secretary || isConfiguredAdmin(event.platform, event.sender.id) ? 'secretary' : 'member',
          unitRoles,
          chatId: known.chatId,
        };
      }
    }
    let orgId: string;
    let chatId: string | null = null;
    if (event.chat.kind === 'group') {
      const chat = await registerChat({
        platform: event.platform,
        tenant: event.tenant,
        platformChatId: event.chat.id,
        kind: 'group',
        title: event.chat.title ?? event.chat.id,
      });
      orgId = chat.orgId;
      chatId = chat.chatId;
    } else {
      // A private chat belongs to whichever organisation knows this person.
      const known = await db.member.findFirst({
        where: { platform: event.platform, platformUserId: event.sender.id },
        orderBy: { createdAt: 'asc' },
        select: { orgId: true },
      });
      orgId = known?.orgId ?? (await orgForTenant(event.platform, event.tenant, deps.defaultOrgName));
    }
    const member = await ensureMember(orgId, event.platform, event.sender.id, event.sender.name);
    if (chatId) await recordSeen(chatId, member.id, event.platform, event.chat.id);
    const [org, full, grant, unitRoles] = await Promise.all([
      db.organisation.findUniqueOrThrow({ where: { id: orgId } }),
      db.member.findUniqueOrThrow({ where: { id: member.id }, include: { unit: true } }),
      db.roleGrant.findFirst({ where: { orgId, memberId: member.id, role: 'secretary' } }),
      speakerUnitRoles(member.id),
    ]);
    const role: Role = grant || isConfiguredAdmin(event.platform, event.sender.id) ? 'secretary' : 'member';
    return {
      orgId,
      orgName: org.name,
      timezone: org.timezone,
      memberId: member.id,
      displayName: full.displayName,
      unitId: full.unitId,
      unitName: full.unit?.name ?? null,
      role,
      unitRoles,
      chatId,
    };
  }

  async function speakerUnitRoles(memberId: string): Promise<Identity['unitRoles']> {
    const rows = await db.unitRole.findMany({
      where: { memberId },
      include: { unit: { select: { name: true } } },
      orderBy: { grantedAt: 'asc' },
    });
    return rows.map((r) => ({ unitId: r.unitId, unitName: r.unit.name, role: r.role as UnitRoleName }));
  }

  // ---- Chat membership ----------------------------------------------------------

  /** When this process last wrote each (chat, member) pair: a speaker is written once an hour, not per message. */
  const seen = new Map<string, number>();
  const SEEN_REFRESH_MS = 60 * 60_000;
  const rosters = new Map<string, { at: number; members: DirectoryMember[] }>();
  const rosterLoads = new Map<string, Promise<DirectoryMember[]>>();
  const rosterKey = (platform: string, platformChatId: string) => `${platform}\u0000${platformChatId}`;

  async function recordSeen(chatId: string, memberId: string, platform: Platform, platformChatId: string) {
    const key = `${chatId}\u0000${memberId}`;
    const now = clock.now();
    const last = seen.get(key);
    if (last !== undefined && now.getTime() - last < SEEN_REFRESH_MS) return;
    if (seen.size >= 100_000) seen.clear();
    seen.set(key, now.getTime());
    // A newcomer must show up in the next roster even where the platform cannot list members.
    if (last === undefined) rosters.delete(rosterKey(platform, platformChatId));
    try {
      // On a click's path: group-committed with the other first sightings of the moment.
      await membershipWrites.record(chatId, memberId, now);
    } catch (err) {
      // Membership is a record for rosters, not part of answering this event: never fail the event for it.
      seen.delete(key);
      if (!isUniqueViolation(err)) deps.log?.warn({ err, chatId }, 'could not record chat membership');
    }
  }

  const toDirectoryMember = (m: DirectoryMember): DirectoryMember => ({
    id: m.id,
    platform: m.platform,
    platformUserId: m.platformUserId,
    displayName: m.displayName,
    unitId: m.unitId,
  });
  const memberSelect = { id: true, platform: true, platformUserId: true, displayName: true, unitId: true } as const;

  /** Registers whoever the platform listed and is not yet known (first contact), and refreshes changed names. */
  async function registerListed(orgId: string, platform: Platform, listed: ChatMemberInfo[]) {
    const names = new Map(listed.map((l) => [l.id, l.name]));
    const ids = [...names.keys()];
    const known = new Map<string, DirectoryMember>();
    // A group of 20,000 is dozens of awaited queries: let webhooks in between (no transaction here).
    const yielder = createYielder();
    for (const part of chunks(ids)) {
      const rows = await db.member.findMany({
        where: { orgId, platform, platformUserId: { in: part } },
        select: memberSelect,
      });
      for (const r of rows) known.set(r.platformUserId, r);
      await yielder.maybeYield();
    }
    const missing = ids.filter((id) => !known.has(id));
    for (const part of chunks(missing, IN_CHUNK)) {
      // Someone who spoke meanwhile was registered by then: DO NOTHING keeps their row.
      const stamp = sqlStamp(clock.now());
      await memberInsert.run(
        db,
        part.map((id) => ({
          id: newId(),
          orgId,
          platform,
          platformUserId: id,
          displayName: names.get(id) || id,
          createdAt: stamp,
          updatedAt: stamp,
        })),
      );
      await yielder.maybeYield();
      const rows = await db.member.findMany({
        where: { orgId, platform, platformUserId: { in: part } },
        select: memberSelect,
      });
      for (const r of rows) known.set(r.platformUserId, r);
      await yielder.maybeYield();
    }
    for (const [id, m] of known) {
      const name = names.get(id);
      if (name && name !== m.displayName) {
        await db.member.update({ where: { id: m.id }, data: { displayName: name } });
        m.displayName = name;
        await yielder.maybeYield();
      }
    }
    return ids.flatMap((id) => {
      const m = known.get(id);
      return m ? [toDirectoryMember(m)] : [];
    });
  }

  /** The platform's list is the truth: add who is new, refresh who is there, drop who left. */
  async function replaceMembership(chatId: string, memberIds: string[]) {
    const now = clock.now();
    const existing = new Set(
      (await db.chatMember.findMany({ where: { chatId }, select: { memberId: true } })).map((r) => r.memberId),
    );
    const listed = new Set(memberIds);
    const added = memberIds.filter((id) => !existing.has(id));
    const stayed = memberIds.filter((id) => existing.has(id));
    const left = [...existing].filter((id) => !listed.has(id));
    const yielder = createYielder();
    for (const part of chunks(added, IN_CHUNK)) {
      await yielder.maybeYield();
      await chatMemberUpsert.run(
        db,
        part.map((memberId) => ({ chatId, memberId, seenAt: sqlStamp(now) })),
      );
    }
    for (const part of chunks(stayed)) {
      await yielder.maybeYield();
      await db.chatMember.updateMany({ where: { chatId, memberId: { in: part } }, data: { seenAt: now } });
    }
    for (const part of chunks(left)) {
      await yielder.maybeYield();
      await db.chatMember.deleteMany({ where: { chatId, memberId: { in: part } } });
    }
  }

  async function loadRoster(orgId: string, platform: Platform, platformChatId: string): Promise<DirectoryMember[]> {
    const chat = await db.chat.findUnique({
      where: { platform_platformChatId: { platform, platformChatId } },
      select: { id: true, orgId: true },
    });
    const chatId = chat?.orgId === orgId ? chat.id : null;
    let listed: ChatMemberInfo[] | undefined;
    try {
      listed = await deps.listChatMembers?.(platform, platformChatId);
    } catch (err) {
      deps.log?.warn({ err, platform, platformChatId }, 'could not list chat members; using those seen in the chat');
    }
    if (listed) {
      const members = await registerListed(orgId, platform, listed);
      if (chatId)
        await replaceMembership(
          chatId,
          members.map((m) => m.id),
        );
      return members;
    }
    if (!chatId) return [];
    const rows = await db.chatMember.findMany({
      where: { chatId },
      select: { member: { select: memberSelect } },
      orderBy: { member: { createdAt: 'asc' } },
    });
    return rows.map((r) => toDirectoryMember(r.member));
  }

  async function chatMembers(orgId: string, platform: Platform, platformChatId: string) {
    const key = rosterKey(platform, platformChatId);
    const hit = rosters.get(key);
    if (hit && clock.now().getTime() - hit.at < chatMembersTtlMs) return hit.members;
    let load = rosterLoads.get(key);
    if (!load) {
      load = loadRoster(orgId, platform, platformChatId)
        .then((members) => {
          if (rosters.size >= 1_000) rosters.clear();
          rosters.set(key, { at: clock.now().getTime(), members });
          return members;
        })
        .finally(() => rosterLoads.delete(key));
      rosterLoads.set(key, load);
    }
    return load;
  }

  // ---- Units ----------------------------------------------------------------------

  const holderOf = (r: {
    memberId: string;
    role: string;
    grantedBy: string | null;
    grantedAt: Date;
    member: { displayName: string; platform: string; platformUserId: string };
  }): UnitRoleHolder => ({
    memberId: r.memberId,
    displayName: r.member.displayName,
    platform: r.member.platform,
    platformUserId: r.member.platformUserId,
    role: r.role as UnitRoleName,
    grantedBy: r.grantedBy,
    grantedAt: r.grantedAt,
  });
  const holderInclude = { member: { select: { displayName: true, platform: true, platformUserId: true } } } as const;

  /** Oldest grant first; grants in the same instant (one command naming several people) by name, not by random id. */
  const byGrant = (a: UnitRoleHolder, b: UnitRoleHolder) =>
    a.grantedAt.getTime() - b.grantedAt.getTime() || a.displayName.localeCompare(b.displayName, 'zh-CN');

  async function unitRolesOf(unitId: string, client: Tx | Db = db) {
    const rows = await client.unitRole.findMany({ where: { unitId }, include: holderInclude });
    return rows.map(holderOf).sort(byGrant);
  }

  return {
    resolve,
    isConfiguredAdmin,
    ensureMember,
    registerChat,
    chatMembers,
    async units(orgId) {
      const units = await db.unit.findMany({
        where: { orgId },
        include: { _count: { select: { members: true } }, roles: { include: holderInclude } },
      });
      return units
        .map((u) => {
          const holders = u.roles.map(holderOf).sort(byGrant);
          return {
            id: u.id,
            name: u.name,
            memberCount: u._count.members,
            heads: holders.filter((h) => h.role === 'head'),
            contacts: holders.filter((h) => h.role === 'contact'),
          };
        })
        .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
    },
    async findUnit(orgId, name) {
      return db.unit.findUnique({ where: { orgId_name: { orgId, name } }, select: { id: true, name: true } });
    },
    async createUnit(orgId, name) {
      const found = await db.unit.findUnique({ where: { orgId_name: { orgId, name } } });
      if (found) return { id: found.id, created: false };
      try {
        const unit = await db.unit.create({ data: { id: newId(), orgId, name } });
        return { id: unit.id, created: true };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const again = await db.unit.findUniqueOrThrow({ where: { orgId_name: { orgId, name } } });
        return { id: again.id, created: false };
      }
    },
    async setMemberUnit(memberId, unitId) {
      const member = await db.member.findUniqueOrThrow({ where: { id: memberId }, select: { unitId: true } });
      if (member.unitId === unitId) return 'already';
      try {
        await db.member.update({ where: { id: memberId }, data: { unitId } });
        return 'moved';
      } finally {
        forget();
      }
    },
    unitRoles: unitRolesOf,
    async grantUnitRole(unitId, memberId, role, grantedBy) {
      const unit = await db.unit.findUniqueOrThrow({ where: { id: unitId }, select: { orgId: true } });
      try {
        await db.unitRole.create({
          data: { id: newId(), orgId: unit.orgId, unitId, memberId, role, grantedBy, grantedAt: clock.now() },
        });
        return 'granted';
      } catch (err) {
        if (isUniqueViolation(err)) return 'already';
        throw err;
      } finally {
        forget();
      }
    },
    async revokeUnitRole(unitId, memberId, role) {
      try {
        const { count } = await db.unitRole.deleteMany({ where: { unitId, memberId, ...(role ? { role } : {}) } });
        return count;
      } finally {
        forget();
      }
    },
    async grantSecretary(orgId, memberId, grantedBy) {
      try {
        await db.roleGrant.create({ data: { id: newId(), orgId, memberId, role: 'secretary', grantedBy } });
        return 'granted';
      } catch (err) {
        if (isUniqueViolation(err)) return 'already';
        throw err;
      } finally {
        // After the write: a resolve racing with it must not re-cache the old role.
        forget();
      }
    },
    async revokeSecretary(orgId, memberId, tx) {
      try {
        const { count } = await (tx ?? db).roleGrant.deleteMany({ where: { orgId, memberId, role: 'secretary' } });
        return count > 0;
      } finally {
        forget();
      }
    },
    rolesChanged: forget,
    async secretaries(orgId, tx) {
      const reader = tx ?? db;
      const grants = await reader.roleGrant.findMany({
        where: { orgId, role: 'secretary' },
        include: { member: true },
        orderBy: { createdAt: 'asc' },
      });
      const fromGrants = grants.map((g) => ({
        memberId: g.memberId,
        displayName: g.member.displayName,
        platformUserId: g.member.platformUserId,
        platform: g.member.platform,
        viaConfig: isConfiguredAdmin(g.member.platform, g.member.platformUserId),
      }));
      const configured = await reader.member.findMany({
        where: {
          orgId,
          OR: deps.admins.map((a) => ({ platform: a.platform, platformUserId: a.userId })),
        },
      });
      for (const m of deps.admins.length ? configured : []) {
        if (!fromGrants.some((g) => g.memberId === m.id)) {
          fromGrants.push({
            memberId: m.id,
            displayName: m.displayName,
            platformUserId: m.platformUserId,
            platform: m.platform,
            viaConfig: true,
          });
        }
      }
      return fromGrants;
    },
  };
}
