import type { Clock } from '../../lib/clock.ts';
import type { Db, Tx } from '../../lib/db.ts';
import { isUniqueViolation } from '../../lib/db.ts';
import type { Logger } from '../../lib/logger.ts';
import { monthKey } from '../../lib/month.ts';
import type { MonthUsage, OnceForCrossing, PlatformUsage, UsageCrossing } from '../types.ts';

/**
 * Counts DingTalk OpenAPI calls per organisation and calendar month in the
 * database (table DingTalkApiUsage), so every instance adds to one number;
 * the quota feature reads it through the PlatformUsage port
 * (createDingTalkUsagePort), never the tables.
 */

/** Calls whose label starts with this are not counted towards DingTalk's quota. */
export const UNCOUNTED_PREFIX = 'webhook.';

export { monthKey as monthOf } from '../../lib/month.ts';

export interface QuotaCrossing {
  tenant: string;
  month: string;
  used: number;
  limit: number;
  /** The threshold crossed, in percent. */
  level: number;
}

export interface UsageRecorder {
  record(api: string, outcome: 'ok' | 'error'): Promise<void>;
  /** Calls counted towards the quota this month for the current tenant. */
  used(): Promise<number>;
}

export function createUsageRecorder(deps: {
  db: Db;
  clock: Clock;
  log: Logger;
  timezone: string;
  /** The organisation the app belongs to (corpId), as far as known. */
  tenant: () => Promise<string>;
  limit: number;
  /** Thresholds in percent that trigger `onCrossing` when passed. */
  levels?: number[];
  onCrossing?: (crossing: QuotaCrossing) => Promise<void> | void;
}): UsageRecorder {
  const { db } = deps;
  // Not 100 %: by then the warning itself could no longer be sent.
  const levels = deps.levels ?? [80, 95];
  const signalled = new Set<string>();

  async function total(tenant: string, month: string): Promise<number> {
    const agg = await db.dingTalkApiUsage.aggregate({
      where: { tenant, month, NOT: { api: { startsWith: UNCOUNTED_PREFIX } } },
      _sum: { calls: true },
    });
    return agg._sum.calls ?? 0;
  }

  async function increment(tenant: string, month: string, api: string, error: boolean) {
    const where = { tenant_month_api: { tenant, month, api } };
    const now = deps.clock.now();
    const update = { calls: { increment: 1 }, errors: { increment: error ? 1 : 0 }, updatedAt: now };
    try {
      await db.dingTalkApiUsage.upsert({
        where,
        create: { tenant, month, api, calls: 1, errors: error ? 1 : 0, updatedAt: now },
        update,
      });
    } catch (err) {
      // Two instances created the row at once: the loser adds to the winner's row.
      if (!isUniqueViolation(err)) throw err;
      await db.dingTalkApiUsage.update({ where, data: update });
    }
  }

  return {
    async record(api, outcome) {
      const tenant = await deps.tenant();
      const month = monthKey(deps.clock.now(), deps.timezone);
      await increment(tenant, month, api, outcome === 'error');
      if (api.startsWith(UNCOUNTED_PREFIX) || !deps.onCrossing) return;
      const used = await total(tenant, month);
      for (const level of levels) {
        const key = `${tenant}:${month}:${level}`;
        // Signalled once per process; the feature keeps "once" across instances with a unique key.
        if (used >= Math.ceil((deps.limit * level) / 100) && !signalled.has(key)) {
          signalled.add(key);
          await Promise.resolve(deps.onCrossing({ tenant, month, used, limit: deps.limit, level })).catch(
            (err: unknown) => deps.log.error({ err, level }, 'quota warning failed'),
          );
        }
      }
    },
    async used() {
      return total(await deps.tenant(), monthKey(deps.clock.now(), deps.timezone));
    },
  };
}

/**
 * The PlatformUsage port over DingTalkApiUsage and DingTalkQuotaWarning.
 * `signal` is what the recorder calls on a crossing (once per process); a
 * handler's `once` writes the DingTalkQuotaWarning row in the same
 * transaction as the handler's own writes, and its key makes the warning
 * once per tenant, month and level across instances.
 */
export function createDingTalkUsagePort(deps: { db: Db; clock: Clock; limit: number }): {
  port: PlatformUsage<Tx>;
  signal(crossing: QuotaCrossing): Promise<void>;
} {
  const { db } = deps;
  const handlers: ((crossing: UsageCrossing, once: OnceForCrossing<Tx>) => Promise<void>)[] = [];
  return {
    port: {
      platform: 'dingtalk',
      async monthUsage(tenant, month): Promise<MonthUsage> {
        const rows = await db.dingTalkApiUsage.findMany({ where: { tenant, month }, orderBy: { calls: 'desc' } });
        const counted = rows.filter((r) => !r.api.startsWith(UNCOUNTED_PREFIX));
        return {
          platform: 'dingtalk',
          tenant,
          month,
          used: counted.reduce((n, r) => n + r.calls, 0),
          quota: deps.limit,
          byApi: counted.map((r) => ({ api: r.api, calls: r.calls, errors: r.errors })),
          uncounted: rows.filter((r) => r.api.startsWith(UNCOUNTED_PREFIX)).reduce((n, r) => n + r.calls, 0),
        };
      },
      onCrossing(handler) {
        handlers.push(handler);
      },
    },
    async signal(crossing) {
      const event: UsageCrossing = {
        platform: 'dingtalk',
        tenant: crossing.tenant,
        month: crossing.month,
        used: crossing.used,
        quota: crossing.limit,
        level: crossing.level,
      };
      const once: OnceForCrossing<Tx> = async (write) => {
        try {
          await db.$transaction(async (tx) => {
            await tx.dingTalkQuotaWarning.create({
              data: { tenant: event.tenant, month: event.month, level: event.level, createdAt: deps.clock.now() },
            });
            await write(tx);
          });
          return true;
        } catch (err) {
          if (isUniqueViolation(err)) return false;
          throw err;
        }
      };
      for (const handler of handlers) await handler(event, once);
    },
  };
}
