import type { Clock } from './clock.ts';
import type { Db, Provider, Tx } from './db.ts';
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
 * One statement per batch whatever its size: the rows travel as a single JSON
 * parameter, so the statement text never changes and the cost per row stays
 * small. The plain INSERT is tried first: it fails as a whole on any known
 * key (platform re-pushes are rare), and only then does the batch take the
 * ON CONFLICT … RETURNING path, whose per-row results cost Prisma far more
 * than the insert itself.
 */
const SQL: Record<Provider, { plain: string; returning: string }> = {
  sqlite: {
    plain: `INSERT INTO "InboundEvent" ("platform", "eventKey", "receivedAt")
      SELECT json_extract(value, '$.p'), json_extract(value, '$.k'), ? FROM json_each(?)`,
    returning: `INSERT INTO "InboundEvent" ("platform", "eventKey", "receivedAt")
      SELECT json_extract(value, '$.p'), json_extract(value, '$.k'), ? FROM json_each(?) WHERE true
      ON CONFLICT DO NOTHING
      RETURNING "platform", "eventKey"`,
  },
  postgresql: {
    plain: `INSERT INTO "InboundEvent" ("platform", "eventKey", "receivedAt")
      SELECT x.p, x.k, $1::timestamp(3) FROM json_to_recordset($2::json) AS x(p text, k text)`,
    returning: `INSERT INTO "InboundEvent" ("platform", "eventKey", "receivedAt")
      SELECT x.p, x.k, $1::timestamp(3) FROM json_to_recordset($2::json) AS x(p text, k text)
      ON CONFLICT DO NOTHING
      RETURNING "platform", "eventKey"`,
  },
};

/** One string per (platform, event key), as the sets below hold them. */
export const keyOf = (i: { platform: string; eventKey: string }) => `${i.platform}\u0000${i.eventKey}`;

/**
 * Inserts event keys in the caller's transaction (or on their own) and returns
 * the ones that were new; used by this batcher's slow path and by handlers
 * that write the key with their effect (ActionSpec.recordsEvent).
 */
export async function insertEventKeys(
  db: Db | Tx,
  provider: Provider,
  items: { platform: string; eventKey: string }[],
  at: Date,
): Promise<Set<string>> {
  const rows = JSON.stringify(items.map((i) => ({ p: i.platform, k: i.eventKey })));
  const inserted = await db.$queryRawUnsafe<{ platform: string; eventKey: string }[]>(
    SQL[provider].returning,
    at,
    rows,
  );
  return new Set(inserted.map(keyOf));
}

export function createInboundDedupe(deps: {
  db: Db;
  provider: Provider;
  clock: Clock;
  maxBatch?: number;
}): InboundDedupe {
  const { db, clock } = deps;
  const sql = SQL[deps.provider];
  let slowPath = 0;
  const batcher = createWriteBatcher<{ platform: string; eventKey: string }, boolean>({
    maxBatch: deps.maxBatch ?? 500,
    async write(items) {
      // The same key twice in one batch: only its first submitter can be new.
      const unique = [...new Map(items.map((i) => [keyOf(i), i])).values()];
      const rows = JSON.stringify(unique.map((i) => ({ p: i.platform, k: i.eventKey })));
      const now = clock.now();
      let fresh: Set<string>;
      try {
        await db.$executeRawUnsafe(sql.plain, now, rows);
        fresh = new Set(unique.map(keyOf));
      } catch {
        // Some key was seen before (or the write failed: then this throws again).
        slowPath++;
        fresh = await insertEventKeys(db, deps.provider, unique, now);
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
