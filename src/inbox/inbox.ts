import { performance as perf } from 'node:perf_hooks';
import type { Clock } from '../lib/clock.ts';
import { committedAlone, isRawUniqueViolation, type Db, type Provider, type SqlExec } from '../lib/db.ts';
import type { DbHealth } from '../lib/db-health.ts';
import { AlreadyProcessed, type EventScope } from '../lib/event-scope.ts';
import { newId } from '../lib/ids.ts';
import { createTakeoverReport } from '../lib/takeover-report.ts';
import type { Logger } from '../lib/logger.ts';
import { jsonInsert, type JsonInsertSpec } from '../lib/sql-insert.ts';
import { createWriteBatcher } from '../lib/write-batcher.ts';
import type { InboxHandler, MessageInbox, Platform } from '../platforms/types.ts';

/**
 * The transactional inbox (docs/decisions/inbox.md). An adapter records each
 * inbound message here and answers the platform only once the row is
 * committed; rows are group-committed (one INSERT per burst, like the answer
 * batches), so a thousand messages a second cost a handful of commits. The
 * recording instance holds a lease on its rows and processes them at once;
 * rows whose lease ran out (their instance died) are claimed and processed
 * by the recovery pass, at start-up and every `pollMs`. A row is marked
 * processed after its handler finished (group-committed too); a crash in
 * between processes it again, and the receipt its first write stamped
 * (lib/event-scope.ts) stops the second run at its first write.
 */
export interface Inbox extends MessageInbox {
  /** Recovery: picks up what a crashed instance left (at once, then every pollMs). */
  start(): void;
  /** Stops recovery and waits for messages being processed and rows being written. */
  stop(): Promise<void>;
  /** One recovery pass now; returns how many rows it claimed (tests). */
  recover(): Promise<number>;
  /** Waits until everything recorded so far on this instance is processed and marked. */
  drain(): Promise<void>;
  stats(): {
    recorded: number;
    duplicates: number;
    processed: number;
    recovered: number;
    batches: number;
    slowPath: number;
  };
}

export interface InboxOptions {
  /** How long a row stays with the instance that took it before another may. */
  leaseMs: number;
  /** How often unprocessed rows with an expired lease are looked for. */
  pollMs: number;
  /** Attempts before a message that keeps failing is given up (marked with its error). */
  maxAttempts: number;
  /** Rows one recovery pass claims. */
  batch: number;
  /**
   * Messages processed at once. The rest wait their turn: they are recorded
   * already, so a burst costs latency of replies, never the platforms' acks
   * (recording shares the event loop and the database with processing).
   */
  concurrency: number;
  /** A message recorded this recently means a burst: handlers run one at a time, acks first. */
  burstQuietMs: number;
  /**
   * During a burst, no handler starts while the event loop was busy more than
   * this share of the last sampling window: processing gets the CPU that
   * recording leaves, so a burst beyond what one process can answer delays
   * replies, not acks.
   */
  burstBusyShare: number;
}

export const defaultInboxOptions: InboxOptions = {
  leaseMs: 60_000,
  pollMs: 5_000,
  maxAttempts: 5,
  batch: 100,
  concurrency: 16,
  burstQuietMs: 100,
  burstBusyShare: 0.5,
};

type Row = { id: string; p: string; k: string; d: string };
const INSERT = {
  table: 'InboxMessage',
  columns: [
    ['id', 'text'],
    ['platform', 'text', 'p'],
    ['eventKey', 'text', 'k'],
    ['payload', 'text', 'd'],
  ],
  constants: [
    ['receivedAt', 'timestamp(3)'],
    ['leaseOwner', 'text'],
    ['leaseUntil', 'timestamp(3)'],
  ],
} as const satisfies JsonInsertSpec;

