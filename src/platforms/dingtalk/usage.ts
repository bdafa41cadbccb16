import type { Clock } from '../../lib/clock.ts';
import type { Db } from '../../lib/db.ts';
import { isUniqueViolation } from '../../lib/db.ts';
import type { Logger } from '../../lib/logger.ts';
import { monthKey } from '../../lib/month.ts';
import type { UsageCrossing, UsageSource } from '../../lib/platform-usage.ts';

/**
 * Counts DingTalk OpenAPI calls per organisation and calendar month in the
 * database (table DingTalkApiUsage), so every instance adds to one number and
 * the quota feature can read it. This is data, not a feature import.
 */

/** Calls whose label starts with this are not counted towards DingTalk's quota. */
export const UNCOUNTED_PREFIX = 'webhook.';

export { monthKey as monthOf } from '../../lib/month.ts';

export type QuotaCrossing = UsageCrossing;

export interface UsageRecorder {
  record(api: string, outcome: 'ok' | 'error'): Promise<void>;
  /** Calls counted towards the quota this month for the current tenant. */
  used(): Promise<number>;
  /** What the platform-usage port reads (the `额度` command, warnings). */
  source: UsageSource;
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
          await Promise.resolve(
            deps.onCrossing({ platform: 'dingtalk', tenant, month, used, limit: deps.limit, level }),
          ).catch((err: unknown) => deps.log.error({ err, level }, 'quota warning failed'));
        }
      }
    },
    async used() {
      return total(await deps.tenant(), monthKey(deps.clock.now(), deps.timezone));
    },
    source: {
      platform: 'dingtalk',
      monthlyQuota: deps.limit,
      monthOf: (at) => monthKey(at, deps.timezone),
      async calls(tenants, month) {
        const rows = await db.dingTalkApiUsage.findMany({
          where: { tenant: { in: tenants }, month },
          orderBy: { calls: 'desc' },
        });
        const byApi = new Map<string, { calls: number; errors: number }>();
        for (const r of rows) {
          const x = byApi.get(r.api) ?? { calls: 0, errors: 0 };
          byApi.set(r.api, { calls: x.calls + r.calls, errors: x.errors + r.errors });
        }
        return [...byApi.entries()].map(([api, x]) => ({ api, ...x, counted: !api.startsWith(UNCOUNTED_PREFIX) }));
      },
    },
  };
}
