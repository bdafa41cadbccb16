import { createHash } from 'node:crypto';
import type { Db } from '../../src/lib/db.ts';
import type { Harness, TranscriptMessage } from './harness.ts';

/**
 * Questions written straight into the bank tables (the bank's import is
 * another feature's business), with answers the tests can look up.
 */
export interface FixtureQuestion {
  stem: string;
  type: 'single' | 'multiple' | 'truefalse' | 'fill';
  options?: string[];
  answer: string[];
  explanation?: string;
  tags?: string[];
}

export const SAMPLE: FixtureQuestion[] = [
  {
    stem: '中国共产党第一次全国代表大会在哪一年召开？',
    type: 'single',
    options: ['1919年', '1921年', '1927年', '1949年'],
    answer: ['B'],
    explanation: '1921年7月，中共一大在上海召开。',
    tags: ['党史'],
  },
  {
    stem: '遵义会议召开于哪一年？',
    type: 'single',
    options: ['1934年', '1935年', '1936年', '1937年'],
    answer: ['B'],
    explanation: '1935年1月。',
    tags: ['党史'],
  },
  {
    stem: '中华人民共和国成立于哪一年？',
    type: 'single',
    options: ['1945年', '1948年', '1949年', '1950年'],
    answer: ['C'],
    explanation: '1949年10月1日。',
    tags: ['党史'],
  },
  {
    stem: '南昌起义发生在哪一年？',
    type: 'single',
    options: ['1925年', '1926年', '1927年', '1928年'],
    answer: ['C'],
    explanation: '1927年8月1日。',
    tags: ['党史'],
  },
  {
    stem: '“三会一课”中的“一课”指的是什么？',
    type: 'single',
    options: ['党课', '团课', '讲座', '培训'],
    answer: ['A'],
    explanation: '按时上好党课。',
    tags: ['党建'],
  },
  {
    stem: '以下哪些属于“三会一课”中的“三会”？',
    type: 'multiple',
    options: ['支部党员大会', '支部委员会', '党小组会', '职工代表大会'],
    answer: ['A', 'B', 'C'],
    explanation: '三会指支部党员大会、支部委员会和党小组会。',
    tags: ['党建'],
  },
  {
    stem: '党的组织生活会一般每年至少召开一次。',
    type: 'truefalse',
    answer: ['true'],
    explanation: '组织生活会一般每年召开一次。',
    tags: ['党建'],
  },
  {
    stem: '党员的党龄从递交入党申请书之日算起。',
    type: 'truefalse',
    answer: ['false'],
    explanation: '党龄从预备期满转为正式党员之日算起。',
    tags: ['党建'],
  },
  {
    stem: '中国共产党的根本宗旨是全心全意为人民____。',
    type: 'fill',
    answer: ['服务'],
    explanation: '全心全意为人民服务。',
    tags: ['党建'],
  },
  {
    stem: '新中国成立的日期是____年10月1日。',
    type: 'fill',
    answer: ['1949', '1949年'],
    explanation: '1949年10月1日。',
    tags: ['党史'],
  },
];

const KEYS = 'ABCDEFGH';

export async function seedQuestions(
  db: Db,
  questions: FixtureQuestion[] = SAMPLE,
  orgId = 'demo-org',
): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, q] of questions.entries()) {
    const id = `q-${createHash('sha1').update(q.stem).digest('hex').slice(0, 12)}`;
    await db.question.create({
      data: {
        id,
        orgId,
        type: q.type,
        stem: q.stem,
        options: JSON.stringify((q.options ?? []).map((text, k) => ({ key: KEYS[k], text }))),
        answer: JSON.stringify(q.answer),
        explanation: q.explanation ?? '',
        fingerprint: `fp-${i}-${id}`,
        tags: { create: (q.tags ?? []).map((tag) => ({ tag, orgId })) },
      },
    });
    ids.push(id);
  }
  return ids;
}

/** The fixture question a card shows (found by its stem). */
export function questionOn(card: TranscriptMessage, questions: FixtureQuestion[] = SAMPLE): FixtureQuestion {
  const text = JSON.stringify(card.card);
  const q = questions.find((x) => text.includes(x.stem.replace(/"/g, '\\"')));
  if (!q) throw new Error(`no fixture question on card ${card.card?.header.title}`);
  return q;
}

/** Clicks the button for option `choice` (or the submit of a choice/form with formValues). */
export async function clickOption(
  h: Harness,
  chatId: string,
  userId: string,
  message: TranscriptMessage,
  choice: string,
  position?: number,
) {
  const els = message.card?.elements ?? [];
  for (const el of els) {
    if (el.type === 'buttons') {
      const b = el.buttons.find((x) => x.payload.c === choice && (position === undefined || x.payload.p === position));
      if (b) return rawClick(h, chatId, userId, message, b.actionId, b.payload);
    }
  }
  for (const el of els) {
    if ((el.type === 'choice' || el.type === 'form') && (position === undefined || el.payload.p === position)) {
      const value = el.type === 'choice' && el.multiple ? [...choice] : choice;
      return rawClick(h, chatId, userId, message, el.actionId, el.payload, { c: value });
    }
  }
  throw new Error(`no control for ${choice} on ${message.card?.header.title}`);
}

export async function rawClick(
  h: Harness,
  chatId: string,
  userId: string,
  message: TranscriptMessage,
  actionId: string,
  payload: Record<string, unknown>,
  formValues?: Record<string, unknown>,
): Promise<{ toast?: { kind: string; text: string }; card?: unknown }> {
  const res = await h.shuxiang.app.request('/sandbox/api/actions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chatId, userId, messageId: message.messageId, actionId, payload, formValues }),
  });
  if (res.status !== 200) throw new Error(`click ${res.status}: ${await res.text()}`);
  return (await res.json()) as { toast?: { kind: string; text: string } };
}

/** Moves the manual clock, fires what fell due and delivers what that sent. */
export async function advance(h: Harness, ms: number): Promise<void> {
  h.clock.advance(ms);
  await h.shuxiang.scheduler.tick();
  await h.shuxiang.worker.drain();
}

export async function latestCards(h: Harness, chatId: string): Promise<TranscriptMessage[]> {
  return (await h.transcript(chatId)).filter((m) => m.from === 'bot' && m.card);
}

/** The correct option as a choice string ("B", "ABC", "true", "服务"). */
export function correctChoice(q: FixtureQuestion): string {
  return q.type === 'multiple' ? q.answer.join('') : q.answer[0]!;
}

export function wrongChoice(q: FixtureQuestion): string {
  if (q.type === 'truefalse') return q.answer[0] === 'true' ? 'false' : 'true';
  if (q.type === 'fill') return '不知道';
  if (q.type === 'multiple') return 'D';
  return KEYS.split('').find((k) => !q.answer.includes(k))!;
}

/**
 * Quiz-play tests bring their own questions (with answers they can look up),
 * so the demo organisation starts without the starter bank.
 */
export const QUIZ_ENV = { SHUXIANG_DEMO_QUESTIONS: 'off' };
