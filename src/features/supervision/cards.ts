import type { CardTemplates } from '../../bot/card-templates.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import type { Card, CardElement } from '../../platforms/types.ts';
import type { WorkingDays } from '../calendar/working-days.ts';
import { checklistColumn, isSettled, topLevel, type AssigneeRow, type TaskWithAssignees } from './store.ts';
import { formatDue, formatTime, lightOf, type Light } from './time.ts';

type T = (key: MessageKey, params?: MessageParams) => string;

/** Typed input of cards/supervision-notice.json. */
export interface NoticeInput {
  title: string;
  colour?: 'blue' | 'green' | 'orange' | 'red' | 'grey';
  text?: string;
  fields?: { label: string; value: string }[];
  chart?: { title: string; bars: { label: string; value: number }[] } | null;
  table?: { columns: string[]; rows: string[][] } | null;
  note?: string;
  controls?: CardElement[];
}

export function noticeCard(cards: CardTemplates, input: NoticeInput): Card {
  return cards.render('supervision-notice', {
    title: input.title,
    colour: input.colour ?? 'blue',
    text: input.text ?? '',
    fields: input.fields ?? [],
    chart: input.chart ?? null,
    table: input.table ?? null,
    note: input.note ?? '',
    controls: input.controls ?? [],
  });
}

export const LIGHT_COLOUR: Record<Light, 'green' | 'orange' | 'red' | 'grey'> = {
  green: 'green',
  yellow: 'orange',
  red: 'red',
  done: 'grey',
};

const taskPayload = (task: { id: string }) => ({ v: 1, task: task.id });

export interface CardDeps {
  cards: CardTemplates;
  t: T;
  workingDays: WorkingDays;
}

/** A row's state on the card: done (on time or late), or its light. */
export function rowState(deps: CardDeps, task: TaskWithAssignees, row: AssigneeRow, now: Date): string {
  const { t } = deps;
  const settledAt = row.doneAt ?? (row.parentId ? task.assignees.find((r) => r.id === row.parentId)?.doneAt : null);
  if (settledAt) {
    const at = formatTime(settledAt, task.timezone);
    return t(settledAt.getTime() <= task.dueAt.getTime() ? 'supervision.row.on_time' : 'supervision.row.late', { at });
  }
  const light = lightOf(task.dueAt, false, now, task.timezone, deps.workingDays);
  return t(
    light === 'red' ? 'supervision.row.red' : light === 'yellow' ? 'supervision.row.yellow' : 'supervision.row.green',
  );
}

/** How far a top-level assignee is: a unit counts its members, a member shows a percentage. */
function rowProgress(deps: CardDeps, task: TaskWithAssignees, row: AssigneeRow): string {
  const children = task.assignees.filter((r) => r.parentId === row.id);
  if (row.kind === 'unit' && children.length) {
    return deps.t('supervision.card.unit_progress', {
      done: children.filter((c) => isSettled(c, task.assignees)).length,
      total: children.length,
    });
  }
  return deps.t('supervision.card.percent', { progress: row.doneAt ? 100 : row.progress });
}

/** The task list (任务单) as the group sees it; rebuilt and replaced whenever someone reports. */
export function taskCard(deps: CardDeps, task: TaskWithAssignees, now: Date): Card {
  const { t } = deps;
  const tops = topLevel(task.assignees);
  const closed = task.status === 'closed';
  const light = lightOf(task.dueAt, closed, now, task.timezone, deps.workingDays);
  const checklist = checklistColumn.parse(task.checklist);
  const unclaimed = task.claimable && tops.length === 0;
  const controls: CardElement[] = [];
  if (!closed && unclaimed) {
    controls.push({
      type: 'buttons',
      buttons: [
        {
          text: t('supervision.card.button.claim'),
          style: 'primary',
          actionId: 'supervision.claim',
          payload: taskPayload(task),
        },
        {
          text: t('supervision.card.button.claim_unit'),
          style: 'default',
          actionId: 'supervision.claim_unit',
          payload: taskPayload(task),
        },
      ],
    });
  } else if (!closed) {
    controls.push({
      type: 'buttons',
      buttons: [
        {
          text: t('supervision.card.button.done'),
          style: 'primary',
          actionId: 'supervision.done',
          payload: taskPayload(task),
        },
      ],
    });
    if (checklist.length) {
      controls.push({
        type: 'choice',
        name: 'items',
        multiple: true,
        options: checklist.map((item, i) => ({ value: String(i + 1), text: `${i + 1}. ${item}` })),
        submitText: t('supervision.card.check.submit'),
        actionId: 'supervision.check',
        payload: taskPayload(task),
      });
    }
    controls.push({
      type: 'form',
      inputs: [
        { name: 'progress', label: t('supervision.card.progress.label'), placeholder: '60', multiline: false },
        { name: 'note', label: t('supervision.card.progress.note'), multiline: false },
      ],
      submitText: t('supervision.card.progress.submit'),
      actionId: 'supervision.progress',
      payload: taskPayload(task),
    });
  }
  return deps.cards.render('supervision-task', {
    title: t('supervision.card.title', { seq: task.seq }),
    colour: LIGHT_COLOUR[light],
    fields: [
      { label: t('supervision.card.field.task'), value: task.title },
      { label: t('supervision.card.field.due'), value: formatDue(task.dueAt, task.timezone, now) },
      { label: t('supervision.card.field.status'), value: t(`supervision.light.${light}`) },
      {
        label: t('supervision.card.field.done'),
        value: unclaimed
          ? t('supervision.card.unclaimed')
          : t('supervision.card.done_count', { done: tops.filter((r) => r.doneAt).length, total: tops.length }),
      },
    ],
    checklist: checklist.map((item, i) => [String(i + 1), item]),
    rows: tops.map((r) => [r.name, rowProgress(deps, task, r), rowState(deps, task, r, now)]),
    controls,
    note: closed
      ? t('supervision.card.note.closed')
      : unclaimed
        ? t('supervision.card.note.claim')
        : t('supervision.card.note', { seq: task.seq }),
  });
}
