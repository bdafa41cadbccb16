import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_COMMAND_LENGTH, tokenize } from '../../src/bot/command-parser.ts';
import { createCommandRegistry, defineCommand } from '../../src/bot/commands.ts';
import { UserError } from '../../src/bot/errors.ts';

describe('tokenize', () => {
  it.each([
    ['quiz 10 党史', ['quiz', '10', '党史']],
    ['remind "每月 最后一个工作日" 17:00', ['remind', '每月 最后一个工作日', '17:00']],
    ['提醒 “周一 上午” 集中研学', ['提醒', '周一 上午', '集中研学']],
    ['心得 「读《共产党宣言》有感」', ['心得', '读《共产党宣言》有感']],
    ['出题\u300010', ['出题', '10']],
    ['a\u0000b\u200bc', ['abc']],
    ['  ', []],
    ['say ""', ['say', '']],
  ])('%j → %j', (input, expected) => {
    expect(tokenize(input)).toEqual(expected);
  });

  it('refuses unbalanced quotes with a user error', () => {
    expect(() => tokenize('remind "每月 17:00')).toThrow(UserError);
    expect(() => tokenize('提醒 「没有结尾')).toThrow(UserError);
  });
});

describe('argument parsing', () => {
  const cmd = defineCommand({
    name: 'quiz',
    zh: '出题',
    summaryKey: 'cmd.help.summary',
    usageKey: 'cmd.help.usage',
    scope: 'group',
    role: 'secretary',
    positionals: ['count', '...tag'],
    options: { seconds: { type: 'string', short: 's' }, private: { type: 'boolean' } },
    args: z.object({
      count: z.coerce.number().int().min(1).max(50),
      tag: z.string().optional(),
      seconds: z.coerce.number().int().optional(),
      private: z.boolean().optional(),
    }),
    run: async () => {},
  });
  const registry = createCommandRegistry([cmd]);

  it('maps positionals, rest and options', () => {
    expect(registry.parseArgs(cmd, ['10', '党史', '学习', '--seconds', '20', '--private'])).toEqual({
      count: 10,
      tag: '党史 学习',
      seconds: 20,
      private: true,
    });
    expect(registry.parseArgs(cmd, ['5', '-s', '30'])).toEqual({ count: 5, seconds: 30 });
  });

  it('accepts the dashes a Chinese keyboard types', () => {
    expect(registry.parseArgs(cmd, ['5', '——seconds', '30'])).toMatchObject({ seconds: 30 });
  });

  it('names the problem for bad values and unknown options', () => {
    expect(() => registry.parseArgs(cmd, ['ten'])).toThrow(/count/);
    expect(() => registry.parseArgs(cmd, ['5', '--colour', 'red'])).toThrow(/不认识的选项/);
  });

  it('finds commands by either name, whatever the width or case', () => {
    expect(registry.find('ＱＵＩＺ')).toBe(cmd);
    expect(registry.find('出题')).toBe(cmd);
    expect(registry.suggest('quz')).toEqual(['出题']);
  });
});

describe('fuzzing the parser', () => {
  // Deterministic PRNG so a failure reproduces.
  let seed = 20261122;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = [
    'a',
    'Z',
    '9',
    ' ',
    '\t',
    '\n',
    '"',
    "'",
    '“',
    '”',
    '「',
    '」',
    '-',
    '--',
    '—',
    '@',
    '\\',
    '$',
    '|',
    '>',
    '出',
    '题',
    '答',
    '😀',
    '\u0000',
    '\u0007',
    '\u200b',
    '\u202e',
    '\ud800',
    '\uffff',
    '％',
    '　',
  ];
  const registry = createCommandRegistry([
    defineCommand({
      name: 'x',
      zh: '叉',
      summaryKey: 'cmd.help.summary',
      usageKey: 'cmd.help.usage',
      scope: 'any',
      role: 'member',
      positionals: ['a', '...rest'],
      options: { n: { type: 'string', short: 'n' }, flag: { type: 'boolean' } },
      args: z.object({
        a: z.string().optional(),
        rest: z.string().optional(),
        n: z.string().optional(),
        flag: z.boolean().optional(),
      }),
      run: async () => {},
    }),
  ]);

  it('never throws anything but a user-facing error, for 5,000 random and adversarial inputs', () => {
    const inputs: string[] = [
      '"'.repeat(10_001),
      '「'.repeat(500),
      'x ' + '--n '.repeat(2000),
      'x'.repeat(MAX_COMMAND_LENGTH * 3),
      '\u0000'.repeat(100),
      'x -n',
      'x --',
      'x -- --flag',
      'x --flag=yes',
    ];
    for (let i = 0; i < 5000; i++) {
      const len = Math.floor(rand() * 60);
      let s = rand() < 0.5 ? 'x ' : '';
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
      inputs.push(s);
    }
    for (const input of inputs) {
      try {
        const tokens = tokenize(input);
        expect(tokens.join(' ').length).toBeLessThanOrEqual(MAX_COMMAND_LENGTH);
        const [, ...rest] = tokens;
        registry.parseArgs(registry.find('x')!, rest);
      } catch (err) {
        // Only the two kinds of error the dispatcher turns into a polite reply.
        expect(['UserError', 'UsageProblem']).toContain((err as Error).name);
      }
    }
  });
});
