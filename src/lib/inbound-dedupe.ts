import type { Clock } from './clock.ts';
import { committedAlone, isRawUniqueViolation, type Db, type Provider, type SqlExec, type Tx } from './db.ts';
import { jsonInsert, type JsonInsertSpec } from './sql-insert.ts';
import { createWriteBatcher, type WriteBatcher } from './write-batcher.ts';

/**
 * Inbound de-duplication (unique platform + eventKey) with group commit:
 * concurrent events share one INSERT, and each learns whether its key was
 * new. The row is committed before anyone is told "first seen", so an
 * acknowledged event is durably recorded. Old keys are deleted by the
 * scheduler's hourly clean-up job (scheduler/cleanup.ts, after 8 h).
 */
export interface InboundDedupe {
  firstSeen(platform: string, eventKey: string): Promise<boolean>;
  flush(): Promise<void>;
  stats(): ReturnType<WriteBatcher<unknown, unknown>['stats']> & { slowPath: number };
}

/**
 * One statement per batch whatever its size (lib/sql-insert.ts). The plain
 * INSERT is tried first: it fails as a whole on any known key (platform
 * re-pushes are rare), and only then does the batch take the ON CONFLICT …
 * RETURNING path, whose per-row results cost Prisma far more than the insert
 * itself. Short JSON keys: the rows are serialised for every batch.
 */
type KeyRow = { p: string; k: string };
const EVENT_INSERT = {
  table: 'InboundEvent',
  columns: [
    ['platform', 'text', 'p'],
    ['eventKey', 'text', 'k'],
  ],
  constants: [['receivedAt', 'timestamp(3)']],
} as const satisfies JsonInsertSpec;
const RETURNING = { ...EVENT_INSERT, onConflict: 'ON CONFLICT DO NOTHING', returning: '"platform", "eventKey"' };
const inserts = (provider: Provider) => ({
  plain: jsonInsert<KeyRow>(provider, EVENT_INSERT),
  returning: jsonInsert<KeyRow>(provider, RETURNING),
});
const BY_PROVIDER: Record<Provider, ReturnType<typeof inserts>> = {
  sqlite: inserts('sqlite'),
  postgresql: inserts('postgresql'),
};
/** The dedupe row's inserts (plain, and ON CONFLICT DO NOTHING RETURNING the new keys), for writers that batch their own. */
export const eventKeyInserts = (provider: Provider) => BY_PROVIDER[provider];
export const eventKeyRows = (items: { platform: string; eventKey: string }[]): KeyRow[] =>
  items.map((i) => ({ p: i.platform, k: i.eventKey }));

/** One string per (platform, event key), as the sets below hold them. */
export const keyOf = (i: { platform: string; eventKey: string }) => `${i.platform}\u0000${i.eventKey}`;

/**
 * Inserts event keys in the caller's transaction (or on their own) and returns
 * the ones that were new; used by this batcher's slow path and by handlers
 * that write the key with their effect (ActionSpec.recordsEvent).
 */
export async function insertEventKeys(
  db: Db | Tx | SqlExec,
  provider: Provider,
  items: { platform: string; eventKey: string }[],
  at: Date,
): Promise<Set<string>> {
  const inserted = await BY_PROVIDER[provider].returning.run<{ platform: string; eventKey: string }>(
    db,
    eventKeyRows(items),
    at,
  );
  return new Set(inserted.map(keyOf));
}

export function createInboundDedupe(deps: {
  db: Db;
  provider: Provider;
  clock: Clock;
  /** The batches' statements, when they may bypass Prisma (Database.sql); else through `db`. */
  sql?: SqlExec;
  maxBatch?: number;
}): InboundDedupe {
  const { clock } = deps;
  const sql = BY_PROVIDER[deps.provider];
  // Committed before anyone is told "first seen": a key riding in another transaction could vanish with it.
  const alone = <T>(write: (exec: SqlExec | Tx) => Promise<T>) => committedAlone(deps.db, deps.sql, write);
  let slowPath = 0;
  const batcher = createWriteBatcher<{ platform: string; eventKey: string }, boolean>({
    maxBatch: deps.maxBatch ?? 500,
    async write(items) {
      // The same key twice in one batch: only its first submitter can be new.
      const unique = [...new Map(items.map((i) => [keyOf(i), i])).values()];
      const now = clock.now();
      let fresh: Set<string>;
      try {
        await alone((exec) => sql.plain.run(exec, eventKeyRows(unique), now));
        fresh = new Set(unique.map(keyOf));
      } catch (err) {
        // Only a known key takes the slow path; any other failure reaches the callers (nothing is acknowledged).
        if (!isRawUniqueViolation(err)) throw err;
        slowPath++;
        fresh = await alone((exec) => insertEventKeys(exec, deps.provider, unique, now));
      }
      return items.map((i) => fresh.delete(keyOf(i)));
    },
  });
  return {
    firstSeen: (platform, eventKey) => batcher.submit({ platform, eventKey }),
    flush: () => batcher.flush(),
    stats: () => ({ ...batcher.stats(), slowPath }),
  };
}
