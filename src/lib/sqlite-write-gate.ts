/**
 * Keeps Prisma's writes outside a transaction out of everyone else's
 * transaction, on SQLite.
 *
 * `@prisma/adapter-better-sqlite3` runs every query on one connection and
 * serialises interactive transactions with a lock that queries outside a
 * transaction do not take. A single-statement write (a `create`, an
 * `updateMany`) issued while another request's transaction is open between
 * two of its awaits runs inside that transaction: its caller is told it
 * succeeded, yet it commits only with the other transaction, vanishes when
 * that one rolls back (a feature throwing a UserError to abort, a journal
 * batch meeting a known key), and is lost with it when the process dies
 * first. A member's sign-in or a card click's effect could be lost that way.
 *
 * The gate makes such a write wait until no transaction is open and then
 * run, synchronously, as its own autocommitted statement. Reads are not held:
 * one may see the open transaction's rows (the connection is shared), which
 * is what it saw before. Code inside a transaction must use the
 * transaction's client; a write through the outer client there would wait
 * for the transaction it is part of until Prisma's timeout rolls it back.
 * A write that waited long is reported (`slow`): that is the usual sign of it
 * (a stand-up digest did so every working day for 5 s before it was found).
 */
interface Query {
  sql: string;
}
interface AdapterTransaction {
  commit(): Promise<void>;
  rollback(): Promise<void>;
}
interface GatedAdapter {
  queryRaw(query: Query): Promise<unknown>;
  executeRaw(query: Query): Promise<number>;
  startTransaction(isolationLevel?: unknown): Promise<AdapterTransaction>;
}

const READ = /^\s*(SELECT|PRAGMA|EXPLAIN)\b/i;

export function gateBareWrites(
  adapter: GatedAdapter,
  connection: { readonly inTransaction: boolean },
  slow?: { afterMs: number; report(waitedMs: number, sql: string): void },
): void {
  let ended: { promise: Promise<void>; resolve: () => void } | undefined;
  const transactionEnded = () => {
    if (!ended) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      ended = { promise, resolve };
    }
    return ended.promise;
  };
  const notify = () => {
    const e = ended;
    ended = undefined;
    e?.resolve();
  };

  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => {
    const tx = await startTransaction(isolationLevel);
    // Called by Prisma after its COMMIT or ROLLBACK statement: the lock is let go here.
    const commit = tx.commit.bind(tx);
    const rollback = tx.rollback.bind(tx);
    tx.commit = () => commit().finally(notify);
    tx.rollback = () => rollback().finally(notify);
    return tx;
  };

  for (const method of ['queryRaw', 'executeRaw'] as const) {
    const run = adapter[method].bind(adapter) as (q: Query) => Promise<never>;
    const gated = async (query: Query): Promise<never> => {
      // Checked right before the statement runs (the adapter runs it synchronously): exact.
      if (connection.inTransaction && !READ.test(query.sql)) {
        const from = performance.now();
        while (connection.inTransaction) await transactionEnded();
        const waited = performance.now() - from;
        if (slow && waited >= slow.afterMs) slow.report(Math.round(waited), query.sql);
      }
      return run(query);
    };
    adapter[method] = gated;
  }
}
