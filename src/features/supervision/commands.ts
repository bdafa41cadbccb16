import { z } from 'zod';
import { tokenize } from '../../bot/command-parser.ts';
import { defineCommand, defineSubcommand, type CommandSpec } from '../../bot/commands.ts';
import type { CommandContext } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import type { FeatureDeps } from '../../bot/feature.ts';
import { noticeCard, taskCard } from './cards.ts';
import type { Notices } from './notices.ts';
import type { Reports } from './reports.ts';
import { taskHistory } from './history.ts';
import { parseTaskWords } from './parse.ts';
import { isSettled, topLevel } from './store.ts';
import type { Attachment, NewTask, Origin, TaskService } from './tasks.ts';
import { formatDue, lightOf } from './time.ts';

export const originOf = (ctx: CommandContext): Origin => ({
  identity: ctx.identity,
  platform: ctx.platform,
  chat: { id: ctx.event.chat.id, kind: ctx.event.chat.kind },
});

const MB = 1024 * 1024;
/** A completion's attachment goes to the secretary as a file message; this keeps it one. */
export const MAX_ATTACHMENT_MB = 20;

/** The file sent with `完成 N`, read and checked before anything is written. */
async function attachmentOf(ctx: CommandContext): Promise<Attachment | undefined> {
  const file = ctx.event.files?.[0];
  if (!file) return undefined;
  if (file.size !== undefined && file.size > MAX_ATTACHMENT_MB * MB) {
    throw new UserError('supervision.done.file_too_large', {
      size: (file.size / MB).toFixed(1),
      max: MAX_ATTACHMENT_MB,
    });
  }
  let bytes: Buffer;
  try {
    bytes = await file.read();
  } catch (err) {
    ctx.log.warn({ err, file: file.name }, 'could not read a completion attachment');
    throw new UserError('supervision.done.file_unreadable', { name: file.name.slice(0, 60) });
  }
  if (bytes.byteLength > MAX_ATTACHMENT_MB * MB) {
    throw new UserError('supervision.done.file_too_large', {
      size: (bytes.byteLength / MB).toFixed(1),
      max: MAX_ATTACHMENT_MB,
    });
  }
  return { name: file.name.slice(0, 120), bytes };
}

const seqArg = z.object({
  n: z.coerce.number({ message: 'usage.number_required' }).int().positive({ message: 'usage.number_positive' }),
});

