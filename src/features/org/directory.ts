import type { ActionEvent, MessageEvent, Platform } from '../../platforms/types.ts';
import type { Identity, IdentityResolver, Role } from '../../bot/context.ts';
import type { Db } from '../../lib/db.ts';
import { isUniqueViolation } from '../../lib/db.ts';
import { newId } from '../../lib/ids.ts';

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
  revokeSecretary(orgId: string, memberId: string): Promise<boolean>;
  secretaries(
    orgId: string,
  ): Promise<{ memberId: string; displayName: string; platformUserId: string; platform: string; viaConfig: boolean }[]>;
  registerChat(input: {
    platform: Platform;
    tenant: string;
    platformChatId: string;
    kind: 'group' | 'direct';
    title: string;
  }): Promise<{ chatId: string; orgId: string; created: boolean }>;
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
}): Directory {
  const { db } = deps;
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
    const [org, full, grant] = await Promise.all([
      db.organisation.findUniqueOrThrow({ where: { id: orgId } }),
      db.member.findUniqueOrThrow({ where: { id: member.id }, include: { unit: true } }),
      db.roleGrant.findFirst({ where: { orgId, memberId: member.id, role: 'secretary' } }),
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
      chatId,
    };
  }

  return {
    resolve,
    isConfiguredAdmin,
    ensureMember,
    registerChat,
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
    async revokeSecretary(orgId, memberId) {
      try {
        const { count } = await db.roleGrant.deleteMany({ where: { orgId, memberId, role: 'secretary' } });
        return count > 0;
      } finally {
        forget();
      }
    },
    async secretaries(orgId) {
      const grants = await db.roleGrant.findMany({
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
      const configured = await db.member.findMany({
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
