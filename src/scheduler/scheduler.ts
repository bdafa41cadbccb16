import { hostname } from 'node:os';
import cron, { type RunCoordinator, type ScheduledTask } from 'node-cron';
import type { Clock } from '../lib/clock.ts';
import type { Db, Tx } from '../lib/db.ts';
import { isDatabaseUnavailable, type DbHealth } from '../lib/db-health.ts';
import type { Logger } from '../lib/logger.ts';
import { newId } from '../lib/ids.ts';
import { createYielder } from '../lib/loop-yield.ts';
import { parseJsonValue } from '../lib/json-column.ts';
import { createDbRunCoordinator } from './run-coordinator.ts';

/**
 * Durable scheduled items. Features schedule items of their own `kind` and
 * register a handler per kind; when an item falls due, one instance claims it
 * with a conditional update and runs the handler in the same transaction, so
 * the handler's writes (outbox rows, state changes) commit together with the
 * claim: exactly once across instances and restarts.
 *
 * Recurrence: `recurrence` is a JSON rule; `nextOccurrence` (injected) turns
 * it into the next due time when an occurrence fires, so only the next one is
 * ever materialised.
 *
 * Downtime: an occurrence found due less than `graceMs` late fires, marked
 * late; an older one is recorded as missed (ScheduledMiss) and reported once,
 * in the same transaction that moves the item past it.
 */
export interface ScheduleInput {
  orgId: string;
  kind: string;
  dueAt: Date;
  payload: unknown;
  recurrence?: unknown;
  timezone?: string;
  createdBy?: string;
  id?: string;
  /** The number people type for it (per organisation and kind), allocated by the feature in `tx`. */
  seq?: number;
}

export interface FiredItem {
  id: string;
  orgId: string;
  kind: string;
  payload: unknown;
  /** When it was due (not when it fired). */
  dueAt: Date;
  firedAt: Date;
  recurrence: unknown;
  timezone: string;
  /** Fired noticeably after its due time (the instances were down); features say so. */
  late?: boolean;
}

/** `prepared`: what the kind's `prepare` returned for this occurrence (FireOptions). */
export type FireHandler = (item: FiredItem, tx: Tx, prepared?: unknown) => Promise<void>;

export interface FireOptions {
  nextOccurrence?: NextOccurrence;
  /**
   * Runs before the claiming transaction, outside it, and hands its result to the handler:
   * for what must not happen inside it, such as a platform call, or a seam that writes through
   * its own connection (on SQLite such a write waits for every open transaction to end,
   * lib/sqlite-write-gate.ts, while the transaction waits for it, until it times out). It may
   * run for an occurrence that another instance then claims.
   */
  prepare?: (item: FiredItem) => Promise<unknown>;
}

/** Next due time of a recurring rule strictly after `after`; null when it never fires again. */
export type NextOccurrence = (rule: unknown, after: Date, timezone: string) => Date | null;

/** Something secretaries must hear about, written in the transaction that decided it. */
export type SchedulerReport =
  | { type: 'missed'; orgId: string; items: { item: FiredItem; occurrences: Date[] }[] }
  | { type: 'stalled'; orgId: string; item: FiredItem; error: unknown };

export interface Scheduler {
  schedule(input: ScheduleInput, tx?: Tx): Promise<{ id: string }>;
  cancel(id: string, tx?: Tx): Promise<boolean>;
  /**
   * Registers the handler of a kind. Recurrence rules are the calendar's
   * (features/calendar/recurrence.ts: daily, working days, weekly, monthly…)
   * unless the kind brings its own `nextOccurrence`.
   */
  onFire(kind: string, handler: FireHandler, options?: FireOptions): void;
  /** Claim and fire everything due now; returns how many fired. */
  tick(): Promise<number>;
  /**
   * A singleton periodic job (clean-up, digests): a cron expression in the
   * default time zone; across instances each firing runs once (RunCoordinator).
   */
  every(name: string, expression: string, job: () => Promise<void>): void;
  start(): void;
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  /** How late an occurrence may fire after downtime; older ones are missed. */
  graceMs: number;
  /** Fired more than this after its due time counts as late. */
  lateAfterMs: number;
  batchSize: number;
  /** node-cron expression of the due-item tick. */
  tickExpression: string;
}

export const defaultSchedulerOptions: SchedulerOptions = {
  graceMs: 6 * 3600_000,
  lateAfterMs: 2 * 60_000,
  batchSize: 200,
  tickExpression: '* * * * * *',
};

