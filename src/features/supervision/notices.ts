import { z } from 'zod';
import type { FeatureDeps } from '../../bot/feature.ts';
import { defineJob } from '../../bot/jobs.ts';
import type { Sender } from '../../bot/send.ts';
import type { Tx } from '../../lib/db.ts';
import type { Mention } from '../../platforms/types.ts';
import { noticeCard, taskCard, type CardDeps } from './cards.ts';
import { pendingPeople, recordOnce, taskById, topLevel, type AssigneeRow, type TaskWithAssignees } from './store.ts';
import {
  atLocal,
  formatDue,
  formatTime,
  isWorkday,
  localDate,
  NOTICE_TIME,
  WARNING_DAYS,
  workdayBefore,
  workdaysAfter,
} from './time.ts';

/**
 * What the bot does on its own around a deadline, as durable jobs scheduled
 * in the transaction that created the task: warnings before it (privately),
 * the achievement notice (成效单) to the group and the first supervision
 * notice (督办单) at it, then a supervision notice every working day until
 * done, escalating once after the task's number of working days. Each one is
 * an event row with a unique key, so the record shows it and nothing goes twice.
 */
export const WARNING_KIND = 'supervision.warning';
export const DEADLINE_KIND = 'supervision.deadline';
export const CHASE_KIND = 'supervision.chase';

const taskRef = z.object({ v: z.literal(1), task: z.string().min(1) });

