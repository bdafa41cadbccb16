import type { LeftChat, PausedLine } from '../../bot/context.ts';
import { defineFeature, type Feature, type FeatureDeps } from '../../bot/feature.ts';
import type { Tx } from '../../lib/db.ts';
import { quiz as quizMessages } from '../../messages/zh-CN/quiz.ts';
import { quizActions } from './actions.ts';
import { createAnswerStore } from './answer-store.ts';
import { createBoards } from './board.ts';
import { answerCommand, answerOtherText } from './commands/answer.ts';
import { dailyCommand } from './commands/daily.ts';
import { mistakesCommand } from './commands/mistakes.ts';
import type { QuizParts } from './commands/parts.ts';
import { quizCommand } from './commands/quiz.ts';
import { rankCommand } from './commands/rank.ts';
import { starCommand } from './commands/star.ts';
import { testCommand } from './commands/test.ts';
import { voidCommand } from './commands/void.ts';
import { createContests } from './contest.ts';
import { contestStartAction } from './contest-action.ts';
import { createDaily } from './daily.ts';
import { createExams } from './exam.ts';
import { createMistakes } from './mistakes.ts';
import { createPlay } from './play.ts';
import type { QuizDeps } from './shared.ts';

/**
 * Quizzes, the play side: live contests, daily practice, closed-book tests
 * with make-ups, leaderboards and the star learner, the wrong-answer
 * notebook. (The question bank itself is features/quiz/bank.)
 */
export function createQuizFeature(kit: FeatureDeps): Feature {
  const answers = createAnswerStore({ db: kit.db, provider: kit.provider, log: kit.log, sql: kit.sql });
  const deps: QuizDeps = { ...kit, answers };
  const contests = createContests(deps);
  const daily = createDaily(deps);
  const exams = createExams(deps);
  const parts: QuizParts = {
    deps,
    contests,
    daily,
    exams,
    boards: createBoards(deps),
    mistakes: createMistakes(deps),
    play: createPlay({ ...deps, contests, daily, exams }),
  };

  let finishing: Promise<void> | undefined;
  return defineFeature({
    name: 'quiz',
    messages: quizMessages,
    commands: [
      quizCommand(parts),
      answerCommand(parts),
      rankCommand(parts),
      starCommand(parts),
      dailyCommand(parts),
      mistakesCommand(parts),
      testCommand(parts),
      voidCommand(parts),
    ],
    actions: [...quizActions(parts), contestStartAction(contests)],
    // `答b` and, while a contest question is open, a bare `B`: answers people type without the command word apart.
    onOtherText: answerOtherText(parts),
    jobs: [...contests.jobs, ...daily.jobs, ...exams.jobs],
    // The bot left a group: its contest ends, its daily practice is switched off, its tests go on privately.
    async onChatLeft(chat: LeftChat, tx: Tx): Promise<PausedLine[]> {
      return [
        ...(await contests.abandon(chat.platform, chat.platformChatId, tx)),
        ...(await daily.pauseChat(chat.platform, chat.platformChatId, tx)),
        ...(await exams.detachChat(chat.platform, chat.platformChatId, tx)),
      ];
    },
    // The answer journal's folder: now (a crash's unfolded answers) and every second; and a void cut
    // short by a crash or restart is finished (its chunks are resumable).
    start() {
      answers.start();
      finishing = parts.play
        .finishVoids()
        .then(() => undefined)
        .catch((err: unknown) => kit.log.error({ err }, 'finishing voids cut short failed'));
    },
    // Answers acknowledged but still in a write batch are appended before the database closes.
    async stop() {
      await finishing;
      await answers.stop();
    },
    settle: () => answers.settle(),
  });
}
