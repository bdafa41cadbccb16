import { describe, expect, it } from 'vitest';
import { createMessages } from '../../src/bot/messages.ts';
import { describeAnswer, isCorrect, parseResponse } from '../../src/features/quiz/answer-check.ts';
import { readBankFile, writeBankFile, type BankFormat } from '../../src/features/quiz/bank/file-format.ts';
import { decodeAnswer, encodeAnswer, type QuestionDraft } from '../../src/features/quiz/bank/types.ts';
import type { QuizQuestion } from '../../src/features/quiz/questions.ts';
import { answerControls, rawChoice } from '../../src/features/quiz/shared.ts';
import { renderMarkdownMessage } from '../../src/platforms/dingtalk/render-card.ts';
import { createValueSealer } from '../../src/platforms/feishu/crypto.ts';
import { renderFeishuCard } from '../../src/platforms/feishu/render-card.ts';
import { renderCardHtml } from '../../src/platforms/sandbox/render-html.ts';
import type { Card } from '../../src/platforms/types.ts';

const TWO_BLANKS: QuestionDraft = {
  type: 'fill',
  stem: '学习党史要做到____、____。',
  options: [],
  answer: ['全面的|全面', '系统的'],
  explanation: '',
  tags: ['两空'],
  difficulty: 2,
  source: '',
};
const ONE_BLANK: QuestionDraft = { ...TWO_BLANKS, stem: '新中国成立于____年。', answer: ['1949|1949年'] };

describe('fill-in blanks in every file format', () => {
  it.each<BankFormat>(['xlsx', 'csv', 'json'])(
    '%s: written and read back with every blank and accepted answer',
    async (format) => {
      const bytes = await writeBankFile(format, [TWO_BLANKS, ONE_BLANK]);
      if (format === 'csv') expect(bytes.toString('utf8')).toContain('全面的|全面；系统的');
      const plan = await readBankFile(`bank.${format}`, bytes);
      expect('drafts' in plan && plan.problems).toEqual([]);
      if (!('drafts' in plan)) return;
      expect(plan.drafts.map((d) => d.draft.answer)).toEqual([['全面的|全面', '系统的'], ['1949|1949年']]);
    },
  );

  it('reads a text file line (tab-separated) with ; and ／ as well', async () => {
    const text = '题型\t题干\t答案\n填空\t要____、____地学\t全面的／全面; 系统的\n';
    const plan = await readBankFile('bank.txt', Buffer.from(text));
    expect('drafts' in plan && plan.drafts[0]!.draft.answer).toEqual(['全面的|全面', '系统的']);
  });

  it('stores blanks as lists and reads a row written before blanks existed as one blank', () => {
    expect(encodeAnswer('fill', TWO_BLANKS.answer)).toBe('[["全面的","全面"],["系统的"]]');
    expect(decodeAnswer('fill', '[["全面的","全面"],["系统的"]]')).toEqual(['全面的|全面', '系统的']);
    expect(decodeAnswer('fill', '["两","2"]')).toEqual(['两|2']);
    expect(decodeAnswer('multiple', '["A","C"]')).toEqual(['A', 'C']);
  });
});

describe('answering two blanks', () => {
  const q: QuizQuestion = {
    id: 'q',
    type: 'fill',
    stem: TWO_BLANKS.stem,
    options: [],
    answer: TWO_BLANKS.answer,
    explanation: '',
  };
  it.each<[string | string[], boolean | null]>([
    ['全面的；系统的', true],
    ['全面;系统的', true],
    ['全面的 系统的', true],
    [['全面', '系统的'], true],
    ['系统的；全面的', false],
    ['全面的；深入的', false],
    ['全面的', null],
    [['全面的', ''], null],
  ])('%j → %s', (typed, expected) => {
    const response = parseResponse(q, typed);
    expect(response === null ? null : isCorrect(q, response)).toBe(expected);
  });

  it('describes the key blank by blank', () => {
    expect(describeAnswer(q)).toBe('全面的 / 全面；系统的');
  });
});

describe('the answer form of a two-blank question on every platform', () => {
  const t = createMessages().t;
  const q: QuizQuestion = {
    id: 'q',
    type: 'fill',
    stem: TWO_BLANKS.stem,
    options: [],
    answer: TWO_BLANKS.answer,
    explanation: '',
  };
  const card: Card = {
    header: { title: '知识抢答赛', colour: 'orange' },
    elements: answerControls(q, 'quiz.answer', { v: 1, r: 'r1', p: 1 }, t),
  };

  it('has one input per blank, and the values come back in blank order', () => {
    const form = card.elements[0]!;
    expect(form.type === 'form' && form.inputs.map((i) => [i.name, i.label])).toEqual([
      ['c1', '第1空'],
      ['c2', '第2空'],
    ]);
    expect(rawChoice({}, { c2: '系统的', c1: '全面的' })).toEqual(['全面的', '系统的']);
  });

  it('sandbox: two labelled text boxes', () => {
    const html = renderCardHtml(card);
    expect(html).toContain('第1空<input type="text" name="c1"');
    expect(html).toContain('第2空<input type="text" name="c2"');
  });

  it('Feishu: two inputs in one form', () => {
    const json = JSON.stringify(renderFeishuCard(card, createValueSealer('secret')));
    expect(json).toContain('第1空');
    expect(json).toContain('第2空');
    expect(json.match(/"tag":"input"/g)).toHaveLength(2);
  });

  it('DingTalk: the text command names the blanks in Chinese, not the field names', () => {
    const md = renderMarkdownMessage(card, { code: 'abcd' });
    expect(md.text).toContain('按 abcd 1 <第1空> | <第2空>');
    expect(md.text).not.toContain('<c1>');
  });
});
