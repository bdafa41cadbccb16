import { defineCommand } from '../../bot/commands.ts';
import type { MessageKey, Messages } from '../../bot/messages.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Db } from '../../lib/db.ts';
import { isUniqueViolation } from '../../lib/db.ts';
import type { Logger } from '../../lib/logger.ts';
import { monthKey, monthProgress } from '../../lib/month.ts';
import type { Outbox } from '../../outbox/outbox.ts';

/**
 * The DingTalk API quota, as secretaries see it. The DingTalk adapter counts
 * every OpenAPI call in DingTalkApiUsage (per organisation = corpId, calendar
 * month and API); this feature reads those rows (`额度` / `quota`) and warns
 * the secretaries once per month when the count reaches 80 % (and again at 95 %: a warning at 100 % could no longer be sent).
 */

/** Calls labelled like this went to a sessionWebhook, which DingTalk does not seem to count. */
const UNCOUNTED_PREFIX = 'webhook.';

export interface QuotaCrossing {
  tenant: string;
  month: string;
  used: number;
  limit: number;
  level: number;
}

export interface QuotaFeatureDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  messages: Messages;
  outbox: Outbox;
  monthlyQuota: number;
  /** The calendar the adapter counts months in. */
  timezone: string;
  secretaries(orgId: string): Promise<{ platform: string; platformUserId: string }[]>;
}

export function createQuotaFeature(deps: QuotaFeatureDeps) {
  const { db, messages } = deps;

  async function tenantsOf(orgId: string): Promise<string[]> {
    const links = await db.tenantLink.findMany({ where: { orgId, platform: 'dingtalk' } });
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
      const tenants = await tenantsOf(ctx.identity.orgId);
      if (tenants.length === 0) {
        await ctx.reply(ctx.t('quota.none'));
        return;
      }
      const now = deps.clock.now();
      const month = monthKey(now, deps.timezone);
      const rows = await db.dingTalkApiUsage.findMany({
        where: { tenant: { in: tenants }, month },
        orderBy: { calls: 'desc' },
      });
      const counted = rows.filter((r) => !r.api.startsWith(UNCOUNTED_PREFIX));
      const used = counted.reduce((n, r) => n + r.calls, 0);
      const free = rows.filter((r) => r.api.startsWith(UNCOUNTED_PREFIX)).reduce((n, r) => n + r.calls, 0);
      const byApi = new Map<string, { calls: number; errors: number }>();
      for (const r of counted) {
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
      const limit = deps.monthlyQuota;
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

  /** Tells the organisation's secretaries, privately and once per month and level. */
  async function warn(crossing: QuotaCrossing): Promise<void> {
    const link = await db.tenantLink.findFirst({ where: { platform: 'dingtalk', tenant: crossing.tenant } });
    if (!link) {
      deps.log.warn(
        { tenant: crossing.tenant, level: crossing.level },
        'quota threshold crossed for an unknown organisation',
      );
      return;
    }
    const recipients = (await deps.secretaries(link.orgId)).filter((s) => s.platform === 'dingtalk');
    if (recipients.length === 0) {
      deps.log.warn(
        { orgId: link.orgId, level: crossing.level },
        'quota threshold crossed but no DingTalk secretary to tell',
      );
    }
    const text = messages.t('quota.warning', { used: crossing.used, limit: crossing.limit, level: crossing.level });
    try {
      await db.$transaction(async (tx) => {
        await tx.dingTalkQuotaWarning.create({
          data: { tenant: crossing.tenant, month: crossing.month, level: crossing.level, createdAt: deps.clock.now() },
        });
        for (const r of recipients) {
          await deps.outbox.enqueue(
            {
              platform: 'dingtalk',
              orgId: link.orgId,
              target: { kind: 'user', id: r.platformUserId },
              kind: 'text',
              body: { text },
            },
            tx,
          );
        }
      });
    } catch (err) {
      // Another instance (or an earlier run) already warned for this month and level.
      if (isUniqueViolation(err)) return;
      throw err;
    }
    deps.log.warn({ orgId: link.orgId, ...crossing }, 'DingTalk API quota warning sent');
  }

  return { commands: [quota], actions: [], warn };
}