type Row = {
  id: string;
  orgId: string;
  kind: string;
  payload: string;
  dueAt: Date;
  recurrence: string | null;
  timezone: string;
};

export function createScheduler(deps: {
  db: Db;
  clock: Clock;
  log: Logger;
  defaultTimezone: string;
  /** Next due time of a recurring rule strictly after `after`; null when it never fires again. */
  nextOccurrence?: NextOccurrence;
  /** Called after a tick committed outbox rows, to wake the outbox worker. */
  afterFire?: () => void;
  /** Tells secretaries about missed or stalled items, inside the deciding transaction. */
  report?: (report: SchedulerReport, tx: Tx) => Promise<void>;
  runCoordinator?: RunCoordinator;
  options?: Partial<SchedulerOptions>;
  /** Told of database outages: a restart of PostgreSQL is logged once, not every tick and item. */
  health?: DbHealth;
  /** @deprecated use options.batchSize */
  batchSize?: number;
  /** @deprecated the tick is a node-cron expression now (options.tickExpression) */
  tickMs?: number;
}): Scheduler {
  const { db, clock, log } = deps;
  const opts: SchedulerOptions = {
    ...defaultSchedulerOptions,
    ...(deps.batchSize ? { batchSize: deps.batchSize } : {}),
    ...deps.options,
  };
  const handlers = new Map<string, FireHandler>();
  const preparers = new Map<string, NonNullable<FireOptions['prepare']>>();
  const nextByKind = new Map<string, NextOccurrence>();
  const failures = new Map<string, { count: number; retryAt: number }>();
  const jobs: { name: string; expression: string; job: () => Promise<void> }[] = [];
  const tasks: ScheduledTask[] = [];
  const dbCoordinator =
    deps.runCoordinator ??
    createDbRunCoordinator({ db, clock, owner: `${hostname()}:${process.pid}:${newId().slice(0, 8)}` });
  // node-cron logs every coordinator error to the console; an outage is logged once by `health` and
  // the slot skipped (fail closed, as node-cron would), another instance or the next slot runs it.
  const coordinator: RunCoordinator = {
    async shouldRun(key, ttlMs) {
      try {
        return await dbCoordinator.shouldRun(key, ttlMs);
      } catch (err) {
        if (deps.health?.failed(err, 'scheduler')) return false;
        throw err;
      }
    },
    async onComplete(key) {
      try {
        await dbCoordinator.onComplete?.(key);
      } catch (err) {
        if (!deps.health?.failed(err, 'scheduler')) throw err;
      }
    },
  };
  let running: Promise<number> | undefined;
  let stopped = true;

  const toItem = (row: Row, firedAt: Date, late = false): FiredItem => ({
    id: row.id,
    orgId: row.orgId,
    kind: row.kind,
    payload: parseJsonValue(row.payload, 'ScheduledItem.payload'),
    dueAt: row.dueAt,
    firedAt,
    recurrence: row.recurrence ? parseJsonValue(row.recurrence, 'ScheduledItem.recurrence') : null,
    timezone: row.timezone,
    late,
  });

  function next(kind: string, rule: unknown, after: Date, tz: string): { at: Date | null } | { error: unknown } {
    const nextOccurrence = nextByKind.get(kind) ?? deps.nextOccurrence;
    if (!rule || !nextOccurrence) return { at: null };
    try {
      return { at: nextOccurrence(rule, after, tz) };
    } catch (error) {
      return { error };
    }
  }

  /** Claim one due occurrence and run its handler, all in one transaction (its kind's `prepare` first, outside it). */
  async function fireOne(row: Row): Promise<boolean> {
    const handler = handlers.get(row.kind)!;
    const now = clock.now();
    const rule = row.recurrence ? parseJsonValue(row.recurrence, 'ScheduledItem.recurrence') : null;
    const after = next(row.kind, rule, row.dueAt, row.timezone);
    const item = toItem(row, now, now.getTime() - row.dueAt.getTime() > opts.lateAfterMs);
    const prepare = preparers.get(row.kind);
    const prepared = prepare ? await prepare(item) : undefined;
    return db.$transaction(async (tx) => {
      const data =
        'error' in after
          ? { status: 'stalled', lastFiredAt: now, lastError: String((after.error as Error)?.message ?? after.error) }
          : after.at
            ? { dueAt: after.at, lastFiredAt: now }
            : { status: 'done', lastFiredAt: now };
      const { count } = await tx.scheduledItem.updateMany({
        // Conditional on the due time we read: another instance that claimed
        // it first has already moved dueAt or status, and we update nothing.
        where: { id: row.id, status: 'active', dueAt: row.dueAt },
        data,
      });
      if (count !== 1) return false;
      await handler(item, tx, prepared);
      if ('error' in after && deps.report) {
        await deps.report({ type: 'stalled', orgId: row.orgId, item, error: after.error }, tx);
      }
      return true;
    });
  }

  /**
   * Moves items past every occurrence older than the grace window, records
   * those as missed and reports them, one transaction per organisation.
   */
  async function skipMissed(rows: Row[]): Promise<void> {
    const now = clock.now();
    const cutoff = new Date(now.getTime() - opts.graceMs);
    const byOrg = new Map<string, Row[]>();
    for (const row of rows) byOrg.set(row.orgId, [...(byOrg.get(row.orgId) ?? []), row]);
    for (const [orgId, list] of byOrg) {
      try {
        await db.$transaction(async (tx) => {
          const reported: { item: FiredItem; occurrences: Date[] }[] = [];
          for (const row of list) {
            const rule = row.recurrence ? parseJsonValue(row.recurrence, 'ScheduledItem.recurrence') : null;
            const occurrences = [row.dueAt];
            let due: Date | null = null;
            let stalled: unknown;
            // Walk forward to the first occurrence inside the grace window (it
            // fires late on the next pass) or in the future.
            for (let cursor = row.dueAt; ;) {
              const n = next(row.kind, rule, cursor, row.timezone);
              if ('error' in n) {
                stalled = n.error;
                break;
              }
              if (!n.at || n.at.getTime() >= cutoff.getTime()) {
                due = n.at;
                break;
              }
              if (occurrences.length < 100) occurrences.push(n.at);
              cursor = n.at;
            }
            const { count } = await tx.scheduledItem.updateMany({
              where: { id: row.id, status: 'active', dueAt: row.dueAt },
              data:
                stalled !== undefined
                  ? { status: 'stalled', lastError: String((stalled as Error)?.message ?? stalled) }
                  : due
                    ? { dueAt: due }
                    : { status: 'missed' },
            });
            if (count !== 1) continue;
            await tx.scheduledMiss.createMany({
              data: occurrences.map((dueAt) => ({
                id: newId(),
                itemId: row.id,
                orgId,
                kind: row.kind,
                dueAt,
                recordedAt: now,
              })),
            });
            const item = toItem(row, now);
            reported.push({ item, occurrences });
            if (stalled !== undefined && deps.report) {
              await deps.report({ type: 'stalled', orgId, item, error: stalled }, tx);
            }
          }
          if (reported.length > 0) {
            log.warn({ orgId, items: reported.length }, 'scheduled items missed while no instance was running');
            if (deps.report) await deps.report({ type: 'missed', orgId, items: reported }, tx);
          }
        });
      } catch (err) {
        log.error({ err, orgId }, 'recording missed items failed; retried next tick');
      }
    }
  }

  let queued: Promise<number> | undefined;
  /**
   * One tick at a time. A call made while a tick is in flight gets one more
   * tick after it (shared by every such caller): the one in flight may have
   * read the clock before the caller's change and so missed what is due now.
   */
  function requestTick(): Promise<number> {
    if (!running) {
      running = tick().finally(() => (running = undefined));
      return running;
    }
    queued ??= running
      .catch(() => 0)
      .then(() => {
        queued = undefined;
        return requestTick();
      });
    return queued;
  }

  async function tick(): Promise<number> {
    let fired = 0;
    // Several batches per tick, so a burst of due items does not wait for
    // later ticks; stop when a pass makes no progress (handlers failing).
    for (let pass = 0; pass < 50; pass++) {
      const now = clock.now();
      const due: Row[] = await db.scheduledItem.findMany({
        where: { status: 'active', dueAt: { lte: now }, kind: { in: [...handlers.keys()] } },
        orderBy: { dueAt: 'asc' },
        take: opts.batchSize,
      });
      if (due.length === 0) break;
      const cutoff = now.getTime() - opts.graceMs;
      const missed = due.filter((r) => r.dueAt.getTime() < cutoff);
      // An item whose handler just failed waits (1 s, 2 s, 4 s … 5 min) instead of failing every tick.
      const fireable = due.filter(
        (r) => r.dueAt.getTime() >= cutoff && (failures.get(r.id)?.retryAt ?? 0) <= now.getTime(),
      );
      if (missed.length) await skipMissed(missed);
      // Instances reading the same batch start at different places, so two
      // of them split a burst instead of racing for the same rows.
      const start = fireable.length ? Math.floor(Math.random() * fireable.length) : 0;
      const order = [...fireable.slice(start), ...fireable.slice(0, start)];
      let progress = missed.length;
      // 09:00 in a province fires 300 daily pushes at once: on SQLite their transactions settle
      // through microtasks only, so without a turn between items no webhook got in for seconds
      // (bench:province, node-cron's "missed execution"). No transaction is open here.
      const yielder = createYielder();
      for (const row of order) {
        await yielder.maybeYield();
        try {
          if (await fireOne(row)) fired++;
          failures.delete(row.id);
          progress++;
        } catch (err) {
          // The database went away: the tick ends here (logged once by the caller), the item stays due.
          if (deps.health && isDatabaseUnavailable(err)) throw err;
          const count = (failures.get(row.id)?.count ?? 0) + 1;
          const delay = Math.min(5 * 60_000, 1000 * 2 ** (count - 1));
          failures.set(row.id, { count, retryAt: clock.now().getTime() + delay });
          log.error(
            { err, id: row.id, kind: row.kind, attempt: count },
            'scheduled item failed; it stays due and is retried',
          );
        }
      }
      if (fired > 0) deps.afterFire?.();
      if (due.length < opts.batchSize || progress === 0) break;
    }
    return fired;
  }

  function startJob(j: (typeof jobs)[number]): void {
    tasks.push(
      cron.schedule(
        j.expression,
        async () => {
          try {
            await j.job();
          } catch (err) {
            if (!deps.health?.failed(err, `job ${j.name}`)) log.error({ err, job: j.name }, 'periodic job failed');
          }
        },
        {
          name: j.name,
          timezone: deps.defaultTimezone,
          noOverlap: true,
          distributed: true,
          runCoordinator: coordinator,
          distributedLease: 10 * 60_000,
          unref: true,
        },
      ),
    );
  }

  return {
    async schedule(input, tx) {
      const id = input.id ?? newId();
      await (tx ?? db).scheduledItem.create({
        data: {
          id,
          orgId: input.orgId,
          kind: input.kind,
          payload: JSON.stringify(input.payload ?? null),
          recurrence: input.recurrence ? JSON.stringify(input.recurrence) : null,
          timezone: input.timezone ?? deps.defaultTimezone,
          dueAt: input.dueAt,
          createdBy: input.createdBy ?? null,
          seq: input.seq ?? null,
        },
      });
      return { id };
    },
    async cancel(id, tx) {
      const { count } = await (tx ?? db).scheduledItem.updateMany({
        where: { id, status: { in: ['active', 'stalled'] } },
        data: { status: 'cancelled', cancelledAt: clock.now() },
      });
      return count === 1;
    },
    onFire(kind, handler, options) {
      if (handlers.has(kind)) throw new Error(`scheduled kind "${kind}" has two handlers`);
      handlers.set(kind, handler);
      if (options?.nextOccurrence) nextByKind.set(kind, options.nextOccurrence);
      if (options?.prepare) preparers.set(kind, options.prepare);
    },
    tick: requestTick,
    every(name, expression, job) {
      if (!cron.validate(expression)) throw new Error(`job ${name}: bad cron expression ${expression}`);
      const j = { name, expression, job };
      jobs.push(j);
      if (!stopped) startJob(j);
    },
    start() {
      stopped = false;
      tasks.push(
        cron.schedule(
          opts.tickExpression,
          async () => {
            try {
              await this.tick();
              deps.health?.ok();
            } catch (err) {
              if (!deps.health?.failed(err, 'scheduler')) log.error({ err }, 'scheduler tick failed');
            }
          },
          {
            name: `scheduler-tick-${newId().slice(0, 8)}`,
            timezone: deps.defaultTimezone,
            noOverlap: true,
            unref: true,
            // node-cron writes to the console; here its lines join ours. A tick still running
            // when the next second comes (the database is slow or away) is expected, not news.
            logger: {
              info: (m) => log.info({ component: 'node-cron' }, m),
              warn: (m) =>
                /still running/.test(m)
                  ? log.debug({ component: 'node-cron' }, m)
                  : log.warn({ component: 'node-cron' }, m),
              error: (m, err) => log.error({ component: 'node-cron', err }, String(m)),
              debug: (m) => log.debug({ component: 'node-cron' }, String(m)),
            },
          },
        ),
      );
      for (const j of jobs) startJob(j);
    },
    async stop() {
      stopped = true;
      for (const t of tasks.splice(0)) await t.destroy();
      await running;
    },
  };
}
