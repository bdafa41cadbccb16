import { describe, expect, it } from 'vitest';
import {
  describeAnswer,
  isCorrect,
  normalizeFill,
  parseResponse,
  parseTrueFalse,
} from '../../src/features/quiz/answer-check.ts';
import { contestPoints } from '../../src/features/quiz/scoring.ts';

const single = { type: 'single' as const, answer: ['B'], optionKeys: ['A', 'B', 'C', 'D'] };
const multiple = { type: 'multiple' as const, answer: ['A', 'C'], optionKeys: ['A', 'B', 'C', 'D'] };
const tf = { type: 'truefalse' as const, answer: ['false'] };
const fill = { type: 'fill' as const, answer: ['1921年|一九二一年'] };

describe('answer checking', () => {
  it('normalises fill-in answers: full-width, case, spaces and punctuation', () => {
    expect(normalizeFill('１９２１ 年。')).toBe('1921年');
    expect(normalizeFill(' Ｍａｒｘ-ism! ')).toBe('marxism');
    expect(normalizeFill('“为人民服务”')).toBe('为人民服务');
    for (const typed of ['1921年', '１９２１年', '1921 年', '1921年。', '「1921年」', '一九二一年']) {
      expect(isCorrect(fill, parseResponse(fill, typed)!), typed).toBe(true);
    }
    expect(isCorrect(fill, parseResponse(fill, '1927年')!)).toBe(false);
    // A whole-answer match, not a substring: "21年" is not "1921年".
    expect(isCorrect(fill, parseResponse(fill, '21年')!)).toBe(false);
    expect(parseResponse(fill, '。。 ')).toBeNull();
  });

  it('reads option letters the way people type them', () => {
    expect(parseResponse(single, 'b')).toEqual(['B']);
    expect(parseResponse(single, 'Ｂ')).toEqual(['B']);
    expect(parseResponse(single, 'AB')).toBeNull();
    expect(parseResponse(single, 'E')).toBeNull();
    expect(parseResponse(multiple, 'c,a')).toEqual(['A', 'C']);
    expect(parseResponse(multiple, 'A、C')).toEqual(['A', 'C']);
    expect(parseResponse(multiple, ['C', 'A'])).toEqual(['A', 'C']);
    expect(isCorrect(multiple, ['A', 'C'])).toBe(true);
    expect(isCorrect(multiple, ['A'])).toBe(false);
    expect(isCorrect(multiple, ['A', 'B', 'C'])).toBe(false);
  });

  it('reads true/false in Chinese, symbols and English', () => {
    for (const w of ['对', '正确', '√', 'true', 'T']) expect(parseTrueFalse(w), w).toBe('true');
    for (const w of ['错', '错误', '×', 'false', 'x']) expect(parseTrueFalse(w), w).toBe('false');
    expect(parseTrueFalse('也许')).toBeNull();
    expect(isCorrect(tf, parseResponse(tf, '错')!)).toBe(true);
    expect(describeAnswer(tf)).toBe('错误');
    expect(describeAnswer(multiple)).toBe('A、C');
  });
});

describe('speed-weighted contest points (Kahoot rule)', () => {
  it('gives full points within half a second, half at the buzzer, nothing when wrong', () => {
    expect(contestPoints(true, 300, 20_000)).toBe(1000);
    expect(contestPoints(true, 2000, 20_000)).toBe(950);
    expect(contestPoints(true, 10_000, 20_000)).toBe(750);
    expect(contestPoints(true, 20_000, 20_000)).toBe(500);
    expect(contestPoints(true, 25_000, 20_000)).toBe(500);
    expect(contestPoints(false, 100, 20_000)).toBe(0);
  });
});