export function createSupervisionCommands(
  deps: FeatureDeps,
  service: TaskService,
  notices: Notices,
  reports: Reports,
): CommandSpec[] {
  const { db, clock, messages, cards } = deps;
  const t = messages.t;

  /** The form a secretary fills in step by step (`任务 新建` alone). */
  function createForm() {
    return noticeCard(cards, {
      title: t('supervision.form.title'),
      text: t('supervision.form.text'),
      controls: [
        {
          type: 'form',
          inputs: [
            { name: 'title', label: t('supervision.form.field.title'), multiline: false },
            { name: 'due', label: t('supervision.form.field.due'), placeholder: '12-20', multiline: false },
            { name: 'assignees', label: t('supervision.form.field.assignees'), multiline: false },
            { name: 'checklist', label: t('supervision.form.field.checklist'), multiline: true },
          ],
          submitText: t('supervision.form.submit'),
          actionId: 'supervision.create',
          payload: { v: 1 },
        },
      ],
    });
  }

  async function createFromWords(ctx: CommandContext): Promise<void> {
    // Re-read the message: quoted titles keep their spaces (the generic positional join would lose them).
    const tokens = tokenize(ctx.event.text).slice(2);
    if (tokens.length === 0) return void (await ctx.replyCard(createForm()));
    const now = clock.now();
    const parsed = parseTaskWords(tokens, now, ctx.identity.timezone, t('cmd.tasks.add.usage'));
    const assignees = await service.resolveAssignees(ctx.identity.orgId, ctx.platform, parsed.who, ctx.event.mentions);
    const input: NewTask = {
      title: parsed.title,
      dueAt: parsed.due,
      checklist: parsed.checklist,
      escalateAfter: parsed.escalateAfter,
      assignees,
    };
    const task = await service.create(originOf(ctx), input);
    await ctx.reply(confirmation(task.seq, input, ctx.identity.timezone));
  }

  function confirmation(seq: number, input: NewTask, tz: string): string {
    const due = formatDue(input.dueAt, tz, clock.now());
    if (input.assignees.length === 0) return t('supervision.created.claimable', { seq, title: input.title, due });
    return t('supervision.created', {
      seq,
      title: input.title,
      due,
      names: input.assignees.map((a) => a.name).join('、'),
      escalate: input.escalateAfter,
    });
  }

  /** A member's own open tasks, or every open task for a secretary. */
  async function list(ctx: CommandContext): Promise<void> {
    const { identity } = ctx;
    const now = clock.now();
    const secretary = identity.role === 'secretary';
    const tasks = await db.supervisionTask.findMany({
      where: { orgId: identity.orgId, status: 'open' },
      include: { assignees: true },
      orderBy: [{ dueAt: 'asc' }, { seq: 'asc' }],
    });
    const unitIds = new Set(identity.unitRoles.map((u) => u.unitId));
    const mine = tasks.filter((task) =>
      task.assignees.some(
        (r) =>
          !isSettled(r, task.assignees) &&
          (r.memberId === identity.memberId || (r.kind === 'unit' && r.unitId && unitIds.has(r.unitId))),
      ),
    );
    const shown = secretary ? tasks : mine;
    if (shown.length === 0)
      return void (await ctx.reply(t(secretary ? 'supervision.all.empty' : 'supervision.mine.empty')));
    const lines = shown.map((task) => {
      const tops = topLevel(task.assignees);
      const light = lightOf(task.dueAt, false, now, task.timezone, deps.workingDays);
      const extra = secretary
        ? task.claimable && tops.length === 0
          ? t('supervision.list.extra.claim')
          : t('supervision.list.extra.done', { done: tops.filter((r) => r.doneAt).length, total: tops.length })
        : '';
      return t('supervision.list.line', {
        light: t(`supervision.icon.${light}`),
        seq: task.seq,
        title: task.title,
        due: formatDue(task.dueAt, task.timezone, now),
        extra,
      });
    });
    await ctx.reply(
      secretary
        ? t('supervision.all', { count: shown.length, lines: lines.join('\n') })
        : t('supervision.mine', { lines: lines.join('\n') }),
    );
  }

  async function show(ctx: CommandContext, seq: number): Promise<void> {
    const task = await service.load(ctx.identity.orgId, seq);
    await ctx.replyCard(taskCard(notices.cardDeps, task, clock.now()));
  }

  /** `60%`, `60`, or checklist numbers `1 2 3`. */
  function progressValue(words: string[]): { percent: number } | { items: number[] } {
    const text = words.join(' ').normalize('NFKC').trim();
    const pct = /^(\d{1,3})\s*%$/.exec(text);
    if (pct) {
      const n = Number(pct[1]);
      if (n > 100) throw new UserError('supervision.progress.invalid');
      return { percent: n };
    }
    const nums = text.split(/[\s,，、]+/).filter(Boolean);
    if (nums.length && nums.every((w) => /^\d{1,3}$/.test(w))) {
      // One bare number over the checklist's size reads as a percentage only with '%'.
      return { items: nums.map(Number) };
    }
    throw new UserError('supervision.progress.invalid');
  }

  const tasks = defineCommand({
    name: 'tasks',
    zh: '任务',
    aliases: ['task', '督办'],
    summaryKey: 'cmd.tasks.summary',
    usageKey: 'cmd.tasks.usage',
    scope: 'any',
    role: 'member',
    positionals: ['n'],
    args: z.object({
      n: z.coerce
        .number({ message: 'usage.number_required' })
        .int()
        .positive({ message: 'usage.number_positive' })
        .optional(),
    }),
    async run(ctx, { n }) {
      if (n !== undefined) return show(ctx, n);
      await list(ctx);
    },
    subcommands: [
      defineSubcommand({
        name: 'add',
        zh: '新建',
        aliases: ['new', '派发', '布置'],
        usageKey: 'cmd.tasks.add.usage',
        role: 'secretary',
        positionals: ['...spec'],
        args: z.object({ spec: z.string().optional() }),
        run: (ctx) => createFromWords(ctx),
      }),
      defineSubcommand({ name: 'list', zh: '列表', aliases: ['我的'], run: (ctx) => list(ctx) }),
      defineSubcommand({
        name: 'show',
        zh: '查看',
        positionals: ['n'],
        args: seqArg,
        run: (ctx, { n }) => show(ctx, n),
      }),
      defineSubcommand({
        name: 'progress',
        zh: '进度',
        usageKey: 'cmd.tasks.progress.usage',
        positionals: ['n', '...value'],
        args: seqArg.extend({ value: z.string({ message: 'supervision.progress.invalid' }) }),
        async run(ctx, { n, value }) {
          const { reply } = await service.progress(originOf(ctx), n, progressValue(value.split(' ')));
          await ctx.reply(reply);
        },
      }),
      defineSubcommand({
        name: 'claim',
        zh: '认领',
        positionals: ['n', 'as'],
        args: seqArg.extend({ as: z.string().optional() }),
        async run(ctx, { n, as }) {
          const asUnit = as !== undefined && ['单位', 'unit'].includes(as.toLowerCase());
          await ctx.reply(await service.claimBySeq(originOf(ctx), n, asUnit));
        },
      }),
      defineSubcommand({
        name: 'board',
        zh: '看板',
        aliases: ['进度板'],
        run: async (ctx) => void (await ctx.replyCard(await reports.board(ctx.identity.orgId, ctx.identity.timezone))),
      }),
      defineSubcommand({
        name: 'log',
        zh: '记录',
        aliases: ['history', '留痕'],
        usageKey: 'cmd.tasks.log.usage',
        role: 'secretary',
        positionals: ['n'],
        args: seqArg,
        run: (ctx, { n }) => taskHistory({ db, clock, t, service }, ctx, n),
      }),
      defineSubcommand({
        name: 'reopen',
        zh: '退回',
        aliases: ['重开'],
        usageKey: 'cmd.tasks.reopen.usage',
        role: 'secretary',
        positionals: ['n', '...who'],
        args: seqArg.extend({ who: z.string().optional() }),
        async run(ctx, { n, who }) {
          const mention = ctx.event.mentions[0];
          const name = (who ?? '').replace(/^[@＠]/, '').trim();
          if (!mention && !name) throw new UserError('supervision.reopen.need', { seq: n });
          await ctx.reply(
            await service.sendBack(
              originOf(ctx),
              n,
              mention ? { memberPlatformId: mention.id, name: mention.name } : { name },
            ),
          );
        },
      }),
      defineSubcommand({
        name: 'export',
        zh: '导出',
        aliases: ['报表'],
        usageKey: 'cmd.tasks.export.usage',
        role: 'secretary',
        positionals: ['kind', 'period'],
        args: z.object({ kind: z.string({ message: 'supervision.report.bad_kind' }), period: z.string().optional() }),
        async run(ctx, { kind, period }) {
          const report = await reports.build(ctx.identity.orgId, ctx.identity.timezone, reports.kindOf(kind), period);
          await ctx.replyPrivately({
            file: report.file,
            caption: t('supervision.report.caption', { title: report.title }),
          });
          if (ctx.event.chat.kind === 'group') await ctx.reply(t('supervision.report.sent', { title: report.title }));
        },
      }),
    ],
  });

  const done = defineCommand({
    name: 'done',
    zh: '完成',
    aliases: ['办结'],
    summaryKey: 'cmd.done.summary',
    usageKey: 'cmd.done.usage',
    scope: 'any',
    role: 'member',
    positionals: ['n', '...note'],
    args: seqArg.extend({ note: z.string().max(500).optional() }),
    async run(ctx, { n, note }) {
      await ctx.reply(await service.complete(originOf(ctx), n, note, await attachmentOf(ctx)));
    },
  });

  return [tasks, done];
}
