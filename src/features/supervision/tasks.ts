import type { Identity } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import type { FeatureDeps } from '../../bot/feature.ts';
import type { Db, Tx } from '../../lib/db.ts';
import { isUniqueViolation } from '../../lib/db.ts';
import { newId } from '../../lib/ids.ts';
import { createAssigneeResolver } from './assignees.ts';
import { taskCard } from './cards.ts';
import type { Notices } from './notices.ts';
import {
  addAssignee,
  checklistColumn,
  findTask,
  markDone,
  nextTaskSeq,
  recordEvent,
  reopen,
  setProgress,
  taskById,
  topLevel,
  type AssigneeRow,
  type NewAssignee,
  type TaskWithAssignees,
} from './store.ts';
import { formatDue, formatTime, localDate, workdaysAfter } from './time.ts';

export const MAX_TITLE = 200;
export const MAX_CHECKLIST = 20;

/** Where a request came from: who, on which platform, in which chat. */
export interface Origin {
  identity: Identity;
  platform: string;
  chat: { id: string; kind: 'group' | 'direct' };
}

/** A file sent with a completion (`完成 N` with an attachment). */
export interface Attachment {
  name: string;
  bytes: Uint8Array;
}

export interface NewTask {
  title: string;
  dueAt: Date;
  checklist: string[];
  escalateAfter: number;
  assignees: NewAssignee[];
}

/**
 * The task operations commands and card buttons share: create, complete,
 * report progress, claim, reopen. Each is one transaction holding the state,
 * the record (留痕), the card update and the messages, so a failure leaves
 * nothing half-written.
 */
