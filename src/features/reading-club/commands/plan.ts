import { DateTime } from 'luxon';
import { z } from 'zod';
import { defineSubcommand, type SubcommandSpec } from '../../../bot/commands.ts';
import type { CommandContext } from '../../../bot/context.ts';
import { UserError } from '../../../bot/errors.ts';
import { safeFileName, XLSX_CONTENT_TYPE } from '../../../bot/downloads.ts';
import { MAX_IMPORT_BYTES } from '../../quiz/bank/file-format.ts';
import { renderProblems } from '../../quiz/bank/problems.ts';
import { editCard, wizardCard } from '../cards.ts';
import { EDIT_WORDS, yearArg, type Club, type EditField } from '../core.ts';
import {
  DEFAULT_SETTINGS,
  describeOffsets,
  loadSettings,
  parseReminderOffsets,
  partsColumn,
  saveSettings,
} from '../model.ts';
import { draftsFromTable, parseOneLiner, planRows, readTable, writePlanFile } from '../plan-input.ts';
import { insertSessions, rotationUnits, sessionBySeq, sessionsOfYear, type Where } from '../sessions.ts';

const yearSchema = z.coerce
  .number({ message: 'club.usage.year' })
  .int()
  .min(2000, { message: 'club.usage.year' })
  .max(2100, { message: 'club.usage.year' });
const seqSchema = z.coerce
  .number({ message: 'usage.number_required' })
  .int()
  .positive({ message: 'usage.number_positive' });

export function whereOf(ctx: CommandContext): Where {
  return {
    orgId: ctx.identity.orgId,
    platform: ctx.platform,
    chatId: ctx.event.chat.id,
    memberId: ctx.identity.memberId,
    tz: ctx.identity.timezone,
  };
}

