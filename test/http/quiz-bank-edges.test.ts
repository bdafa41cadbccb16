import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { csvFile, sayWithFile } from '../helpers/sandbox-files.ts';

const HEADER = ['题型', '题干', '选项A', '选项B', '选项C', '答案', '解析', '标签', '难度'];

describe('question bank edges found with a real bank', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ env: { SHUXIANG_DEMO_QUESTIONS: 'off' } });
  });
  afterEach(async () => {
    await h.close();
  });

  it('题库 导入 跳过重复 keeps the first of two equal rows in one file and names the line it dropped', async () => {
    const file = csvFile('bank.csv', [
      HEADER,
      ['单选', '重复出现的一题', '甲', '乙', '丙', 'A', '', '边界', ''],
      ['判断', '只出现一次的题', null, null, null, '对', '', '边界', ''],
      ['单选', '重复出现的一题', '丙', '甲', '乙', 'B', '', '边界', ''],
    ]);
    const [refused] = await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入', file);
    expect(refused!.text).toContain('第 4 行：与第 2 行是同一道题');
    const [done] = await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入 跳过重复', file);
    expect(done!.text).toBe(
      '已从「bank.csv」导入 2 道题，题库现有 2 道题。\n' +
        '文件里有 1 行与前面的行重复，保留了第一次出现的题，未导入这些行：\n第 4 行（与第 2 行相同）',
    );
  });

  it('题库 模板 gives the template as XLSX and CSV files, which import as they are', async () => {
    const replies = await h.say('group-a', 'sec-wang', '题库 模板');
    expect(replies[0]!.text).toContain('有几个空就用；隔开各空');
    const files = replies.slice(1).map((m) => (m as unknown as { file: { name: string; url: string } }).file);
    expect(files.map((f) => f.name)).toEqual(['题库模板.xlsx', '题库模板.csv']);
    for (const [i, file] of files.entries()) {
      const res = await h.shuxiang.app.request(file.url);
      expect(res.status).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      const [done] = await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入 跳过重复', { name: file.name, bytes });
      expect(done!.text).toMatch(
        i === 0 ? /^已从「题库模板.xlsx」导入 5 道题/ : /导入 0 道题.*\n已跳过题库中已有的 5 道题/s,
      );
    }
  });

  it('renames the seed file paths of a starter bank imported before to the names a reader sees', async () => {
    // As the starter bank was imported before sources were names.
    await sayWithFile(
      h,
      'group-a',
      'sec-wang',
      '题库 导入',
      csvFile('old.csv', [
        ['题型', '题干', '答案', '来源'],
        ['判断', '早先导入的入门题', '对', 'seeds/002_f35f0752c41521bb.txt'],
      ]),
    );
    await h.say('group-a', 'sec-wang', '题库 导入 入门题库');
    const old = await h.shuxiang.db.prisma.question.findFirstOrThrow({ where: { stem: '早先导入的入门题' } });
    expect(old.source).toBe('郴州市委办公室系统“读书会”工作报道');
    const paths = await h.shuxiang.db.prisma.question.count({ where: { source: { startsWith: 'seeds/' } } });
    expect(paths).toBe(0);
  });
});
