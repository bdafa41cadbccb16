import { z } from 'zod';
import { defineAction } from '../../bot/actions.ts';
import { defineCommand, defineSubcommand } from '../../bot/commands.ts';
import type { ActionContext, CommandContext } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import { defineFeature, type Feature, type FeatureDeps } from '../../bot/feature.ts';
import { org } from '../../messages/zh-CN/org.ts';
import { createAdminRemoval } from './admin-remove.ts';
import { createUnitsCommand } from './units-command.ts';

/** The platform as members call it; an unknown id is shown as it is. */
function platformName(ctx: CommandContext | ActionContext): string {
  const p = ctx.platform;
  return p === 'feishu' || p === 'dingtalk' || p === 'sandbox' ? ctx.t(`platform.${p}`) : p;
}

function whoamiText(ctx: CommandContext | ActionContext): string {
  const { identity, t } = ctx;
  const text = t('whoami.text', {
    name: identity.displayName,
    unit: identity.unitName ?? t('whoami.no_unit'),
    role: t(identity.role === 'secretary' ? 'role.secretary' : 'role.member'),
    platform: platformName(ctx),
  });
  if (identity.unitRoles.length === 0) return text;
  const roles = identity.unitRoles
    .map((r) => t(r.role === 'head' ? 'unit_role.head' : 'unit_role.contact', { unit: r.unitName }))
    .join('、');
  return `${text}\n${t('whoami.unit_roles', { roles })}`;
}

/** Who is who: `我是谁`, secretaries (`管理员`), units and their heads and contacts (`单位`). */
export function createOrgFeature(deps: FeatureDeps): Feature {
  const { directory } = deps;
  const removal = createAdminRemoval(deps);

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

  /** The people named in a `管理员 添加/移除` message, registered on first mention. */
  async function mentioned(ctx: CommandContext) {
    const { identity, event } = ctx;
    if (event.mentions.length === 0) throw new UserError('admin.need_mention');
    return Promise.all(
      event.mentions.map(async (m) => ({
        mention: m,
        member: await directory.ensureMember(identity.orgId, event.platform, m.id, m.name),
      })),
    );
  }

  const admin = defineCommand({
    name: 'admin',
    zh: '管理员',
    summaryKey: 'cmd.admin.summary',
    usageKey: 'cmd.admin.usage',
    scope: 'any',
    role: 'secretary',
    positionals: ['verb'],
    // Reached only when no sub-word matched: the schema answers with what is missing or wrong.
    args: z.object({
      verb: z
        .string({ message: 'admin.usage.verb_required' })
        .refine(() => false, { message: 'admin.usage.verb_unknown' }),
    }),
    async run() {},
    subcommands: [
      defineSubcommand({
        name: 'list',
        zh: '列表',
        aliases: ['查看'],
        async run(ctx) {
          const { identity, t } = ctx;
          const list = await directory.secretaries(identity.orgId);
          if (list.length === 0) return void (await ctx.reply(t('admin.list.empty')));
          const lines = list.map((s) => `· ${s.displayName}${s.viaConfig ? t('admin.list.config') : ''}`).join('\n');
          await ctx.reply(t('admin.list', { lines }));
        },
      }),
      defineSubcommand({
        name: 'add',
        zh: '添加',
        aliases: ['增加', '设置'],
        async run(ctx) {
          const { identity, event, t } = ctx;
          const people = await mentioned(ctx);
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
        },
      }),
      defineSubcommand({
        name: 'remove',
        zh: '移除',
        aliases: ['删除', '取消'],
        run: (ctx) => removal.ask(ctx),
      }),
    ],
  });

  const units = createUnitsCommand(directory);

  const whoamiAction = defineAction({
    id: 'org.whoami',
    payload: z.object({ v: z.literal(1) }),
    async run(ctx) {
      // A toast is private to the person who clicked; nothing goes to the group.
      return { toast: { kind: 'info', text: whoamiText(ctx) } };
    },
  });

  return defineFeature({
    name: 'org',
    commands: [whoami, admin, units],
    actions: [whoamiAction, ...removal.actions],
    messages: org,
  });
}
