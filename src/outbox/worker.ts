import { setTimeout as sleep } from 'node:timers/promises';
import { hostname } from 'node:os';
import type { OutboxMessage } from '../generated/sqlite/client.ts';
import type { Platform, PlatformMessenger } from '../platforms/types.ts';
import type { Clock } from '../lib/clock.ts';
import type { Db } from '../lib/db.ts';
import type { DbHealth } from '../lib/db-health.ts';
import { createTakeoverReport } from '../lib/takeover-report.ts';
import type { Logger } from '../lib/logger.ts';
import { newId } from '../lib/ids.ts';
import type { FileStore } from '../files/file-store.ts';
import { createOutcomeWriter, type Outcome } from './outcome-writer.ts';
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts';
import { createSender, targetOf } from './send-one.ts';
import { defaultWorkerOptions, type DeliveryStats, type OutboxWorkerOptions } from './worker-options.ts';

export type { DeliveryStats, OutboxWorkerOptions };

export interface OutboxWorker {
  start(): void;
  stop(): Promise<void>;
  /** Ask for a delivery round now (coalesced). */
  kick(): void;
  /** One delivery round; returns how many rows it handled. */
  runOnce(): Promise<number>;
  /** Deliver until nothing is due; for tests and shutdown. */
  drain(maxRounds?: number): Promise<void>;
  stats(): DeliveryStats;
}

/** Rows whose buckets one planning step loads at a time. */
const planChunk = 200;

/**
 * Delivers outbox rows. A round reads due rows, reserves a send slot for each
 * in the rate limiters (per app, per chat, per user), claims the rows it can
 * send within the horizon with one conditional update, sends them at their
 * slots (one chat in order, chats in parallel) and writes the results back in
 * batches. A crash after a send and before its result is written leaves the
 * row `sending`; when the lease runs out it is sent again with the same
 * idempotency key (the outbox id), which the platform de-duplicates.
 */
