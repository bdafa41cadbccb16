import type { LeftChat, PausedLine } from '../../bot/context.ts';
import { defineFeature, type Feature, type FeatureDeps } from '../../bot/feature.ts';
import type { Tx } from '../../lib/db.ts';
import { supervision } from '../../messages/zh-CN/supervision.ts';
import { createSupervisionActions } from './actions.ts';
import { createSupervisionCommands } from './commands.ts';
import { createNotices } from './notices.ts';
import { createReports } from './reports.ts';
import { createStandups } from './standup.ts';
import { createTaskService } from './tasks.ts';

/**
 * Supervision of study tasks (督办, docs/supervision.md): task lists (任务单)
 * with status lights, warnings, achievement and supervision notices with
 * escalation, all recorded (留痕); progress boards, cadence reports, the
 * daily stand-up (碰头会) and claiming (认领).
 */
export function createSupervisionFeature(deps: FeatureDeps): Feature {
  const notices = createNotices(deps);
  const service = createTaskService(deps, notices);
  const reports = createReports(deps);
  const standups = createStandups(deps);

  /** The bot left a group: its stand-up stops; open tasks posted there report to the secretaries instead. */
  async function onChatLeft(chat: LeftChat, tx: Tx): Promise<PausedLine[]> {
    const lines: PausedLine[] = [];
    if (await standups.stop(tx, chat.platform, chat.platformChatId)) lines.push({ key: 'supervision.left.standup' });
    const { count } = await tx.supervisionTask.updateMany({
      where: { orgId: chat.orgId, platform: chat.platform, chatId: chat.platformChatId, status: 'open' },
      data: { chatId: null, cardRef: null },
    });
    if (count > 0) lines.push({ key: 'supervision.left.tasks', params: { count } });
    return lines;
  }

  return defineFeature({
    name: 'supervision',
    messages: supervision,
    commands: [...createSupervisionCommands(deps, service, notices, reports), ...standups.commands],
    actions: [...createSupervisionActions(deps, service), ...standups.actions],
    jobs: [...notices.jobs, ...standups.jobs],
    periodic: reports.periodic,
    onChatLeft,
  });
}
