import { defineCommand } from '../../bot/commands.ts';
import { defineFeature, type Feature, type FeatureDeps } from '../../bot/feature.ts';
import { readingClub as clubMessages } from '../../messages/zh-CN/reading-club.ts';
import { clubActions } from './actions.ts';
import { activitySubcommands } from './commands/activity.ts';
import { checkinCommand, noteCommand } from './commands/member.ts';
import { planSubcommands } from './commands/plan.ts';
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
  const clubCommand = defineCommand({
    name: 'club',
    zh: '读书会',
    summaryKey: 'cmd.club.summary',
    usageKey: 'cmd.club.usage',
    scope: 'any',
    role: 'member',
    subcommands: [...planSubcommands(club), ...activitySubcommands(club, part)],
  });
  return defineFeature({
    name: 'reading-club',
    messages: clubMessages,
    commands: [clubCommand, checkinCommand(club, part), noteCommand(club, part)],
    actions: clubActions(club, part),
    jobs: jobs.jobs,
  });
}
