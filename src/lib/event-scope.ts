import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db, Tx } from './db.ts';

/**
 * The inbound message being processed, for the writes it causes. While the
 * inbox processes a message, every outbox write made on its behalf first
 * stamps the message's inbox row with this run's receipt, in the same
 * transaction as the write. A run that finds another run's receipt there
 * (the message was processed before a crash, only its "processed" mark was
 * lost) throws AlreadyProcessed: the transaction that would have repeated
 * the handler's writes rolls back, and nothing is said twice.
 */
export interface EventScope {
  /** Runs `work` as the processing of inbox row `inboxId`, under the receipt `token`. */
  run<T>(inboxId: string, token: string, work: () => Promise<T>): Promise<T>;
  /** Inside a scope: stamps the receipt in `db` (the caller's transaction); throws AlreadyProcessed. */
  stamp(db: Db | Tx): Promise<void>;
  /** Whether the caller runs inside a scope. */
  active(): boolean;
  /** Runs `fn` outside any scope (work that serves everyone, e.g. waking the outbox worker). */
  outside<T>(fn: () => T): T;
}

/** The message this write belongs to was processed before (by another run). */
export class AlreadyProcessed extends Error {
  constructor(readonly inboxId: string) {
    super(`inbox message ${inboxId} was processed before`);
    this.name = 'AlreadyProcessed';
  }
}

export function createEventScope(): EventScope {
  const storage = new AsyncLocalStorage<{ inboxId: string; token: string }>();
  return {
    run: (inboxId, token, work) => storage.run({ inboxId, token }, work),
    active: () => storage.getStore() !== undefined,
    outside: (fn) => storage.exit(fn),
    async stamp(db) {
      const s = storage.getStore();
      if (!s) return;
      const { count } = await db.inboxMessage.updateMany({
        where: { id: s.inboxId, OR: [{ receipt: null }, { receipt: s.token }] },
        data: { receipt: s.token },
      });
      if (count === 1) return;
      // Work that outlived its message (a timer started while handling it) may find the row
      // cleaned up: only another run's receipt means "processed before".
      const row = await db.inboxMessage.findUnique({ where: { id: s.inboxId }, select: { receipt: true } });
      if (row) throw new AlreadyProcessed(s.inboxId);
    },
  };
}
