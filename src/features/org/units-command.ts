import { z } from 'zod';
import { defineCommand, defineSubcommand, type CommandSpec } from '../../bot/commands.ts';
import type { CommandContext, UnitRoleName } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import type { MessageKey } from '../../bot/messages.ts';
import type { Directory } from './directory.ts';

const join = (parts: string[]) => parts.filter(Boolean).join('\n');

/** `单位 <sub-word> 单位名 …`: the unit name and the words after it. */
const unitArgs = z.object({ unit: z.string().optional(), rest: z.string().optional() });
type UnitArgs = z.output<typeof unitArgs>;

/**
 * `单位` / `units`: the organisation's units, who is in them, and their heads
 * (负责人) and contacts (联络员), who receive escalations and act for the unit.
 * Secretaries only.
 */
export function createUnitsCommand(directory: Directory): CommandSpec {
  const usage = (ctx: CommandContext, problem: string) =>
    new UserError('error.usage', { problem, usage: ctx.t('cmd.units.usage') });

  /**
   * The unit named, checked: mentions are taken out of the words, so what is
   * left over is either a stray word or an `@name` nobody answers to.
   */
  async function resolve(ctx: CommandContext, args: UnitArgs) {
    const { identity, event, t } = ctx;
    const leftover = (args.rest ?? '').split(' ').filter(Boolean);
    const strayMentions = leftover.filter((w) => w.startsWith('@'));
    const strayWords = leftover.filter((w) => !w.startsWith('@'));
    const unitName = args.unit?.trim();
    if (!unitName) throw usage(ctx, t('units.need_unit'));
    if (strayWords.length) throw usage(ctx, t('units.extra', { words: strayWords.join(' ') }));
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
    return { unit, people };
  }

  async function list(ctx: CommandContext): Promise<void> {
    const { identity, t } = ctx;
    const all = await directory.units(identity.orgId);
    if (all.length === 0) return void (await ctx.reply(t('units.list.empty')));
    const names = (hs: { displayName: string }[]) =>
      hs.length ? hs.map((h) => h.displayName).join('、') : t('units.list.nobody');
    const lines = all
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
  }

  /**
   * A sub-word that does something to each person mentioned in a unit: `act`
   * says whether it changed anything; the reply names who changed and who
   * already was so, with the catalogue keys given.
   */
  function forEachPerson(
    act: (unitId: string, memberId: string, by: string) => Promise<boolean>,
    keys: { done: MessageKey; already: MessageKey },
    mentionThem: boolean,
  ) {
    return async (ctx: CommandContext, args: UnitArgs) => {
      const { t, identity } = ctx;
      const { unit, people } = await resolve(ctx, args);
      const done: string[] = [];
      const already: string[] = [];
      for (const p of people) {
        ((await act(unit.id, p.member.id, identity.memberId)) ? done : already).push(p.member.displayName);
      }
      const line = (key: MessageKey, names: string[]) =>
        names.length ? t(key, { unit: unit.name, names: names.join('、') }) : '';
      await ctx.reply(join([line(keys.done, done), line(keys.already, already)]), {
        mentions: mentionThem ? people.map((p) => p.mention) : undefined,
      });
    };
  }

  const grantRole = (role: UnitRoleName) =>
    forEachPerson(
      async (unitId, memberId, by) => (await directory.grantUnitRole(unitId, memberId, role, by)) === 'granted',
      role === 'head'
        ? { done: 'units.head.granted', already: 'units.head.already' }
        : { done: 'units.contact.granted', already: 'units.contact.already' },
      true,
    );

  const withUnit = { positionals: ['unit', '...rest'], args: unitArgs };

  return defineCommand({
    name: 'units',
    zh: '单位',
    aliases: ['unit'],
    summaryKey: 'cmd.units.summary',
    usageKey: 'cmd.units.usage',
    scope: 'any',
    role: 'secretary',
    positionals: ['verb', '...rest'],
    // Reached only when no sub-word matched: a bare 单位 lists, anything else is not a sub-word.
    args: z.object({ verb: z.string().optional(), rest: z.string().optional() }),
    async run(ctx, { verb }) {
      if (verb !== undefined) throw usage(ctx, ctx.t('units.bad_verb', { verb }));
      await list(ctx);
    },
    subcommands: [
      defineSubcommand({ name: 'list', zh: '列表', aliases: ['查看'], run: list }),
      defineSubcommand({
        name: 'new',
        zh: '新建',
        aliases: ['create', '创建'],
        positionals: ['unit', '...rest'],
        args: unitArgs,
        async run(ctx, args) {
          const { identity, event, t } = ctx;
          const unitName = args.unit?.trim();
          if (!unitName) throw usage(ctx, t('units.need_unit'));
          if (args.rest || event.mentions.length) throw usage(ctx, t('units.extra', { words: args.rest ?? '' }));
          if (unitName.length > 30 || unitName.startsWith('@')) throw usage(ctx, t('units.name_invalid'));
          const { created } = await directory.createUnit(identity.orgId, unitName);
          await ctx.reply(t(created ? 'units.created' : 'units.exists', { unit: unitName }));
        },
      }),
      defineSubcommand({
        name: 'member',
        zh: '成员',
        aliases: ['members', '分配'],
        ...withUnit,
        run: forEachPerson(
          async (unitId, memberId) => (await directory.setMemberUnit(memberId, unitId)) === 'moved',
          { done: 'units.member.set', already: 'units.member.already' },
          true,
        ),
      }),
      defineSubcommand({ name: 'head', zh: '负责人', ...withUnit, run: grantRole('head') }),
      defineSubcommand({ name: 'contact', zh: '联络员', ...withUnit, run: grantRole('contact') }),
      defineSubcommand({
        name: 'remove',
        zh: '移除',
        aliases: ['删除', '取消'],
        ...withUnit,
        // The person's head and contact roles in this unit; membership stays (`单位 成员` moves people).
        run: forEachPerson(
          async (unitId, memberId) => (await directory.revokeUnitRole(unitId, memberId)) > 0,
          { done: 'units.removed', already: 'units.not_holder' },
          false,
        ),
      }),
    ],
  });
}