export function createNotices(deps: FeatureDeps) {
  const { messages, workingDays, jobs, cards } = deps;
  const t = messages.t;
  const cardDeps: CardDeps = { cards, t, workingDays };

  /** Replaces the task list in its group (lights change, people report). */
  async function refreshCard(send: Sender, task: TaskWithAssignees, now: Date): Promise<void> {
    if (!task.chatId || !task.cardRef) return;
    await send.updateCard(
      {
        platform: task.platform,
        orgId: task.orgId,
        target: { kind: 'chat', id: task.chatId },
        messageId: task.cardRef,
      },
      taskCard(cardDeps, task, now),
    );
  }

  /** Privately to one pending assignee: the member, or a memberless unit's contacts and head. */
  async function toPerson(tx: Tx, send: Sender, row: AssigneeRow, content: Parameters<Sender['toMember']>[1]) {
    if (row.memberId) return void (await send.toMember(row.memberId, content));
    if (!row.unitId) return;
    const holders = await tx.unitRole.findMany({ where: { unitId: row.unitId }, include: { member: true } });
    for (const h of holders) await send.toMember(h.member, content);
  }

  const dueText = (task: TaskWithAssignees, now: Date) => formatDue(task.dueAt, task.timezone, now);

  const warningJob = defineJob({
    kind: WARNING_KIND,
    payload: taskRef.extend({ days: z.number().int().positive() }),
    async run({ tx, send, item }, payload) {
      const task = await taskById(tx, payload.task);
      if (!task || task.status !== 'open') return;
      const now = item.firedAt;
      for (const row of pendingPeople(task.assignees)) {
        const fresh = await recordOnce(tx, {
          orgId: task.orgId,
          taskId: task.id,
          kind: 'warning',
          at: now,
          assigneeId: row.id,
          detail: { name: row.name, days: payload.days },
          onceKey: `warning:${payload.days}:${row.id}`,
        });
        if (!fresh) continue;
        await toPerson(tx, send, row, {
          key: 'supervision.warning',
          params: { seq: task.seq, title: task.title, due: dueText(task, now), days: payload.days },
        });
      }
      // The light turned yellow.
      await refreshCard(send, task, now);
    },
  });

  /** Today's supervision notice to each pending person, once a day; escalation once past the task's limit. */
  async function chase(tx: Tx, send: Sender, task: TaskWithAssignees, now: Date): Promise<number> {
    const today = localDate(now, task.timezone);
    const days = workdaysAfter(workingDays, localDate(task.dueAt, task.timezone), today);
    const pending = pendingPeople(task.assignees);
    for (const row of pending) {
      const fresh = await recordOnce(tx, {
        orgId: task.orgId,
        taskId: task.id,
        kind: 'overdue',
        at: now,
        assigneeId: row.id,
        detail: { name: row.name, days },
        onceKey: `overdue:${row.id}:${today}`,
      });
      if (fresh) {
        await toPerson(tx, send, row, {
          card: noticeCard(cards, {
            title: t('supervision.overdue.title', { seq: task.seq }),
            colour: 'red',
            text: t('supervision.overdue.text', {
              title: task.title,
              due: dueText(task, now),
              days,
              seq: task.seq,
              escalate: task.escalateAfter,
            }),
            note: t('supervision.overdue.note'),
          }),
        });
      }
      if (days >= task.escalateAfter) await escalate(tx, send, task, row, days, now);
    }
    return pending.length;
  }

  async function escalate(tx: Tx, send: Sender, task: TaskWithAssignees, row: AssigneeRow, days: number, now: Date) {
    let unitId = row.unitId;
    if (!unitId && row.memberId) {
      unitId = (await tx.member.findUnique({ where: { id: row.memberId }, select: { unitId: true } }))?.unitId ?? null;
    }
    const secretaryIds = new Set(
      (
        await tx.roleGrant.findMany({ where: { orgId: task.orgId, role: 'secretary' }, select: { memberId: true } })
      ).map((g) => g.memberId),
    );
    const heads = unitId
      ? (await tx.unitRole.findMany({ where: { unitId, role: 'head' }, include: { member: true } })).filter(
          (h) => !secretaryIds.has(h.memberId),
        )
      : [];
    const fresh = await recordOnce(tx, {
      orgId: task.orgId,
      taskId: task.id,
      kind: 'escalated',
      at: now,
      assigneeId: row.id,
      detail: { name: row.name, days, to: heads.map((h) => h.member.displayName) },
      onceKey: `escalated:${row.id}`,
    });
    if (!fresh) return;
    const text = t('supervision.escalation', {
      name: row.name,
      seq: task.seq,
      title: task.title,
      days,
      due: dueText(task, now),
    });
    await send.toSecretaries(task.orgId, { text });
    for (const h of heads) await send.toMember(h.member, { text });
  }

  const chaseJob = defineJob({
    kind: CHASE_KIND,
    payload: taskRef,
    async run({ tx, send, item }, payload) {
      const task = await taskById(tx, payload.task);
      const pending = task && task.status === 'open' ? await chase(tx, send, task, item.firedAt) : 0;
      // Everyone is done: no more working days to chase.
      if (pending === 0) await deps.scheduler.cancel(item.id, tx);
    },
  });

  /** The next working day's notice time after an instant, on the holiday calendar. */
  function nextNoticeAfter(at: Date, tz: string): Date {
    let date = localDate(at, tz);
    for (let i = 0; i < 400; i++) {
      date = new Date(Date.parse(`${date}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      if (isWorkday(workingDays, date)) break;
    }
    return atLocal(date, NOTICE_TIME, tz);
  }

  /** Starts chasing a task every working day (at the deadline, or when a late task is reopened). */
  async function ensureChase(tx: Tx, task: { id: string; orgId: string; timezone: string }, after: Date) {
    const active = await tx.scheduledItem.findFirst({
      where: {
        orgId: task.orgId,
        kind: CHASE_KIND,
        status: { in: ['active', 'stalled'] },
        payload: { contains: task.id },
      },
      select: { id: true },
    });
    if (active) return;
    await jobs.schedule(
      chaseJob,
      {
        orgId: task.orgId,
        dueAt: nextNoticeAfter(after, task.timezone),
        payload: { v: 1, task: task.id },
        recurrence: { freq: 'workdays', time: NOTICE_TIME },
        timezone: task.timezone,
      },
      tx,
    );
  }

  const deadlineJob = defineJob({
    kind: DEADLINE_KIND,
    payload: taskRef,
    async run({ tx, send, item }, payload) {
      const task = await taskById(tx, payload.task);
      if (!task) return;
      const now = item.firedAt;
      const tops = topLevel(task.assignees);
      const onTime = tops.filter((r) => r.doneAt && r.doneAt.getTime() <= task.dueAt.getTime());
      const pending = pendingPeople(task.assignees);
      const group = task.chatId ? { platform: task.platform, orgId: task.orgId, chatId: task.chatId } : null;

      // Posted for claiming and nobody took it: the secretaries hear, once.
      if (tops.length === 0) {
        if (
          await recordOnce(tx, {
            orgId: task.orgId,
            taskId: task.id,
            kind: 'named',
            at: now,
            detail: { names: [] },
            onceKey: 'unclaimed',
          })
        ) {
          await send.toSecretaries(task.orgId, {
            key: 'supervision.unclaimed',
            params: { seq: task.seq, title: task.title },
          });
        }
        await refreshCard(send, task, now);
        return;
      }

      // 成效单: who finished on time, to the group (or the secretaries when there is none).
      if (
        tops.length &&
        (await recordOnce(tx, {
          orgId: task.orgId,
          taskId: task.id,
          kind: 'achievement',
          at: now,
          detail: { names: onTime.map((r) => r.name) },
          onceKey: 'achievement',
        }))
      ) {
        const card = noticeCard(cards, {
          title: t('supervision.achievement.title', { seq: task.seq }),
          colour: 'green',
          text: t(onTime.length ? 'supervision.achievement.text' : 'supervision.achievement.none', {
            title: task.title,
            due: dueText(task, now),
          }),
          chart: {
            title: t('supervision.achievement.chart'),
            bars: [
              { label: t('supervision.achievement.bar.on_time'), value: onTime.length },
              { label: t('supervision.achievement.bar.overdue'), value: tops.filter((r) => !r.doneAt).length },
            ],
          },
          table: {
            columns: [t('supervision.achievement.col.who'), t('supervision.achievement.col.at')],
            rows: onTime.map((r) => [r.name, formatTime(r.doneAt!, task.timezone)]),
          },
        });
        if (group) await send.toChat(group, { card });
        else await send.toSecretaries(task.orgId, { card });
      }

      if (pending.length) {
        // 督办单 privately, and the overdue named in the group once.
        for (const row of pending) {
          const fresh = await recordOnce(tx, {
            orgId: task.orgId,
            taskId: task.id,
            kind: 'overdue',
            at: now,
            assigneeId: row.id,
            detail: { name: row.name, days: 0 },
            onceKey: `overdue:${row.id}:${localDate(now, task.timezone)}`,
          });
          if (!fresh) continue;
          await toPerson(tx, send, row, {
            card: noticeCard(cards, {
              title: t('supervision.overdue.title', { seq: task.seq }),
              colour: 'red',
              text: t('supervision.overdue.first', {
                title: task.title,
                due: dueText(task, now),
                seq: task.seq,
                escalate: task.escalateAfter,
              }),
              note: t('supervision.overdue.note'),
            }),
          });
        }
        const names = pending.map((r) => r.name);
        if (
          group &&
          (await recordOnce(tx, {
            orgId: task.orgId,
            taskId: task.id,
            kind: 'named',
            at: now,
            detail: { names },
            onceKey: 'named',
          }))
        ) {
          const people = await tx.member.findMany({
            where: { id: { in: pending.map((r) => r.memberId).filter((m): m is string => Boolean(m)) } },
          });
          const mentions: Mention[] = people
            .filter((p) => p.platform === task.platform)
            .map((p) => ({ id: p.platformUserId, name: p.displayName }));
          await send.toChat(group, {
            key: 'supervision.named',
            params: { seq: task.seq, title: task.title, names: names.join('、') },
            mentions,
          });
        }
        await ensureChase(tx, task, now);
      }
      await refreshCard(send, task, now);
    },
  });

  /** Warnings and the deadline, scheduled in the creating transaction. */
  async function scheduleFor(tx: Tx, task: { id: string; orgId: string; dueAt: Date; timezone: string }, now: Date) {
    const dueDate = localDate(task.dueAt, task.timezone);
    for (const days of WARNING_DAYS) {
      const at = atLocal(workdayBefore(workingDays, dueDate, days), NOTICE_TIME, task.timezone);
      if (at.getTime() <= now.getTime() || at.getTime() >= task.dueAt.getTime()) continue;
      await jobs.schedule(
        warningJob,
        { orgId: task.orgId, dueAt: at, payload: { v: 1, task: task.id, days }, timezone: task.timezone },
        tx,
      );
    }
    await jobs.schedule(
      deadlineJob,
      { orgId: task.orgId, dueAt: task.dueAt, payload: { v: 1, task: task.id }, timezone: task.timezone },
      tx,
    );
  }

  return { jobs: [warningJob, deadlineJob, chaseJob], scheduleFor, ensureChase, refreshCard, cardDeps };
}

export type Notices = ReturnType<typeof createNotices>;
