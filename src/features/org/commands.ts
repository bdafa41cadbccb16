import { z } from 'zod';
import { defineAction } from '../../bot/actions.ts';
import { defineCommand } from '../../bot/commands.ts';
import type { ActionContext, CommandContext, UnitRoleName } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import { defineFeature, type Feature, type FeatureDeps } from '../../bot/feature.ts';
import { org } from '../../messages/zh-CN/org.ts';

function whoamiText(ctx: CommandContext | ActionContext): string {
  const { identity, t } = ctx;
  const text = t('whoami.text', {
    name: identity.displayName,
    unit: identity.unitName ?? t('whoami.no_unit'),
    role: t(identity.role === 'secretary' ? 'role.secretary' : 'role.member'),
    platform: ctx.platform,
  });
  if (identity.unitRoles.length === 0) return text;
  const roles = identity.unitRoles
    .map((r) => t(r.role === 'head' ? 'unit_role.head' : 'unit_role.contact', { unit: r.unitName }))
    .join('、');
  return `${text}\n${t('whoami.unit_roles', { roles })}`;
}

const ADD = ['add', '添加', '增加', '设置'];
const REMOVE = ['remove', '移除', '删除', '取消'];
const LIST = ['list', '列表', '查看'];

/** The sub-words of `单位` / `units`, Chinese and English. */
const UNIT_VERBS = {
  list: LIST,
  new: ['new', 'create', '新建', '创建'],
  member: ['member', 'members', '成员', '分配'],
  head: ['head', '负责人'],
  contact: ['contact', '联络员'],
  remove: REMOVE,
} as const;
type UnitVerb = keyof typeof UNIT_VERBS;

function unitVerb(word: string | undefined): UnitVerb | undefined {
  if (word === undefined) return 'list';
  const w = word.toLowerCase();
  return (Object.keys(UNIT_VERBS) as UnitVerb[]).find((v) => (UNIT_VERBS[v] as readonly string[]).includes(w));
}

/** Who is who: `我是谁`, secretaries (`管理员`), units and their heads and contacts (`单位`). */
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

  const units = defineCommand({
    name: 'units',
    zh: '单位',
    aliases: ['unit'],
    summaryKey: 'cmd.units.summary',
    usageKey: 'cmd.units.usage',
    scope: 'any',
    role: 'secretary',
    positionals: ['verb', 'unit', '...rest'],
    args: z.object({ verb: z.string().optional(), unit: z.string().optional(), rest: z.string().optional() }),
    async run(ctx, args) {
      const { identity, event, t } = ctx;
      const usage = (problem: string) => new UserError('error.usage', { problem, usage: t('cmd.units.usage') });
      const verb = unitVerb(args.verb);
      if (!verb) throw usage(t('units.bad_verb', { verb: args.verb ?? '' }));
      // Mentions are taken out of the words; what is left over is either a stray word or an `@name` nobody answers to.
      const leftover = (args.rest ?? '').split(' ').filter(Boolean);
      const strayMentions = leftover.filter((w) => w.startsWith('@'));
      const strayWords = leftover.filter((w) => !w.startsWith('@'));

      if (verb === 'list') {
        if (args.unit !== undefined || leftover.length)
          throw usage(t('units.extra', { words: [args.unit, ...leftover].join(' ') }));
        const list = await directory.units(identity.orgId);
        if (list.length === 0) return void (await ctx.reply(t('units.list.empty')));
        const names = (hs: { displayName: string }[]) =>
          hs.length ? hs.map((h) => h.displayName).join('、') : t('units.list.nobody');
        const lines = list
          .map((u) =>
            t('units.list.line', {
              name: u.name,
              count: u.memberCount,
              heads: names(u.heads),
              contacts: names(u.contacts),
            }),
          )
          .join('\n');
        await ctx.reply(t('units.list', { lines }));
        return;
      }

      const unitName = args.unit?.trim();
      if (!unitName) throw usage(t('units.need_unit'));
      if (strayWords.length) throw usage(t('units.extra', { words: strayWords.join(' ') }));

      if (verb === 'new') {
        if (strayMentions.length || event.mentions.length) throw usage(t('units.extra', { words: leftover.join(' ') }));
        if (unitName.length > 30 || unitName.startsWith('@')) throw usage(t('units.name_invalid'));
        const { created } = await directory.createUnit(identity.orgId, unitName);
        await ctx.reply(t(created ? 'units.created' : 'units.exists', { unit: unitName }));
        return;
      }

      const unit = await directory.findUnit(identity.orgId, unitName);
      if (!unit) {
        const existing = (await directory.units(identity.orgId)).map((u) => u.name);
        throw new UserError(existing.length ? 'units.unknown_unit' : 'units.unknown_unit.none', {
          unit: unitName,
          names: existing.join('、'),
        });
      }
      if (strayMentions.length) throw new UserError('units.unknown_person', { names: strayMentions.join('、') });
      if (event.mentions.length === 0) throw new UserError('units.need_mention', { unit: unit.name });
      const people = await Promise.all(
        event.mentions.map(async (m) => ({
          mention: m,
          member: await directory.ensureMember(identity.orgId, event.platform, m.id, m.name),
        })),
      );
      const done: string[] = [];
      const already: string[] = [];

      if (verb === 'member') {
        for (const p of people) {
          const result = await directory.setMemberUnit(p.member.id, unit.id);
          (result === 'moved' ? done : already).push(p.member.displayName);
        }
        await ctx.reply(
          join([
            done.length ? t('units.member.set', { names: done.join('、'), unit: unit.name }) : '',
            already.length ? t('units.member.already', { names: already.join('、'), unit: unit.name }) : '',
          ]),
          { mentions: people.map((p) => p.mention) },
        );
        return;
      }

      if (verb === 'head' || verb === 'contact') {
        const role: UnitRoleName = verb;
        for (const p of people) {
          const result = await directory.grantUnitRole(unit.id, p.member.id, role, identity.memberId);
          (result === 'granted' ? done : already).push(p.member.displayName);
        }
        const names = { unit: unit.name };
        await ctx.reply(
          join([
            done.length
              ? t(role === 'head' ? 'units.head.granted' : 'units.contact.granted', {
                  ...names,
                  names: done.join('、'),
                })
              : '',
            already.length
              ? t(role === 'head' ? 'units.head.already' : 'units.contact.already', {
                  ...names,
                  names: already.join('、'),
                })
              : '',
          ]),
          { mentions: people.map((p) => p.mention) },
        );
        return;
      }

      // remove: the person's head and contact roles in this unit (membership stays; `单位 成员` moves people)
      for (const p of people) {
        const removed = await directory.revokeUnitRole(unit.id, p.member.id);
        (removed > 0 ? done : already).push(p.member.displayName);
      }
      await ctx.reply(
        join([
          done.length ? t('units.removed', { names: done.join('、'), unit: unit.name }) : '',
          already.length ? t('units.not_holder', { names: already.join('、'), unit: unit.name }) : '',
        ]),
      );
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

  return defineFeature({ name: 'org', commands: [whoami, admin, units], actions: [whoamiAction], messages: org });
}

const join = (parts: string[]) => parts.filter(Boolean).join('\n');