/** 读书会 计划 / 安排 / 修改 / 对调 / 轮换 / 导入 / 模板 / 导出 / 设置: making the year's plan. */
export function planSubcommands(club: Club): SubcommandSpec[] {
  const { deps } = club;
  const { db, clock } = deps;
  const t = deps.messages.t;

  async function afterWrite(ctx: CommandContext, year: number) {
    await ctx.replyCard(await club.planCardFor(ctx.identity, year));
  }

  const plan = defineSubcommand({
    name: 'plan',
    zh: '计划',
    role: 'member',
    positionals: ['year', 'mode'],
    args: z.object({ year: yearSchema.optional(), mode: z.string().optional() }),
    async run(ctx, { year, mode }) {
      const y = yearArg(ctx, club, year);
      if (mode) {
        if (!['新建', 'new', '创建'].includes(mode.toLowerCase())) throw new UserError('club.plan.bad_mode', { mode });
        club.requireSecretary(ctx);
        if ((await sessionsOfYear(db, ctx.identity.orgId, y)).length > 0)
          throw new UserError('club.wizard.exists', { year: y });
        await ctx.replyCard(wizardCard(t, y));
        return;
      }
      await ctx.replyCard(await club.planCardFor(ctx.identity, y));
    },
  });

  const add = defineSubcommand({
    name: 'add',
    zh: '安排',
    role: 'secretary',
    usageKey: 'club.usage.add',
    positionals: ['...spec'],
    args: z.object({ spec: z.string({ message: 'club.usage.add_required' }) }),
    async run(ctx, { spec }) {
      const where = whereOf(ctx);
      const u = await club.units(db, where.orgId);
      const draft = parseOneLiner(spec, clock.now(), where.tz, u);
      const [row] = await db.$transaction(async (tx) => {
        const settings = await loadSettings(tx, where.orgId);
        const rows = await insertSessions(tx, where, [draft], settings);
        for (const r of rows) await club.jobs.scheduleFor(tx, r, where.tz, settings);
        return rows;
      });
      await ctx.reply(
        t('club.add.done', {
          seq: row!.seq,
          theme: row!.theme,
          time: DateTime.fromJSDate(row!.startsAt, { zone: where.tz }).toFormat('yyyy-MM-dd HH:mm'),
          unit: u.name(row!.unitId) || '—',
        }),
      );
    },
  });

  const edit = defineSubcommand({
    name: 'edit',
    zh: '修改',
    role: 'secretary',
    usageKey: 'club.usage.edit',
    positionals: ['seq', '...rest'],
    args: z.object({ seq: seqSchema, rest: z.string().optional() }),
    async run(ctx, { seq, rest }) {
      const words = (rest ?? '').split(/\s+/).filter(Boolean);
      if (words.length === 0) {
        const s = await sessionBySeq(db, ctx.identity.orgId, seq);
        const u = await club.units(db, ctx.identity.orgId);
        await ctx.replyCard(editCard(t, s, ctx.identity.timezone, u.name(s.unitId)));
        return;
      }
      const fields: Partial<Record<EditField, string>> = {};
      let cur: EditField | null = null;
      for (const w of words) {
        const f = EDIT_WORDS[w.toLowerCase()];
        if (f) {
          cur = f;
          fields[f] = '';
        } else if (cur) fields[cur] = `${fields[cur]} ${w}`.trim();
        else throw new UserError('club.edit.unknown_field', { word: w });
      }
      const s = await club.edit(ctx.identity, seq, fields);
      await ctx.reply(t('club.edit.done', { seq: s.seq }));
      await afterWrite(ctx, s.year);
    },
  });

  function monthOf(word: string, year: number): { year: number; month: number } {
    const w = word.normalize('NFKC');
    const m = /^(?:(\d{4})-)?(\d{1,2})月?$/.exec(w);
    const month = Number(m?.[2]);
    if (!m || month < 1 || month > 12) throw new UserError('club.swap.bad_month', { word });
    return { year: m[1] ? Number(m[1]) : year, month };
  }

  const swap = defineSubcommand({
    name: 'swap',
    zh: '对调',
    aliases: ['调换', '交换'],
    role: 'secretary',
    usageKey: 'club.usage.swap',
    positionals: ['a', 'b'],
    options: { year: { type: 'string' } },
    args: z.object({
      a: z.string({ message: 'club.usage.swap_required' }),
      b: z.string({ message: 'club.usage.swap_required' }),
      year: yearSchema.optional(),
    }),
    async run(ctx, { a, b, year }) {
      const y = yearArg(ctx, club, year);
      const ma = monthOf(a, y);
      const mb = monthOf(b, y);
      const orgId = ctx.identity.orgId;
      // The content moves; the dates and the numbers (第N期 in date order) stay with the months.
      await db.$transaction(async (tx) => {
        const sa = await tx.clubSession.findUnique({ where: { orgId_year_month: { orgId, ...ma } } });
        const sb = await tx.clubSession.findUnique({ where: { orgId_year_month: { orgId, ...mb } } });
        if (!sa) throw new UserError('club.swap.no_session', ma);
        if (!sb) throw new UserError('club.swap.no_session', mb);
        if (sa.id === sb.id) throw new UserError('club.swap.same');
        const content = (s: typeof sa) => ({
          theme: s.theme,
          place: s.place,
          format: s.format,
          parts: s.parts,
          tag: s.tag,
          unitId: s.unitId,
        });
        await tx.clubSession.update({ where: { id: sa.id }, data: content(sb) });
        await tx.clubSession.update({ where: { id: sb.id }, data: content(sa) });
      });
      await ctx.reply(t('club.swap.done', { a: `${ma.year}-${ma.month}`, b: `${mb.year}-${mb.month}` }));
      await afterWrite(ctx, ma.year);
    },
  });

  const rotation = defineSubcommand({
    name: 'rotation',
    zh: '轮换',
    role: 'secretary',
    usageKey: 'club.usage.rotation',
    positionals: ['action', '...unit'],
    args: z.object({ action: z.string().optional(), unit: z.string().optional() }),
    async run(ctx, { action, unit }) {
      const orgId = ctx.identity.orgId;
      const settings = await loadSettings(db, orgId);
      if (action) {
        const exclude = ['排除', '跳过', 'exclude', 'skip'].includes(action.toLowerCase());
        const include = ['恢复', '加入', 'include'].includes(action.toLowerCase());
        if (!exclude && !include) throw new UserError('club.rotation.bad_action', { action });
        const u = (await club.units(db, orgId)).byName(unit ?? '');
        if (!u) throw new UserError('club.no_unit', { line: '', unit: unit ?? '' });
        settings.excludedUnits = exclude
          ? [...new Set([...settings.excludedUnits, u.id])]
          : settings.excludedUnits.filter((x) => x !== u.id);
        await saveSettings(db, orgId, settings);
      }
      const order = await rotationUnits(db, orgId, settings);
      const u = await club.units(db, orgId);
      await ctx.reply(
        t('club.rotation.show', {
          order: order.map((x) => x.name).join(' → ') || t('club.none'),
          excluded: settings.excludedUnits.map((id) => u.name(id)).join('、') || t('club.none'),
        }),
      );
    },
  });

  const importSub = defineSubcommand({
    name: 'import',
    zh: '导入',
    role: 'secretary',
    usageKey: 'club.usage.import',
    positionals: ['year'],
    args: z.object({ year: yearSchema.optional() }),
    async run(ctx, { year }) {
      const y = yearArg(ctx, club, year);
      const files = ctx.event.files ?? [];
      if (files.length !== 1) throw new UserError('club.import.no_file');
      const file = files[0]!;
      if (file.size !== undefined && file.size > MAX_IMPORT_BYTES)
        throw new UserError('bank.file.too_large', { max: MAX_IMPORT_BYTES / 1024 / 1024 });
      const table = await readTable(file.name, await file.read());
      const where = whereOf(ctx);
      const u = await club.units(db, where.orgId);
      const last = await db.clubSession.aggregate({ where: { orgId: where.orgId }, _max: { seq: true } });
      const result = Array.isArray(table)
        ? draftsFromTable(table, { year: y, tz: where.tz, units: u, lastSeq: last._max.seq ?? 0 })
        : { drafts: [], problems: [table] };
      if (result.problems.length > 0) {
        await ctx.reply(
          t('club.import.refused', { name: file.name, problems: renderProblems(result.problems, t, 30) }),
        );
        return;
      }
      const rows = await db.$transaction(async (tx) => {
        const settings = await loadSettings(tx, where.orgId);
        const rows = await insertSessions(tx, where, result.drafts, settings);
        for (const r of rows) await club.jobs.scheduleFor(tx, r, where.tz, settings);
        return rows;
      });
      await ctx.reply(
        t('club.import.done', {
          name: file.name,
          count: rows.length,
          year: y,
          first: rows[0]!.seq,
          last: rows.at(-1)!.seq,
        }),
      );
      await afterWrite(ctx, y);
    },
  });

  const template = defineSubcommand({
    name: 'template',
    zh: '模板',
    role: 'secretary',
    async run(ctx) {
      const y = club.defaultYear(ctx.identity);
      const rows = [
        ['', `${y}-01-15`, '14:30', '学习《论中国共产党历史》', '常规会议', '', '三楼会议室', '理论学习、心得分享', ''],
        ['', `${y}-02-19`, '14:30', '学史明理', '知识抢答赛', '', '三楼会议室', '', '党史'],
      ];
      await ctx.replyPrivately({
        file: { name: '读书会计划模板.xlsx', contentType: XLSX_CONTENT_TYPE, bytes: await writePlanFile('xlsx', rows) },
        caption: t('club.template.caption'),
      });
    },
  });

  const exportSub = defineSubcommand({
    name: 'export',
    zh: '导出',
    role: 'secretary',
    positionals: ['year', 'format'],
    args: z.object({
      year: yearSchema.optional(),
      format: z.enum(['xlsx', 'csv'], { message: 'club.usage.export_format' }).optional(),
    }),
    async run(ctx, { year, format }) {
      await exportPlan(club, ctx, yearArg(ctx, club, year), format ?? 'xlsx');
    },
  });

  const settingsSub = defineSubcommand({
    name: 'settings',
    zh: '设置',
    role: 'secretary',
    usageKey: 'club.usage.settings',
    positionals: ['key', 'value'],
    args: z.object({ key: z.string().optional(), value: z.string().optional() }),
    async run(ctx, { key, value }) {
      const orgId = ctx.identity.orgId;
      const s = await loadSettings(db, orgId);
      if (key) {
        if (!value) throw new UserError('club.settings.no_value', { key });
        const minutes = (max: number) => {
          const n = Number(value.normalize('NFKC').replace(/(分钟|天)$/, ''));
          if (!Number.isInteger(n) || n < 0 || n > max)
            throw new UserError('club.settings.bad_number', { key, value, max });
          return n;
        };
        switch (key) {
          case '提醒':
          case 'reminders': {
            const offsets = parseReminderOffsets(value);
            if (!offsets) throw new UserError('club.settings.bad_reminders', { value });
            s.reminders = offsets;
            break;
          }
          case '签到提前':
          case 'checkin-before':
            s.checkinBeforeMin = minutes(240);
            break;
          case '签到截止':
          case 'checkin-after':
            s.checkinAfterMin = minutes(720);
            break;
          case '心得期限':
          case 'archive-days':
            s.archiveDays = minutes(90);
            break;
          case '送审提前':
          case 'review-days':
            s.reviewDays = minutes(28);
            break;
          default:
            throw new UserError('club.settings.unknown', { key });
        }
        await saveSettings(db, orgId, s);
      }
      await ctx.reply(
        t('club.settings.show', {
          reminders: describeOffsets(s.reminders),
          before: s.checkinBeforeMin,
          after: s.checkinAfterMin,
          archive: s.archiveDays,
          review: s.reviewDays,
          defaults: describeOffsets(DEFAULT_SETTINGS.reminders),
        }),
      );
    },
  });

  const here = defineSubcommand({
    name: 'here',
    zh: '本群',
    role: 'secretary',
    scope: 'group',
    async run(ctx) {
      const { count } = await db.clubSession.updateMany({
        where: { orgId: ctx.identity.orgId, startsAt: { gt: clock.now() } },
        data: { platform: ctx.platform, chatId: ctx.event.chat.id },
      });
      await ctx.reply(t('club.here.done', { count }));
    },
  });

  return [plan, add, edit, swap, rotation, importSub, template, exportSub, settingsSub, here];
}

export async function exportPlan(
  club: Club,
  ctx: { identity: CommandContext['identity']; replyPrivately: CommandContext['replyPrivately'] },
  year: number,
  format: 'xlsx' | 'csv',
) {
  const { db } = club.deps;
  const t = club.deps.messages.t;
  const sessions = await sessionsOfYear(db, ctx.identity.orgId, year);
  if (sessions.length === 0) throw new UserError('club.plan.empty', { year });
  const u = await club.units(db, ctx.identity.orgId);
  const rows = planRows(sessions, ctx.identity.timezone, t, u.name, (s) => partsColumn.parse(s.parts));
  await ctx.replyPrivately({
    file: {
      name: `${safeFileName(t('club.plan.title', { year }))}.${format}`,
      contentType: format === 'csv' ? 'text/csv; charset=utf-8' : XLSX_CONTENT_TYPE,
      bytes: await writePlanFile(format, rows),
    },
    caption: t('club.export.caption', { year, count: sessions.length }),
  });
}
