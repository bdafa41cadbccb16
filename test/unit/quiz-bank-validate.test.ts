import { describe, expect, it } from 'vitest';
import { isCorrect, parseResponse } from '../../src/features/quiz/bank/answer-check.ts';
import { fingerprint, normalizeAnswer } from '../../src/features/quiz/bank/normalize.ts';
import { validateQuestion, type RawQuestion } from '../../src/features/quiz/bank/validate.ts';
import type { QuestionDraft } from '../../src/features/quiz/bank/types.ts';

const opts = (...texts: string[]) => texts.map((text, i) => ({ key: 'ABCDEFGH'[i]!, text }));
const raw = (r: Partial<RawQuestion>): RawQuestion => ({ line: 7, options: [], ...r });

describe('normalizeAnswer', () => {
  it.each([
    ['full-width letters and digits', 'ＡＢＣ１２３', 'abc123'],
    ['ideographic and ASCII spaces', '三会　一课 ', '三会一课'],
    ['Chinese punctuation and book-title marks', '《中国共产党简史》。', '中国共产党简史'],
    ['quotes and enumeration comma', '“学史明理、学史增信”', '学史明理学史增信'],
    ['case', 'Xi Jinping', 'xijinping'],
    ['keeps symbols that carry meaning', '3＋5', '3+5'],
    ['keeps a decimal point between digits', '３.３４', '3.34'],
    ['drops a trailing full stop after digits', '1921.', '1921'],
    ['middle dot', '庆七一·讲党史', '庆七一讲党史'],
  ])('%s', (_label, input, expected) => {
    expect(normalizeAnswer(input)).toBe(expected);
  });
});

describe('fingerprint', () => {
  const base = { stem: '党的一大在哪一年召开？', options: opts('1919', '1921', '1927') };
  it.each([
    [
      'spacing and punctuation differ',
      { stem: ' 党的一大在哪一年召开? ', options: opts('1919', '1921', '1927') },
      true,
    ],
    ['full-width digits in options', { stem: base.stem, options: opts('１９１９', '１９２１', '１９２７') }, true],
    ['options in another order', { stem: base.stem, options: opts('1927', '1919', '1921') }, true],
    ['blank markers differ', { stem: '党的一大在____年召开', options: [] }, false],
    ['another option', { stem: base.stem, options: opts('1919', '1921', '1949') }, false],
    ['another stem', { stem: '党的二大在哪一年召开？', options: base.options }, false],
  ])('%s → same question: %s', (_label, other, same) => {
    expect(fingerprint(other) === fingerprint(base)).toBe(same);
  });
  it('ignores blank markers in fill-in stems', () => {
    expect(fingerprint({ stem: '党的一大于＿＿＿年召开', options: [] })).toBe(
      fingerprint({ stem: '党的一大于 ____ 年召开', options: [] }),
    );
  });
});

