import { z } from 'zod';
import { defineCommand, defineSubcommand } from '../../../bot/commands.ts';
import { UserError } from '../../../bot/errors.ts';
import type { Club } from '../core.ts';
import { localTime } from '../model.ts';
import type { Participation } from '../participation.ts';

/** `签到` / `checkin` (and `签到 代签 @某人` for a secretary) in the group. */
export function checkinCommand(club: Club, part: Participation) {
  const t = club.deps.messages.t;
  const { db } = club.deps;
  return defineCommand({
    name: 'checkin',
    zh: '签到',
    summaryKey: 'cmd.checkin.summary',
    usageKey: 'cmd.checkin.usage',
    scope: 'group',
    role: 'member',
    subcommands: [
      defineSubcommand({
        name: 'for',
        zh: '代签',
        role: 'secretary',
        positionals: ['...who'],
        args: z.object({ who: z.string().optional() }),
        async run(ctx) {
          const ids: string[] = [];
          for (const m of ctx.event.mentions) {
            const row = await db.member.findUnique({
              where: {
                orgId_platform_platformUserId: {
                  orgId: ctx.identity.orgId,
                  platform: ctx.platform,
                  platformUserId: m.id,
                },
              },
            });
            if (!row) throw new UserError('club.checkin.unknown_member', { name: m.name });
            ids.push(row.id);
          }
          const { session, names } = await part.checkinFor(ctx.identity, ids);
          await ctx.reply(t('club.checkin.for_done', { seq: session.seq, names: names.join('、') }));
        },
      }),
    ],
    async run(ctx) {
      const s = await part.checkin(ctx.identity);
      await ctx.reply(
        t('club.checkin.done', {
          name: ctx.identity.displayName,
          seq: s.seq,
          time: localTime(club.deps.clock.now(), ctx.identity.timezone).slice(-5),
        }),
      );
    },
  });
}

/** `心得 <text>` / `note <text>`: a study note for the current session (the latest, while its archive is open). */
export function noteCommand(club: Club, part: Participation) {
  const t = club.deps.messages.t;
  return defineCommand({
    name: 'note',
    zh: '心得',
    summaryKey: 'cmd.note.summary',
    usageKey: 'cmd.note.usage',
    scope: 'any',
    role: 'member',
    positionals: ['...text'],
    args: z.object({ text: z.string().optional() }),
    async run(ctx, { text }) {
      let body = text ?? '';
      const file = ctx.event.files?.[0];
      if (!body.trim() && file) {
        if (!/\.(txt|md)$/i.test(file.name)) throw new UserError('club.note.file_type', { name: file.name });
        body = new TextDecoder('utf-8').decode(await file.read());
      }
      if (!body.trim()) throw new UserError('club.note.empty');
      const { session, edited } = await part.note(ctx.identity, body);
      // The note itself is the member's; the group only hears that it is in.
      await ctx.replyPrivately(
        t(edited ? 'club.note.edited' : 'club.note.done', { seq: session.seq, length: body.trim().length }),
      );
    },
  });
}