export function createInbox(deps: {
  db: Db;
  provider: Provider;
  clock: Clock;
  log: Logger;
  scope: EventScope;
  /** This instance's name in leases. */
  owner: string;
  options?: Partial<InboxOptions>;
  /** Told of database outages, so a restart of PostgreSQL is logged once, not per message. */
  health?: DbHealth;
  /** The recording batches' statements, when they may bypass Prisma (Database.sql); else through `db`. */
  sql?: SqlExec;
}): Inbox {
  const { db, clock, scope } = deps;
  const log = deps.log.child({ component: 'inbox' });
  const opts = { ...defaultInboxOptions, ...deps.options };
  const plain = jsonInsert<Row>(deps.provider, INSERT);
  const tolerant = jsonInsert<Row>(deps.provider, {
    ...INSERT,
    onConflict: 'ON CONFLICT DO NOTHING',
    returning: '"id"',
  });
  const handlers = new Map<string, InboxHandler>();
  const inFlight = new Set<Promise<void>>();
  // Rows this instance is processing or has queued: a backlog longer than the lease must not be
  // claimed again by its own recovery pass (it would be processed twice, the second stopped by the receipt).
  const held = new Set<string>();
  const holding = (id: string, work: Promise<void>) => {
    held.add(id);
    return work.finally(() => held.delete(id));
  };
  const stats = { recorded: 0, duplicates: 0, processed: 0, recovered: 0 };
  let slowPath = 0;

  const inserts = createWriteBatcher<Row, boolean>({
    maxBatch: 500,
    async write(rows) {
      const now = clock.now();
      const until = new Date(now.getTime() + opts.leaseMs);
      // The same key twice in one batch: only the first can be new.
      const seen = new Set<string>();
      const unique = rows.filter((r) => {
        const key = `${r.p}\u0000${r.k}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      try {
        // Re-pushes are rare: the plain INSERT fails as a whole on any known key, then the slow path sorts it out.
        // Committed before the ack, never riding in another transaction that could roll back or die with the process.
        await committedAlone(db, deps.sql, (exec) => plain.run(exec, unique, now, deps.owner, until));
        const ids = new Set(unique.map((r) => r.id));
        return rows.map((r) => ids.has(r.id));
      } catch (err) {
        // Only a known key takes the slow path: after any other failure a row could exist uncommitted,
        // and "seen before" would acknowledge a message nobody processes. The platform sends it again.
        if (!isRawUniqueViolation(err)) throw err;
        slowPath++;
        const got = await committedAlone(db, deps.sql, (exec) =>
          tolerant.run<{ id: string }>(exec, unique, now, deps.owner, until),
        );
        const ids = new Set(got.map((r) => r.id));
        return rows.map((r) => ids.has(r.id));
      }
    },
  });

  const marks = createWriteBatcher<{ id: string; error?: string }, void>({
    maxBatch: 1000,
    async write(items) {
      const now = clock.now();
      const ok = items.filter((i) => i.error === undefined).map((i) => i.id);
      if (ok.length) {
        await db.inboxMessage.updateMany({
          where: { id: { in: ok }, processedAt: null },
          data: { processedAt: now, leaseOwner: null, leaseUntil: null },
        });
      }
      for (const i of items.filter((x) => x.error !== undefined)) {
        await db.inboxMessage.updateMany({
          where: { id: i.id, processedAt: null },
          data: { processedAt: now, leaseOwner: null, leaseUntil: null, lastError: i.error!.slice(0, 500) },
        });
      }
      return items.map(() => undefined);
    },
  });

  /**
   * Runs the platform's handler for one row. A handler error leaves the row
   * for the recovery pass (after its lease) until maxAttempts; a message
   * processed before (AlreadyProcessed) is simply marked.
   */
  async function processRow(row: { id: string; platform: string; eventKey: string; payload: string }, attempt: number) {
    const handler = handlers.get(row.platform);
    const rowLog = { inboxId: row.id, eventKey: row.eventKey, platform: row.platform };
    if (!handler) {
      // The platform is not configured on this instance (any more): leave the row to one that has it.
      log.warn(rowLog, 'no handler for an inbox message; left for later');
      return;
    }
    try {
      // This run's receipt: stamped on the row with the first write the message causes.
      await scope.run(row.id, newId(), () =>
        handler(JSON.parse(row.payload) as unknown, { eventKey: row.eventKey, durable: true }),
      );
    } catch (err) {
      if (deps.health?.failed(err, 'inbox')) {
        // The database went away under the handler: not the message's fault, so no attempt is
        // used up; the row is taken up again when its lease runs out (the outage is logged once).
        return;
      }
      if (!(err instanceof AlreadyProcessed)) {
        if (attempt < opts.maxAttempts) {
          log.error({ ...rowLog, err, attempt }, 'processing an inbox message failed; it will be retried');
          return;
        }
        log.error({ ...rowLog, err, attempt }, 'processing an inbox message failed too often; given up');
        await marks.submit({ id: row.id, error: err instanceof Error ? err.message : String(err) });
        return;
      }
      log.info(rowLog, 'inbox message was processed before a restart; not repeated');
    }
    await marks.submit({ id: row.id });
    stats.processed++;
  }

  let stopped = false;
  // Processing slots: at most opts.concurrency handlers run at once, the others wait in order.
  // While messages are arriving, acks come first: one handler at a time, and the loop gets a
  // turn (new requests are read and recorded) between two handlers. A handler's statements
  // settle through microtasks only, so sixteen of them at once held the loop for as long as
  // sixteen messages' work and pushed acks at 500 messages/s past 3 s.
  let busy = 0;
  let lastRecordAt = -Infinity;
  const waiting: (() => void)[] = [];
  let cooling: ReturnType<typeof setTimeout> | undefined;
  const hot = () => performance.now() - lastRecordAt < opts.burstQuietMs;
  const loop = createLoopLoad(opts.burstQuietMs / 2);
  // In a burst: one handler at a time, and none while recording (and everything else) keeps the loop busy.
  const slots = () =>
    !hot() ? opts.concurrency : loop.share() > opts.burstBusyShare ? 0 : Math.min(1, opts.concurrency);
  function pump(): void {
    while (waiting.length > 0 && busy < slots()) {
      busy++;
      waiting.shift()!();
    }
    // Held back by a burst: look again once it has been quiet for a while.
    if (waiting.length > 0 && busy < opts.concurrency && !cooling) {
      cooling = setTimeout(() => {
        cooling = undefined;
        pump();
      }, opts.burstQuietMs);
      cooling.unref?.();
    }
  }
  async function inTurn(work: () => Promise<void>): Promise<void> {
    await new Promise<void>((r) => {
      waiting.push(r);
      pump();
    });
    try {
      // Shutting down: the row is recorded and leased, a restart or another instance takes it.
      if (!stopped) await work();
    } finally {
      // The next handler starts after the loop's I/O phase, not straight after this one.
      setImmediate(() => {
        busy--;
        pump();
      });
    }
  }

  function track(work: Promise<void>): Promise<void> {
    const p = work.catch((err: unknown) => {
      if (!deps.health?.failed(err, 'inbox')) log.error({ err }, 'inbox processing failed');
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return p;
  }

  const takeovers = createTakeoverReport({
    log,
    noun: 'inbox messages',
    remaining: (instance) =>
      db.inboxMessage.count({ where: { processedAt: null, leaseOwner: { startsWith: instance } } }),
  });

  let running = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // SQLite has one process: rows received before this one started were left by a
  // crashed run and are taken over at once. On PostgreSQL another instance may be
  // working on them; they wait for their lease.
  const startedAt = clock.now();
  const takeOver = deps.provider === 'sqlite';

  async function recover(): Promise<number> {
    const now = clock.now();
    const expired = {
      OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }, ...(takeOver ? [{ receivedAt: { lt: startedAt } }] : [])],
    };
    const candidates = (
      await db.inboxMessage.findMany({
        where: { processedAt: null, platform: { in: [...handlers.keys()] }, ...expired },
        orderBy: { receivedAt: 'asc' },
        take: opts.batch,
        select: { id: true, leaseOwner: true },
      })
    ).filter((c) => !held.has(c.id));
    if (candidates.length === 0) {
      await takeovers.settle();
      return 0;
    }
    // Claim: one conditional update; another instance that read the same rows gets none of ours.
    const token = `${deps.owner}:${newId().slice(0, 8)}`;
    await db.inboxMessage.updateMany({
      where: { id: { in: candidates.map((c) => c.id) }, processedAt: null, ...expired },
      data: { leaseOwner: token, leaseUntil: new Date(now.getTime() + opts.leaseMs), attempts: { increment: 1 } },
    });
    const claimed = await db.inboxMessage.findMany({
      where: { leaseOwner: token, processedAt: null },
      orderBy: { receivedAt: 'asc' },
    });
    // Rows another instance leased (it stopped) are reported once per instance; this one's own
    // (a failed run to retry) are logged with their failure already.
    const leasedBy = new Map(candidates.map((c) => [c.id, c.leaseOwner]));
    const isOwn = (owner: string | null | undefined) =>
      !owner || owner === deps.owner || owner.startsWith(`${deps.owner}:`);
    const own = claimed.filter((row) => isOwn(leasedBy.get(row.id)));
    for (const row of claimed) if (!isOwn(leasedBy.get(row.id))) takeovers.took(leasedBy.get(row.id)!, 1);
    if (own.length) log.info({ count: own.length }, 'processing inbox messages left unprocessed');
    await takeovers.settle();
    stats.recovered += claimed.length;
    // In order of arrival, a few at a time: one member's commands keep their order.
    for (let i = 0; i < claimed.length; i += 10) {
      await Promise.all(
        claimed.slice(i, i + 10).map((row) =>
          track(
            holding(
              row.id,
              inTurn(() => processRow(row, row.attempts)),
            ),
          ),
        ),
      );
    }
    return claimed.length;
  }

  function schedule(ms: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      if (running) return schedule(opts.pollMs);
      running = true;
      recover()
        .then((claimed) => {
          running = false;
          deps.health?.ok();
          // A full pass may have left more behind it: look again at once.
          schedule(claimed >= opts.batch ? 0 : opts.pollMs);
        })
        .catch((err: unknown) => {
          running = false;
          if (!deps.health?.failed(err, 'inbox recovery')) log.error({ err }, 'inbox recovery pass failed');
          schedule(opts.pollMs);
        });
    }, ms);
    timer.unref?.();
  }

  return {
    handle(platform: Platform, handler: InboxHandler) {
      handlers.set(platform, handler);
    },
    async record(platform, eventKey, payload) {
      lastRecordAt = performance.now();
      const row: Row = { id: newId(), p: platform, k: eventKey, d: JSON.stringify(payload ?? null) };
      const fresh = await inserts.submit(row);
      if (!fresh) {
        stats.duplicates++;
        log.info({ eventKey, platform }, 'message seen before (a platform re-push); ignored');
        return { fresh, processed: Promise.resolve() };
      }
      stats.recorded++;
      const processed = track(
        holding(
          row.id,
          // After the caller has answered the platform.
          new Promise<void>((r) => setImmediate(r)).then(() =>
            inTurn(() => processRow({ id: row.id, platform, eventKey, payload: row.d }, 1)),
          ),
        ),
      );
      return { fresh, processed };
    },
    start() {
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (cooling) clearTimeout(cooling);
      cooling = undefined;
      loop.stop();
      // Waiting handlers are let through to find the inbox stopped (they only return).
      while (waiting.length > 0) {
        busy++;
        waiting.shift()!();
      }
      while (running) await new Promise((r) => setTimeout(r, 10));
      await this.drain();
    },
    recover,
    async drain() {
      await inserts.flush();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await marks.flush();
    },
    stats: () => ({ ...stats, batches: inserts.stats().batches, slowPath }),
  };
}

/**
 * How busy the event loop was over the last window (0..1), sampled on an
 * unref'd timer, so a burst's processing can stand aside while the loop is
 * saturated. Sampling starts on first use.
 */
function createLoopLoad(windowMs: number) {
  let last = perf.eventLoopUtilization();
  let value = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    share(): number {
      if (!timer) {
        timer = setInterval(() => {
          const now = perf.eventLoopUtilization();
          value = perf.eventLoopUtilization(now, last).utilization;
          last = now;
        }, windowMs);
        timer.unref?.();
      }
      return value;
    },
    stop(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
      value = 0;
    },
  };
}
