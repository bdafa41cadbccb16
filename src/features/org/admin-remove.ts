import { z } from 'zod';
import { defineAction } from '../../bot/actions.ts';
import type { CommandContext } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import type { FeatureDeps } from '../../bot/feature.ts';
import type { Tx } from '../../lib/db.ts';
import type { Card } from '../../platforms/types.ts';
import { memberText } from '../../platforms/text.ts';

export const REMOVE_CONFIRM = 'org.admin.remove.confirm';
export const REMOVE_CANCEL = 'org.admin.remove.cancel';

const removePayload = z.object({ v: z.literal(1), m: z.array(z.string().min(1).max(64)).min(1).max(20) });

/**
 * `管理员 移除 @某人` in two steps: the command checks and asks, a card button
 * confirms. Confirming re-checks everything under a lock on the organisation
 * row, so two secretaries removing each other at the same moment cannot
 * leave an organisation without one: the last secretary is never removed.
 * The person removed and the other secretaries are told privately, in the
 * transaction that removes.
 */
export function createAdminRemoval(deps: FeatureDeps) {
  const { directory, db, messages } = deps;
  const t = messages.t;

  /** Serialises removals in one organisation (a row lock on PostgreSQL; SQLite writes one at a time anyway). */
  async function lockOrg(tx: Tx, orgId: string): Promise<void> {
    await tx.$executeRaw`UPDATE "Organisation" SET "name" = "name" WHERE "id" = ${orgId}`;
  }

  function askCard(names: string[], ids: string[]): Card {
    return {
      header: { title: t('admin.remove.confirm.title'), colour: 'orange' },
      elements: [
        { type: 'markdown', text: t('admin.remove.confirm.text', { names: names.map(memberText).join('、') }) },
        {
          type: 'buttons',
          buttons: [
            {
              text: t('admin.remove.confirm.yes'),
              style: 'danger',
              actionId: REMOVE_CONFIRM,
              payload: { v: 1, m: ids },
            },
            {
              text: t('admin.remove.confirm.no'),
              style: 'default',
              actionId: REMOVE_CANCEL,
              payload: { v: 1, m: ids },
            },
          ],
        },
      ],
    };
  }

  /** The command: refuses what cannot be done, asks about the rest. */
  async function ask(ctx: CommandContext): Promise<void> {
    const { identity, event } = ctx;
    if (event.mentions.length === 0) throw new UserError('admin.need_mention');
    const people = await Promise.all(
      event.mentions.map(async (m) => ({
        mention: m,
        member: await directory.ensureMember(identity.orgId, event.platform, m.id, m.name),
      })),
    );
    const current = await directory.secretaries(identity.orgId);
    const lines: string[] = [];
    const removable: { id: string; name: string }[] = [];
    for (const p of people) {
      const name = p.member.displayName;
      const sec = current.find((s) => s.memberId === p.member.id);
      if (directory.isConfiguredAdmin(event.platform, p.mention.id)) {
        lines.push(t('admin.cannot_remove_config', { names: name }));
      } else if (!sec) {
        lines.push(t('admin.not_admin', { names: name }));
      } else if (!removable.some((r) => r.id === p.member.id)) {
        removable.push({ id: p.member.id, name });
      }
    }
    if (removable.length > 0 && removable.length >= current.length) {
      lines.push(t('admin.remove.last', { names: removable.map((r) => r.name).join('、') }));
      removable.length = 0;
    }
    if (lines.length) await ctx.reply(lines.join('\n'));
    if (removable.length) {
      await ctx.replyCard(
        askCard(
          removable.map((r) => r.name),
          removable.map((r) => r.id),
        ),
      );
    }
  }

  const confirm = defineAction({
    id: REMOVE_CONFIRM,
    payload: removePayload,
    role: 'secretary',
    async run(ctx, p) {
      const { identity } = ctx;
      const orgId = identity.orgId;
      const result = await db.$transaction(async (tx) => {
        await lockOrg(tx, orgId);
        const before = await directory.secretaries(orgId, tx);
        const targets = before.filter((s) => p.m.includes(s.memberId) && !s.viaConfig);
        if (targets.length === 0) return { removed: [] as string[], last: false };
        // Never the last one: at least one secretary stays, whoever clicked first.
        if (before.length - targets.length < 1) return { removed: [], last: true };
        for (const s of targets) await directory.revokeSecretary(orgId, s.memberId, tx);
        const names = targets.map((s) => s.displayName).join('、');
        const send = ctx.send.in(tx);
        const self = targets.length === 1 && targets[0]!.memberId === identity.memberId;
        for (const s of targets) {
          // Who stepped down saw it on the card; everyone else removed hears it privately.
          if (s.memberId === identity.memberId) continue;
          await send.toMember(
            { platform: s.platform, platformUserId: s.platformUserId, orgId },
            { text: t('admin.removed.notice', { by: identity.displayName, org: identity.orgName }) },
          );
        }
        const rest = before.filter((s) => !targets.includes(s));
        const list = rest.map((s) => s.displayName).join('、');
        for (const s of rest) {
          if (s.memberId === identity.memberId) continue;
          await send.toMember(
            { platform: s.platform, platformUserId: s.platformUserId, orgId },
            {
              text: self
                ? t('admin.stepped_down.peers', { names, list })
                : t('admin.removed.peers', { by: identity.displayName, names, list }),
            },
          );
        }
        return { removed: targets.map((s) => s.displayName), last: false };
      });
      directory.rolesChanged();
      if (result.last) {
        const text = t('admin.remove.last_now');
        await ctx.updateCard(doneCard(text, 'red'));
        return { toast: { kind: 'error', text } };
      }
      if (result.removed.length === 0) {
        const text = t('admin.remove.nothing');
        await ctx.updateCard(doneCard(text, 'grey'));
        return { toast: { kind: 'info', text } };
      }
      const text = t('admin.removed', { names: result.removed.join('、') });
      await ctx.updateCard(doneCard(text, 'green'));
      return { toast: { kind: 'success', text } };
    },
  });

  const cancel = defineAction({
    id: REMOVE_CANCEL,
    payload: removePayload,
    role: 'secretary',
    async run(ctx) {
      const text = t('admin.remove.kept');
      await ctx.updateCard(doneCard(text, 'grey'));
      return { toast: { kind: 'info', text } };
    },
  });

  function doneCard(text: string, colour: Card['header']['colour']): Card {
    return { header: { title: t('admin.remove.confirm.title'), colour }, elements: [{ type: 'markdown', text }] };
  }

  return { ask, actions: [confirm, cancel] };
}
