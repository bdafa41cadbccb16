import { z } from 'zod';
import type { Db, Tx } from '../../lib/db.ts';
import { newId } from '../../lib/ids.ts';
import { jsonColumn } from '../../lib/json-column.ts';

/**
 * Tasks, their assignees and the record (留痕), as rows. A unit assigned to a
 * task gets one row, plus one row per member of the unit at the time
 * (`parentId`): the unit's row is done when all its members' rows are, or
 * when the unit's contact marks it. "Once" (a warning, a day's notice, the
 * naming in the group, a claim) is a unique key here, never a memory.
 */
export const checklistColumn = jsonColumn(z.array(z.string()), 'SupervisionTask.checklist');
export const checkedColumn = jsonColumn(z.array(z.number().int()), 'SupervisionAssignee.checked');
export const detailColumn = jsonColumn(z.record(z.string(), z.unknown()), 'SupervisionEvent.detail');

export type TaskRow = Awaited<ReturnType<Db['supervisionTask']['findFirstOrThrow']>>;
export type AssigneeRow = Awaited<ReturnType<Db['supervisionAssignee']['findFirstOrThrow']>>;
export type TaskWithAssignees = TaskRow & { assignees: AssigneeRow[] };

export type EventKind =
  | 'created'
  | 'progress'
  | 'done'
  | 'reopened'
  | 'claimed'
  | 'warning'
  | 'achievement'
  | 'overdue'
  | 'named'
  | 'escalated';

export type NewAssignee =
  | { kind: 'member'; memberId: string; name: string }
  | { kind: 'unit'; unitId: string; name: string; members: { id: string; name: string }[] };

export async function nextTaskSeq(tx: Tx, orgId: string): Promise<number> {
  const last = await tx.supervisionTask.aggregate({ where: { orgId }, _max: { seq: true } });
  return (last._max.seq ?? 0) + 1;
}

/** The rows for one assignee (a unit brings its members), written in `tx`. */
export async function addAssignee(
  tx: Tx,
  task: { id: string; orgId: string },
  a: NewAssignee,
  now: Date,
  claimOf?: string,
): Promise<AssigneeRow> {
  const base = { orgId: task.orgId, taskId: task.id, createdAt: now };
  if (a.kind === 'member') {
    return tx.supervisionAssignee.create({
      data: {
        ...base,
        id: newId(),
        kind: 'member',
        memberId: a.memberId,
        subject: `m:${a.memberId}`,
        name: a.name,
        claimOf,
      },
    });
  }
  const unitRow = await tx.supervisionAssignee.create({
    data: { ...base, id: newId(), kind: 'unit', unitId: a.unitId, subject: `u:${a.unitId}`, name: a.name, claimOf },
  });
  if (a.members.length) {
    await tx.supervisionAssignee.createMany({
      data: a.members.map((m) => ({
        ...base,
        id: newId(),
        kind: 'member',
        memberId: m.id,
        unitId: a.unitId,
        parentId: unitRow.id,
        subject: `u:${a.unitId}:m:${m.id}`,
        name: m.name,
      })),
    });
  }
  return unitRow;
}

