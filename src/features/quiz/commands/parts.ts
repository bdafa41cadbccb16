import type { ActionContext, CommandContext } from '../../../bot/context.ts';
import { UserError } from '../../../bot/errors.ts';
import type { MessageKey } from '../../../bot/messages.ts';
import type { Boards } from '../board.ts';
import type { Contests } from '../contest.ts';
import type { Daily } from '../daily.ts';
import type { Exams } from '../exam.ts';
import type { Mistakes } from '../mistakes.ts';
import type { Play, Who } from '../play.ts';
import type { QuizDeps } from '../shared.ts';

/** The quiz's parts, as the commands and card actions reach them. */
export interface QuizParts {
  deps: QuizDeps;
  contests: Contests;
  daily: Daily;
  exams: Exams;
  boards: Boards;
  mistakes: Mistakes;
  play: Play;
}

/** The member speaking or clicking, as the answer path needs them. */
export const who = (ctx: CommandContext | ActionContext): Who => ({
  orgId: ctx.identity.orgId,
  memberId: ctx.identity.memberId,
  unitId: ctx.identity.unitId,
  tz: ctx.identity.timezone,
});

/** A problem with what was typed, shown with the command's usage line. */
export const usage = (ctx: CommandContext, problem: string, usageKey: MessageKey) =>
  new UserError('error.usage', { problem, usage: ctx.t(usageKey) });

/** Words of a rest-of-line argument. */
export const wordsOf = (rest: string | undefined) => (rest ?? '').split(' ').filter(Boolean);
