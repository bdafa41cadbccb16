import { z } from 'zod';
import { tokenize } from '../../bot/command-parser.ts';
import { defineAction, type ActionSpec } from '../../bot/actions.ts';
import type { ActionContext } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import type { FeatureDeps } from '../../bot/feature.ts';
import type { AckReply } from '../../platforms/types.ts';
import { checkTitle, DEFAULT_ESCALATE, splitChecklist } from './parse.ts';
import { taskById } from './store.ts';
import type { Origin, TaskService } from './tasks.ts';
import { formatDue, parseDeadline } from './time.ts';

const taskPayload = z.object({ v: z.literal(1), task: z.string().min(1).max(64) });
const text = z.string().max(2000).optional();

const originOf = (ctx: ActionContext): Origin => ({
  identity: ctx.identity,
  platform: ctx.platform,
  chat: { id: ctx.event.chat.id, kind: ctx.event.chat.kind },
});

/**
 * The task list's buttons and forms. The clicker is the event's sender; the
 * payload only names the task. Answers go back as a toast (the card itself
 * is replaced through the outbox, for everyone in the group).
 */
export function createSupervisionActions(deps: FeatureDeps, service: TaskService): ActionSpec[] {
  const { db, messages, clock } = deps;
  const t = messages.t;
  const ok = (text: string): AckReply => ({ toast: { kind: 'success', text } });

  async function seqOf(ctx: ActionContext, id: string): Promise<number> {
    const task = await taskById(db, id);
    if (!task || task.orgId !== ctx.identity.orgId) throw new UserError('supervision.no_such', { seq: '?' });
    return task.seq;
  }

  return [
    defineAction({
      id: 'supervision.done',
      payload: taskPayload,
      async run(ctx, p) {
        return ok(await service.complete(originOf(ctx), await seqOf(ctx, p.task), undefined));
      },
    }),
    defineAction({
      id: 'supervision.progress',
      payload: taskPayload,
      form: z.object({ progress: z.string().optional(), note: text }),
      async run(ctx, p, form) {
        const n = Number((form.progress ?? '').normalize('NFKC').replace(/%$/, '').trim());
        if (!Number.isInteger(n) || n < 0 || n > 100) throw new UserError('supervision.progress.invalid');
        const { reply } = await service.progress(
          originOf(ctx),
          await seqOf(ctx, p.task),
          { percent: n },
          form.note?.trim() || undefined,
        );
        return ok(reply);
      },
    }),
    defineAction({
      id: 'supervision.check',
      payload: taskPayload,
      form: z.object({ items: z.union([z.array(z.string()), z.string()]).optional() }),
      async run(ctx, p, form) {
        const raw = form.items === undefined ? [] : Array.isArray(form.items) ? form.items : [form.items];
        const items = raw.map(Number).filter((n) => Number.isInteger(n));
        if (items.length === 0) throw new UserError('supervision.progress.invalid');
        const { reply } = await service.progress(originOf(ctx), await seqOf(ctx, p.task), { items });
        return ok(reply);
      },
    }),
    defineAction({
      id: 'supervision.claim',
      payload: taskPayload,
      run: async (ctx, p) => ok(await service.claim(originOf(ctx), p.task, false)),
    }),
    defineAction({
      id: 'supervision.claim_unit',
      payload: taskPayload,
      run: async (ctx, p) => ok(await service.claim(originOf(ctx), p.task, true)),
    }),
    defineAction({
      id: 'supervision.create',
      role: 'secretary',
      payload: z.object({ v: z.literal(1) }),
      form: z.object({ title: text, due: text, assignees: text, checklist: text }),
      async run(ctx, _p, form) {
        const tz = ctx.identity.timezone;
        const now = clock.now();
        const title = checkTitle(form.title ?? '');
        const dueAt = parseDeadline(tokenize(form.due ?? ''), now, tz).at;
        const words = (form.assignees ?? '').split(/[\s,，、;；]+/).filter(Boolean);
        const assignees = await service.resolveAssignees(ctx.identity.orgId, ctx.platform, words, []);
        const checklist = form.checklist?.trim() ? splitChecklist(form.checklist) : [];
        const task = await service.create(originOf(ctx), {
          title,
          dueAt,
          checklist,
          escalateAfter: DEFAULT_ESCALATE,
          assignees,
        });
        const due = formatDue(dueAt, tz, now);
        return ok(
          assignees.length
            ? t('supervision.created', {
                seq: task.seq,
                title,
                due,
                names: assignees.map((a) => a.name).join('、'),
                escalate: DEFAULT_ESCALATE,
              })
            : t('supervision.created.claimable', { seq: task.seq, title, due }),
        );
      },
    }),
  ];
}
