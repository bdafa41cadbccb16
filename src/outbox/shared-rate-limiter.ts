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
 *
 * Amendments of sliding windows (a send put back unsent, or one that left
 * late) are kept until this instance's next plan, which writes them with
 * its buckets: no transaction of their own, and a worker plans at least
 * every poll interval while it runs.
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
  /**
   * Sends reserved in sliding windows, by bucket set and local slot time:
   * the time written to the window's log (database clock), for `amend`.
   * Kept a minute, in insertion (so roughly time) order.
   */
  const reserved = new Map<string, { local: number; db: number }>();
  const keepReservedMs = 60_000;
  /** Amendments waiting for the next plan to write them. */
  let amendments: { key: string; limits: RateLimit[]; from: number; to: number | null }[] = [];

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
      const mine = amendments;
      amendments = [];
      return deps.db
        .$transaction(
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
            if (mine.length > 0) {
              await load(tx, [...new Map(mine.map((a) => [a.key, a])).values()], sets);
              for (const a of mine) {
                sets.get(a.key)?.amend(a.from, a.to);
                touched.add(a.key);
              }
            }
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
                const local = at - offset;
                for (const k of keys) {
                  const set = sets.get(k)!;
                  set.take(at);
                  touched.add(k);
                  if (set.sliding) reserved.set(`${k}@${local}`, { local, db: at });
                }
                for (const [k, r] of reserved) {
                  if (r.local >= local - keepReservedMs) break;
                  reserved.delete(k);
                }
                return local;
              },
            };
            const result = await work(planner);
            await save(tx, sets, touched);
            if (sweep) {
              // Chat and user buckets that are full again hold no information;
              // a sliding window (its tat is 0) is full again once its last send
              // is older than the longest window declared.
              const window = Math.max(
                0,
                ...platforms.flatMap((p) => limitsOf(p, 'chat').concat(limitsOf(p, 'user'))).map((l) => l.perMs),
              );
              await tx.$executeRaw`
              DELETE FROM "RateBucket" WHERE "key" NOT LIKE '%|app#%' AND "tat" < ${dbAt} AND "blockedUntil" < ${dbAt}
                AND coalesce(("log"::jsonb ->> -1)::float8, 0) < ${dbAt - window}`;
            }
            return result;
          },
          { timeout: 15_000, maxWait: 15_000 },
        )
        .catch((err: unknown) => {
          // Rolled back: the amendments are written by the next plan instead.
          amendments = [...mine, ...amendments];
          throw err;
        });
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
    amend(platform, target, plannedAt, sentAt) {
      const scope = scopeOf(target);
      for (const [key, limits] of [
        [setKey(platform, 'app', ''), limitsOf(platform, 'app')],
        [setKey(platform, scope, target.id), limitsOf(platform, scope)],
      ] as const) {
        const r = reserved.get(`${key}@${plannedAt}`);
        if (!r) continue;
        reserved.delete(`${key}@${plannedAt}`);
        // Whole ms, as `save` writes them; a late send is moved by its lateness.
        const to = sentAt === null ? null : Math.ceil(r.db + (sentAt - plannedAt));
        amendments.push({ key, limits, from: Math.ceil(r.db), to });
      }
    },
    size: () => blocked.size,
  };
  return limiter;
}
