import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providers, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { QUIZ_ENV, seedQuestions } from '../helpers/quiz-fixtures.ts';

const G = 'group-a';

/**
 * Every word that selected a sub-action of a quiz command before the
 * commands declared subcommands still selects it, in Chinese and English.
 */
describe.each(providers)('quiz sub-words on $name', (provider) => {
  let h: Harness;
  let database: TestDatabase;
  beforeEach(async () => {
    database = await provider.create();
    h = await createHarness({ database, env: QUIZ_ENV });
    await seedQuestions(h.shuxiang.db.prisma);
  });
  afterEach(async () => {
    await h.close();
    await database.drop();
  });

  const reply = async (input: string) => (await h.say(G, 'sec-wang', input))[0]?.text ?? '';

  it('stops a contest by any stop word, and switches daily practice and lists tests by any of their words', async () => {
    for (const w of ['停止', '结束', '终止', 'stop', 'end', 'STOP'])
      expect(await reply(`出题 ${w}`), w).toBe('本群现在没有进行中的抢答赛。');
    expect(await reply('quiz stop')).toBe('本群现在没有进行中的抢答赛。');

    for (const w of ['关闭', '停止', '停用', 'off', 'disable'])
      expect(await reply(`每日一练 ${w}`), w).toBe('本群还没有开启每日一练。');
    for (const w of ['状态', '查看', 'status', 'show'])
      expect(await reply(`每日一练 ${w}`), w).toBe('本群还没有开启每日一练。');
    for (const w of ['开启', '打开', '启用', 'on', 'enable', 'start'])
      expect(await reply(`每日一练 ${w}`), w).toContain('请写上推送时间');
    expect(await reply('每日一练')).toContain('请写明 开启、关闭 或 状态');

    for (const w of ['列表', '查看', 'list', 'ls']) expect(await reply(`测试 ${w}`), w).toBe('还没有安排过测试。');
    for (const w of ['结果', '成绩', 'results', 'result', '导出', 'export'])
      expect(await reply(`测试 ${w} 9`), w).toContain('没有第9场测试');
    for (const w of ['安排', '新建', '发布', 'new', 'schedule', 'add'])
      expect(await reply(`测试 ${w} 3 党建`), w).toContain('请写上截止时间');
    expect(await reply('测试')).toContain('请写明 安排、列表、结果、导出、修改 或 取消');
    expect(await reply('出题')).toContain('请写明题数，例如：出题 10');
  });
});
