import { z } from 'zod';
import { defineSubcommand, type SubcommandSpec } from '../../../bot/commands.ts';
import { UserError } from '../../../bot/errors.ts';
import { build } from '../cards.ts';
import type { Club } from '../core.ts';
import { localTime } from '../model.ts';
import { decide, submitPlan } from '../review.ts';
import { sessionBySeq } from '../sessions.ts';

/** 读书会 送审 / 通过 / 退回 / 联系人 / 送审情况: the monthly plan review. */
export function reviewSubcommands(club: Club): SubcommandSpec[] {
  const { db, clock } = club.deps;
  const t = club.deps.messages.t;

  const submit = defineSubcommand({
    name: 'submit',
    zh: '送审',
    role: 'member',
    usageKey: 'club.usage.submit',
    positionals: ['seq', '...text'],
    args: z.object({
      seq: z.coerce.number({ message: 'club.usage.submit_seq' }).int().positive({ message: 'club.usage.submit_seq' }),
      text: z.string().optional(),
    }),
    async run(ctx, { seq, text }) {
      const attached = ctx.event.files?.[0];
      const file = attached ? { name: attached.name, bytes: new Uint8Array(await attached.read()) } : undefined;
      const s = await submitPlan(club, ctx, seq, text ?? '', file);
      await ctx.reply(t('club.review.submitted', { seq: s.seq }));
    },
  });

  const approve = defineSubcommand({
    name: 'approve',
    zh: '通过',
    role: 'secretary',
    positionals: ['seq'],
    args: z.object({ seq: z.coerce.number({ message: 'usage.number_required' }).int().positive() }),
    async run(ctx, { seq }) {
      await decide(club, ctx, seq, 'approved', '');
      await ctx.reply(t('club.review.approved', { seq }));
    },
  });

  const sendBack = defineSubcommand({
    name: 'return',
    zh: '退回',
    role: 'secretary',
    usageKey: 'club.usage.return',
    positionals: ['seq', '...comment'],
    args: z.object({
      seq: z.coerce.number({ message: 'usage.number_required' }).int().positive(),
      comment: z.string({ message: 'club.review.comment_required' }),
    }),
    async run(ctx, { seq, comment }) {
      await decide(club, ctx, seq, 'returned', comment);
      await ctx.reply(t('club.review.returned', { seq }));
    },
  });

  const contact = defineSubcommand({
    name: 'contact',
    zh: '联系人',
    role: 'secretary',
    positionals: ['seq', '...who'],
    args: z.object({
      seq: z.coerce.number({ message: 'usage.number_required' }).int().positive(),
      who: z.string().optional(),
    }),
    async run(ctx, { seq }) {
      const mention = ctx.event.mentions[0];
      if (!mention) throw new UserError('club.review.contact_who');
      const m = await db.member.findUnique({
        where: {
          orgId_platform_platformUserId: {
            orgId: ctx.identity.orgId,
            platform: ctx.platform,
            platformUserId: mention.id,
          },
        },
      });
      if (!m) throw new UserError('club.review.contact_who');
      const s = await sessionBySeq(db, ctx.identity.orgId, seq);
      if (s.unitId && m.unitId !== s.unitId)
        throw new UserError('club.review.contact_unit', {
          name: m.displayName,
          unit: (await club.units(db, s.orgId)).name(s.unitId),
        });
      await db.clubReview.update({
        where: { sessionId: s.id },
        data: { contactMemberId: m.id, updatedAt: clock.now() },
      });
      await ctx.reply(t('club.review.contact_set', { seq, name: m.displayName }));
    },
  });

  const history = defineSubcommand({
    name: 'review',
    zh: '送审情况',
    role: 'secretary',
    positionals: ['seq'],
    args: z.object({ seq: z.coerce.number({ message: 'usage.number_required' }).int().positive() }),
    async run(ctx, { seq }) {
      const s = await sessionBySeq(db, ctx.identity.orgId, seq);
      const events = await db.clubReviewEvent.findMany({
        where: { sessionId: s.id },
        orderBy: [{ at: 'asc' }, { id: 'asc' }],
      });
      const names = new Map(
        (await db.member.findMany({ where: { orgId: s.orgId } })).map((m) => [m.id, m.displayName]),
      );
      await ctx.replyPrivately({
        card: build({
          header: { title: t('club.review.history_title', { seq }), colour: 'blue' },
          elements: [
            {
              type: 'table',
              columns: [t('club.col.time'), t('club.col.state'), t('club.col.by'), t('club.col.comment')],
              rows: events.map((e) => [
                localTime(e.at, ctx.identity.timezone),
                t(`club.review.event.${e.state}` as 'club.review.event.pending'),
                (e.byMemberId && names.get(e.byMemberId)) || t('club.review.by_bot'),
                e.comment,
              ]),
            },
          ],
        }),
      });
    },
  });

  return [submit, approve, sendBack, contact, history];
}
