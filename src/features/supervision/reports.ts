import { DateTime } from 'luxon';
import { safeFileName, XLSX_CONTENT_TYPE } from '../../bot/downloads.ts';
import { UserError } from '../../bot/errors.ts';
import type { FeatureDeps, PeriodicJob } from '../../bot/feature.ts';
import type { MessageKey } from '../../bot/messages.ts';
import type { Card, CardElement } from '../../platforms/types.ts';
import { sheetBytes } from '../../lib/xlsx-thread.ts';
import { noticeCard } from './cards.ts';
import type { Prisma } from '../../generated/sqlite/client.ts';
import { detailColumn, isSettled, type AssigneeRow, type TaskWithAssignees } from './store.ts';
import { formatDue, isWorkday, lightOf, localDate, workdayBefore } from './time.ts';

export type ReportKind = 'day' | 'month' | 'quarter' | 'year';

const KIND_WORDS: Record<string, ReportKind> = {
  日: 'day',
  day: 'day',
  daily: 'day',
  月: 'month',
  month: 'month',
  monthly: 'month',
  季: 'quarter',
  quarter: 'quarter',
  quarterly: 'quarter',
  年: 'year',
  year: 'year',
  annual: 'year',
};

const TITLE: Record<ReportKind, MessageKey> = {
  day: 'supervision.report.daily.title',
  month: 'supervision.report.monthly.title',
  quarter: 'supervision.report.quarterly.title',
  year: 'supervision.report.annual.title',
};

/** One person's (or one memberless unit's) share of a task: who, which unit, and how it went. */
interface Share {
  unit: string;
  member: string;
  state: 'on_time' | 'late' | 'open' | 'not_due';
  notices: number;
}

/**
 * Progress boards and the cadence reports (日抽查、月督查、季普查、年评议).
 * Everything counts "shares": one per member per task (a unit's task gives
 * each of its members a share), so a unit's on-time rate is its members'
 * on-time shares over the shares already due.
 */
