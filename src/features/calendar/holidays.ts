import { DateTime } from 'luxon';
import { z } from 'zod';
import { defineAction } from '../../bot/actions.ts';
import { defineCommand, defineSubcommand } from '../../bot/commands.ts';
import type { ActionContext, CommandContext } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import type { FeatureDeps, PeriodicJob } from '../../bot/feature.ts';
import type { MessageKey } from '../../bot/messages.ts';
import { isUniqueViolation } from '../../lib/db.ts';
import type { Card, CardElement } from '../../platforms/types.ts';
import { HolidayImportError, parseHolidayInput, type ParsedYear } from './holiday-notice.ts';
import { createHolidayStore, decodeDays, diffDays, encodeDays, type Actor } from './holiday-store.ts';
import { describeRule, ruleSchema, usesWorkingDays } from './recurrence.ts';
import { resumeWaiting } from './waiting.ts';
import type { CalendarYear, HolidayDay } from './working-days.ts';

/** How big an attached holiday file may be (a year is a few kilobytes). */
const MAX_FILE_BYTES = 256 * 1024;

/** Reads a reminder's text from its payload, for the year-end notice (owned by commands.ts). */
export type DescribeItem = (item: {
  kind: string;
  payload: string;
  recurrence: string | null;
  dueAt: Date;
  timezone: string;
}) => string | null;

const confirmPayload = z.object({
  v: z.literal(1),
  y: z.number().int().min(2000).max(2100),
  /** The imported revision the preview was made against (0: none). */
  b: z.number().int().min(0),
  s: z.enum(['notice', 'holiday-cn']),
  d: z.array(z.string().max(40)).min(1).max(200),
});

/**
 * `节假日` / `holidays`: a year's calendar with its provenance, importing a
 * year from the pasted State Council notice or a holiday-cn JSON file
 * (preview card, stored only on confirm), removing an imported year, and the
 * audit log. Plus the two periodic jobs: resuming work that waited for a
 * year, and the weekly year-end notice to secretaries.
 */