describe('validateQuestion: good rows', () => {
  it.each<[string, Partial<RawQuestion>, Partial<QuestionDraft>]>([
    [
      'single choice, lower-case full-width answer',
      { type: '单选题', stem: '党的一大在哪一年召开？', options: opts('1919', '1921'), answer: 'ｂ' },
      { type: 'single', answer: ['B'], difficulty: 2 },
    ],
    [
      'multiple choice with separators, sorted and de-duplicated',
      { type: 'multiple', stem: 'q', options: opts('a', 'b', 'c', 'd'), answer: 'D, a、C,A' },
      { type: 'multiple', answer: ['A', 'C', 'D'] },
    ],
    [
      'true/false as 对',
      { type: '判断', stem: 'q', answer: '对' },
      { type: 'truefalse', answer: ['true'], options: [] },
    ],
    ['true/false as ×', { type: 'TF', stem: 'q', answer: '×' }, { answer: ['false'] }],
    ['true/false as a JSON boolean', { type: 'truefalse', stem: 'q', answer: false }, { answer: ['false'] }],
    [
      'true/false written as choices A 正确 / B 错误',
      { type: '判断题', stem: 'q', options: opts('正确', '错误'), answer: 'B' },
      { answer: ['false'], options: [] },
    ],
    [
      'fill-in with several accepted answers (|, ｜, ／), duplicates after normalisation dropped',
      { type: '填空', stem: '____', answer: '两 | 2 ｜２／二' },
      { type: 'fill', answer: ['两|2|二'] },
    ],
    [
      'fill-in with two blanks separated by ；, each with its accepted answers',
      { type: '填空', stem: '要____、____地学', answer: '全面的|全面；系统的' },
      { type: 'fill', answer: ['全面的|全面', '系统的'] },
    ],
    [
      'fill-in blanks from a JSON list of lists',
      { type: 'fill', stem: 'x', answer: [['全面的', '全面'], ['系统的']] },
      { type: 'fill', answer: ['全面的|全面', '系统的'] },
    ],
    [
      'fill-in from a JSON array: one blank, these are its accepted answers',
      { type: 'fill', stem: 'x', answer: ['长征路', '长征'] },
      { answer: ['长征路|长征'] },
    ],
    [
      'tags split on Chinese and ASCII separators, difficulty as a word',
      { type: 'fill', stem: 'x', answer: 'y', tags: '党史、 读书会,党史;红色教育', difficulty: '难' },
      { tags: ['党史', '读书会', '红色教育'], difficulty: 3 },
    ],
    ['difficulty as a number cell', { type: 'fill', stem: 'x', answer: 'y', difficulty: 1 }, { difficulty: 1 }],
    [
      'trailing empty option columns are fine',
      { type: 'single', stem: 'q', options: opts('a', 'b', '', ''), answer: 'A' },
      { options: opts('a', 'b') },
    ],
  ])('%s', (_label, input, expected) => {
    const v = validateQuestion(raw(input));
    expect(v.ok ? [] : v.problems).toEqual([]);
    if (v.ok) expect(v.draft).toMatchObject(expected);
  });
});

describe('validateQuestion: bad rows are refused precisely', () => {
  it.each<[string, Partial<RawQuestion>, string, Record<string, unknown>?]>([
    ['no type', { stem: 'q', answer: 'x' }, 'bank.row.type_missing'],
    ['unknown type', { type: '问答', stem: 'q', answer: 'x' }, 'bank.row.type_unknown', { value: '问答' }],
    ['no stem', { type: 'fill', answer: 'x' }, 'bank.row.stem_missing'],
    [
      'single choice without a correct option',
      { type: '单选', stem: 'q', options: opts('a', 'b') },
      'bank.row.answer_missing',
    ],
    [
      'answer not among the options',
      { type: '单选', stem: 'q', options: opts('a', 'b', 'c', 'd'), answer: 'E' },
      'bank.row.answer_not_option',
      { keys: 'E', range: 'A、B、C、D' },
    ],
    [
      'multiple choice with one key outside the options',
      { type: '多选', stem: 'q', options: opts('a', 'b', 'c'), answer: 'ABF' },
      'bank.row.answer_not_option',
      { keys: 'F' },
    ],
    [
      'answer is not letters',
      { type: '单选', stem: 'q', options: opts('a', 'b'), answer: '1921' },
      'bank.row.answer_not_letters',
    ],
    [
      'single choice with two answers',
      { type: '单选', stem: 'q', options: opts('a', 'b'), answer: 'AB' },
      'bank.row.single_many',
    ],
    [
      'multiple choice with one answer',
      { type: '多选', stem: 'q', options: opts('a', 'b', 'c'), answer: 'A' },
      'bank.row.multiple_one',
    ],
    [
      'one option only',
      { type: '单选', stem: 'q', options: opts('a'), answer: 'A' },
      'bank.row.options_too_few',
      { count: 1 },
    ],
    [
      'a gap in the options',
      { type: '单选', stem: 'q', options: opts('a', 'b', '', 'd'), answer: 'A' },
      'bank.row.option_gap',
      { empty: 'C', next: 'D' },
    ],
    [
      'two options with the same text',
      { type: '单选', stem: 'q', options: opts('1921年', 'x', '１９２１年'), answer: 'A' },
      'bank.row.option_duplicate',
      { a: 'A', b: 'C' },
    ],
    ['true/false answer unreadable', { type: '判断', stem: 'q', answer: '也许' }, 'bank.row.truefalse_answer'],
    [
      'true/false with real options',
      { type: '判断', stem: 'q', options: opts('a', 'b'), answer: '对' },
      'bank.row.options_not_allowed',
    ],
    [
      'fill-in with options',
      { type: '填空', stem: 'q', options: opts('a', 'b'), answer: 'a' },
      'bank.row.options_not_allowed',
    ],
    ['fill-in without an answer', { type: '填空', stem: 'q', answer: ' | ' }, 'bank.row.answer_missing'],
    [
      'fill-in answer that is only punctuation',
      { type: '填空', stem: 'q', answer: '——' },
      'bank.row.fill_empty_answer',
    ],
    ['unknown difficulty', { type: '填空', stem: 'q', answer: 'a', difficulty: '超难' }, 'bank.row.difficulty'],
    ['stem too long', { type: '填空', stem: '长'.repeat(1001), answer: 'a' }, 'bank.row.too_long', { field: '题干' }],
    ['a JSON object where text is expected', { type: '填空', stem: { x: 1 }, answer: 'a' }, 'bank.row.field_type'],
  ])('%s', (_label, input, key, params) => {
    const v = validateQuestion(raw(input));
    expect(v.ok).toBe(false);
    if (v.ok) return;
    const p = v.problems.find((x) => x.key === key);
    expect(p, `expected ${key} among ${JSON.stringify(v.problems)}`).toBeDefined();
    expect(p!.line).toBe(7);
    if (params) expect(p!.params).toMatchObject(params);
  });

  it('reports every problem of a row, not just the first', () => {
    const v = validateQuestion(raw({ type: '单选', stem: '', options: opts('a'), answer: 'C', difficulty: 'x' }));
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.problems.map((p) => p.key).sort()).toEqual(
        [
          'bank.row.answer_not_option',
          'bank.row.difficulty',
          'bank.row.options_too_few',
          'bank.row.stem_missing',
        ].sort(),
      );
    }
  });
});

