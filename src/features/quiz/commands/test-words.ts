import { normalizeName } from '../../../bot/command-parser.ts';
import type { CommandContext } from '../../../bot/context.ts';
import { UserError } from '../../../bot/errors.ts';
import { parseSchedule, TimeParseError } from '../../calendar/parse-time.ts';
import { parseLocalDateTime } from '../time.ts';
import { usage, wordsOf } from './parts.ts';

/** The words of `测试 安排` and `测试 修改`, each followed by its value (input grammar). */
export type Keyword = 'open' | 'close' | 'minutes' | 'makeup' | 'title';
const KEYWORDS: Record<string, Keyword> = {
  open: 'open',
  开始: 'open',
  close: 'close',
  截止: 'close',
  结束: 'close',
  minutes: 'minutes',
  限时: 'minutes',
  时长: 'minutes',
  makeup: 'makeup',
  补考: 'makeup',
  title: 'title',
  标题: 'title',
};

/** Free words before the first keyword, and each keyword's words. */
export function splitKeywords(rest: string | undefined): {
  free: string[];
  values: Partial<Record<Keyword, string[]>>;
} {
  const values: Partial<Record<Keyword, string[]>> = {};
  const free: string[] = [];
  let current: Keyword | null = null;
  for (const token of wordsOf(rest)) {
    const key = KEYWORDS[normalizeName(token)];
    if (key) {
      current = key;
      values[key] = [];
    } else if (current) values[current]!.push(token);
    else free.push(token);
  }
  return { free, values };
}

// parseSchedule reads "<when> <text>"; a test's time has no text, so this stands in for it.
const PLACEHOLDER = '测试时间';

/**
 * A test's open or close time as a secretary types it: "3-6 18:00", "2026-03-06 18:00",
 * or anything a reminder accepts for one moment ("明天 18:00", "下周一 9点", "3小时后"),
 * read in the organisation's time zone by the shared calendar parser.
 */
export function parseTestTime(
  ctx: CommandContext,
  text: string,
  now: Date,
  tz: string,
  pastKey: 'quiz.test.closes_in_past' | 'quiz.test.opens_in_past' = 'quiz.test.closes_in_past',
): Date {
  const bad = (key: 'quiz.test.bad_time' | 'quiz.test.bad_time_recurring') =>
    usage(ctx, ctx.t(key, { text: text || ctx.t('quiz.test.empty_time') }), 'cmd.test.usage');
  if (!text.trim()) throw bad('quiz.test.bad_time');
  const exact = parseLocalDateTime(text, now, tz);
  if (exact) return exact;
  // "3-6 18:00"-shaped but impossible (2-30): the parser below would read it some other way.
  if (/^\s*(?:\d{4}[-/年])?\d{1,2}[-/月]\d{1,2}/.test(text.normalize('NFKC'))) throw bad('quiz.test.bad_time');
  try {
    const parsed = parseSchedule(`${text} ${PLACEHOLDER}`, now, tz);
    if (parsed.kind === 'rule') throw bad('quiz.test.bad_time_recurring');
    if (parsed.text !== PLACEHOLDER) throw bad('quiz.test.bad_time');
    return parsed.at;
  } catch (err) {
    if (!(err instanceof TimeParseError)) throw err;
    if (err.key === 'calendar.parse.past') throw new UserError(pastKey);
    throw bad('quiz.test.bad_time');
  }
}

/** A whole number after 限时/时长/补考, with or without its unit. */
export function parseWholeNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return Number(text.normalize('NFKC').replace(/(分钟|分|小时|时|h|min)$/i, ''));
}

/** The 场次 a secretary typed: "5", "第5场". */
export function parseSeq(token: string | undefined): number | null {
  const seq = Number((token ?? '').normalize('NFKC').replace(/^第|场$/g, ''));
  return Number.isInteger(seq) && seq >= 1 ? seq : null;
}
