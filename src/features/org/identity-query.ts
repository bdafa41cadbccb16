import type { Provider, SqlExec } from '../../lib/db.ts';

/** What one statement tells about a known speaker in a known group. */
export interface GroupSpeaker {
  chatId: string;
  orgId: string;
  orgName: string;
  timezone: string;
  /** Null when the speaker is not a member of the chat's organisation yet. */
  memberId: string | null;
  displayName: string | null;
  unitId: string | null;
  unitName: string | null;
  secretary: boolean;
  /** Whether the member holds any unit role (read separately: rare). */
  hasUnitRoles: boolean;
}

/**
 * A group speaker's identity in ONE statement on SqlExec's fast path. Every
 * card click resolves its sender, and a member answering a five-question card
 * a few seconds a question outlives the identity cache between clicks: the
 * seven Prisma reads of the general path were about half of a click's CPU in
 * bench:province (docs/decisions.md, "The province click path"). Anything unusual (unknown
 * chat, unknown member, a changed name) is left to the general path.
 */
export function createGroupSpeakerQuery(sql: SqlExec, provider: Provider) {
  const p = (i: number) => (provider === 'postgresql' ? `$${i}` : '?');
  const text = `SELECT c."id" AS "chatId", c."orgId" AS "orgId", o."name" AS "orgName", o."timezone" AS "timezone",
  m."id" AS "memberId", m."displayName" AS "displayName", m."unitId" AS "unitId", u."name" AS "unitName",
  EXISTS (SELECT 1 FROM "RoleGrant" g WHERE g."orgId" = c."orgId" AND g."memberId" = m."id" AND g."role" = 'secretary') AS "secretary",
  EXISTS (SELECT 1 FROM "UnitRole" r WHERE r."memberId" = m."id") AS "hasUnitRoles"
FROM "Chat" c
JOIN "Organisation" o ON o."id" = c."orgId"
LEFT JOIN "Member" m ON m."orgId" = c."orgId" AND m."platform" = ${p(1)} AND m."platformUserId" = ${p(2)}
LEFT JOIN "Unit" u ON u."id" = m."unitId"
WHERE c."platform" = ${p(3)} AND c."platformChatId" = ${p(4)}`;
  return async (platform: string, platformChatId: string, userId: string): Promise<GroupSpeaker | undefined> => {
    const [row] = await sql.query<Record<string, unknown>>(text, platform, userId, platform, platformChatId);
    if (!row) return undefined;
    // SQLite answers EXISTS with 0/1, PostgreSQL with a boolean.
    const flag = (v: unknown) => v === true || v === 1 || v === 1n;
    return {
      chatId: row.chatId as string,
      orgId: row.orgId as string,
      orgName: row.orgName as string,
      timezone: row.timezone as string,
      memberId: (row.memberId as string | null) ?? null,
      displayName: (row.displayName as string | null) ?? null,
      unitId: (row.unitId as string | null) ?? null,
      unitName: (row.unitName as string | null) ?? null,
      secretary: flag(row.secretary),
      hasUnitRoles: flag(row.hasUnitRoles),
    };
  };
}
