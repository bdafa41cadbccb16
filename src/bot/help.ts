import { z } from 'zod';
import { defineCommand, type CommandRegistry, type CommandSpec } from './commands.ts';
import type { Messages } from './messages.ts';

/** Help is generated from the command declarations, never written by hand. */
export function describeNames(spec: CommandSpec): string {
  return [spec.zh, spec.name, ...(spec.aliases ?? [])].join(' / ');
}

export function helpSections(registry: CommandRegistry, messages: Messages, showSecretary: boolean) {
  const entry = (c: CommandSpec) => ({ names: describeNames(c), summary: messages.t(c.summaryKey) });
  const all = registry.all();
  const sections = [
    { title: messages.t('help.section.all'), commands: all.filter((c) => c.role === 'member').map(entry) },
  ];
  const sec = all.filter((c) => c.role === 'secretary');
  if (showSecretary && sec.length > 0) {
    sections.push({ title: messages.t('help.section.secretary'), commands: sec.map(entry) });
  }
  return sections;
}

export function createHelpCommand(getRegistry: () => CommandRegistry): CommandSpec {
  return defineCommand({
    name: 'help',
    zh: '帮助',
    aliases: ['?', '菜单', 'menu'],
    summaryKey: 'cmd.help.summary',
    usageKey: 'cmd.help.usage',
    scope: 'any',
    role: 'member',
    positionals: ['command'],
    args: z.object({ command: z.string().optional() }),
    async run(ctx, { command }) {
      const registry = getRegistry();
      const { messages, cards } = ctx.services;
      if (command) {
        const spec = registry.find(command);
        if (!spec) {
          await ctx.reply(messages.t('help.unknown', { name: command.slice(0, 40) }));
          return;
        }
        const subs = (spec.subcommands ?? []).map((s) => `${s.zh} / ${s.name}`);
        const roleLine =
          (subs.length ? messages.t('help.detail.subcommands', { names: subs.join('、') }) : '') +
          (spec.role === 'secretary' ? messages.t('help.detail.role', { role: messages.t('role.secretary') }) : '');
        await ctx.reply(
          messages.t('help.detail', {
            names: describeNames(spec),
            summary: messages.t(spec.summaryKey),
            usage: messages.t(spec.usageKey),
            roleLine,
          }),
        );
        return;
      }
      // Everyone sees the whole list, so members know what their secretary can do.
      const card = cards.render('help', {
        sections: helpSections(registry, messages, true),
        footer: messages.t('help.footer'),
      });
      await ctx.replyCard(card);
    },
  });
}
