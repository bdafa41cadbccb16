import { defineCommand } from '../../bot/commands.ts';
import { defineFeature, type Feature, type FeatureDeps } from '../../bot/feature.ts';
import type { MessageKey } from '../../bot/messages.ts';
import { isUniqueViolation } from '../../lib/db.ts';
import { monthProgress } from '../../lib/month.ts';
import type { UsageCrossing } from '../../lib/platform-usage.ts';

/**
 * The DingTalk API quota, as secretaries see it. The DingTalk adapter counts
 * every OpenAPI call and offers the counts through the platform-usage port
 * (lib/platform-usage.ts); this feature reads them (`额度` / `quota`) and
 * warns the secretaries once per month when the count reaches 80 % (and again
 * at 95 %: a warning at 100 % could no longer be sent).
 */
export function createQuotaFeature(deps: FeatureDeps): Feature {
  const { db, messages, usage } = deps;

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
      const source = usage.source('dingtalk');
      const tenants = await tenantsOf(ctx.identity.orgId);
      if (!source || tenants.length === 0) {
        await ctx.reply(ctx.t('quota.none'));
        return;
      }
      const now = deps.clock.now();
      const month = source.monthOf(now);
      const calls = await source.calls(tenants, month);
      const counted = calls.filter((c) => c.counted).sort((a, b) => b.calls - a.calls);
      const used = counted.reduce((n, c) => n + c.calls, 0);
      const free = calls.filter((c) => !c.counted).reduce((n, c) => n + c.calls, 0);
      const lines = counted.map(({ api, ...x }) => {
        const key = `quota.api.${api}`;
        return ctx.t('quota.report.line', {
          api: messages.has(key) ? ctx.t(key as MessageKey) : api,
          calls: x.calls,
          errors: x.errors ? ctx.t('quota.report.errors', { errors: x.errors }) : '',
        });
      });
      const { day, days } = monthProgress(now, deps.defaultTimezone);
      const projected = Math.round((used / day) * days);
      const limit = source.monthlyQuota;
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
  async function warn(crossing: UsageCrossing): Promise<void> {
    if (crossing.platform !== 'dingtalk') return;
    const link = await db.tenantLink.findFirst({ where: { platform: 'dingtalk', tenant: crossing.tenant } });
    if (!link) {
      deps.log.warn(
        { tenant: crossing.tenant, level: crossing.level },
        'quota threshold crossed for an unknown organisation',
      );
      return;
    }
    const recipients = (await deps.directory.secretaries(link.orgId)).filter((s) => s.platform === 'dingtalk');
    if (recipients.length === 0) {
      deps.log.warn(
        { orgId: link.orgId, level: crossing.level },
        'quota threshold crossed but no DingTalk secretary to tell',
      );
    }
    try {
      await db.$transaction(async (tx) => {
        await tx.dingTalkQuotaWarning.create({
          data: { tenant: crossing.tenant, month: crossing.month, level: crossing.level, createdAt: deps.clock.now() },
        });
        for (const r of recipients) {
          await deps.send
            .in(tx)
            .toUser(
              { platform: 'dingtalk', orgId: link.orgId, userId: r.platformUserId },
              { key: 'quota.warning', params: { used: crossing.used, limit: crossing.limit, level: crossing.level } },
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

  usage.onCrossing(warn);
  return defineFeature({ name: 'quota', commands: [quota] });
}
