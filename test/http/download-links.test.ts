import ExcelJS from 'exceljs';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES } from '../../src/files/file-store.ts';
import { stripMarks } from '../../src/platforms/text.ts';
import { cleanUp } from '../../src/scheduler/cleanup.ts';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import { advance, clickOption, correctChoice, questionOn, seedQuestions, QUIZ_ENV } from '../helpers/quiz-fixtures.ts';

const G = 'group-a';
const DAY = 86_400_000;

function linkOf(message: TranscriptMessage): string {
  const link = message.card?.elements.find((e) => e.type === 'link');
  if (link?.type !== 'link') throw new Error(`no link on ${JSON.stringify(message)}`);
  return link.url;
}

/** A test with 李明 taking it (one right answer of one), closed at 18:00. */
async function closedTest(h: Harness): Promise<void> {
  await seedQuestions(h.shuxiang.db.prisma);
  await h.say(G, 'sec-wang', '测试 安排 1 党建 截止 3-2 18:00 补考 0');
  const invite = (await h.transcript('dm-m-li')).find((m) => m.card?.header.title.includes('闭卷测试'))!;
  await h.click('dm-m-li', 'm-li', invite, 'quiz.test.start');
  const card = (await h.transcript('dm-m-li')).find((m) => m.messageId === invite.messageId)!;
  await clickOption(h, 'dm-m-li', 'm-li', card, correctChoice(questionOn(card)));
  h.clock.set('2026-03-02T10:00:00Z');
  await advance(h, 0);
}

async function sheetRows(res: Response): Promise<unknown[][]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(await res.arrayBuffer());
  return wb.worksheets[0]!.getSheetValues().filter(Boolean) as unknown[][];
}

describe('download links (测试 导出)', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('answers 测试 导出 with a link to the results sheet, which lives 7 days and then is gone', async () => {
    h = await createHarness({ env: QUIZ_ENV });
    await closedTest(h);
    // Asked in the private chat (typed in a group, the card comes here as well).
    const [reply] = await h.say('dm-sec-wang', 'sec-wang', '测试 导出 1');
    expect(reply!.card!.header.title).toBe('闭卷测试 · 第1场 · 成绩表');
    expect(JSON.stringify(reply!.card)).toContain('下载链接 7 天内有效');
    const url = linkOf(reply!);
    expect(url).toMatch(/^\/files\/[A-Za-z0-9_-]{24}\/.+\.xlsx$/);

    const res = await h.shuxiang.app.request(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain(
      `filename*=UTF-8''${encodeURIComponent('闭卷测试第1场成绩-党建闭卷测试.xlsx')}`,
    );
    const rows = await sheetRows(res);
    expect(rows.slice(0, 2).map((r) => [r[1], r[3], r[4], r[5]])).toEqual([
      ['姓名', '状态', '答对', '总题数'],
      ['李明', '已参加', 1, 1],
    ]);
    // Absentees follow, in no particular order.
    expect(rows.slice(2).map((r) => [r[1], r[3]])).toEqual(
      expect.arrayContaining([
        ['张华', '未参加'],
        ['陈静', '未参加'],
      ]),
    );
    expect(rows).toHaveLength(4);
    // The id alone is enough; the name in the path is decoration.
    const id = url.split('/')[2]!;
    expect((await h.shuxiang.app.request(`/files/${id}`)).status).toBe(200);
    expect((await h.shuxiang.app.request(`/files/${id}/other-name.xlsx`)).status).toBe(200);

    // Unknown, malformed and expired links all get the same bare 404.
    const unknown = await h.shuxiang.app.request(`/files/${'A'.repeat(24)}/x.xlsx`);
    expect(unknown.status).toBe(404);
    const notFound = await unknown.text();
    const malformed = await h.shuxiang.app.request('/files/1');
    expect([malformed.status, await malformed.text()]).toEqual([404, notFound]);
    h.clock.advance(7 * DAY);
    const expired = await h.shuxiang.app.request(url);
    expect([expired.status, await expired.text()]).toEqual([404, notFound]);
    expect(expired.headers.get('content-disposition')).toBeNull();
    // The clean-up job frees the bytes (every sheet: the close's and the export's).
    expect((await cleanUp(h.shuxiang.db.prisma, h.clock)).downloadFiles).toBe(2);
  });

  it('gives absolute links under SHUXIANG_PUBLIC_URL', async () => {
    h = await createHarness({ env: { ...QUIZ_ENV, SHUXIANG_PUBLIC_URL: 'https://bot.example.org' } });
    await closedTest(h);
    const results = (await h.transcript('dm-sec-wang')).filter((m) => m.card?.header.title.includes('成绩'));
    const url = new URL(linkOf(results.at(-1)!));
    expect(url.origin).toBe('https://bot.example.org');
    const res = await h.shuxiang.app.request(url.pathname);
    expect(res.status).toBe(200);
    expect((await sheetRows(res))[1]![1]).toBe('李明');
  });

  it('tells a Feishu secretary why there is no link when SHUXIANG_PUBLIC_URL is not set, and stores nothing', async () => {
    h = await createHarness({ env: QUIZ_ENV });
    await seedQuestions(h.shuxiang.db.prisma);
    await h.say(G, 'sec-wang', '测试 安排 1 党建 截止 3-2 18:00 补考 0');
    // The same round as if it had been set in a Feishu chat: the results card goes out on Feishu.
    const db = h.shuxiang.db.prisma;
    await db.quizRound.updateMany({ data: { platform: 'feishu' } });
    h.clock.set('2026-03-02T10:00:00Z');
    await advance(h, 0);
    const row = await db.outboxMessage.findFirstOrThrow({ where: { platform: 'feishu', kind: 'card' } });
    const card = (JSON.parse(row.body) as { card: { elements: { type: string; text?: string }[] } }).card;
    expect(card.elements.some((e) => e.type === 'link')).toBe(false);
    // Stored as the template made it: the catalogue text marked as text (platforms/text.ts).
    expect(stripMarks(card.elements.find((e) => e.type === 'note')?.text ?? '')).toBe(
      '文件已生成，但机器人还没有配置公网地址（SHUXIANG_PUBLIC_URL），在这里无法提供下载链接。请联系管理员配置后重新导出。',
    );
    expect(await db.downloadFile.count()).toBe(0);
  });

  it('refuses to store a file over the limit', async () => {
    h = await createHarness({ env: QUIZ_ENV });
    await expect(
      h.shuxiang.files.put({
        orgId: 'org',
        name: 'big.bin',
        contentType: 'application/octet-stream',
        bytes: Buffer.alloc(MAX_FILE_BYTES + 1),
      }),
    ).rejects.toThrow('larger than the 52428800-byte limit');
    expect(await h.shuxiang.db.prisma.downloadFile.count()).toBe(0);
  });
});