describe('isCorrect', () => {
  const single: Pick<QuestionDraft, 'type' | 'answer' | 'options'> = {
    type: 'single',
    options: opts('a', 'b', 'c'),
    answer: ['B'],
  };
  const multiple = { type: 'multiple' as const, options: opts('a', 'b', 'c', 'd'), answer: ['A', 'C'] };
  const tf = { type: 'truefalse' as const, options: [], answer: ['false'] };
  const fill = { type: 'fill' as const, options: [], answer: ['三会一课|“三会一课”制度'] };
  const twoBlanks = { type: 'fill' as const, options: [], answer: ['全面的|全面', '系统的'] };
  it.each<[string, Pick<QuestionDraft, 'type' | 'answer' | 'options'>, string | string[], boolean]>([
    ['single, lower case', single, 'b', true],
    ['single, full width', single, 'Ｂ', true],
    ['single, wrong', single, 'A', false],
    ['multiple, any order and separators', multiple, 'C、a', true],
    ['multiple, as card values', multiple, ['C', 'A'], true],
    ['multiple, missing one', multiple, 'A', false],
    ['multiple, one too many', multiple, 'ACD', false],
    ['true/false', tf, '错', true],
    ['true/false, wrong', tf, '对', false],
    ['fill, spaces and punctuation ignored', fill, ' 三会 一课。', true],
    ['fill, the second accepted answer', fill, '三会一课制度', true],
    ['fill, wrong', fill, '三会', false],
    ['fill, two blanks both right', twoBlanks, '全面；系统的', true],
    ['fill, two blanks, half an answer', twoBlanks, '全面的', false],
    ['fill, two blanks, the second wrong', twoBlanks, '全面的；深入的', false],
    ['unknown letter is not correct', single, 'Z', false],
  ])('%s', (_label, q, response, expected) => {
    expect(isCorrect(q, response)).toBe(expected);
  });

  it('tells an unreadable response apart from a wrong one', () => {
    expect(parseResponse(single, 'Z')).toBeNull();
    expect(parseResponse(single, 'A')).toEqual(['A']);
    expect(parseResponse(tf, '也许')).toBeNull();
  });
});
