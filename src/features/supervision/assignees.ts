import { UserError } from '../../bot/errors.ts';
import type { FeatureDeps } from '../../bot/feature.ts';
import { asPlatform } from '../../bot/send.ts';
import type { Mention } from '../../platforms/types.ts';
import type { NewAssignee } from './store.ts';

/**
 * Who a task is for, from the words of `任务 新建` or the card form:
 * `@办公室` or `@unit:办公室` (a unit), `@李明` (a platform mention, registered
 * on first sight like any sender), or a member's name typed in the form.
 * Anything else is refused by name, before anything is written.
 */
export function createAssigneeResolver(deps: Pick<FeatureDeps, 'db' | 'directory'>) {
  const { db, directory } = deps;
  /** `@办公室`, `@unit:办公室`, `@李明` (a platform mention), or plain names from the card form. */
  return async function resolveAssignees(
    orgId: string,
    platform: string,
    words: string[],
    mentions: Mention[],
  ): Promise<NewAssignee[]> {
    const out: NewAssignee[] = [];
    const seen = new Set<string>();
    const units = await directory.units(orgId);
    const unitNames = () => units.map((u) => u.name).join('、') || '—';
    const addUnit = async (name: string) => {
      const unit = units.find((u) => u.name === name);
      if (!unit) return false;
      if (seen.has(`u:${unit.id}`)) return true;
      seen.add(`u:${unit.id}`);
      const members = await db.member.findMany({
        where: { unitId: unit.id },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: { id: true, displayName: true },
      });
      out.push({
        kind: 'unit',
        unitId: unit.id,
        name: unit.name,
        members: members.map((m) => ({ id: m.id, name: m.displayName })),
      });
      return true;
    };
    const addMember = async (m: { id: string; name: string }) => {
      const member = await directory.ensureMember(orgId, asPlatform(platform), m.id, m.name);
      if (seen.has(`m:${member.id}`)) return;
      seen.add(`m:${member.id}`);
      out.push({ kind: 'member', memberId: member.id, name: member.displayName });
    };
    const mentioned = new Set<string>();
    for (const raw of words) {
      const word = raw.replace(/^[@＠]/, '').trim();
      if (!word) continue;
      const unitTag = /^(?:unit|单位)[:：](.+)$/i.exec(word);
      if (unitTag) {
        if (!(await addUnit(unitTag[1]!.trim()))) {
          throw new UserError('supervision.assignee.unknown_unit', {
            name: unitTag[1]!.slice(0, 30),
            units: unitNames(),
          });
        }
        continue;
      }
      const mention = mentions.find((m) => m.name === word || m.id === word);
      if (mention) {
        mentioned.add(mention.id);
        await addMember(mention);
        continue;
      }
      if (await addUnit(word)) continue;
      // A name typed in the card form: a member of the organisation by display name.
      const byName = await db.member.findMany({ where: { orgId, displayName: word }, take: 2 });
      if (byName.length === 1) {
        const m = byName[0]!;
        if (!seen.has(`m:${m.id}`)) {
          seen.add(`m:${m.id}`);
          out.push({ kind: 'member', memberId: m.id, name: m.displayName });
        }
        continue;
      }
      throw new UserError('supervision.assignee.unknown', { name: raw.slice(0, 30), units: unitNames() });
    }
    // Platforms that put mentions beside the text rather than in it.
    for (const m of mentions) if (!mentioned.has(m.id)) await addMember(m);
    return out;
  };
}
