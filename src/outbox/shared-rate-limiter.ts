import { Prisma } from '../generated/sqlite/client.ts';
import type { Db, Tx } from '../lib/db.ts';
import type { Logger } from '../lib/logger.ts';
import type { Platform, RateLimit, RateLimits, Target } from '../platforms/types.ts';
import { BucketSet, type LimitScope, type Planner, type RateLimiter } from './rate-limiter.ts';

/**
 * The GCRA buckets of `rate-limiter.ts`, kept in PostgreSQL so that every
 * instance of a deployment spends one budget (Feishu's 50/s per app is per
 * app, not per process). Each limit of each bucket is one row holding its
 * theoretical arrival time on the database's clock, so instances whose
 * clocks disagree still agree on the schedule.
 *
 * A delivery round plans inside one transaction: it locks the app buckets
 * of the platforms (rows in key order, so rounds of all instances queue on
 * them), reads the due outbox rows, loads and locks the chat and user buckets
 * those rows need, reserves a slot for each, claims the rows and writes the
 * buckets back. The lock is held for a handful of statements (a few ms); the
 * sends themselves happen after the commit, at the reserved times.
 *
 * A 429 still pauses the scope: locally at once, and in the database (the
 * bucket moved past the reset time) for the other instances' next plans.
 */
function readLog(log: string | null | undefined): number[] {
  if (!log) return [];
  const parsed: unknown = JSON.parse(log);
  return Array.isArray(parsed) ? parsed.filter((t): t is number => typeof t === 'number') : [];
}