export function createTaskService(deps: FeatureDeps, notices: Notices) {
  const { db, clock, send, messages } = deps;
  const t = messages.t;

  const resolveAssignees = createAssigneeResolver(deps);

  /** Runs `work` with the next task number; two secretaries creating at once both get one. */
  async function withNextSeq<T>(orgId: string, work: (tx: Tx, seq: number) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await db.$transaction(async (tx) => work(tx, await nextTaskSeq(tx, orgId)));
      } catch (err) {
        if (attempt < 3 && isUniqueViolation(err)) continue;
        throw err;
      }
    }
  }

  async function create(origin: Origin, input: NewTask): Promise<TaskWithAssignees> {
    const { identity } = origin;
    const now = clock.now();
    const tz = identity.timezone;
    const inGroup = origin.chat.kind === 'group';
    return withNextSeq(identity.orgId, async (tx, seq) => {
      const id = newId();
      await tx.supervisionTask.create({
        data: {
          id,
          orgId: identity.orgId,
          seq,
          title: input.title,
          checklist: checklistColumn.stringify(input.checklist),
          dueAt: input.dueAt,
          timezone: tz,
          claimable: input.assignees.length === 0,
          escalateAfter: input.escalateAfter,
          platform: origin.platform,
          chatId: inGroup ? origin.chat.id : null,
          createdBy: identity.memberId,
          createdAt: now,
        },
      });
      for (const a of input.assignees) await addAssignee(tx, { id, orgId: identity.orgId }, a, now);
      await recordEvent(tx, {
        orgId: identity.orgId,
        taskId: id,
        kind: 'created',
        at: now,
        actorId: identity.memberId,
        detail: { names: input.assignees.map((a) => a.name), due: input.dueAt.toISOString() },
      });
      const task = (await taskById(tx, id))!;
      const out = send.in(tx);
      const card = taskCard(notices.cardDeps, task, now);
      if (inGroup) {
        const ref = await out.toChat(
          { platform: origin.platform, orgId: identity.orgId, chatId: origin.chat.id },
          { card },
        );
        await tx.supervisionTask.update({ where: { id }, data: { cardRef: ref.id } });
        task.cardRef = ref.id;
      } else {
        await out.toUser({ platform: origin.platform, orgId: identity.orgId, userId: origin.chat.id }, { card });
      }
      const due = formatDue(input.dueAt, tz, now);
      for (const row of task.assignees.filter((r) => r.kind === 'member' && r.memberId)) {
        const parent = row.parentId ? task.assignees.find((p) => p.id === row.parentId) : undefined;
        await out.toMember(row.memberId!, {
          key: 'supervision.assigned',
          params: {
            seq,
            title: input.title,
            due,
            via: parent ? t('supervision.assigned.via_unit', { unit: parent.name }) : '',
          },
        });
      }
      await notices.scheduleFor(tx, task, now);
      return task;
    });
  }

  async function load(orgId: string, seq: number, reader: Db | Tx = db): Promise<TaskWithAssignees> {
    const task = await findTask(reader, orgId, seq);
    if (!task) throw new UserError('supervision.no_such', { seq });
    return task;
  }

  /** The unit rows of a task the person may act for (its contact or head). */
  const actsFor = (identity: Identity, task: TaskWithAssignees) =>
    task.assignees.filter(
      (r) => r.kind === 'unit' && r.unitId && identity.unitRoles.some((u) => u.unitId === r.unitId),
    );

  /**
   * `完成 N [说明]` and the card's button. The sender's own rows, or, for a
   * unit's contact or head naming the unit (`完成 3 @办公室`) or holding no
   * row of their own, the unit's row. Returns the reply.
   */
  async function complete(
    origin: Origin,
    seq: number,
    note: string | undefined,
    attachment?: Attachment,
  ): Promise<string> {
    const { identity } = origin;
    const now = clock.now();
    return db.$transaction(async (tx) => {
      const task = await load(identity.orgId, seq, tx);
      if (task.status === 'closed') throw new UserError('supervision.closed', { seq });
      let words = (note ?? '').trim();
      let unitNamed: AssigneeRow | undefined;
      const at = /^[@＠](?:unit[:：]|单位[:：])?(\S+)\s*/i.exec(words);
      if (at) {
        unitNamed = task.assignees.find((r) => r.kind === 'unit' && r.name === at[1]);
        if (unitNamed) words = words.slice(at[0].length).trim();
      }
      const mine = task.assignees.filter((r) => r.memberId === identity.memberId);
      let rows: AssigneeRow[];
      let via: 'contact' | undefined;
      let who = '';
      if (unitNamed || mine.length === 0) {
        const unit = unitNamed ?? actsFor(identity, task).find((r) => !r.doneAt);
        if (!unit) throw new UserError('supervision.not_yours', { seq });
        if (!identity.unitRoles.some((u) => u.unitId === unit.unitId)) {
          throw new UserError('supervision.not_contact', { unit: unit.name, seq });
        }
        if (unit.doneAt)
          throw new UserError('supervision.already_done', { seq, at: formatTime(unit.doneAt, task.timezone) });
        rows = [unit];
        via = 'contact';
        who = t('supervision.done.unit', { unit: unit.name });
      } else {
        rows = mine.filter((r) => !r.doneAt);
        if (rows.length === 0) {
          throw new UserError('supervision.already_done', { seq, at: formatTime(mine[0]!.doneAt!, task.timezone) });
        }
      }
      await markDone(
        tx,
        task,
        rows.map((r) => r.id),
        { actorId: identity.memberId, note: words || undefined, via, file: attachment?.name },
        now,
      );
      if (attachment) {
        // The file goes to the secretary who assigned the task, where it stays in the chat.
        await send.in(tx).toMember(task.createdBy, {
          file: { name: attachment.name, contentType: 'application/octet-stream', bytes: attachment.bytes },
          caption: t('supervision.done.file_caption', { seq, name: identity.displayName, file: attachment.name }),
        });
      }
      const fresh = (await taskById(tx, task.id))!;
      await notices.refreshCard(send.in(tx), fresh, now);
      const late = now.getTime() > task.dueAt.getTime();
      const timing = late
        ? t('supervision.done.late', {
            days: Math.max(
              1,
              workdaysAfter(deps.workingDays, localDate(task.dueAt, task.timezone), localDate(now, task.timezone)),
            ),
          })
        : t('supervision.done.on_time');
      return (
        t('supervision.done', { seq, title: task.title, who, timing }) +
        (fresh.status === 'closed' ? t('supervision.done.task_closed', { seq }) : '')
      );
    });
  }

  /** Progress as a percentage, or checklist items ticked (the percentage follows). 100% is done. */
  async function progress(
    origin: Origin,
    seq: number,
    value: { percent: number } | { items: number[] },
    note?: string,
  ): Promise<{ reply: string; progress: number }> {
    const { identity } = origin;
    const task = await load(identity.orgId, seq);
    if (task.status === 'closed') throw new UserError('supervision.closed', { seq });
    const mine = task.assignees.filter((r) => r.memberId === identity.memberId && !r.doneAt);
    if (mine.length === 0) {
      const done = task.assignees.find((r) => r.memberId === identity.memberId && r.doneAt);
      if (done) throw new UserError('supervision.already_done', { seq, at: formatTime(done.doneAt!, task.timezone) });
      throw new UserError('supervision.not_yours', { seq });
    }
    const checklist = checklistColumn.parse(task.checklist);
    let percent: number;
    let items: number[] | undefined;
    if ('items' in value) {
      if (checklist.length === 0) throw new UserError('supervision.progress.no_checklist', { seq });
      const bad = value.items.find((n) => n < 1 || n > checklist.length);
      if (bad !== undefined)
        throw new UserError('supervision.progress.bad_item', { seq, count: checklist.length, n: bad });
      items = [...new Set(value.items)].sort((a, b) => a - b);
      percent = Math.round((items.length / checklist.length) * 100);
    } else {
      percent = value.percent;
    }
    if (percent >= 100) return { reply: await complete(origin, seq, note), progress: 100 };
    const now = clock.now();
    await db.$transaction(async (tx) => {
      for (const row of mine)
        await setProgress(tx, task, row, { progress: percent, checked: items }, identity.memberId, now);
      await notices.refreshCard(send.in(tx), (await taskById(tx, task.id))!, now);
    });
    return { reply: t('supervision.progress.saved', { seq, progress: percent }), progress: percent };
  }

  /**
   * Claims a claimable task for oneself or for the unit one is the contact of.
   * First come first served: the claim row's `claimOf` is unique, so of two
   * clicks at the same moment the database keeps one.
   */
  async function claim(origin: Origin, taskId: string, asUnit: boolean): Promise<string> {
    const { identity } = origin;
    const now = clock.now();
    const task = await taskById(db, taskId);
    if (!task || task.orgId !== identity.orgId) throw new UserError('supervision.no_such', { seq: '?' });
    return claimTask(origin, task, asUnit, now);
  }

  async function claimTask(origin: Origin, task: TaskWithAssignees, asUnit: boolean, now: Date): Promise<string> {
    const { identity } = origin;
    const seq = task.seq;
    const takenBy = () => topLevel(task.assignees)[0]?.name;
    if (!task.claimable) throw new UserError('supervision.claim.not_claimable', { seq });
    if (task.status === 'closed') throw new UserError('supervision.closed', { seq });
    if (takenBy()) throw new UserError('supervision.claim.taken', { seq, name: takenBy()! });
    let who: NewAssignee;
    if (asUnit) {
      const role = identity.unitRoles[0];
      if (!role) throw new UserError('supervision.claim.no_unit');
      const members = await db.member.findMany({
        where: { unitId: role.unitId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: { id: true, displayName: true },
      });
      who = {
        kind: 'unit',
        unitId: role.unitId,
        name: role.unitName,
        members: members.map((m) => ({ id: m.id, name: m.displayName })),
      };
    } else {
      who = { kind: 'member', memberId: identity.memberId, name: identity.displayName };
    }
    try {
      await db.$transaction(async (tx) => {
        const row = await addAssignee(tx, task, who, now, task.id);
        await recordEvent(tx, {
          orgId: task.orgId,
          taskId: task.id,
          kind: 'claimed',
          at: now,
          assigneeId: row.id,
          actorId: identity.memberId,
          detail: { name: who.name },
        });
        const fresh = (await taskById(tx, task.id))!;
        const out = send.in(tx);
        await notices.refreshCard(out, fresh, now);
        if (fresh.chatId) {
          await out.toChat(
            { platform: fresh.platform, orgId: fresh.orgId, chatId: fresh.chatId },
            { key: 'supervision.claim.group', params: { seq, name: who.name } },
          );
        }
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const winner = topLevel((await taskById(db, task.id))?.assignees ?? [])[0];
      throw new UserError('supervision.claim.taken', { seq, name: winner?.name ?? '' });
    }
    const due = formatDue(task.dueAt, task.timezone, now);
    return who.kind === 'unit'
      ? t('supervision.claim.done_unit', { unit: who.name, seq, title: task.title, due })
      : t('supervision.claim.done', { seq, title: task.title, due });
  }

  async function claimBySeq(origin: Origin, seq: number, asUnit: boolean): Promise<string> {
    return claimTask(origin, await load(origin.identity.orgId, seq), asUnit, clock.now());
  }

  /** A secretary sends a completion back (`任务 退回 N @李明`). */
  async function sendBack(
    origin: Origin,
    seq: number,
    target: { memberPlatformId?: string; name: string },
  ): Promise<string> {
    const { identity } = origin;
    const now = clock.now();
    return db.$transaction(async (tx) => {
      const task = await load(identity.orgId, seq, tx);
      let row: AssigneeRow | undefined;
      if (target.memberPlatformId) {
        const member = await tx.member.findFirst({
          where: { orgId: identity.orgId, platform: origin.platform, platformUserId: target.memberPlatformId },
        });
        row =
          task.assignees.find((r) => member && r.memberId === member.id && r.doneAt) ??
          task.assignees.find((r) => member && r.memberId === member.id);
      } else {
        row = task.assignees.find((r) => r.kind === 'unit' && r.name === target.name);
      }
      if (!row) throw new UserError('supervision.reopen.not_assignee', { name: target.name, seq });
      if (!row.doneAt) throw new UserError('supervision.reopen.not_done', { name: target.name, seq });
      await reopen(tx, task, row, identity.memberId, now);
      const out = send.in(tx);
      const fresh = (await taskById(tx, task.id))!;
      await notices.refreshCard(out, fresh, now);
      const notice = { key: 'supervision.reopen.notice' as const, params: { seq, title: task.title } };
      if (row.memberId) await out.toMember(row.memberId, notice);
      else if (row.unitId)
        for (const h of await tx.unitRole.findMany({ where: { unitId: row.unitId }, include: { member: true } }))
          await out.toMember(h.member, notice);
      // Past the deadline, the chasing resumes.
      if (now.getTime() > task.dueAt.getTime()) await notices.ensureChase(tx, task, now);
      return t('supervision.reopen.done', { name: row.name, seq });
    });
  }

  return { resolveAssignees, create, complete, progress, claim, claimBySeq, sendBack, load };
}

export type TaskService = ReturnType<typeof createTaskService>;
