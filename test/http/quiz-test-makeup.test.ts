import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import {
  advance,
  clickOption,
  correctChoice,
  questionOn,
  seedQuestions,
  wrongChoice,
  QUIZ_ENV,
} from '../helpers/quiz-fixtures.ts';

const G = 'group-a';
const dm = (user: string) => `dm-${user}`;

async function lastCard(h: Harness, chat: string, title?: string): Promise<TranscriptMessage> {
  const cards = (await h.transcript(chat)).filter(
    (m) => m.from === 'bot' && m.card && (!title || m.card.header.title.includes(title)),
  );
  if (cards.length === 0) throw new Error(`no card ${title ?? ''} in ${chat}`);
  return cards[cards.length - 1]!;
}

/** Follows the card's download link through the HTTP app and parses the workbook it returns. */
async function downloadSheet(h: Harness, message: TranscriptMessage): Promise<unknown[][]> {
  const link = message.card!.elements.find((e) => e.type === 'link');
  if (link?.type !== 'link') throw new Error('no download link on the card');
  expect(link.url).toMatch(/^\/files\/[A-Za-z0-9_-]{24}\//);
  const res = await h.shuxiang.app.request(link.url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  expect(res.headers.get('cache-control')).toBe('private, no-store');
  expect(res.headers.get('content-disposition')).toMatch(/^attachment; .*filename\*=UTF-8''%E9%97%AD/);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(await res.arrayBuffer());
  return wb.worksheets[0]!.getSheetValues().filter(Boolean) as unknown[][];
}

async function texts(h: Harness, chat: string): Promise<string[]> {
  return (await h.transcript(chat)).filter((m) => m.from === 'bot').map((m) => m.text ?? JSON.stringify(m.card));
}

/** Starts the test from the invitation and answers every question right (or wrong). */
async function takeTest(h: Harness, user: string, title: string, right: boolean[]): Promise<TranscriptMessage> {
  const invite = await lastCard(h, dm(user), title);
  await h.click(dm(user), user, invite, 'quiz.test.start');
  for (const ok of right) {
    const card = (await h.transcript(dm(user))).find((m) => m.messageId === invite.messageId)!;
    const q = questionOn(card);
    await clickOption(h, dm(user), user, card, ok ? correctChoice(q) : wrongChoice(q));
  }
  return (await h.transcript(dm(user))).find((m) => m.messageId === invite.messageId)!;
}

describe('closed-book test (闭卷测试) with make-up (补考)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ env: QUIZ_ENV }); // 2026-03-02 09:00 in Shanghai, a Monday
    await seedQuestions(h.shuxiang.db.prisma);
  });
  afterEach(async () => {
    await h.close();
  });

  it('invites privately, times each attempt on the server, reports absentees and runs the make-up for exactly them', async () => {
    await h.say(G, 'sec-wang', '测试 安排 3 党建 截止 3-2 18:00 限时 10 补考 24');
    // The details are the secretary's (results go to them): privately, not to the group.
    expect((await texts(h, dm('sec-wang'))).some((t) => t.includes('第1场《党建闭卷测试》已开始：3 题'))).toBe(true);
    expect((await texts(h, G)).some((t) => t.includes('已私聊通知 3 位成员'))).toBe(true);
    for (const u of ['m-li', 'm-zhang', 'm-chen']) {
      expect(JSON.stringify((await lastCard(h, dm(u), '闭卷测试')).card)).toContain('开始答题');
    }

    // 李明 takes it: three questions one after another on the same private card, then the score.
    const done = await takeTest(h, 'm-li', '闭卷测试', [true, true, false]);
    expect(JSON.stringify(done.card)).toContain('已交卷，答对 2/3 题');
    const invite = await lastCard(h, dm('m-li'), '闭卷测试');
    const again = await h.shuxiang.app.request('/sandbox/api/actions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        chatId: dm('m-li'),
        userId: 'm-li',
        messageId: invite.messageId,
        actionId: 'quiz.test.start',
        payload: { v: 1, r: (await h.shuxiang.db.prisma.quizRound.findFirstOrThrow()).id },
      }),
    });
    // The card now shows the result, so the start button is gone; the API says so.
    expect(again.status).toBe(400);

    // 张华 starts, answers one question, and runs out of time: the server hands it in.
    const zhangInvite = await lastCard(h, dm('m-zhang'), '闭卷测试');
    await h.click(dm('m-zhang'), 'm-zhang', zhangInvite, 'quiz.test.start');
    let card = (await h.transcript(dm('m-zhang'))).find((m) => m.messageId === zhangInvite.messageId)!;
    await clickOption(h, dm('m-zhang'), 'm-zhang', card, correctChoice(questionOn(card)));
    card = (await h.transcript(dm('m-zhang'))).find((m) => m.messageId === zhangInvite.messageId)!;
    await advance(h, 10 * 60_000 + 1000);
    const late = await clickOption(h, dm('m-zhang'), 'm-zhang', card, correctChoice(questionOn(card)));
    expect(late.toast?.text).toBe('您在第1场的作答已经结束，不能再修改。');
    expect((await texts(h, dm('m-zhang'))).some((t) => t.includes('时间到，已自动交卷：答对 1/3 题'))).toBe(true);

    // Two hours before the close, only 陈静 (who has not started) is reminded.
    h.clock.set('2026-03-02T08:00:00Z'); // 16:00 in Shanghai
    await advance(h, 0);
    expect(
      (await texts(h, dm('m-chen'))).some((t) =>
        t.startsWith('提醒：第1场闭卷测试《党建闭卷测试》将于 3月2日 18:00 截止'),
      ),
    ).toBe(true);
    for (const u of ['m-li', 'm-zhang']) expect((await texts(h, dm(u))).some((t) => t.startsWith('提醒'))).toBe(false);

    // 陈静 never starts. At the close the secretary gets results and absentees, privately.
    h.clock.set('2026-03-02T10:00:00Z'); // 18:00 in Shanghai
    await advance(h, 0);
    const results = await lastCard(h, dm('sec-wang'), '成绩');
    const r = JSON.stringify(results.card);
    expect(r).toContain('参加 2 人，未参加 1 人');
    expect(r).toContain('"未参加","value":"陈静"');
    const table = results.card!.elements.find((e) => e.type === 'table');
    expect(table?.type === 'table' && table.rows.map((row) => [row[0], row[2]])).toEqual([
      ['李明', '2/3'],
      ['张华', '1/3'],
    ]);
    // The XLSX comes as a download link on the card; fetching it gives the results, absentees included.
    expect(r).toContain('下载链接 7 天内有效');
    const rows = await downloadSheet(h, results);
    expect(rows.map((row) => [row[1], row[3], row[4]])).toEqual([
      ['姓名', '状态', '答对'],
      ['李明', '已参加', 2],
      ['张华', '已参加', 1],
      ['陈静', '未参加', ''],
    ]);
    expect((await texts(h, G)).some((t) => t.includes('已为未参加的成员开放补考'))).toBe(true);

    // The make-up goes to 陈静 only, with a reminder.
    const makeupInvite = await lastCard(h, dm('m-chen'), '补考');
    expect(JSON.stringify(makeupInvite.card)).toContain('您没有参加《党建闭卷测试》');
    for (const u of ['m-li', 'm-zhang']) {
      expect((await h.transcript(dm(u))).some((m) => m.card?.header.title.includes('补考'))).toBe(false);
    }
    const makeupDone = await takeTest(h, 'm-chen', '补考', [true, true, true]);
    expect(JSON.stringify(makeupDone.card)).toContain('已交卷，答对 3/3 题');

    // The make-up closes 24 h later. It belongs to its test: the secretary gets the test's results again,
    // now with 陈静's make-up score in the same table and the same sheet; nobody is left absent.
    await advance(h, 24 * 3600_000);
    const combined = await lastCard(h, dm('sec-wang'), '成绩');
    expect(combined.messageId).not.toBe(results.messageId);
    expect(combined.card!.header.title).toBe('闭卷测试 · 第1场 · 成绩');
    expect(JSON.stringify(combined.card)).toContain('参加 2 人，补考 1 人，未参加 0 人');
    const both = combined.card!.elements.find((e) => e.type === 'table');
    expect(both?.type === 'table' && both.rows.map((row) => [row[0], row[2]])).toEqual([
      ['陈静', '3/3（补考）'],
      ['李明', '2/3'],
      ['张华', '1/3'],
    ]);
    const sheet = await downloadSheet(h, combined);
    expect(sheet.map((row) => [row[1], row[3], row[4]])).toEqual([
      ['姓名', '状态', '答对'],
      ['陈静', '补考', 3],
      ['李明', '已参加', 2],
      ['张华', '已参加', 1],
    ]);
    expect(await h.shuxiang.db.prisma.quizRound.count({ where: { kind: 'makeup' } })).toBe(1);
    // Asking for the make-up by its own number, or for the latest test, gives the same combined results.
    for (const ask of ['测试 结果 2', '测试 结果']) {
      await h.say(dm('sec-wang'), 'sec-wang', ask);
      const card = await lastCard(h, dm('sec-wang'), '成绩');
      expect(card.card!.header.title, ask).toBe('闭卷测试 · 第1场 · 成绩');
      expect(JSON.stringify(card.card), ask).toContain('参加 2 人，补考 1 人，未参加 0 人');
    }

    const [list] = await h.say(G, 'sec-wang', '测试 列表');
    expect(list!.text).toContain('第2场 补考《党建闭卷测试》 已结束，3月2日 18:00 ~ 3月3日 18:00，已作答 1/1 人');
    expect(list!.text).toContain('第1场 闭卷测试《党建闭卷测试》 已结束，3月2日 09:00 ~ 3月2日 18:00，已作答 2/3 人');
  });

  it('refuses a click on the old test from someone who already took it, and a second start', async () => {
    await h.say(G, 'sec-wang', '测试 安排 1 党建 截止 3-2 18:00');
    const invite = await lastCard(h, dm('m-li'), '闭卷测试');
    const round = await h.shuxiang.db.prisma.quizRound.findFirstOrThrow();
    const start = () =>
      Promise.resolve(
        h.shuxiang.app.request('/sandbox/api/actions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            chatId: dm('m-li'),
            userId: 'm-li',
            messageId: invite.messageId,
            actionId: 'quiz.test.start',
            payload: { v: 1, r: round.id },
          }),
        }),
      ).then((r) => r.json() as Promise<{ toast?: { text: string } }>);
    // Two clicks at once: one attempt.
    await Promise.all([start(), start()]);
    expect(await h.shuxiang.db.prisma.quizAttempt.count()).toBe(1);
    await takeTestFromCurrent(h, invite);
    expect(await h.shuxiang.db.prisma.quizAttempt.count()).toBe(1);
    const attempt = await h.shuxiang.db.prisma.quizAttempt.findFirstOrThrow();
    expect(attempt.status).toBe('submitted');
  });

  it('answers bad scheduling input precisely and writes nothing', async () => {
    const cases: [string, string, string][] = [
      ['m-li', '测试 安排 3 截止 3-2 18:00', '需要「书记」权限'],
      ['sec-wang', '测试 安排 3 党建', '请写上截止时间'],
      ['sec-wang', '测试 安排 3 党建 截止 3-1 18:00', '截止时间已经过去了'],
      ['sec-wang', '测试 安排 3 党建 截止 2-30 18:00', '看不懂时间「2-30 18:00」'],
      ['sec-wang', '测试 安排 3 党建 开始 3-3 09:00 截止 3-3 08:00', '截止时间必须晚于开始时间'],
      ['sec-wang', '测试 安排 3 党建 截止 3-2 18:00 限时 0', '限时要写 1 到 240 之间的分钟数'],
      ['sec-wang', '测试 安排 50 党建 截止 3-2 18:00', '标签「党建」下只有 5 道可用的题，不够 50 道'],
      ['sec-wang', '测试 结果 9', '没有第9场测试'],
      ['sec-wang', '测试 玩', '不认识「玩」'],
    ];
    for (const [user, input, expected] of cases) {
      const [reply] = await h.say(G, user, input);
      expect(reply!.text, input).toContain(expected);
    }
    const db = h.shuxiang.db.prisma;
    expect(await db.quizRound.count()).toBe(0);
    expect(await db.scheduledItem.count()).toBe(0);
    expect(await db.quizInvite.count()).toBe(0);
  });

  it('takes typed answers in the private chat, for the question the member is on', async () => {
    await h.say(G, 'sec-wang', '测试 安排 2 党建 截止 3-2 18:00');
    const [nothing] = await h.say(dm('m-li'), 'm-li', '答 A');
    expect(nothing!.text).toBe('您现在没有正在进行的测试。收到测试通知后，点击「开始答题」。');
    const invite = await lastCard(h, dm('m-li'), '闭卷测试');
    await h.click(dm('m-li'), 'm-li', invite, 'quiz.test.start');
    let card = (await h.transcript(dm('m-li'))).find((m) => m.messageId === invite.messageId)!;
    let q = questionOn(card);
    const first = await h.say(dm('m-li'), 'm-li', `答 ${q.type === 'truefalse' ? '对' : correctChoice(q)}`);
    const next = first.find((m) => m.card)!;
    expect(next.card!.header.title).toBe('闭卷测试 · 第1场 · 第2/2题');
    card = next;
    q = questionOn(card);
    const [bad] = await h.say(dm('m-li'), 'm-li', q.type === 'fill' ? '答 ，。' : '答 也许');
    expect(bad!.text).toContain('没看懂这个答案');
    const last = await h.say(dm('m-li'), 'm-li', `答 ${correctChoice(q)}`);
    expect(JSON.stringify(last)).toContain('已交卷，答对');
  });

  it('counts two simultaneous answers to one test question once, and moves on once', async () => {
    await h.say(G, 'sec-wang', '测试 安排 2 党建 截止 3-2 18:00');
    const invite = await lastCard(h, dm('m-zhang'), '闭卷测试');
    await h.click(dm('m-zhang'), 'm-zhang', invite, 'quiz.test.start');
    const card = (await h.transcript(dm('m-zhang'))).find((m) => m.messageId === invite.messageId)!;
    const q = questionOn(card);
    const acks = await Promise.all([
      clickOption(h, dm('m-zhang'), 'm-zhang', card, correctChoice(q)),
      clickOption(h, dm('m-zhang'), 'm-zhang', card, wrongChoice(q)),
    ]);
    expect(acks.filter((a) => a.toast?.text === '您已经答过这道题了，每题只能作答一次。')).toHaveLength(1);
    const db = h.shuxiang.db.prisma;
    await h.shuxiang.bot.settle(); // fold the answer journal before reading its tables
    expect(await db.quizAnswer.count({ where: { memberId: 'demo-member-m-zhang' } })).toBe(1);
    const now = (await h.transcript(dm('m-zhang'))).find((m) => m.messageId === invite.messageId)!;
    expect(now.card!.header.title).toBe('闭卷测试 · 第1场 · 第2/2题');
  });

  it('voids a test question after the close: scores recomputed, results re-sent privately', async () => {
    await h.say(G, 'sec-wang', '测试 安排 2 党建 截止 3-2 18:00 补考 0');
    await takeTest(h, 'm-li', '闭卷测试', [true, true]);
    const [early] = await h.say(G, 'sec-wang', '作废 1 1');
    expect(early!.text).toContain('已作废第1场第1题，涉及 1 人的成绩已重新计算');
    h.clock.set('2026-03-02T10:00:00Z');
    await advance(h, 0);
    const first = await lastCard(h, dm('sec-wang'), '成绩');
    expect(first.card!.elements.find((e) => e.type === 'table')).toMatchObject({
      rows: [['李明', '办公室', '1/1', expect.any(String)]],
    });
    const [again] = await h.say(G, 'sec-wang', '作废 1 2');
    expect(again!.text).toContain('已作废第1场第2题');
    const results = (await h.transcript(dm('sec-wang'))).filter((m) => m.card?.header.title.includes('成绩'));
    expect(results).toHaveLength(2);
    expect(results[1]!.card!.elements.find((e) => e.type === 'table')).toMatchObject({
      rows: [['李明', '办公室', '0/0', expect.any(String)]],
    });
    // Nothing about scores went to the group.
    expect((await texts(h, G)).some((t) => t.includes('李明'))).toBe(false);
  });

  it('opens a test scheduled for later at its time, and refuses to start it before', async () => {
    const [reply] = await h.say(G, 'sec-wang', '测试 安排 2 党建 开始 3-3 09:00 截止 3-3 18:00 限时 15');
    expect(reply!.text).toContain('3月3日 09:00 开始，3月3日 18:00 截止');
    expect(await h.transcript(dm('m-li'))).toHaveLength(0);
    h.clock.set('2026-03-03T01:00:00Z');
    await advance(h, 0);
    expect((await lastCard(h, dm('m-li'), '闭卷测试')).card!.header.title).toBe('闭卷测试 · 第1场');
  });
});

async function takeTestFromCurrent(h: Harness, invite: TranscriptMessage): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const card = (await h.transcript(dm('m-li'))).find((m) => m.messageId === invite.messageId)!;
    if (!card.card!.header.title.includes('题')) return;
    await clickOption(h, dm('m-li'), 'm-li', card, correctChoice(questionOn(card)));
  }
}
