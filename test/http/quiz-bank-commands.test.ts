import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import { sayWithFile } from '../helpers/sandbox-files.ts';

async function workbook(rows: (string | null)[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('题库');
  for (const r of rows) ws.addRow(r);
  return Buffer.from((await wb.xlsx.writeBuffer()) as ArrayBuffer);
}

function tableRows(message: TranscriptMessage): Map<string, number> {
  const table = message.card?.elements.find((e) => e.type === 'table');
  if (!table || table.type !== 'table') throw new Error('no table on the card');
  return new Map(table.rows.map(([tag, count]) => [tag!, Number(count)]));
}

function total(message: TranscriptMessage): number {
  const fields = message.card?.elements.find((e) => e.type === 'fields');
  if (!fields || fields.type !== 'fields') throw new Error('no fields on the card');
  return Number(fields.fields.find((f) => f.label === '题目总数')!.value);
}

const GOOD = [
  ['题型', '题干', '选项A', '选项B', '选项C', '答案', '解析', '标签', '难度'],
  ['单选', '沙盒上传的第一题', '甲', '乙', '丙', 'C', '因为丙', '沙盒测试', '易'],
  ['判断', '沙盒上传的判断题', null, null, null, '错', '', '沙盒测试、判断', ''],
  ['填空', '沙盒上传的 ____ 题', null, null, null, '填空|空', '', '沙盒测试', '难'],
];

describe('题库 / questions in the sandbox, with an uploaded file', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('shows the demo organisation the starter bank, sized per tag', async () => {
    const [card] = await h.say('group-a', 'sec-wang', '题库');
    expect(card!.card!.header.title).toBe('题库概况');
    expect(total(card!)).toBeGreaterThanOrEqual(80);
    const tags = tableRows(card!);
    expect(tags.get('读书会')).toBeGreaterThan(0);
    expect(tags.get('以考促学')).toBeGreaterThan(0);
  });

  it('leaves the demo bank empty with SHUXIANG_DEMO_QUESTIONS=off, and says how to fill it', async () => {
    await h.close();
    h = await createHarness({ env: { SHUXIANG_DEMO_QUESTIONS: 'off' } });
    const [reply] = await h.say('group-a', 'sec-wang', '题库');
    expect(reply!.text).toContain('题库还是空的');
    const [imported] = await h.say('group-a', 'sec-wang', '题库 导入 入门题库');
    expect(imported!.text).toMatch(/^已从「入门题库」导入 (\d+) 道题，题库现有 \1 道题。$/);
  });

  it('lists the 30 biggest tags on the card and sums the rest in a note', async () => {
    await h.close();
    h = await createHarness({ env: { SHUXIANG_DEMO_QUESTIONS: 'off' } });
    const lines = ['题型,题干,答案,标签'];
    for (let i = 1; i <= 35; i++) lines.push(`填空,第${i}题 ____,答案${i},${i <= 2 ? '大标签' : `标签${i}`}`);
    await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入', {
      name: 'tags.csv',
      bytes: Buffer.from(lines.join('\n')),
    });
    const [card] = await h.say('group-a', 'sec-wang', '题库');
    expect(total(card!)).toBe(35);
    const rows = tableRows(card!);
    expect(rows.size).toBe(30);
    expect(rows.get('大标签')).toBe(2);
    const notes = card!.card!.elements.flatMap((e) => (e.type === 'note' ? [e.text] : []));
    expect(notes).toContain('另有 4 个标签（共 4 题次）未列出。');
  });

  it('exports the bank (or one tag) as a download link whose file imports again', async () => {
    await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入', { name: '支部题库.xlsx', bytes: await workbook(GOOD) });
    // Typed in the group: the group hears one line; the file with every answer goes to the secretary privately.
    const inGroup = await h.say('group-a', 'sec-wang', '题库 导出 CSV 沙盒测试');
    expect(inGroup.map((m) => m.text)).toEqual(['王书记，题库文件含答案，已私信发给您。']);
    expect(inGroup.some((m) => m.card)).toBe(false);
    const [card] = (await h.transcript('dm-sec-wang')).filter((m) => m.from === 'bot' && m.card);
    expect(card!.card!.header.title).toBe('题库导出');
    expect(JSON.stringify(card!.card)).toContain('已导出标签「沙盒测试」下的 3 道题');
    const link = card!.card!.elements.find((e) => e.type === 'link');
    expect(link).toMatchObject({ text: '下载题库（CSV）' });
    const res = await h.shuxiang.app.request(link?.type === 'link' ? link.url : '');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain(
      `filename*=UTF-8''${encodeURIComponent('题库-沙盒测试.csv')}`,
    );
    const csv = Buffer.from(await res.arrayBuffer());
    expect(csv.toString('utf8')).toContain('沙盒上传的第一题');

    // The downloaded file is a bank file: importing it into an empty organisation gives the same questions.
    await h.close();
    h = await createHarness({ env: { SHUXIANG_DEMO_QUESTIONS: 'off' } });
    const [imported] = await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入', { name: 'back.csv', bytes: csv });
    expect(imported!.text).toBe('已从「back.csv」导入 3 道题，题库现有 3 道题。');

    const [none] = await h.say('group-a', 'sec-wang', '题库 导出 没有的标签');
    expect(none!.text).toBe('标签「没有的标签」下没有题目。发送「题库」查看各标签的题数。');
    const [two] = await h.say('group-a', 'sec-wang', '题库 导出 甲 乙');
    expect(two!.text).toContain('一次只能按一个标签导出');
    const [member] = await h.say('group-a', 'm-li', '题库 导出');
    expect(member!.text).toContain('需要「书记」权限');
  });

  it('imports an uploaded XLSX file, after which the bank shows the new tag', async () => {
    const [before] = await h.say('group-a', 'sec-wang', 'questions');
    const [reply] = await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入', {
      name: '支部题库.xlsx',
      bytes: await workbook(GOOD),
    });
    expect(reply!.text).toBe(`已从「支部题库.xlsx」导入 3 道题，题库现有 ${total(before!) + 3} 道题。`);
    const [after] = await h.say('group-a', 'sec-wang', '题库');
    expect(total(after!)).toBe(total(before!) + 3);
    expect(tableRows(after!).get('沙盒测试')).toBe(3);
    expect(tableRows(after!).get('判断')).toBe(1);
    // The user's own message in the transcript shows the attachment.
    const mine = (await h.transcript('group-a')).filter((m) => m.from === 'user').at(-2);
    expect(mine!.text).toBe('题库 导入\n📎 支部题库.xlsx');
  });

  it('lists every bad row with its line number and imports nothing', async () => {
    const [before] = await h.say('group-a', 'sec-wang', '题库');
    const rows = [
      ...GOOD,
      ['单选', '没有正确选项的题', '甲', '乙', null, null, '', '', ''],
      ['多选', '答案不在选项中的题', '甲', '乙', '丙', 'ABE', '', '', ''],
    ];
    const [reply] = await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入', {
      name: 'bad.xlsx',
      bytes: await workbook(rows),
    });
    expect(reply!.text).toBe(
      '文件「bad.xlsx」有 2 处问题，本次未导入任何题目。请修改后重新导入：\n' +
        '第 5 行：没有正确答案（答案为空）。\n' +
        '第 6 行：答案 E 不在选项中（本题的选项是 A、B、C）。',
    );
    const [after] = await h.say('group-a', 'sec-wang', '题库');
    expect(total(after!)).toBe(total(before!));
  });

  it('refuses a file repeating bank questions, then imports only the new ones with 跳过重复', async () => {
    const file = { name: 'bank.csv', bytes: Buffer.from(GOOD.map((r) => r.map((c) => c ?? '').join(',')).join('\n')) };
    await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入', file);
    const extended = {
      name: 'bank.csv',
      bytes: Buffer.concat([file.bytes, Buffer.from('\n单选,全新的一题,甲,乙,丙,A,,沙盒测试,')]),
    };
    const [refused] = await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入', extended);
    expect(refused!.text).toContain('有 3 处问题，本次未导入任何题目');
    expect(refused!.text).toContain('第 2 行：题库里已有这道题：「沙盒上传的第一题」。');
    expect(refused!.text).toContain('题库 导入 跳过重复');
    const [done] = await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入 跳过重复', extended);
    expect(done!.text).toMatch(/^已从「bank.csv」导入 1 道题，题库现有 \d+ 道题。\n已跳过题库中已有的 3 道题。$/);
  });

  it('reports a malformed upload precisely', async () => {
    const [xlsx] = await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入', {
      name: 'broken.xlsx',
      bytes: Buffer.from('not a workbook'),
    });
    expect(xlsx!.text).toContain('文件不是有效的 Excel（.xlsx）文件');
    const [json] = await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入', {
      name: 'broken.json',
      bytes: Buffer.from('[\n{"type": "fill",\n "stem": }\n]'),
    });
    expect(json!.text).toContain('第 3 行：JSON 格式有误：缺少取值。');
    const [other] = await sayWithFile(h, 'group-a', 'sec-wang', '题库 导入', {
      name: 'notes.docx',
      bytes: Buffer.from('PK'),
    });
    expect(other!.text).toContain('无法识别文件「notes.docx」的格式');
  });

  it('takes a file sent with a bare 题库 as an import', async () => {
    const [reply] = await sayWithFile(h, 'group-b', 'sec-wang', 'questions', {
      name: 'bank.json',
      bytes: Buffer.from(JSON.stringify([{ type: '判断', stem: '裸命令附件导入的题', answer: '对', tags: ['附件'] }])),
    });
    expect(reply!.text).toMatch(/^已从「bank.json」导入 1 道题/);
  });

  it('takes a file sent with no words at all (how platforms deliver uploads) as an import', async () => {
    const [reply] = await sayWithFile(h, 'group-b', 'sec-wang', '', {
      name: 'bank.json',
      bytes: Buffer.from(
        JSON.stringify([{ type: '判断', stem: '只发文件不打字导入的题', answer: '对', tags: ['附件'] }]),
      ),
    });
    expect(reply!.text).toMatch(/^已从「bank.json」导入 1 道题/);
  });

  it('asks for a file when none is attached, and explains the format', async () => {
    const [reply] = await h.say('group-a', 'sec-wang', '题库 导入');
    expect(reply!.text).toContain('请把题库文件（.xlsx、.csv 或 .json）作为附件');
    const [template] = await h.say('group-a', 'sec-wang', '题库 模板');
    expect(template!.text).toContain('选项A ~ 选项H');
  });

  it('imports the starter bank on request, without duplicating what is there', async () => {
    const [reply] = await h.say('group-a', 'sec-wang', '题库 导入 入门题库');
    expect(reply!.text).toMatch(/^已从「入门题库」导入 0 道题，题库现有 \d+ 道题。\n已跳过题库中已有的 \d+ 道题。$/);
  });

  it('refuses members, with and without a file, and imports nothing', async () => {
    const [refused] = await sayWithFile(h, 'group-a', 'm-li', '题库 导入', {
      name: 'bank.xlsx',
      bytes: await workbook(GOOD),
    });
    expect(refused!.text).toContain('需要「书记」权限');
    const [stats] = await h.say('group-a', 'm-li', '题库');
    expect(stats!.text).toContain('需要「书记」权限');
    const [card] = await h.say('group-a', 'sec-wang', '题库');
    expect(tableRows(card!).has('沙盒测试')).toBe(false);
  });

  it('answers unknown words with the usage line', async () => {
    const [reply] = await h.say('group-a', 'sec-wang', '题库 导入 全部');
    expect(reply!.text).toContain('多了参数「全部」');
    expect(reply!.text).toContain('用法：题库');
  });

  it('rejects an attachment that is not base64, and a body over 1 MB, with nothing written', async () => {
    const post = (body: unknown) =>
      h.shuxiang.app.request('/sandbox/api/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const before = (await h.transcript('group-a')).length;
    const bad = await post({
      chatId: 'group-a',
      userId: 'sec-wang',
      text: '题库 导入',
      file: { name: 'a.csv', contentBase64: '%%%' },
    });
    expect(bad.status).toBe(400);
    const big = await post({
      chatId: 'group-a',
      userId: 'sec-wang',
      text: '题库 导入',
      file: { name: 'a.csv', contentBase64: 'A'.repeat(1024 * 1024 + 8) },
    });
    expect(big.status).toBe(413);
    expect((await h.transcript('group-a')).length).toBe(before);
  });
});
