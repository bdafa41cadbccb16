import { defineCommand } from '../../bot/commands.ts';
import type { LeftChat, PausedLine } from '../../bot/context.ts';
import { defineFeature, type Feature, type FeatureDeps } from '../../bot/feature.ts';
import type { Tx } from '../../lib/db.ts';
import { readingClub as clubMessages } from '../../messages/zh-CN/reading-club.ts';
import { clubActions } from './actions.ts';
import { activitySubcommands } from './commands/activity.ts';
import { checkinCommand, noteCommand } from './commands/member.ts';
import { planSubcommands } from './commands/plan.ts';
import { reviewSubcommands } from './commands/review.ts';
import { createClub } from './core.ts';
import { createClubJobs } from './jobs.ts';
import { createParticipation } from './participation.ts';

/**
 * The monthly reading club (读书会): the annual plan with rotating co-hosts,
 * the monthly plan review (送审), reminders, sign-in, study notes, topic
 * requests and ratings, and the yearbook. See docs/club.md.
 */
export function createReadingClubFeature(deps: FeatureDeps): Feature {
  const jobs = createClubJobs(deps);
  const club = createClub(deps, jobs);
  const part = createParticipation(club);
  const subcommands = [...planSubcommands(club), ...activitySubcommands(club, part), ...reviewSubcommands(club)];
  const importPlan = subcommands.find((s) => s.name === 'import')!;
  const showPlan = subcommands.find((s) => s.name === 'plan')!;
  const clubCommand = defineCommand({
    name: 'club',
    zh: '读书会',
    summaryKey: 'cmd.club.summary',
    usageKey: 'cmd.club.usage',
    scope: 'any',
    role: 'member',
    subcommands,
    // A plan file sent on its own (Feishu and DingTalk send uploads without text) is
    // recognised by its name: the template and the export are called 读书会计划….
    receivesFiles: (name) => /读书会|reading[-_ ]?club/i.test(name),
    async run(ctx) {
      if (!ctx.event.files?.length) return showPlan.run(ctx, {});
      club.requireSecretary(ctx);
      return importPlan.run(ctx, {});
    },
  });
  return defineFeature({
    name: 'reading-club',
    messages: clubMessages,
    commands: [clubCommand, checkinCommand(club, part), noteCommand(club, part)],
    actions: clubActions(club, part),
    jobs: jobs.jobs,
    // The bot left the club's group: its upcoming sessions stay planned; their group
    // cards are skipped until a secretary moves the club (读书会 本群) to another group.
    async onChatLeft(chat: LeftChat, tx: Tx): Promise<PausedLine[]> {
      const count = await tx.clubSession.count({
        where: {
          orgId: chat.orgId,
          platform: chat.platform,
          chatId: chat.platformChatId,
          startsAt: { gt: deps.clock.now() },
        },
      });
      return count ? [{ key: 'club.left', params: { count } }] : [];
    },
  });
}
