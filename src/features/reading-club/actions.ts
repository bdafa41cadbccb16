import { z } from 'zod';
import { defineAction, type ActionSpec } from '../../bot/actions.ts';
import { UserError } from '../../bot/errors.ts';
import { DateTime } from 'luxon';
import { editCard, noteFormCard, rateCard } from './cards.ts';
import { exportPlan } from './commands/plan.ts';
import type { Club } from './core.ts';
import { loadSettings } from './model.ts';
import type { Participation } from './participation.ts';
import { decide, submitPlan } from './review.ts';
import { insertSessions, sessionBySeq, type SessionDraft } from './sessions.ts';

const seqPayload = z.object({ v: z.literal(1), seq: z.number().int().positive() });
const text = (max: number) => z.string().max(max).optional();

/** The club's card buttons and forms. */
export function clubActions(club: Club, part: Participation): ActionSpec[] {
  const { db, clock } = club.deps;
  const t = club.deps.messages.t;
  const ok = (text: string) => ({ toast: { kind: 'success' as const, text } });

  return [
    defineAction({
      id: 'club.checkin',
      payload: seqPayload,
      async run(ctx, p) {
        const s = await part.checkin(ctx.identity, p.seq);
        return ok(
          t('club.checkin.done', {
            name: ctx.identity.displayName,
            seq: s.seq,
            time: DateTime.fromJSDate(clock.now(), { zone: ctx.identity.timezone }).toFormat('HH:mm'),
          }),
        );
      },
    }),
    defineAction({
      id: 'club.edit.open',
      role: 'secretary',
      payload: z.object({ v: z.literal(1) }),
      form: z.object({ seq: z.coerce.number().int().positive() }),
      async run(ctx, _p, form) {
        const s = await sessionBySeq(db, ctx.identity.orgId, form.seq);
        const u = await club.units(db, ctx.identity.orgId);
        await ctx.replyPrivately({ card: editCard(t, s, ctx.identity.timezone, u.name(s.unitId)) });
        return { toast: { kind: 'info', text: t('club.edit.sent_privately', { seq: s.seq }) } };
      },
    }),
    defineAction({
      id: 'club.edit',
      role: 'secretary',
      payload: seqPayload,
      form: z.object({
        time: text(40),
        theme: text(200),
        place: text(100),
        format: text(20),
        unit: text(50),
        parts: text(60),
      }),
      async run(ctx, p, form) {
        const s = await club.edit(ctx.identity, p.seq, form);
        await ctx.updateCard(editCard(t, s, ctx.identity.timezone, (await club.units(db, s.orgId)).name(s.unitId)));
        return ok(t('club.edit.done', { seq: s.seq }));
      },
    }),
    defineAction({
      id: 'club.wizard',
      role: 'secretary',
      payload: z.object({ v: z.literal(1), year: z.number().int() }),
      form: z.record(z.string(), z.unknown()),
      async run(ctx, p, form) {
        const tz = ctx.identity.timezone;
        const str = (k: string) => (typeof form[k] === 'string' ? (form[k] as string).trim() : '');
        const day = Number((str('day') || '15').normalize('NFKC'));
        const time = /^(\d{1,2})[:：](\d{2})$/.exec((str('time') || '14:30').normalize('NFKC'));
        if (!Number.isInteger(day) || day < 1 || day > 28) throw new UserError('club.wizard.bad_day');
        if (!time) throw new UserError('club.edit.bad_time', { time: str('time') });
        const drafts: SessionDraft[] = [];
        for (let m = 1; m <= 12; m++) {
          const theme = str(`m${m}`);
          if (!theme) continue;
          const at = DateTime.fromObject(
            { year: p.year, month: m, day, hour: Number(time[1]), minute: Number(time[2]) },
            { zone: tz },
          );
          drafts.push({
            startsAt: at.toJSDate(),
            theme,
            place: str('place'),
            format: 'meeting',
            parts: [],
            tag: '',
            unitId: null,
          });
        }
        if (drafts.length === 0) throw new UserError('club.wizard.no_theme');
        const where = {
          orgId: ctx.identity.orgId,
          platform: ctx.platform,
          chatId: ctx.event.chat.id,
          memberId: ctx.identity.memberId,
          tz,
        };
        await db.$transaction(async (tx) => {
          const settings = await loadSettings(tx, where.orgId);
          for (const r of await insertSessions(tx, where, drafts, settings))
            await club.jobs.scheduleFor(tx, r, tz, settings);
        });
        await ctx.updateCard(await club.planCardFor(ctx.identity, p.year));
        return ok(t('club.wizard.done', { year: p.year, count: drafts.length }));
      },
    }),
    defineAction({
      id: 'club.export',
      role: 'secretary',
      payload: z.object({ v: z.literal(1), year: z.number().int() }),
      async run(ctx, p) {
        await exportPlan(club, ctx, p.year, 'xlsx');
        return { toast: { kind: 'info', text: t('club.export.sent') } };
      },
    }),
    defineAction({
      id: 'club.note.open',
      payload: seqPayload,
      async run(ctx, p) {
        await ctx.replyPrivately({ card: noteFormCard(t, await part.archiveSession(ctx.identity, p.seq)) });
        return { toast: { kind: 'info', text: t('club.sent_privately') } };
      },
    }),
    defineAction({
      id: 'club.note.submit',
      payload: seqPayload,
      form: z.object({ text: z.string().max(20_000).default('') }),
      async run(ctx, p, form) {
        const { session, edited } = await part.note(ctx.identity, form.text, p.seq);
        return ok(
          t(edited ? 'club.note.edited' : 'club.note.done', { seq: session.seq, length: form.text.trim().length }),
        );
      },
    }),
    defineAction({
      id: 'club.rate.open',
      payload: seqPayload,
      async run(ctx, p) {
        await ctx.replyPrivately({ card: rateCard(t, await part.archiveSession(ctx.identity, p.seq)) });
        return { toast: { kind: 'info', text: t('club.sent_privately') } };
      },
    }),
    defineAction({
      id: 'club.rate.submit',
      payload: seqPayload,
      form: z.object({ score: z.string().default(''), comment: z.string().max(2000).default('') }),
      async run(ctx, p, form) {
        const n = Number(form.score.normalize('NFKC').trim());
        const s = await part.rate(ctx.identity, n, form.comment.trim(), p.seq);
        return ok(t('club.rate.done', { seq: s.seq, score: n }));
      },
    }),
    defineAction({
      id: 'club.topic.support',
      payload: z.object({ v: z.literal(1) }),
      form: z.object({ seq: z.coerce.number().int().positive() }),
      async run(ctx, _p, form) {
        const r = await part.support(ctx.identity, form.seq);
        return ok(t('club.topic.supported', { seq: form.seq, votes: r.votes }));
      },
    }),
    defineAction({
      id: 'club.notes.remind',
      role: 'secretary',
      payload: seqPayload,
      async run(ctx, p) {
        const s = await sessionBySeq(db, ctx.identity.orgId, p.seq);
        const handed = new Set((await db.clubNote.findMany({ where: { sessionId: s.id } })).map((n) => n.memberId));
        const missing = (await db.member.findMany({ where: { orgId: s.orgId } })).filter((m) => !handed.has(m.id));
        await db.$transaction(async (tx) => {
          for (const m of missing)
            await ctx.send.in(tx).toMember(m, { text: t('club.notes.reminder', { seq: s.seq, theme: s.theme }) });
        });
        return ok(t('club.notes.reminded', { count: missing.length }));
      },
    }),
    defineAction({
      id: 'club.review.submit',
      payload: seqPayload,
      form: z.object({ plan: z.string().max(20_000).default('') }),
      async run(ctx, p, form) {
        await submitPlan(club, ctx, p.seq, form.plan);
        return ok(t('club.review.submitted', { seq: p.seq }));
      },
    }),
    defineAction({
      id: 'club.review.approve',
      role: 'secretary',
      payload: seqPayload,
      async run(ctx, p) {
        await decide(club, ctx, p.seq, 'approved', '');
        return ok(t('club.review.approved', { seq: p.seq }));
      },
    }),
    defineAction({
      id: 'club.review.return',
      role: 'secretary',
      payload: seqPayload,
      form: z.object({ comment: z.string().trim().min(1, { message: 'club.review.comment_required' }).max(500) }),
      async run(ctx, p, form) {
        await decide(club, ctx, p.seq, 'returned', form.comment);
        return ok(t('club.review.returned', { seq: p.seq }));
      },
    }),
  ];
}