export function createHolidays(deps: FeatureDeps, describeItem: DescribeItem) {
  const { db, clock, workingDays, messages } = deps;
  const t = messages.t;
  const store = createHolidayStore({ db, clock });

  const fmt = (d: Date, tz: string) => DateTime.fromJSDate(d, { zone: tz }).toFormat('yyyy-MM-dd HH:mm');

  /** One line per month: "2月：5日–13日 春节 休；14日、20日 春节 上班". */
  function monthRows(days: HolidayDay[]): string[][] {
    const rows: string[][] = [];
    for (let m = 1; m <= 12; m++) {
      const inMonth = days.filter((d) => Number(d.date.slice(5, 7)) === m);
      if (inMonth.length === 0) continue;
      const runs = (off: boolean) => {
        const parts: string[] = [];
        let run: HolidayDay[] = [];
        const flush = () => {
          if (run.length === 0) return;
          const a = Number(run[0]!.date.slice(8));
          const b = Number(run[run.length - 1]!.date.slice(8));
          parts.push(`${a === b ? `${a}日` : `${a}日–${b}日`} ${run[0]!.name}`);
          run = [];
        };
        for (const d of inMonth.filter((x) => x.off === off)) {
          const prev = run[run.length - 1];
          if (prev && (Number(d.date.slice(8)) !== Number(prev.date.slice(8)) + 1 || prev.name !== d.name)) flush();
          run.push(d);
        }
        flush();
        return parts.join('；');
      };
      rows.push([t('holidays.card.month', { month: m }), runs(true) || '—', runs(false) || '—']);
    }
    return rows;
  }

  function provenance(year: CalendarYear, tz: string): string {
    const s = year.source;
    if (s.kind === 'bundled') return t('holidays.source.bundled');
    return t('holidays.source.imported', {
      who: s.byName ?? t('holidays.source.operator'),
      at: fmt(s.at, tz),
      source: t(s.source === 'holiday-cn' ? 'holidays.source.holiday_cn' : 'holidays.source.notice'),
    });
  }

  function counts(days: HolidayDay[]) {
    return { off: days.filter((d) => d.off).length, work: days.filter((d) => !d.off).length };
  }

  function yearCard(year: CalendarYear, tz: string): Card {
    const elements: CardElement[] = [
      { type: 'markdown', text: t('holidays.card.summary', counts(year.days)) },
      {
        type: 'fields',
        fields: [{ label: t('holidays.card.source'), value: provenance(year, tz) }],
      },
      {
        type: 'table',
        columns: [t('holidays.card.col.month'), t('holidays.card.col.off'), t('holidays.card.col.work')],
        rows: monthRows(year.days),
      },
    ];
    if (year.source.kind === 'imported') {
      elements.push({
        type: 'note',
        text: t(year.bundled ? 'holidays.card.replaces_bundled' : 'holidays.card.remove_hint', { year: year.year }),
      });
    }
    return { header: { title: t('holidays.card.title', { year: year.year }), colour: 'blue' }, elements };
  }

  /** `节假日` alone: which years are covered and how. */
  async function overview(ctx: CommandContext): Promise<void> {
    const now = DateTime.fromJSDate(clock.now(), { zone: ctx.identity.timezone });
    const lines = [now.year, now.year + 1].map((y) => {
      const year = workingDays.year(y);
      return year
        ? t('holidays.overview.line', { year: y, source: provenance(year, ctx.identity.timezone) })
        : t('holidays.overview.missing', { year: y });
    });
    await ctx.reply(t('holidays.overview', { lines: lines.join('\n'), lastYear: workingDays.lastYear }));
  }

  async function showYear(ctx: CommandContext, y: number): Promise<void> {
    const year = workingDays.year(y);
    if (!year) throw new UserError('holidays.year.missing', { year: y });
    await ctx.replyCard(yearCard(year, ctx.identity.timezone));
  }

  const actorOf = (ctx: CommandContext | ActionContext): Actor => ({
    memberId: ctx.identity.memberId,
    name: ctx.identity.displayName,
    orgId: ctx.identity.orgId,
  });

  function problem(err: unknown): never {
    if (err instanceof HolidayImportError) throw new UserError(err.key, err.params);
    throw err;
  }

  /** The text after `节假日 导入` as typed (the tokenizer would drop quotes and line breaks). */
  function pastedText(ctx: CommandContext): string {
    const text = ctx.event.text;
    const m = /(导入|import|上传)/i.exec(text);
    return m ? text.slice(m.index + m[0].length) : '';
  }

  async function runImport(ctx: CommandContext): Promise<void> {
    let raw = pastedText(ctx).trim();
    // An optional year first: `节假日 导入 2027 <notice>` says which year is meant.
    let expected: number | undefined;
    const lead = /^(\d{4})(?:年)?(?:\s+|$)/.exec(raw.normalize('NFKC'));
    if (lead) {
      expected = Number(lead[1]);
      raw = raw.slice(lead[0].length);
    }
    const files = ctx.event.files ?? [];
    if (files.length > 1) throw new UserError('holidays.import.many_files', { count: files.length });
    let source: 'notice' | 'holiday-cn' = 'notice';
    if (files.length === 1) {
      const file = files[0]!;
      if (file.size !== undefined && file.size > MAX_FILE_BYTES) {
        throw new UserError('holidays.import.too_large', { name: file.name });
      }
      let bytes: Buffer;
      try {
        bytes = await file.read();
      } catch (err) {
        ctx.log.warn({ err, file: file.name }, 'could not read an attached holiday file');
        throw new UserError('holidays.import.unreadable', { name: file.name });
      }
      if (bytes.length > MAX_FILE_BYTES) throw new UserError('holidays.import.too_large', { name: file.name });
      raw = bytes.toString('utf8');
    }
    if (!raw.trim()) throw new UserError('holidays.import.empty');
    if (raw.trimStart().startsWith('{')) source = 'holiday-cn';
    let parsed: ParsedYear;
    try {
      parsed = parseHolidayInput(raw, expected);
    } catch (err) {
      problem(err);
    }
    await ctx.replyCard(await previewCard(parsed, source, ctx.identity.timezone));
  }

  async function previewCard(parsed: ParsedYear, source: 'notice' | 'holiday-cn', tz: string): Promise<Card> {
    const base = await store.revision(parsed.year);
    const current = workingDays.year(parsed.year);
    const { added, removed } = diffDays(current?.days ?? [], parsed.days);
    const elements: CardElement[] = [
      {
        type: 'markdown',
        text: t('holidays.preview.summary', {
          ...counts(parsed.days),
          source: t(source === 'holiday-cn' ? 'holidays.source.holiday_cn' : 'holidays.source.notice'),
        }),
      },
      {
        type: 'table',
        columns: [t('holidays.card.col.month'), t('holidays.card.col.off'), t('holidays.card.col.work')],
        rows: monthRows(parsed.days),
      },
      {
        type: 'note',
        text: current
          ? added.length + removed.length === 0
            ? t('holidays.preview.same', { source: provenance(current, tz) })
            : t('holidays.preview.replaces', {
                source: provenance(current, tz),
                added: added.length,
                removed: removed.length,
              })
          : t('holidays.preview.new', { year: parsed.year }),
      },
      {
        type: 'buttons',
        buttons: [
          {
            text: t('holidays.preview.confirm'),
            style: 'primary',
            actionId: 'calendar.holidays.confirm',
            payload: { v: 1, y: parsed.year, b: base, s: source, d: encodeDays(parsed.days) },
          },
        ],
      },
    ];
    return { header: { title: t('holidays.preview.title', { year: parsed.year }), colour: 'orange' }, elements };
  }

  /** After a year arrived: waiting reminders and daily practice go on. */
  async function afterChange(): Promise<number> {
    await workingDays.refresh();
    return (await resumeWaiting({ db, clock, workingDays })).length;
  }

  const confirmAction = defineAction({
    id: 'calendar.holidays.confirm',
    payload: confirmPayload,
    role: 'secretary',
    async run(ctx, p) {
      let days: HolidayDay[];
      try {
        days = decodeDays(p.y, p.d);
      } catch (err) {
        if (err instanceof HolidayImportError) return { toast: { kind: 'error', text: t(err.key, err.params) } };
        throw err;
      }
      const before = workingDays.year(p.y)?.days ?? [];
      let result;
      try {
        result = await store.confirm({ year: p.y, days, source: p.s, base: p.b, actor: actorOf(ctx), before });
      } catch (err) {
        if (err instanceof HolidayImportError) return { toast: { kind: 'error', text: t(err.key, err.params) } };
        throw err;
      }
      const tz = ctx.identity.timezone;
      if (!result.ok) {
        const text = result.current
          ? t('holidays.confirm.conflict', {
              year: p.y,
              who: result.current.byName ?? t('holidays.source.operator'),
              at: fmt(result.current.at, tz),
            })
          : t('holidays.confirm.conflict_removed', { year: p.y });
        await ctx.reply(text);
        return { toast: { kind: 'warning', text } };
      }
      const resumed = await afterChange();
      const year = workingDays.year(p.y);
      if (year) await ctx.updateCard(yearCard(year, tz));
      const text = t('holidays.confirm.done', { year: p.y, ...counts(days), resumed });
      await ctx.reply(text);
      return { toast: { kind: 'success', text: t('holidays.confirm.toast', { year: p.y }) } };
    },
  });

  const yearArg = z.object({
    year: z.coerce
      .number({ message: 'holidays.usage.year' })
      .int({ message: 'holidays.usage.year' })
      .min(2000, { message: 'holidays.usage.year' })
      .max(2100, { message: 'holidays.usage.year' }),
  });

  async function showAudit(ctx: CommandContext): Promise<void> {
    const rows = await store.audit();
    if (rows.length === 0) return void (await ctx.reply(t('holidays.audit.empty')));
    const detail = z.object({ days: z.number(), added: z.array(z.string()), removed: z.array(z.string()) });
    const lines = rows.map((r) => {
      const d = detail.safeParse(JSON.parse(r.detail));
      return t('holidays.audit.line', {
        at: fmt(r.at, ctx.identity.timezone),
        who: r.actorName ?? t('holidays.source.operator'),
        action: t(`holidays.audit.action.${r.action}` as MessageKey),
        year: r.year,
        added: d.success ? d.data.added.length : 0,
        removed: d.success ? d.data.removed.length : 0,
      });
    });
    await ctx.reply(t('holidays.audit', { lines: lines.join('\n') }));
  }

  const command = defineCommand({
    name: 'holidays',
    zh: '节假日',
    aliases: ['节假日日历'],
    summaryKey: 'cmd.holidays.summary',
    usageKey: 'cmd.holidays.usage',
    scope: 'any',
    role: 'member',
    positionals: ['year'],
    args: z.object({ year: yearArg.shape.year.optional() }),
    subcommands: [
      defineSubcommand({
        name: 'import',
        zh: '导入',
        aliases: ['上传'],
        role: 'secretary',
        // The notice itself is read from the raw text (runImport); the words are not parsed.
        positionals: ['...rest'],
        args: z.object({ rest: z.string().optional() }),
        run: (ctx) => runImport(ctx),
      }),
      defineSubcommand({
        name: 'remove',
        zh: '删除',
        aliases: ['移除', 'delete'],
        role: 'secretary',
        positionals: ['year'],
        args: yearArg,
        async run(ctx, { year }) {
          const row = workingDays.year(year);
          if (!row || row.source.kind !== 'imported') {
            throw new UserError(row ? 'holidays.remove.bundled' : 'holidays.remove.none', { year });
          }
          const removed = await store.remove(year, actorOf(ctx), []);
          if (!removed) throw new UserError('holidays.remove.none', { year });
          await workingDays.refresh();
          await ctx.reply(
            t(workingDays.covers(year) ? 'holidays.remove.done_bundled' : 'holidays.remove.done', { year }),
          );
        },
      }),
      defineSubcommand({ name: 'log', zh: '记录', aliases: ['日志', 'audit'], run: (ctx) => showAudit(ctx) }),
    ],
    async run(ctx, { year }) {
      // A file sent with a bare 节假日 can only be meant for import.
      if ((ctx.event.files?.length ?? 0) > 0) {
        if (ctx.identity.role !== 'secretary') {
          throw new UserError('error.forbidden.role', { role: t('role.secretary') });
        }
        return runImport(ctx);
      }
      if (year === undefined) return overview(ctx);
      await showYear(ctx, year);
    },
  });

  /** Work that waited for a year: resumed within a minute of the data arriving by any route. */
  const resumeJob: PeriodicJob = {
    name: 'resume-waiting',
    cron: '* * * * *',
    async run() {
      await workingDays.refresh();
      const resumed = await resumeWaiting({ db, clock, workingDays });
      if (resumed.length) deps.log.info({ resumed: resumed.length }, 'scheduled items resumed after holiday data');
    },
  };

  /**
   * From 1 November, while next year has no data: each organisation's
   * secretaries hear once a week which plans will stop in January and what to
   * send. The (organisation, week) key makes it once across instances.
   */
  async function yearEndNotice(): Promise<number> {
    await workingDays.refresh();
    const now = DateTime.fromJSDate(clock.now(), { zone: deps.defaultTimezone });
    const next = now.year + 1;
    if (now.month < 11 || workingDays.covers(next)) return 0;
    const period = `${next}@${now.toFormat("kkkk-'W'WW")}`;
    const orgs = await db.organisation.findMany({ select: { id: true }, orderBy: { id: 'asc' } });
    let sent = 0;
    for (const org of orgs) {
      const items = await db.scheduledItem.findMany({
        where: { orgId: org.id, status: { in: ['active', 'stalled'] } },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      const lines: string[] = [];
      for (const item of items) {
        const rule = item.recurrence ? ruleSchema.safeParse(JSON.parse(item.recurrence)) : null;
        const line =
          describeItem(item) ??
          (rule?.success && usesWorkingDays(rule.data)
            ? t('holidays.notice.plan.other', { kind: item.kind, when: describeRule(rule.data) })
            : null);
        if (line) lines.push(line);
      }
      try {
        await db.$transaction(async (tx) => {
          await tx.calendarNotice.create({ data: { orgId: org.id, period, sentAt: clock.now() } });
          await deps.send.in(tx).toSecretaries(
            org.id,
            {
              key: 'holidays.notice.weekly',
              params: {
                year: next,
                plans: lines.length
                  ? t('holidays.notice.plans', { year: next, lines: lines.slice(0, 30).join('\n') })
                  : t('holidays.notice.no_plans', { year: next }),
              },
            },
            { meta: { report: 'holiday-data' } },
          );
        });
        sent++;
      } catch (err) {
        // Already told this week (another instance, or an earlier run today).
        if (!isUniqueViolation(err)) throw err;
      }
    }
    return sent;
  }

  const noticeJob: PeriodicJob = {
    name: 'year-end-notice',
    cron: '0 9 * * *',
    run: async () => void (await yearEndNotice()),
  };

  return {
    commands: [command],
    actions: [confirmAction],
    periodic: [resumeJob, noticeJob],
    /** For the CLI and tests. */
    store,
    yearEndNotice,
    afterChange,
  };
}
