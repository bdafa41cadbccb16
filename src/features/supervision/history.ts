import type { CommandContext } from '../../bot/context.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import type { Db } from '../../lib/db.ts';
import type { Clock } from '../../lib/clock.ts';
import { detailColumn } from './store.ts';
import type { TaskService } from './tasks.ts';
import { formatDue, formatTime } from './time.ts';

export interface HistoryDeps {
  db: Db;
  clock: Clock;
  t(key: MessageKey, params?: MessageParams): string;
  service: Pick<TaskService, 'load'>;
}

/** A task's whole record, for a secretary. */
export async function taskHistory(deps: HistoryDeps, ctx: CommandContext, seq: number): Promise<void> {
  const { db, clock, t, service } = deps;
  const task = await service.load(ctx.identity.orgId, seq);
  const events = await db.supervisionEvent.findMany({
    where: { taskId: task.id },
    orderBy: [{ at: 'asc' }, { id: 'asc' }],
  });
  const actorIds = [...new Set(events.map((e) => e.actorId).filter((a): a is string => Boolean(a)))];
  const actors = new Map(
    (await db.member.findMany({ where: { id: { in: actorIds } }, select: { id: true, displayName: true } })).map(
      (m) => [m.id, m.displayName],
    ),
  );
  const tz = task.timezone;
  const lines = events.map((e) => {
    const d = detailColumn.parse(e.detail);
    const s = (k: string) =>
      typeof d[k] === 'string'
        ? (d[k] as string)
        : Array.isArray(d[k])
          ? (d[k] as string[]).join('、')
          : String(d[k] ?? '');
    const timing =
      d.onTime === undefined ? '' : t(d.onTime ? 'supervision.log.timing.on_time' : 'supervision.log.timing.late');
    let key: MessageKey;
    const params: Record<string, string | number> = { name: s('name'), names: s('names') || '—', timing };
    switch (e.kind) {
      case 'created':
        key = 'supervision.log.created';
        params.who = actors.get(e.actorId ?? '') ?? '';
        params.due = formatDue(new Date(s('due')), tz, clock.now());
        break;
      case 'progress':
        key = 'supervision.log.progress';
        params.progress = s('progress');
        break;
      case 'done':
        key =
          d.via === 'contact'
            ? 'supervision.log.done.contact'
            : d.via === 'members'
              ? 'supervision.log.done.members'
              : 'supervision.log.done';
        params.note = d.note ? t('supervision.log.note', { note: s('note') }) : '';
        params.file = d.file ? t('supervision.log.file', { file: s('file') }) : '';
        break;
      case 'reopened':
        key = 'supervision.log.reopened';
        break;
      case 'claimed':
        key = 'supervision.log.claimed';
        break;
      case 'warning':
        key = 'supervision.log.warning';
        params.days = s('days');
        break;
      case 'achievement':
        key = 'supervision.log.achievement';
        break;
      case 'overdue':
        key = 'supervision.log.overdue';
        params.days = s('days');
        break;
      case 'named':
        key = 'supervision.log.named';
        break;
      default:
        key = 'supervision.log.escalated';
        params.days = s('days');
        params.to = s('to') || t('supervision.log.bot');
    }
    const who = e.actorId && e.kind !== 'created' ? t('supervision.log.by', { who: actors.get(e.actorId) ?? '' }) : '';
    return t('supervision.log.line', { at: formatTime(e.at, tz), what: t(key, params) + who });
  });
  await ctx.reply(t('supervision.log.title', { seq, title: task.title }) + '\n' + lines.join('\n'));
}
