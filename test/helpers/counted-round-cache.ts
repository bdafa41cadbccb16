import { createRoundCache, type RoundCache } from '../../src/features/quiz/round-cache.ts';
import type { Database, Db } from '../../src/lib/db.ts';

/**
 * A round snapshot cache on a manual millisecond clock whose Prisma reads of rounds are
 * counted: a kept snapshot costs none, a reload one.
 */
export function countedRoundCache(database: Database): {
  cache: RoundCache;
  reads: () => number;
  advance: (ms: number) => void;
} {
  let reads = 0;
  let ms = 0;
  const counted = new Proxy(database.prisma, {
    get(target, prop) {
      if (prop === 'quizRound') reads++;
      return Reflect.get(target, prop) as unknown;
    },
  }) as Db;
  const cache = createRoundCache({ db: counted, sql: database.sql, provider: database.provider, now: () => ms });
  return { cache, reads: () => reads, advance: (by) => void (ms += by) };
}