export function createSharedRateLimiter(deps: {
  db: Db;
  log: Logger;
  limitsFor: (platform: Platform) => RateLimits | undefined;
  /** Monotonic milliseconds of this process. */
  now?: () => number;
  /** Idle chat and user rows are deleted every this many rounds. */
  sweepEvery?: number;
}): RateLimiter {
  const now = deps.now ?? (() => performance.now());
  const sweepEvery = deps.sweepEvery ?? 200;
  let rounds = 0;
  /** Local knowledge of 429 pauses (local clock), for `confirm`: key → until. */
  const blocked = new Map<string, number>();
  /** Writes of 429 pauses, kept in order and awaited by the next plan. */
  let pendingBlocks: Promise<void> = Promise.resolve();

  const setKey = (platform: Platform, scope: LimitScope, id: string) =>
    scope === 'app' ? `${platform}|app` : `${platform}|${scope}|${id}`;
  const limitsOf = (platform: Platform, scope: LimitScope): RateLimit[] => {
    const l = deps.limitsFor(platform);
    return (scope === 'app' ? l?.perApp : scope === 'chat' ? l?.perChat : l?.perUser) ?? [];
  };
  const scopeOf = (target: Target): LimitScope => (target.kind === 'chat' ? 'chat' : 'user');
  /** One row per limit of a bucket set. */
  const rowKeys = (key: string, n: number) => Array.from({ length: n }, (_, i) => `${key}#${i}`);

  async function dbNow(tx: Tx): Promise<number> {
    const [row] = await tx.$queryRaw<{ now: number }[]>`
      SELECT (extract(epoch from clock_timestamp()) * 1000)::float8 AS now`;
    return Number(row!.now);
  }

  /** Locks (creating when missing) the rows of these bucket sets and reads them. */
  async function load(tx: Tx, sets: { key: string; limits: RateLimit[] }[], into: Map<string, BucketSet>) {
    const wanted = sets.filter((s) => s.limits.length > 0 && !into.has(s.key));
    if (wanted.length === 0) return;
    const keys = wanted.flatMap((s) => rowKeys(s.key, s.limits.length)).sort();
    await tx.$executeRaw`
      INSERT INTO "RateBucket" ("key", "tat", "blockedUntil")
      VALUES ${Prisma.join(keys.map((k) => Prisma.sql`(${k}, 0, 0)`))}
      ON CONFLICT ("key") DO NOTHING`;
    const rows = await tx.$queryRaw<{ key: string; tat: number; blockedUntil: number; log: string | null }[]>`
      SELECT "key", "tat", "blockedUntil", "log" FROM "RateBucket"
      WHERE "key" IN (${Prisma.join(keys)}) ORDER BY "key" FOR UPDATE`;
    const byKey = new Map(rows.map((r) => [r.key, r]));
    for (const s of wanted) {
      const own = rowKeys(s.key, s.limits.length).map((k) => byKey.get(k));
      into.set(
        s.key,
        new BucketSet(s.limits, {
          tats: own.map((r, i) => (s.limits[i]!.sliding ? readLog(r?.log) : Number(r?.tat ?? 0))),
          blockedUntil: Math.max(...own.map((r) => Number(r?.blockedUntil ?? 0))),
        }),
      );
    }
  }

  async function save(tx: Tx, sets: Map<string, BucketSet>, touched: Set<string>) {
    const values = [...touched].sort().flatMap((key) => {
      const set = sets.get(key)!;
      return set.buckets.map((b, i) => {
        const state = b.state;
        // Whole ms, rounded up: a send remembered as later only makes the window safer.
        const log = Array.isArray(state) ? JSON.stringify(state.map((t) => Math.ceil(t))) : null;
        const tat = Array.isArray(state) ? 0 : Math.max(0, state);
        return Prisma.sql`(${`${key}#${i}`}, ${tat}, ${Math.max(0, set.blockedUntil)}, ${log})`;
      });
    });
    if (values.length === 0) return;
    await tx.$executeRaw`
      INSERT INTO "RateBucket" ("key", "tat", "blockedUntil", "log") VALUES ${Prisma.join(values)}
      ON CONFLICT ("key") DO UPDATE
      SET "tat" = EXCLUDED."tat", "blockedUntil" = EXCLUDED."blockedUntil", "log" = EXCLUDED."log"`;
  }

  const limiter: RateLimiter = {
    now,
    async plan(platforms, work) {
      await pendingBlocks;
      const sweep = ++rounds % sweepEvery === 0;
      return deps.db.$transaction(
        async (tx) => {
          const dbAt = await dbNow(tx);
          // Database time = local time + offset, for the length of this plan.
          const offset = dbAt - now();
          const sets = new Map<string, BucketSet>();
          const touched = new Set<string>();
          await load(
            tx,
            [...new Set(platforms)].map((p) => ({ key: setKey(p, 'app', ''), limits: limitsOf(p, 'app') })),
            sets,
          );
          const setsFor = (platform: Platform, target: Target) =>
            [setKey(platform, 'app', ''), setKey(platform, scopeOf(target), target.id)].filter((k) => sets.has(k));
          const planner: Planner = {
            db: tx,
            async prepare(sends) {
              const scoped = new Map<string, RateLimit[]>();
              for (const s of sends) {
                const scope = scopeOf(s.target);
                scoped.set(setKey(s.platform, scope, s.target.id), limitsOf(s.platform, scope));
              }
              await load(
                tx,
                [...scoped].map(([key, limits]) => ({ key, limits })),
                sets,
              );
            },
            exhausted(platform, notAfter) {
              const app = sets.get(setKey(platform, 'app', ''));
              return app !== undefined && app.availableAt(now() + offset) - offset > notAfter;
            },
            reserve(platform, target, notAfter) {
              const t = now() + offset;
              const keys = setsFor(platform, target);
              const at = keys.reduce((m, k) => Math.max(m, sets.get(k)!.availableAt(t)), t);
              if (at - offset > notAfter) return null;
              for (const k of keys) {
                sets.get(k)!.take(at);
                touched.add(k);
              }
              return at - offset;
            },
          };
          const result = await work(planner);
          await save(tx, sets, touched);
          if (sweep) {
            // Chat and user buckets that are full again hold no information.
            await tx.$executeRaw`
              DELETE FROM "RateBucket" WHERE "key" NOT LIKE '%|app#%' AND "tat" < ${dbAt} AND "blockedUntil" < ${dbAt}`;
          }
          return result;
        },
        { timeout: 15_000, maxWait: 15_000 },
      );
    },
    reserve() {
      // Every reservation of a shared budget happens inside a plan.
      throw new Error('the shared rate limiter reserves only inside plan()');
    },
    confirm(platform, target, plannedAt) {
      const t = now();
      const until = Math.max(
        blocked.get(setKey(platform, 'app', '')) ?? -Infinity,
        blocked.get(setKey(platform, scopeOf(target), target.id)) ?? -Infinity,
      );
      return until > t ? Math.max(plannedAt, until) : plannedAt;
    },
    blockUntil(platform, target, scope, until) {
      const key = setKey(platform, scope, scope === 'app' ? '' : target.id);
      blocked.set(key, Math.max(blocked.get(key) ?? -Infinity, until));
      for (const [k, u] of blocked) if (u < now()) blocked.delete(k);
      const limits = limitsOf(platform, scope);
      if (limits.length === 0) return;
      const delay = Math.max(0, until - now());
      pendingBlocks = pendingBlocks
        .then(() =>
          deps.db.$transaction(async (tx) => {
            const at = (await dbNow(tx)) + delay;
            const sets = new Map<string, BucketSet>();
            await load(tx, [{ key, limits }], sets);
            sets.get(key)!.blockUntil(at);
            await save(tx, sets, new Set([key]));
          }),
        )
        .catch((err: unknown) => deps.log.error({ err, key }, 'could not share a rate-limit pause'));
    },
    size: () => blocked.size,
  };
  return limiter;
}