export async function findTask(db: Db | Tx, orgId: string, seq: number): Promise<TaskWithAssignees | null> {
  return db.supervisionTask.findUnique({
    where: { orgId_seq: { orgId, seq } },
    include: { assignees: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
  });
}

export async function taskById(db: Db | Tx, id: string): Promise<TaskWithAssignees | null> {
  return db.supervisionTask.findUnique({
    where: { id },
    include: { assignees: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
  });
}

export async function recordEvent(
  tx: Tx,
  e: {
    orgId: string;
    taskId: string;
    kind: EventKind;
    at: Date;
    assigneeId?: string | null;
    actorId?: string | null;
    detail?: Record<string, unknown>;
    onceKey?: string;
  },
): Promise<void> {
  await tx.supervisionEvent.create({
    data: {
      id: newId(),
      orgId: e.orgId,
      taskId: e.taskId,
      kind: e.kind,
      at: e.at,
      assigneeId: e.assigneeId ?? null,
      actorId: e.actorId ?? null,
      detail: detailColumn.stringify(e.detail ?? {}),
      onceKey: e.onceKey ?? null,
    },
  });
}

/**
 * Records an event that must happen once (its `onceKey` is unique per task);
 * false when it already has. Scheduled jobs fire once across instances, so
 * the look-up decides; the unique key is the backstop (a duplicate rolls the
 * firing back and it runs again, seeing the row).
 */
export async function recordOnce(tx: Tx, e: Parameters<typeof recordEvent>[1] & { onceKey: string }): Promise<boolean> {
  const seen = await tx.supervisionEvent.findUnique({
    where: { taskId_onceKey: { taskId: e.taskId, onceKey: e.onceKey } },
    select: { id: true },
  });
  if (seen) return false;
  await recordEvent(tx, e);
  return true;
}

/** Done, or settled by its unit (the contact marked the unit done). */
export function isSettled(row: AssigneeRow, all: AssigneeRow[]): boolean {
  if (row.doneAt) return true;
  const parent = row.parentId ? all.find((r) => r.id === row.parentId) : undefined;
  return Boolean(parent?.doneAt);
}

/** The top-level assignees: members assigned directly and units (their members are under them). */
export const topLevel = (rows: AssigneeRow[]): AssigneeRow[] => rows.filter((r) => !r.parentId);

/**
 * Who is chased personally: members (directly or through a unit) not done,
 * and a unit with nobody in it (its contacts and head hear instead).
 */
export function pendingPeople(rows: AssigneeRow[]): AssigneeRow[] {
  return rows.filter(
    (r) =>
      !isSettled(r, rows) && (r.kind === 'member' || (r.kind === 'unit' && !rows.some((c) => c.parentId === r.id))),
  );
}

/**
 * Marks rows done in `tx` (only those not done yet: "complete once"), rolls a
 * unit up when its last member finishes, and closes the task when every
 * top-level assignee is done. Returns the rows it completed.
 */
export async function markDone(
  tx: Tx,
  task: TaskWithAssignees,
  rowIds: string[],
  by: { actorId: string; note?: string; via?: 'contact'; file?: string },
  now: Date,
): Promise<AssigneeRow[]> {
  const completed: AssigneeRow[] = [];
  for (const id of rowIds) {
    const { count } = await tx.supervisionAssignee.updateMany({
      where: { id, doneAt: null },
      data: { doneAt: now, doneBy: by.actorId, note: by.note ?? null, progress: 100 },
    });
    if (count !== 1) continue;
    const row = task.assignees.find((r) => r.id === id)!;
    completed.push(row);
    await recordEvent(tx, {
      orgId: task.orgId,
      taskId: task.id,
      kind: 'done',
      at: now,
      assigneeId: id,
      actorId: by.actorId,
      detail: {
        name: row.name,
        onTime: now.getTime() <= task.dueAt.getTime(),
        ...(by.note ? { note: by.note } : {}),
        ...(by.file ? { file: by.file } : {}),
        ...(by.via ? { via: by.via } : {}),
      },
    });
  }
  const fresh = await tx.supervisionAssignee.findMany({ where: { taskId: task.id } });
  for (const parentId of new Set(completed.map((r) => r.parentId).filter((p): p is string => Boolean(p)))) {
    const children = fresh.filter((r) => r.parentId === parentId);
    const parent = fresh.find((r) => r.id === parentId);
    if (!parent || parent.doneAt || children.some((c) => !c.doneAt)) continue;
    const { count } = await tx.supervisionAssignee.updateMany({
      where: { id: parentId, doneAt: null },
      data: { doneAt: now, doneBy: by.actorId, progress: 100 },
    });
    if (count !== 1) continue;
    parent.doneAt = now;
    completed.push(parent);
    await recordEvent(tx, {
      orgId: task.orgId,
      taskId: task.id,
      kind: 'done',
      at: now,
      assigneeId: parentId,
      actorId: by.actorId,
      detail: { name: parent.name, onTime: now.getTime() <= task.dueAt.getTime(), via: 'members' },
    });
  }
  const tops = fresh.filter((r) => !r.parentId);
  if (tops.length > 0 && tops.every((r) => r.doneAt || completed.some((c) => c.id === r.id))) {
    await tx.supervisionTask.updateMany({
      where: { id: task.id, status: 'open' },
      data: { status: 'closed', closedAt: now },
    });
  }
  return completed;
}

/** Progress (0–99; 100 is done) and ticked checklist items, recorded. */
export async function setProgress(
  tx: Tx,
  task: TaskRow,
  row: AssigneeRow,
  values: { progress: number; checked?: number[] },
  actorId: string,
  now: Date,
): Promise<void> {
  await tx.supervisionAssignee.update({
    where: { id: row.id },
    data: {
      progress: values.progress,
      ...(values.checked ? { checked: checkedColumn.stringify(values.checked) } : {}),
    },
  });
  await recordEvent(tx, {
    orgId: task.orgId,
    taskId: task.id,
    kind: 'progress',
    at: now,
    assigneeId: row.id,
    actorId,
    detail: { name: row.name, progress: values.progress, ...(values.checked ? { checked: values.checked } : {}) },
  });
}

/** A secretary sends a completion back: the row (and its unit, and the task) are open again. */
export async function reopen(
  tx: Tx,
  task: TaskWithAssignees,
  row: AssigneeRow,
  actorId: string,
  now: Date,
): Promise<void> {
  await tx.supervisionAssignee.update({ where: { id: row.id }, data: { doneAt: null, doneBy: null, progress: 0 } });
  if (row.parentId) {
    await tx.supervisionAssignee.updateMany({ where: { id: row.parentId }, data: { doneAt: null, doneBy: null } });
  }
  await tx.supervisionTask.update({ where: { id: task.id }, data: { status: 'open', closedAt: null } });
  await recordEvent(tx, {
    orgId: task.orgId,
    taskId: task.id,
    kind: 'reopened',
    at: now,
    assigneeId: row.id,
    actorId,
    detail: { name: row.name },
  });
}
