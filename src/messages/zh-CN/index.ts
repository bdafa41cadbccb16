import { core } from './core.ts';
import { feishu } from './feishu.ts';
import { org } from './org.ts';
import { quizBank } from './quiz-bank.ts';
import { dingtalk } from './dingtalk.ts';
import { quiz } from './quiz.ts';
import { calendar } from './calendar.ts';
import { files } from './files.ts';
import { supervision } from './supervision.ts';
import { readingClub } from './reading-club.ts';

/**
 * The zh-CN message catalogue: one object, assembled from one section per
 * feature so that features can be worked on side by side. A key may appear
 * in only one section (a test checks).
 */
export const sections = {
  core,
  org,
  quizBank,
  quiz,
  calendar,
  readingClub,
  supervision,
  files,
  feishu,
  dingtalk,
} as const;

export const zhCN = {
  ...core,
  ...org,
  ...quizBank,
  ...quiz,
  ...calendar,
  ...supervision,
  ...readingClub,
  ...files,
  ...feishu,
  ...dingtalk,
} as const;