export function createOutboxWorker(deps: {
  db: Db;
  clock: Clock;
  log: Logger;
  messengers: Map<Platform, PlatformMessenger>;
  options?: Partial<OutboxWorkerOptions>;
  /** Shared by all workers of the process; by default built from the messengers' declared limits. */
  rateLimiter?: RateLimiter;
  /** Told when a message is given up for good, e.g. to notify secretaries. */
  onDead?: (row: OutboxMessage, reasonKey: string | undefined) => Promise<void>;
  /** Where `file` rows' bytes are kept; without it file rows go out as their text (the link). */
  files?: Pick<FileStore, 'get' | 'link'>;
  /** Told of database outages and recoveries, so a restart of PostgreSQL is logged once, not per round. */
  health?: DbHealth;
}): OutboxWorker {
  const opts = { ...defaultWorkerOptions, ...deps.options };
  const owner = `${hostname()}:${process.pid}:${newId().slice(0, 8)}`;
  /** Sends taken over from a stopped instance: one line per instance (lib/takeover-report.ts). */
  const takeovers = createTakeoverReport({
    log: deps.log,
    noun: 'outbox messages',
    remaining: (instance) =>
      deps.db.outboxMessage.count({ where: { status: 'sending', leaseOwner: { startsWith: `${instance}:` } } }),
  });
  const limiter =
    deps.rateLimiter ?? createRateLimiter({ limitsFor: (p) => deps.messengers.get(p)?.rateLimits ?? undefined });
  const stats: DeliveryStats = { sent: 0, failed: 0, retried: 0, throttled: 0, requeued: 0 };
  let timer: NodeJS.Timeout | undefined;
  /** Rounds in progress: a started worker plans the next round while the last one sends. */
  const rounds = new Set<Promise<number>>();
  const maxRounds = 2;
  /** Targets with rows in flight in some round: later rows wait, so a chat keeps its order. */
  const busyTargets = new Map<string, number>();
  let again = false;
  let stopped = true;
  const { send } = createSender({
    db: deps.db,
    clock: deps.clock,
    log: deps.log,
    messengers: deps.messengers,
    limiter,
    opts,
    stats,
    onDead: deps.onDead,
    files: deps.files,
  });
  const { flushDurably } = createOutcomeWriter({
    db: deps.db,
    log: deps.log,
    flushSize: opts.flushSize,
    health: deps.health,
    stopped: () => stopped,
  });

  async function round(onClaimed: () => void): Promise<number> {
    const now = deps.clock.now();
    const due = {
      OR: [
        { status: 'pending', nextAttemptAt: { lte: now } },
        // A sender that crashed mid-delivery: its lease ran out, the row comes back.
        { status: 'sending', leaseUntil: { lt: now } },
      ],
    };
    // Read, plan and claim as one step of the rate limiter: with a shared
    // limiter this is one transaction holding the app buckets, so instances
    // never plan the same rows or spend the same slots.
    const claimToken = `${owner}:${newId().slice(0, 8)}`;
    const leaseEnd = performance.now() + opts.leaseMs;
    const { claimed, planned } = await limiter.plan([...deps.messengers.keys()], async (planner) => {
      const db = planner.db ?? deps.db;
      const rows = await db.outboxMessage.findMany({
        where: due,
        orderBy: { createdAt: 'asc' },
        take: opts.batchSize,
      });
      const planned = new Map<string, number>();
      const candidates = rows.filter((row) => !busyTargets.has(`${row.platform}:${row.targetKind}:${row.targetId}`));
      if (candidates.length === 0) return { claimed: [], planned };

      // Plan: reserve a slot for each row in order; once one row of a target
      // cannot go within the horizon, later rows of that target wait too, so
      // one chat's messages keep their order. Buckets are loaded a chunk at a
      // time, and rows of a platform whose app budget is spent are skipped
      // without loading theirs.
      const horizon = limiter.now() + opts.horizonMs;
      const deferred = new Set<string>();
      for (let i = 0; i < candidates.length; i += planChunk) {
        const chunk = candidates
          .slice(i, i + planChunk)
          .filter((row) => !planner.exhausted(row.platform as Platform, horizon));
        await planner.prepare(chunk.map((row) => ({ platform: row.platform as Platform, target: targetOf(row) })));
        for (const row of chunk) {
          const key = `${row.platform}:${row.targetKind}:${row.targetId}`;
          if (deferred.has(key)) continue;
          const at = planner.reserve(row.platform as Platform, targetOf(row), horizon);
          if (at === null) deferred.add(key);
          else planned.set(row.id, at);
        }
      }
      if (planned.size === 0) return { claimed: [], planned };

      // Claim: one conditional update; a second instance that read the same
      // rows updates none of those we got (and vice versa).
      await db.outboxMessage.updateMany({
        where: { id: { in: [...planned.keys()] }, ...due },
        data: {
          status: 'sending',
          leaseOwner: claimToken,
          leaseUntil: new Date(now.getTime() + opts.leaseMs),
          attempts: { increment: 1 },
        },
      });
      const claimed = await db.outboxMessage.findMany({
        where: { leaseOwner: claimToken, status: 'sending' },
        orderBy: { createdAt: 'asc' },
      });
      // Planned but claimed by another sender first (one without a shared
      // limiter, as the shared one plans under a lock): their slots go back.
      if (claimed.length < planned.size) {
        const ours = new Set(claimed.map((r) => r.id));
        for (const row of rows) {
          const slot = planned.get(row.id);
          if (slot !== undefined && !ours.has(row.id))
            limiter.amend(row.platform as Platform, targetOf(row), slot, null);
        }
      }
      // Rows that were being sent by an instance that stopped (their lease ran out).
      const leasedBy = new Map(rows.map((r) => [r.id, r.status === 'sending' ? r.leaseOwner : null]));
      for (const row of claimed) {
        const before = leasedBy.get(row.id);
        if (before && !before.startsWith(`${owner}:`)) takeovers.took(before, 1);
      }
      return { claimed, planned };
    });
    await takeovers.settle();
    if (claimed.length === 0) return 0;

    const byTarget = new Map<string, OutboxMessage[]>();
    for (const row of claimed) {
      const key = `${row.platform}:${row.targetKind}:${row.targetId}`;
      const list = byTarget.get(key);
      if (list) list.push(row);
      else byTarget.set(key, [row]);
    }
    for (const key of byTarget.keys()) busyTargets.set(key, (busyTargets.get(key) ?? 0) + 1);
    const release = (key: string) => {
      const n = (busyTargets.get(key) ?? 1) - 1;
      if (n <= 0) busyTargets.delete(key);
      else busyTargets.set(key, n);
    };
    onClaimed();

    const pending: Outcome[] = [];
    const flushes: Promise<void>[] = [];
    let flushTimer: NodeJS.Timeout | undefined;
    const queueFlush = () => {
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = undefined;
      const chunk = pending.splice(0, pending.length);
      if (chunk.length) flushes.push(flushDurably(chunk, claimToken, leaseEnd));
    };
    let firstPendingAt = 0;
    const record = (o: Outcome) => {
      pending.push(o);
      if (pending.length === 1) firstPendingAt = performance.now();
      // Checked here too, not only by the timer: back-to-back sends resolve as
      // microtasks and can starve timers for a long while.
      if (pending.length >= opts.flushSize || performance.now() - firstPendingAt >= opts.flushDelayMs) queueFlush();
      else flushTimer ??= setTimeout(queueFlush, opts.flushDelayMs);
    };
    await Promise.all(
      [...byTarget.entries()].map(async ([key, queue]) => {
        try {
          await sendQueue(queue);
        } finally {
          release(key);
        }
      }),
    );
    /** Rows that will not leave this round: pending again, their reserved slots given back. */
    function putBack(rows: OutboxMessage[], retryAt: Date): void {
      for (const r of rows) {
        const slot = planned.get(r.id);
        if (slot !== undefined) limiter.amend(r.platform as Platform, targetOf(r), slot, null);
        record({ id: r.id, kind: 'wait', attempts: r.attempts - 1, nextAttemptAt: retryAt });
      }
    }
    async function sendQueue(queue: OutboxMessage[]): Promise<void> {
      for (const [i, row] of queue.entries()) {
        // The row was attempted `row.attempts` times before; the claim counted this one.
        const before = { ...row, attempts: row.attempts - 1 };
        const slot = planned.get(row.id) ?? limiter.now();
        const wait = slot - limiter.now();
        if (wait > 1) await sleep(wait);
        // A send that cannot leave in its slot goes back to be planned again:
        // the platform paused us since the plan, or a busy event loop woke us
        // late from the wait, and late sends bunch up with punctual ones into
        // a window the platform refuses. (Slots that passed while the round
        // was claiming go at once: a few, as the limits are paced.)
        const pausedUntil = limiter.confirm(row.platform as Platform, targetOf(row), slot);
        const late = limiter.now() - slot;
        if (pausedUntil > slot || (wait > 1 && late > opts.maxLateMs)) {
          const retryAt = new Date(deps.clock.now().getTime() + Math.max(0, pausedUntil - limiter.now()));
          stats.requeued += queue.length - i;
          putBack(queue.slice(i), retryAt);
          break;
        }
        const outcome = await send(before);
        record(outcome);
        if (planned.has(row.id)) {
          const answered = limiter.now();
          if (outcome.kind === 'wait') {
            // Refused as too fast (the platform's window does not count a
            // refused send), or not made (a card update waiting for its card).
            limiter.amend(row.platform as Platform, targetOf(row), slot, null);
          } else if (answered - slot > opts.maxLateMs) {
            // It may have reached the platform later than the declared
            // headroom covers (its slot passed while the round claimed, the
            // first send fetched a token): the windows count it as of the
            // answer, which is never earlier than the platform's count.
            limiter.amend(row.platform as Platform, targetOf(row), slot, answered);
          }
        }
        if (outcome.kind !== 'sent') {
          // Keep the chat's order: later rows of this target go next round.
          putBack(queue.slice(i + 1), outcome.nextAttemptAt);
          break;
        }
      }
    }
    queueFlush();
    // Flushes may have been queued while earlier ones were awaited.
    for (let i = 0; i < flushes.length; i++) await flushes[i];
    return claimed.length;
  }

  function launch(): Promise<number> {
    const p: Promise<number> = round(() => {
      // Claimed: let the next round plan and claim while this one sends.
      if (!stopped && rounds.size < maxRounds) void launch();
    })
      .then(
        (n) => {
          deps.health?.ok();
          return n;
        },
        (err: unknown) => {
          if (!deps.health?.failed(err, 'outbox')) deps.log.error({ err }, 'outbox round failed');
          return 0;
        },
      )
      .then((n) => {
        // A round that found work means more is probably waiting: go again at once.
        if (n > 0 && !stopped) again = true;
        return n;
      })
      .finally(() => {
        rounds.delete(p);
        if (again && !stopped && rounds.size < maxRounds) {
          again = false;
          void launch();
        }
      });
    rounds.add(p);
    return p;
  }

  function runOnce(): Promise<number> {
    if (rounds.size > 0) {
      again = true;
      return [...rounds][rounds.size - 1]!;
    }
    return launch();
  }

  const settled = async () => {
    while (rounds.size > 0) await Promise.all([...rounds]);
  };

  return {
    start() {
      stopped = false;
      timer = setInterval(() => void runOnce(), opts.pollMs);
      timer.unref();
      void runOnce();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await settled();
    },
    kick() {
      if (!stopped) void runOnce();
    },
    runOnce,
    async drain(maxRounds = 100) {
      for (let i = 0; i < maxRounds; i++) {
        await settled();
        const n = await runOnce();
        if (n === 0) {
          const due = await deps.db.outboxMessage.count({
            where: { status: 'pending', nextAttemptAt: { lte: deps.clock.now() } },
          });
          if (due === 0) return;
          // Due but held back by the rate limits: give the buckets a moment.
          await sleep(Math.min(200, opts.horizonMs / 10));
        }
      }
    },
    stats: () => ({ ...stats }),
  };
}