export function createReports(deps: FeatureDeps) {
  const { db, clock, messages, cards, workingDays, send } = deps;
  const t = messages.t;

  function kindOf(word: string): ReportKind {
    const kind = KIND_WORDS[word.normalize('NFKC').toLowerCase()];
    if (!kind) throw new UserError('supervision.report.bad_kind');
    return kind;
  }

  /** The local period a word names (default: the current one), as [start, end) and a label. */
  function periodOf(kind: ReportKind, word: string | undefined, tz: string, now: Date) {
    const here = DateTime.fromJSDate(now, { zone: tz });
    let start: DateTime;
    const bad = () => new UserError('supervision.report.bad_period', { period: (word ?? '').slice(0, 20) });
    if (!word) {
      start = here.startOf(kind);
    } else {
      const w = word.normalize('NFKC');
      let m: RegExpExecArray | null;
      if (kind === 'day' && (m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(w))) {
        start = DateTime.fromObject({ year: +m[1]!, month: +m[2]!, day: +m[3]! }, { zone: tz });
      } else if (kind === 'month' && (m = /^(\d{4})-(\d{1,2})$/.exec(w))) {
        start = DateTime.fromObject({ year: +m[1]!, month: +m[2]! }, { zone: tz });
      } else if (kind === 'quarter' && (m = /^(\d{4})[-\s]?[Qq季]([1-4])$/.exec(w))) {
        start = DateTime.fromObject({ year: +m[1]!, month: (+m[2]! - 1) * 3 + 1 }, { zone: tz });
      } else if (kind === 'year' && (m = /^(\d{4})年?$/.exec(w))) {
        start = DateTime.fromObject({ year: +m[1]! }, { zone: tz });
      } else {
        throw bad();
      }
      if (!start.isValid) throw bad();
    }
    const end = start.plus(
      kind === 'day'
        ? { days: 1 }
        : kind === 'month'
          ? { months: 1 }
          : kind === 'quarter'
            ? { months: 3 }
            : { years: 1 },
    );
    const label =
      kind === 'day'
        ? start.toFormat('yyyy-MM-dd')
        : kind === 'month'
          ? start.toFormat('yyyy-MM')
          : kind === 'quarter'
            ? `${start.year}Q${start.quarter}`
            : String(start.year);
    return { start: start.toJSDate(), end: end.toJSDate(), label };
  }

  async function sharesOf(tasks: TaskWithAssignees[], now: Date): Promise<Share[]> {
    const memberIds = [
      ...new Set(tasks.flatMap((task) => task.assignees.map((r) => r.memberId).filter((m): m is string => Boolean(m)))),
    ];
    const members = new Map(
      (await db.member.findMany({ where: { id: { in: memberIds } }, select: { id: true, unitId: true } })).map((m) => [
        m.id,
        m.unitId,
      ]),
    );
    const units = new Map(
      (await db.unit.findMany({ where: { orgId: { in: [...new Set(tasks.map((x) => x.orgId))] } } })).map((u) => [
        u.id,
        u.name,
      ]),
    );
    const overdue = await db.supervisionEvent.groupBy({
      by: ['assigneeId'],
      where: { taskId: { in: tasks.map((x) => x.id) }, kind: 'overdue' },
      _count: { _all: true },
    });
    const noticesOf = new Map(overdue.map((o) => [o.assigneeId, o._count._all]));
    const shares: Share[] = [];
    for (const task of tasks) {
      const leaves = task.assignees.filter(
        (r) => r.kind === 'member' || !task.assignees.some((c) => c.parentId === r.id),
      );
      for (const row of leaves) {
        const unitId = row.unitId ?? (row.memberId ? members.get(row.memberId) : null) ?? null;
        shares.push({
          unit: (unitId && units.get(unitId)) || t('supervision.board.no_unit'),
          member: row.kind === 'member' ? row.name : '—',
          state: stateOf(task, row, now),
          notices: noticesOf.get(row.id) ?? 0,
        });
      }
    }
    return shares;
  }

  function stateOf(task: TaskWithAssignees, row: AssigneeRow, now: Date): Share['state'] {
    const settledAt = row.doneAt ?? (row.parentId ? task.assignees.find((p) => p.id === row.parentId)?.doneAt : null);
    if (settledAt) return settledAt.getTime() <= task.dueAt.getTime() ? 'on_time' : 'late';
    return now.getTime() >= task.dueAt.getTime() ? 'open' : 'not_due';
  }

  const pct = (a: number, b: number) => (b === 0 ? '—' : `${Math.round((a / b) * 100)}%`);

  function tally(shares: Share[]) {
    const onTime = shares.filter((s) => s.state === 'on_time').length;
    const late = shares.filter((s) => s.state === 'late').length;
    const open = shares.filter((s) => s.state === 'open').length;
    return { onTime, late, open, due: onTime + late + open, notices: shares.reduce((n, s) => n + s.notices, 0) };
  }

  const loadTasks = (where: Prisma.SupervisionTaskWhereInput) =>
    db.supervisionTask.findMany({ where, include: { assignees: true }, orderBy: [{ seq: 'asc' }] });

  /** `任务 看板`: per task (done on time, late, pending) and per unit (on-time rate), with bar charts. */
  async function board(orgId: string, tz: string): Promise<Card> {
    const now = clock.now();
    const tasks = (await loadTasks({ orgId })).slice(-20);
    if (tasks.length === 0)
      return noticeCard(cards, { title: t('supervision.board.title'), text: t('supervision.board.empty') });
    const taskRows: string[][] = [];
    const taskBars: { label: string; value: number }[] = [];
    for (const task of tasks) {
      const s = tally(await sharesOf([task], now));
      const pending = task.assignees.filter(
        (r) =>
          (r.kind === 'member' || !task.assignees.some((c) => c.parentId === r.id)) && !isSettled(r, task.assignees),
      ).length;
      taskRows.push([
        `${task.seq}. ${task.title}`,
        formatDue(task.dueAt, tz, now),
        String(s.onTime),
        String(s.late),
        String(pending),
      ]);
      taskBars.push({ label: t('supervision.board.bar', { seq: task.seq }), value: s.onTime + s.late });
    }
    const all = await sharesOf(tasks, now);
    const byUnit = new Map<string, Share[]>();
    for (const s of all) byUnit.set(s.unit, [...(byUnit.get(s.unit) ?? []), s]);
    const unitRows: string[][] = [];
    const unitBars: { label: string; value: number }[] = [];
    for (const [unit, list] of [...byUnit].sort((a, b) => a[0].localeCompare(b[0], 'zh-CN'))) {
      const s = tally(list);
      unitRows.push([unit, String(list.length), String(s.onTime), pct(s.onTime, s.due)]);
      unitBars.push({ label: unit, value: s.due ? Math.round((s.onTime / s.due) * 100) : 0 });
    }
    const unitElements: CardElement[] = [
      { type: 'chart', title: t('supervision.board.units.chart'), bars: unitBars },
      { type: 'table', columns: t('supervision.board.units.columns').split('|'), rows: unitRows },
    ];
    const lights = tasks
      .filter((x) => x.status === 'open')
      .map((x) =>
        t('supervision.board.text', {
          light: t(`supervision.icon.${lightOf(x.dueAt, false, now, x.timezone, workingDays)}`),
          seq: x.seq,
          title: x.title,
        }),
      );
    return noticeCard(cards, {
      title: t('supervision.board.title'),
      text: lights.join('\n'),
      chart: { title: t('supervision.board.chart'), bars: taskBars },
      table: { columns: t('supervision.board.tasks.columns').split('|'), rows: taskRows },
      note: t('supervision.board.note'),
      controls: unitElements,
    });
  }

  /** A cadence report over the tasks due in a period: the card and its XLSX. */
  async function build(orgId: string, tz: string, kind: ReportKind, word?: string) {
    const now = clock.now();
    const period = periodOf(kind, word, tz, now);
    const tasks = await loadTasks({ orgId, dueAt: { gte: period.start, lt: period.end } });
    const shares = await sharesOf(tasks, now);
    const title = t(TITLE[kind], { period: period.label, date: period.label });
    const byKey = new Map<string, Share[]>();
    for (const s of shares)
      byKey.set(`${s.unit}\u0000${s.member}`, [...(byKey.get(`${s.unit}\u0000${s.member}`) ?? []), s]);
    const rows: (string | number)[][] = [];
    const total = t('supervision.report.total');
    const units = [...new Set(shares.map((s) => s.unit))].sort((a, b) => a.localeCompare(b, 'zh-CN'));
    for (const unit of units) {
      const mine = shares.filter((s) => s.unit === unit);
      const u = tally(mine);
      rows.push([unit, total, mine.length, u.onTime, u.late, u.open, pct(u.onTime, u.due), u.notices]);
      for (const [key, list] of [...byKey].filter(([k]) => k.startsWith(`${unit}\u0000`))) {
        const m = tally(list);
        rows.push([
          unit,
          key.split('\u0000')[1]!,
          list.length,
          m.onTime,
          m.late,
          m.open,
          pct(m.onTime, m.due),
          m.notices,
        ]);
      }
    }
    const all = tally(shares);
    const columns = t('supervision.report.columns').split('|');
    const bytes = await sheetBytes(
      t('supervision.report.sheet'),
      columns.map((header) => ({ header, width: header.length > 3 ? 14 : 10 })),
      rows,
    );
    const card = noticeCard(cards, {
      title,
      colour: 'blue',
      text: t('supervision.report.text', {
        period: period.label,
        tasks: tasks.length,
        due: all.due,
        onTime: all.onTime,
        rate: pct(all.onTime, all.due),
        late: all.late,
        open: all.open,
        notices: all.notices,
      }),
      table: { columns, rows: rows.filter((r) => r[1] === total).map((r) => r.map(String)) },
      note: t('supervision.report.note', {
        kind: t(`supervision.report.kind.${kind}`),
        period: period.label,
      }),
    });
    return { title, card, file: { name: `${safeFileName(title)}.xlsx`, contentType: XLSX_CONTENT_TYPE, bytes } };
  }

  /**
   * 日抽查: what is yellow or red today (marked where it turned so since the last working day)
   * and what was done since then, to the secretaries.
   */
  async function spotCheck(orgId: string, tz: string): Promise<Card | null> {
    const now = clock.now();
    const today = localDate(now, tz);
    if (!isWorkday(workingDays, today)) return null;
    const since = DateTime.fromISO(workdayBefore(workingDays, today, 1), { zone: tz })
      .set({ hour: DateTime.fromJSDate(now, { zone: tz }).hour })
      .toJSDate();
    const open = await loadTasks({ orgId, status: 'open' });
    const yellow = open.filter((x) => lightOf(x.dueAt, false, now, tz, workingDays) === 'yellow');
    const red = open.filter((x) => lightOf(x.dueAt, false, now, tz, workingDays) === 'red');
    const doneEvents = await db.supervisionEvent.findMany({
      where: { orgId, kind: 'done', at: { gte: since, lte: now } },
      orderBy: { at: 'asc' },
    });
    const seqOf = new Map(
      (
        await db.supervisionTask.findMany({
          where: { id: { in: [...new Set(doneEvents.map((e) => e.taskId))] } },
          select: { id: true, seq: true },
        })
      ).map((x) => [x.id, x.seq]),
    );
    const none = t('supervision.report.daily.none');
    const list = (xs: string[]) => (xs.length ? xs.join(t('supervision.report.separator')) : none);
    // What turned yellow or red since the last working day's check is marked, so the day's change stands out.
    const turned = (x: (typeof open)[number], light: 'yellow' | 'red') =>
      lightOf(x.dueAt, false, since, tz, workingDays) !== light ? t('supervision.report.daily.turned') : '';
    const redLine = red.map((x) => {
      const names = x.assignees.filter((r) => !isSettled(r, x.assignees) && r.kind === 'member').map((r) => r.name);
      const ref = names.length
        ? t('supervision.report.task_ref.names', { seq: x.seq, title: x.title, names: names.join('、') })
        : t('supervision.report.task_ref', { seq: x.seq, title: x.title });
      return ref + turned(x, 'red');
    });
    const doneLine = doneEvents.map((e) => {
      const name = detailColumn.parse(e.detail).name;
      return t('supervision.report.done_ref', {
        seq: seqOf.get(e.taskId) ?? '?',
        name: typeof name === 'string' ? name : '',
      });
    });
    return noticeCard(cards, {
      title: t('supervision.report.daily.title', { date: today }),
      colour: red.length ? 'red' : yellow.length ? 'orange' : 'green',
      text: [
        t('supervision.report.daily.text'),
        t('supervision.report.daily.yellow', {
          list: list(
            yellow.map((x) => t('supervision.report.task_ref', { seq: x.seq, title: x.title }) + turned(x, 'yellow')),
          ),
        }),
        t('supervision.report.daily.red', { list: list(redLine) }),
        t('supervision.report.daily.done', { list: list(doneLine) }),
      ].join('\n'),
    });
  }

  /** Organisations with any task, with their time zones. */
  async function orgsWithTasks() {
    const ids = (await db.supervisionTask.findMany({ distinct: ['orgId'], select: { orgId: true } })).map(
      (r) => r.orgId,
    );
    return db.organisation.findMany({ where: { id: { in: ids } }, select: { id: true, timezone: true } });
  }

  /** The previous period's label, for the pushes on its first day. */
  function previousLabel(kind: Exclude<ReportKind, 'day'>, tz: string): string {
    const before = DateTime.fromJSDate(clock.now(), { zone: tz }).startOf(kind).minus({ days: 1 });
    return kind === 'month'
      ? before.toFormat('yyyy-MM')
      : kind === 'quarter'
        ? `${before.year}Q${before.quarter}`
        : String(before.year);
  }

  async function pushReport(kind: Exclude<ReportKind, 'day'>) {
    for (const org of await orgsWithTasks()) {
      const report = await build(org.id, org.timezone, kind, previousLabel(kind, org.timezone));
      await send.toSecretaries(org.id, { card: report.card }, { meta: { report: `supervision.${kind}` } });
      await send.toSecretaries(org.id, {
        file: report.file,
        caption: t('supervision.report.caption', { title: report.title }),
      });
    }
  }

  const periodic: PeriodicJob[] = [
    {
      name: 'spot-check',
      cron: '0 9 * * *',
      async run() {
        for (const org of await orgsWithTasks()) {
          const card = await spotCheck(org.id, org.timezone);
          if (card) await send.toSecretaries(org.id, { card }, { meta: { report: 'supervision.day' } });
        }
      },
    },
    { name: 'monthly-inspection', cron: '30 9 1 * *', run: () => pushReport('month') },
    { name: 'quarterly-census', cron: '40 9 1 1,4,7,10 *', run: () => pushReport('quarter') },
    { name: 'annual-review', cron: '50 9 1 1 *', run: () => pushReport('year') },
  ];

  return { board, build, kindOf, spotCheck, periodic };
}

export type Reports = ReturnType<typeof createReports>;
