import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nextOccurrence, ruleSchema } from '../../src/features/calendar/recurrence.ts';
import { CalendarDataMissing, createWorkingDays } from '../../src/features/calendar/working-days.ts';
import { createManualClock, type ManualClock } from '../../src/lib/clock.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createDbRunCoordinator } from '../../src/scheduler/run-coordinator.ts';
import { createScheduler, type FiredItem, type SchedulerReport } from '../../src/scheduler/scheduler.ts';
import { providers } from '../helpers/databases.ts';
import { openMigrated } from '../helpers/migrated-db.ts';

const HOUR = 3600_000;
const wd = createWorkingDays();

describe.each(providers)('scheduler on $name', ({ create }) => {
  let env: Awaited<ReturnType<typeof openMigrated>>;
  let clock: ManualClock;
  beforeEach(async () => {
    env = await openMigrated(create);
    // Monday 2026-03-02 09:00 Shanghai
    clock = createManualClock('2026-03-02T01:00:00Z');
  });
  afterEach(async () => {
    await env.close();
  });

  function make(
    nextOcc = (rule: unknown, after: Date, tz: string) => nextOccurrence(ruleSchema.parse(rule), after, tz, wd),
  ) {
    const fired: FiredItem[] = [];
    const reports: SchedulerReport[] = [];
    const scheduler = createScheduler({
      db: env.database.prisma,
      clock,
      log: createSilentLogger(),
      defaultTimezone: 'Asia/Shanghai',
      nextOccurrence: nextOcc,
      report: async (r) => {
        reports.push(r);
      },
      options: { graceMs: 6 * HOUR },
    });
    scheduler.onFire('test', async (item, tx) => {
      fired.push(item);
      // the handler's writes commit with the claim
      await tx.inboundEvent.create({
        data: { platform: 'fired', eventKey: `${item.id}@${item.dueAt.toISOString()}`, receivedAt: clock.now() },
      });
    });
    return { scheduler, fired, reports };
  }
  const item = (id: string) => env.database.prisma.scheduledItem.findUniqueOrThrow({ where: { id } });

  it('fires a due one-off item once and marks it done', async () => {
    const { scheduler, fired } = make();
    const { id } = await scheduler.schedule({
      orgId: 'o1',
      kind: 'test',
      dueAt: new Date('2026-03-02T01:00:00Z'),
      payload: { x: 1 },
    });
    await scheduler.schedule({ orgId: 'o1', kind: 'test', dueAt: new Date('2026-03-02T02:00:00Z'), payload: { x: 2 } });
    expect(await scheduler.tick()).toBe(1);
    expect(await scheduler.tick()).toBe(0);
    expect(fired.map((f) => f.payload)).toEqual([{ x: 1 }]);
    expect(fired[0]!.late).toBe(false);
    expect((await item(id)).status).toBe('done');
  });

  it('materialises only the next occurrence of a recurring item when it fires', async () => {
    const { scheduler, fired } = make();
    const { id } = await scheduler.schedule({
      orgId: 'o1',
      kind: 'test',
      dueAt: new Date('2026-03-02T01:00:00Z'),
      payload: null,
      recurrence: { freq: 'workdays', time: '09:00' },
    });
    await scheduler.tick();
    expect((await item(id)).dueAt.toISOString()).toBe('2026-03-03T01:00:00.000Z');
    for (const day of ['03', '04', '05', '06', '07', '08']) {
      clock.set(`2026-03-${day}T01:00:30Z`);
      await scheduler.tick();
    }
    expect(fired.map((f) => f.dueAt.toISOString().slice(0, 10))).toEqual([
      '2026-03-02',
      '2026-03-03',
      '2026-03-04',
      '2026-03-05',
      '2026-03-06',
    ]);
    expect((await item(id)).dueAt.toISOString()).toBe('2026-03-09T01:00:00.000Z'); // skips the weekend
  });

  it('two schedulers on one database fire each of 300 items exactly once', async () => {
    const a = make();
    const b = make();
    for (let i = 0; i < 300; i++) {
      await a.scheduler.schedule({
        orgId: 'o1',
        kind: 'test',
        dueAt: new Date(clock.now().getTime() - i * 1000),
        payload: i,
      });
    }
    const [fa, fb] = await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
    expect(fa + fb).toBe(300);
    const all = [...a.fired, ...b.fired].map((f) => f.payload as number).sort((x, y) => x - y);
    expect(all).toEqual([...Array(300).keys()]);
    expect(await env.database.prisma.inboundEvent.count({ where: { platform: 'fired' } })).toBe(300);
  });

  it('fires an item that fell due within the grace window late, marked as late', async () => {
    const { scheduler, fired, reports } = make();
    await scheduler.schedule({
      orgId: 'o1',
      kind: 'test',
      dueAt: new Date(clock.now().getTime() - 5 * HOUR),
      payload: 'late',
    });
    await scheduler.tick();
    expect(fired).toHaveLength(1);
    expect(fired[0]!.late).toBe(true);
    expect(reports).toEqual([]);
  });

  it('records older items as missed and reports them once', async () => {
    const { scheduler, fired, reports } = make();
    const { id } = await scheduler.schedule({
      orgId: 'o1',
      kind: 'test',
      dueAt: new Date(clock.now().getTime() - 7 * HOUR),
      payload: 'gone',
    });
    await scheduler.tick();
    await scheduler.tick();
    expect(fired).toEqual([]);
    expect((await item(id)).status).toBe('missed');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ type: 'missed', orgId: 'o1' });
    expect(await env.database.prisma.scheduledMiss.count({ where: { itemId: id } })).toBe(1);
  });

  it('skips the missed occurrences of a recurring item and fires the one still within grace late', async () => {
    const { scheduler, fired, reports } = make();
    // daily 09:00, last due Friday 09:00; now Monday 12:00 (3 h after Monday's occurrence)
    clock.set('2026-03-02T04:00:00Z');
    const { id } = await scheduler.schedule({
      orgId: 'o1',
      kind: 'test',
      dueAt: new Date('2026-02-27T01:00:00Z'),
      payload: 'daily',
      recurrence: { freq: 'daily', time: '09:00' },
    });
    await scheduler.tick();
    await scheduler.tick();
    expect(reports).toHaveLength(1);
    const missed = reports[0]!.type === 'missed' ? reports[0]!.items[0]!.occurrences.map((d) => d.toISOString()) : [];
    expect(missed).toEqual(['2026-02-27T01:00:00.000Z', '2026-02-28T01:00:00.000Z', '2026-03-01T01:00:00.000Z']);
    expect(fired.map((f) => [f.dueAt.toISOString(), f.late])).toEqual([['2026-03-02T01:00:00.000Z', true]]);
    expect((await item(id)).dueAt.toISOString()).toBe('2026-03-03T01:00:00.000Z');
    expect(await env.database.prisma.scheduledMiss.count({ where: { itemId: id } })).toBe(3);
  });

  it('stops a recurring item that needs a year without holiday data, after firing this one, and reports it', async () => {
    const { scheduler, fired, reports } = make((rule, after, tz) => {
      if (after.getTime() >= new Date('2026-03-02T01:00:00Z').getTime()) throw new CalendarDataMissing(2027);
      return nextOccurrence(ruleSchema.parse(rule), after, tz, wd);
    });
    const { id } = await scheduler.schedule({
      orgId: 'o1',
      kind: 'test',
      dueAt: new Date('2026-03-02T01:00:00Z'),
      payload: null,
      recurrence: { freq: 'workdays', time: '09:00' },
    });
    await scheduler.tick();
    expect(fired).toHaveLength(1);
    const row = await item(id);
    expect(row.status).toBe('stalled');
    expect(row.lastError).toContain('2027');
    expect(reports.map((r) => r.type)).toEqual(['stalled']);
  });

  it('lets a kind bring its own recurrence rule', async () => {
    const { scheduler } = make();
    const fired: Date[] = [];
    scheduler.onFire(
      'every-2h',
      async (item) => {
        fired.push(item.dueAt);
      },
      { nextOccurrence: (rule, after) => new Date(after.getTime() + (rule as { hours: number }).hours * HOUR) },
    );
    const { id } = await scheduler.schedule({
      orgId: 'o1',
      kind: 'every-2h',
      dueAt: clock.now(),
      payload: null,
      recurrence: { hours: 2 },
    });
    await scheduler.tick();
    expect(fired).toHaveLength(1);
    expect((await item(id)).dueAt.getTime()).toBe(clock.now().getTime() + 2 * HOUR);
  });

  it('retries an item whose handler failed, backing off, and fires it once it works', async () => {
    const { scheduler } = make();
    let calls = 0;
    scheduler.onFire('flaky', async () => {
      calls++;
      if (calls < 3) throw new Error('downstream not ready');
    });
    const { id } = await scheduler.schedule({ orgId: 'o1', kind: 'flaky', dueAt: clock.now(), payload: null });
    await scheduler.tick();
    await scheduler.tick(); // within the 1 s back-off: not tried
    expect(calls).toBe(1);
    expect((await item(id)).status).toBe('active');
    clock.advance(1000);
    await scheduler.tick();
    expect(calls).toBe(2);
    clock.advance(1000);
    await scheduler.tick(); // back-off is now 2 s
    expect(calls).toBe(2);
    clock.advance(1000);
    await scheduler.tick();
    expect(calls).toBe(3);
    expect((await item(id)).status).toBe('done');
  });

  it("runs a kind's prepare outside the claiming transaction and hands its result to the handler, first try", async () => {
    const { scheduler } = make();
    const db = env.database.prisma;
    const got: unknown[] = [];
    let prepares = 0;
    scheduler.onFire(
      'roster',
      async (_item, tx, prepared) => {
        got.push(prepared);
        await tx.inboundEvent.create({ data: { platform: 'fired', eventKey: 'roster', receivedAt: clock.now() } });
      },
      {
        // A write through the database's own client: inside the claim, on SQLite, it would wait for
        // the claim to end while the claim waited for it.
        prepare: async (item) => {
          if (++prepares === 1) throw new Error('platform unreachable');
          await db.inboundEvent.create({ data: { platform: 'listed', eventKey: item.id, receivedAt: clock.now() } });
          return ['m1', 'm2'];
        },
      },
    );
    const { id } = await scheduler.schedule({ orgId: 'o1', kind: 'roster', dueAt: clock.now(), payload: null });
    // A failed prepare is a failed firing: nothing claimed, the item stays due and is retried.
    expect(await scheduler.tick()).toBe(0);
    expect((await item(id)).status).toBe('active');
    expect(got).toEqual([]);
    clock.advance(1000);
    expect(await scheduler.tick()).toBe(1);
    expect(got).toEqual([['m1', 'm2']]);
    expect((await item(id)).status).toBe('done');
    expect(await db.inboundEvent.count({ where: { platform: { in: ['listed', 'fired'] } } })).toBe(2);
  });

  it('does not fire a cancelled item', async () => {
    const { scheduler, fired } = make();
    const { id } = await scheduler.schedule({ orgId: 'o1', kind: 'test', dueAt: clock.now(), payload: null });
    expect(await scheduler.cancel(id)).toBe(true);
    expect(await scheduler.cancel(id)).toBe(false);
    await scheduler.tick();
    expect(fired).toEqual([]);
  });

  it('database RunCoordinator: one instance per slot; a dead runner’s slot can be taken over after its lease', async () => {
    const a = createDbRunCoordinator({ db: env.database.prisma, clock, owner: 'a' });
    const b = createDbRunCoordinator({ db: env.database.prisma, clock, owner: 'b' });
    const key = 'cleanup:2026-03-02T01:07:00.000Z';
    const [ra, rb] = await Promise.all([a.shouldRun(key, 60_000), b.shouldRun(key, 60_000)]);
    expect([ra, rb].filter(Boolean)).toHaveLength(1);
    const winner = ra ? a : b;
    const loser = ra ? b : a;
    expect(await loser.shouldRun(key, 60_000)).toBe(false);
    clock.advance(61_000); // the winner died without finishing
    expect(await loser.shouldRun(key, 60_000)).toBe(true);
    await winner.onComplete?.(key);
    const row = await env.database.prisma.cronRun.findUniqueOrThrow({ where: { key } });
    expect(row.job).toBe('cleanup');
    expect(row.owner).toBe(ra ? 'b' : 'a');
  });
});

describe('singleton jobs through node-cron', () => {
  it('runs each firing of a job on one of two instances only', async () => {
    const env = await openMigrated(providers[0]!.create);
    const clock = { now: () => new Date() };
    const runs: string[] = [];
    const schedulers = ['a', 'b'].map((name) => {
      const s = createScheduler({
        db: env.database.prisma,
        clock,
        log: createSilentLogger(),
        defaultTimezone: 'Asia/Shanghai',
      });
      s.every('tick-job', '* * * * * *', async () => {
        runs.push(`${name}@${Math.floor(Date.now() / 1000)}`);
      });
      s.start();
      return s;
    });
    await new Promise((r) => setTimeout(r, 3200));
    await Promise.all(schedulers.map((s) => s.stop()));
    const slots = await env.database.prisma.cronRun.findMany({ where: { job: 'tick-job' } });
    await env.close();
    expect(slots.length).toBeGreaterThanOrEqual(2);
    // one run per slot, never two
    expect(runs.length).toBe(slots.length);
  });
});
