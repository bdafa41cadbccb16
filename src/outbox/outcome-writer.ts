import { setTimeout as sleep } from 'node:timers/promises';
import { Prisma } from '../generated/sqlite/client.ts';
import type { Db } from '../lib/db.ts';
import { isDatabaseUnavailable, type DbHealth } from '../lib/db-health.ts';
import type { Logger } from '../lib/logger.ts';

/** What became of one send, as written back to its outbox row. */
export type Outcome =
  | { id: string; kind: 'sent'; platformMessageId: string | null; at: Date }
  | { id: string; kind: 'retry' | 'dead'; error: string; nextAttemptAt: Date }
  | { id: string; kind: 'wait'; attempts: number; nextAttemptAt: Date };

/** Writes delivery outcomes back to the outbox rows a round still leases (outbox/worker.ts). */
export function createOutcomeWriter(deps: {
  db: Db;
  log: Logger;
  /** Most results written back in one transaction. */
  flushSize: number;
  health?: DbHealth;
  /** The worker is stopping: an outage is no longer waited out. */
  stopped: () => boolean;
}) {
  /** Writes results back, many per transaction; only rows we still lease. */
  async function flush(outcomes: Outcome[], leaseOwner: string): Promise<void> {
    deps.log.debug({ rows: outcomes.length }, 'outbox: writing results');
    for (let i = 0; i < outcomes.length; i += deps.flushSize) {
      const chunk = outcomes.slice(i, i + deps.flushSize);
      const sent = chunk.filter((o): o is Extract<Outcome, { kind: 'sent' }> => o.kind === 'sent');
      const withRef = sent.filter((o) => o.platformMessageId !== null);
      const others = chunk.filter((o) => o.kind !== 'sent');
      // Sent rows in two statements whatever their number (the hot path of a
      // fan-out): one update for the state, one CASE update for the platform
      // ids; other outcomes are rare and written one by one.
      const ops = [];
      if (sent.length) {
        ops.push(
          deps.db.outboxMessage.updateMany({
            where: { id: { in: sent.map((o) => o.id) }, leaseOwner, status: 'sending' },
            data: { status: 'sent', sentAt: sent[sent.length - 1]!.at, leaseUntil: null, lastError: null },
          }),
        );
      }
      if (withRef.length) {
        const cases = Prisma.join(
          withRef.map((o) => Prisma.sql`WHEN ${o.id} THEN ${o.platformMessageId}`),
          ' ',
        );
        ops.push(
          deps.db
            .$executeRaw`UPDATE "OutboxMessage" SET "platformMessageId" = CASE "id" ${cases} END WHERE "id" IN (${Prisma.join(withRef.map((o) => o.id))}) AND "leaseOwner" = ${leaseOwner}`,
        );
      }
      ops.push(
        ...others.map((o) => {
          const where = { id: o.id, leaseOwner, status: 'sending' };
          switch (o.kind) {
            case 'wait':
              return deps.db.outboxMessage.updateMany({
                where,
                data: { status: 'pending', attempts: o.attempts, leaseUntil: null, nextAttemptAt: o.nextAttemptAt },
              });
            default:
              return deps.db.outboxMessage.updateMany({
                where,
                data: {
                  status: o.kind === 'dead' ? 'dead' : 'pending',
                  lastError: o.error,
                  leaseUntil: null,
                  nextAttemptAt: o.nextAttemptAt,
                },
              });
          }
        }),
      );
      await deps.db.$transaction(ops);
    }
  }

  /**
   * Writes results back, waiting out a database outage: a sent row whose
   * result is lost stays `sending` and is sent again when its lease runs out,
   * which platforms without an idempotency key (DingTalk) show twice. Gives
   * up when the lease is over (the rows may be another instance's by then)
   * or the worker stops.
   */
  async function flushDurably(outcomes: Outcome[], leaseOwner: string, leaseEnd: number): Promise<void> {
    for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
      try {
        await flush(outcomes, leaseOwner);
        deps.health?.ok();
        return;
      } catch (err) {
        if (!isDatabaseUnavailable(err) || deps.stopped() || performance.now() + wait >= leaseEnd) throw err;
        deps.health?.failed(err, 'outbox results');
        await sleep(wait);
      }
    }
  }

  return { flush, flushDurably };
}
