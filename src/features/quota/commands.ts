import { defineCommand } from '../../bot/commands.ts';
import type { MessageKey, Messages } from '../../bot/messages.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Db, Tx } from '../../lib/db.ts';
import type { Logger } from '../../lib/logger.ts';
import { monthKey, monthProgress } from '../../lib/month.ts';
import type { Outbox } from '../../outbox/outbox.ts';
import type { ApiUsage, OnceForCrossing, PlatformUsage, UsageCrossing } from '../../platforms/types.ts';

/**
 * The platform API quota (DingTalk's 5,000 calls a month), as secretaries
 * see it. The adapter counts calls and implements the PlatformUsage port;
 * this feature reads the month's usage through it (`额度` / `quota`) and
 * tells the secretaries privately when a warning level (80 %, 95 %) is
 * crossed — the port runs the warning once per tenant, month and level.
 */

export interface QuotaFeatureDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  messages: Messages;
  outbox: Outbox;
  /** The calendar the adapter counts months in. */
  timezone: string;
  secretaries(orgId: string): Promise<{ platform: string; platformUserId: string }[]>;
}

export function createQuotaFeature(deps: QuotaFeatureDeps) {
  const { db, messages } = deps;
  /** Connected when the platform's adapter starts (see connect below). */
  let usage: PlatformUsage<Tx> | undefined;

  async function tenantsOf(orgId: string, platform: string): Promise<string[]> {
    const links = await db.tenantLink.findMany({ where: { orgId, platform } });
    return links.map((l) => l.tenant);
  }

  const quota = defineCommand({
    name: 'quota',
    zh: '额度',
    aliases: ['api额度', '接口额度'],
    summaryKey: 'cmd.quota.summary',
    usageKey: 'cmd.quota.usage',
    scope: 'any',
    role: 'secretary',
    async run(ctx) {
      const tenants = usage ? await tenantsOf(ctx.identity.orgId, usage.platform) : [];
      if (!usage || tenants.length === 0) {
        await ctx.reply(ctx.t('quota.none'));
        return;
      }
      const now = deps.clock.now();
      const month = monthKey(now, deps.timezone);
      const port = usage;
      const months = await Promise.all(tenants.map((t) => port.monthUsage(t, month)));
      const used = months.reduce((n, m) => n + m.used, 0);
      const free = months.reduce((n, m) => n + m.uncounted, 0);
      const byApi = new Map<string, { calls: number; errors: number }>();
      for (const r of months.flatMap((m) => m.byApi).sort((a: ApiUsage, b: ApiUsage) => b.calls - a.calls)) {
        const x = byApi.get(r.api) ?? { calls: 0, errors: 0 };
        byApi.set(r.api, { calls: x.calls + r.calls, errors: x.errors + r.errors });
      }
      const lines = [...byApi.entries()].map(([api, x]) => {
        const key = `quota.api.${api}`;
        return ctx.t('quota.report.line', {
          api: messages.has(key) ? ctx.t(key as MessageKey) : api,
          calls: x.calls,
          errors: x.errors ? ctx.t('quota.report.errors', { errors: x.errors }) : '',
        });
      });
      const { day, days } = monthProgress(now, deps.timezone);
      const projected = Math.round((used / day) * days);
      const limit = months[0]!.quota;
      await ctx.reply(
        ctx.t('quota.report', {
          month,
          used,
          limit,
          percent: Math.round((used / limit) * 1000) / 10,
          left: Math.max(0, limit - used),
          projected,
          warning: projected > limit ? ctx.t('quota.report.over') : '',
          lines: lines.length ? lines.join('\n') : ctx.t('quota.report.empty'),
          free,
        }),
      );
    },
  });

  /**
   * Tells the organisation's secretaries privately: reads first, then writes
   * the outbox rows through the port's `once`, which records the warning in
   * the same transaction (once per tenant, month and level).
   */
  async function warn(crossing: UsageCrossing, once: OnceForCrossing<Tx>): Promise<void> {
    const link = await db.tenantLink.findFirst({ where: { platform: crossing.platform, tenant: crossing.tenant } });
    if (!link) {
      deps.log.warn(
        { tenant: crossing.tenant, level: crossing.level },
        'quota threshold crossed for an unknown organisation',
      );
      return;
    }
    const recipients = (await deps.secretaries(link.orgId)).filter((s) => s.platform === crossing.platform);
    if (recipients.length === 0) {
      deps.log.warn(
        { orgId: link.orgId, level: crossing.level },
        'quota threshold crossed but no secretary on the platform to tell',
      );
    }
    const text = messages.t('quota.warning', { used: crossing.used, limit: crossing.quota, level: crossing.level });
    const sent = await once(async (tx) => {
      for (const r of recipients) {
        await deps.outbox.enqueue(
          {
            platform: crossing.platform,
            orgId: link.orgId,
            target: { kind: 'user', id: r.platformUserId },
            kind: 'text',
            body: { text },
          },
          tx,
        );
      }
    });
    if (sent) deps.log.warn({ orgId: link.orgId, ...crossing }, 'API quota warning sent');
  }

  return {
    commands: [quota],
    actions: [],
    /** Reads usage through this port and warns on its crossings (main.ts connects the adapter's). */
    connect(port: PlatformUsage<Tx>): void {
      usage = port;
      port.onCrossing(warn);
    },
  };
}
