import { z } from 'zod';
import { defineAction } from '../../bot/actions.ts';
import { defineCommand } from '../../bot/commands.ts';
import type { ActionContext, CommandContext } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import { defineFeature, type Feature, type FeatureDeps } from '../../bot/feature.ts';
import { org } from '../../messages/zh-CN/org.ts';

function whoamiText(ctx: CommandContext | ActionContext): string {
  const { identity, t } = ctx;
  return t('whoami.text', {
    name: identity.displayName,
    unit: identity.unitName ?? t('whoami.no_unit'),
    role: t(identity.role === 'secretary' ? 'role.secretary' : 'role.member'),
    platform: ctx.platform,
  });
}

const ADD = ['add', '添加', '增加', '设置'];
const REMOVE = ['remove', '移除', '删除', '取消'];
const LIST = ['list', '列表', '查看'];

/** Who is who: `我是谁`, secretaries (`管理员`). */
export function createOrgFeature(deps: FeatureDeps): Feature {
  const { directory } = deps;

  const whoami = defineCommand({
    name: 'whoami',
    zh: '我是谁',
    aliases: ['我的身份'],
    summaryKey: 'cmd.whoami.summary',
    usageKey: 'cmd.whoami.usage',
    scope: 'any',
    role: 'member',
    async run(ctx) {
      await ctx.reply(whoamiText(ctx));
    },
  });

  const admin = defineCommand({
    name: 'admin',
    zh: '管理员',
    summaryKey: 'cmd.admin.summary',
    usageKey: 'cmd.admin.usage',
    scope: 'any',
    role: 'secretary',
    positionals: ['verb'],
    args: z.object({
      verb: z
        .string({ message: '请写明要做什么：添加、移除或列表' })
        .transform((v) => v.toLowerCase())
        .refine((v) => [...ADD, ...REMOVE, ...LIST].includes(v), { message: '只能是 添加、移除 或 列表' }),
    }),
    async run(ctx, { verb }) {
      const { identity, event, t } = ctx;
      if (LIST.includes(verb)) {
        const list = await directory.secretaries(identity.orgId);
        if (list.length === 0) return void (await ctx.reply(t('admin.list.empty')));
        const lines = list.map((s) => `· ${s.displayName}${s.viaConfig ? t('admin.list.config') : ''}`).join('\n');
        await ctx.reply(t('admin.list', { lines }));
        return;
      }
      if (event.mentions.length === 0) throw new UserError('admin.need_mention');
      const people = await Promise.all(
        event.mentions.map(async (m) => ({
          mention: m,
          member: await directory.ensureMember(identity.orgId, event.platform, m.id, m.name),
        })),
      );
      if (ADD.includes(verb)) {
        const added: string[] = [];
        const already: string[] = [];
        for (const p of people) {
          const result = await directory.grantSecretary(identity.orgId, p.member.id, identity.memberId);
          (result === 'granted' && !directory.isConfiguredAdmin(event.platform, p.mention.id) ? added : already).push(
            p.member.displayName,
          );
        }
        const parts: string[] = [];
        if (added.length) parts.push(t('admin.added', { names: added.join('、') }));
        if (already.length) parts.push(t('admin.already', { names: already.join('、') }));
        await ctx.reply(parts.join('\n'), { mentions: people.map((p) => p.mention) });
        return;
      }
      // remove
      const parts: string[] = [];
      for (const p of people) {
        if (p.member.id === identity.memberId) {
          parts.push(t('admin.cannot_remove_self'));
        } else if (directory.isConfiguredAdmin(event.platform, p.mention.id)) {
          parts.push(t('admin.cannot_remove_config', { names: p.member.displayName }));
        } else if (await directory.revokeSecretary(identity.orgId, p.member.id)) {
          parts.push(t('admin.removed', { names: p.member.displayName }));
        } else {
          parts.push(t('admin.not_admin', { names: p.member.displayName }));
        }
      }
      await ctx.reply(parts.join('\n'));
    },
  });

  const whoamiAction = defineAction({
    id: 'org.whoami',
    payload: z.object({ v: z.literal(1) }),
    async run(ctx) {
      // A toast is private to the person who clicked; nothing goes to the group.
      return { toast: { kind: 'info', text: whoamiText(ctx) } };
    },
  });

  return defineFeature({ name: 'org', commands: [whoami, admin], actions: [whoamiAction], messages: org });
}
