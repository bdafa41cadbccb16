import JSZip from 'jszip';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkingDays } from '../../src/features/calendar/working-days.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import { providers, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import { tickFiring } from '../helpers/supervision.ts';

/**
 * A year of the reading club, as the secretary and members live it, on an
 * injected clock: the 2027 plan imported in December 2026 (at 07:30 Beijing,
 * when the UTC date is still yesterday), rotation through three units,
 * reviews on time, sent back, late and chased over a holiday, reminders,
 * sign-ins (late, twice, on behalf), notes, ratings, topics and the yearbook.
 */

/** The test's 2027 calendar: the National Day week off with Sunday 26 Sep worked, and two Spring Festival days off. */
const OFF = new Set(['2027-01-01', '2027-02-10', '2027-02-11', ...[1, 2, 3, 4, 5, 6, 7].map((d) => `2027-10-0${d}`)]);
const WORKED = new Set(['2027-09-26', '2027-10-09']);
const calendar2027: WorkingDays = {
  isWorkday(date) {
    if (OFF.has(date)) return false;
    if (WORKED.has(date)) return true;
    const d = new Date(`${date}T00:00:00Z`).getUTCDay();
    return d !== 0 && d !== 6;
  },
  covers: () => true,
  lastYear: 2027,
  year: () => null,
  refresh: async () => {},
  attach: () => {},
  start: () => {},
  stop: () => {},
};

const PLAN_CSV = [
  '期数,日期,时间,主题,形式,地点,环节',
  '68,2027-01-15,14:30,学习《论中国共产党历史》,常规会议,三楼会议室,理论学习、心得分享',
  ',2027-02-19,14:30,学史明理,常规会议,三楼会议室,',
  ',2027-03-19,14:30,学史增信,演讲比赛,三楼会议室,',
  ',2027-04-16,09:00,学史崇德,户外学习参观,汝城县沙洲村,',
  ',2027-05-21,14:30,学史力行,辩论赛,三楼会议室,',
  ',2027-06-18,14:30,慶七一·讲党史,演讲比赛,三楼会议室,',
  ',2027-07-16,14:30,传承红色基因,常规会议,三楼会议室,',
  ',2027-08-20,14:30,依规治党,常规会议,三楼会议室,',
  ',2027-09-17,14:30,新时代新规章,常规会议,三楼会议室,',
  ',2027-10-08,14:30,党史知识抢答,知识抢答赛,三楼会议室,',
  ',2027-11-19,14:30,谋事之基,常规会议,三楼会议室,',
  ',2027-12-17,14:30,年终分享,常规会议,三楼会议室,心得分享、领导讲话',
].join('\n');

async function sayWithFile(h: Harness, chatId: string, userId: string, text: string, name: string, body: string) {
  const before = (await h.transcript(chatId)).reduce((m, x) => Math.max(m, x.rev), 0);
  const res = await h.shuxiang.app.request('/sandbox/api/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chatId, userId, text, file: { name, contentBase64: Buffer.from(body).toString('base64') } }),
  });
  if (res.status !== 202) throw new Error(`say ${res.status}`);
  return (await h.transcript(chatId, before)).filter((m) => m.from === 'bot');
}

/** Moves the clock to `iso`, firing each scheduled item at its own due time on the way. */
async function advanceTo(h: Harness, iso: string): Promise<void> {
  const target = new Date(iso);
  const db = h.shuxiang.db.prisma;
  for (;;) {
    const next = await db.scheduledItem.findFirst({
      where: { status: 'active', dueAt: { lte: target } },
      orderBy: { dueAt: 'asc' },
    });
    if (!next) break;
    if (next.dueAt > h.clock.now()) h.clock.set(next.dueAt);
    await tickFiring(h, next);
    await h.shuxiang.worker.drain(20);
  }
  h.clock.set(target);
  await h.shuxiang.scheduler.tick();
  await h.shuxiang.worker.drain(20);
}

const texts = (ms: TranscriptMessage[]) => ms.map((m) => m.text ?? m.card?.header.title ?? '');
const cardText = (m: TranscriptMessage | undefined) => JSON.stringify(m?.card ?? {});

async function dm(h: Harness, user: string, after = 0) {
  return (await h.transcript(`dm-${user}`, after)).filter((m) => m.from === 'bot');
}
async function lastRev(h: Harness, chat: string) {
  return (await h.transcript(chat)).reduce((m, x) => Math.max(m, x.rev), 0);
}

describe.each(providers)('a year of the reading club (%s)', (provider) => {
  let h: Harness;
  let database: TestDatabase;
  beforeEach(async () => {
    database = await provider.create();
    // 07:30 Beijing on 2 December 2026: the UTC date is still 1 December.
    h = await createHarness({ database, workingDays: calendar2027, clock: createManualClock('2026-12-01T23:30:00Z') });
    await h.say('group-a', 'sec-wang', '单位 新建 宣传科');
  });
  afterEach(async () => {
    await h.close();
    await database.drop();
  });

  it('runs from the December import to the yearbook', { timeout: 120_000 }, async () => {
    const db = h.shuxiang.db.prisma;

    // A member may not plan; a secretary's bad file is refused whole, each row named.
    expect(texts(await h.say('group-a', 'm-li', '读书会 安排 2027-01-15 14:30 学习'))[0]).toContain('书记');
    const bad = [
      '期数,日期,时间,主题,承办单位',
      '68,2027-01-15,14:30,学习,办公室',
      '67,2027-02-19,14:30,学史明理,',
      ',2027-02-30,14:30,不存在的日子,',
      ',2027-01-22,14:30,同月第二期,',
      ',2026-12-20,14:30,去年的,',
      ',2027-04-16,14:30,学史崇德,组织部',
    ].join('\n');
    const refused = await sayWithFile(h, 'group-a', 'sec-wang', '读书会 导入 2027', 'plan.csv', bad);
    const msg = refused[0]!.text!;
    expect(msg).toContain('一行都没有写入');
    expect(msg).toContain('第 3 行：期数 67 往回排了');
    expect(msg).toContain('第 4 行：日期 2027-02-30 不存在');
    expect(msg).toContain('第 5 行：1 月已经在第 2 行安排了一期');
    expect(msg).toContain('第 6 行：日期 2026-12-20 不在 2027 年');
    expect(msg).toContain('第 7 行：没有名为「组织部」的单位');
    expect(await db.clubSession.count()).toBe(0);

    // The good plan: 第68期 onwards, co-hosts rotating through the three units.
    const imported = await sayWithFile(h, 'group-a', 'sec-wang', '读书会 导入 2027', '2027计划.csv', PLAN_CSV);
    expect(imported[0]!.text).toContain('12 期（第68期至第79期）');
    const plan = imported.find((m) => m.card)!;
    const table = plan.card!.elements.find((e) => e.type === 'table');
    expect(table?.type === 'table' && table.rows.map((r) => [r[0], r[4]])).toEqual([
      ['第68期', '办公室'],
      ['第69期', '学习科'],
      ['第70期', '宣传科'],
      ['第71期', '办公室'],
      ['第72期', '学习科'],
      ['第73期', '宣传科'],
      ['第74期', '办公室'],
      ['第75期', '学习科'],
      ['第76期', '宣传科'],
      ['第77期', '办公室'],
      ['第78期', '学习科'],
      ['第79期', '宣传科'],
    ]);

    // One more in a taken month is refused; swapping March and May moves content, not numbers.
    expect(texts(await h.say('group-a', 'sec-wang', '读书会 安排 2027-03-05 14:30 加一期'))[0]).toContain(
      '已经安排了第70期',
    );
    await h.say('group-a', 'sec-wang', '读书会 对调 3月 5月');
    const march = await db.clubSession.findFirstOrThrow({ where: { month: 3 } });
    expect([march.seq, march.theme, march.format]).toEqual([70, '学史力行', 'debate']);
    // Changing one session from the chat.
    expect(texts(await h.say('group-a', 'sec-wang', '读书会 修改 71 地点 五楼会议室'))[0]).toContain(
      '第71期读书会已修改',
    );

    // Reminders count working days: 7 and 1 working days before at 09:00, 1 hour before.
    const due = async (seq: number) => {
      const s = await db.clubSession.findFirstOrThrow({ where: { seq } });
      const items = await db.scheduledItem.findMany({ where: { kind: 'club.remind', payload: { contains: s.id } } });
      return items.map((i) => i.dueAt.toISOString()).sort();
    };
    expect(await due(68)).toEqual(['2027-01-06T01:00:00.000Z', '2027-01-14T01:00:00.000Z', '2027-01-15T05:30:00.000Z']);
    // October 8 comes after the National Day week: the days off are skipped, the worked Sunday counts.
    expect(await due(77)).toEqual(['2027-09-23T01:00:00.000Z', '2027-09-30T01:00:00.000Z', '2027-10-08T05:30:00.000Z']);

    // Plan review of 第68期: the named contact is reminded, submits, is sent back, resubmits, approved.
    await h.say('group-a', 'sec-wang', '读书会 联系人 68 @李明');
    // 学习科's plans come from its contact (联络员) unless a secretary names someone else.
    await h.say('group-a', 'sec-wang', '单位 联络员 学习科 @陈静');
    await advanceTo(h, '2027-01-03T01:00:00Z');
    expect((await dm(h, 'm-li')).some((m) => cardText(m).includes('请于 2027-01-05 周二 18:00 前送审'))).toBe(true);
    expect(texts(await h.say('group-a', 'm-zhang', '读书会 送审 72 方案'))[0]).toContain(
      '只有该单位的联系人或书记可以送审',
    );
    await h.say('group-a', 'm-li', '读书会 送审 68 一、理论学习；二、心得分享');
    let secDm = await dm(h, 'sec-wang');
    expect(secDm.at(-1)?.card?.header.title).toBe('第68期读书会活动方案送审');
    await h.say('group-a', 'sec-wang', '读书会 退回 68 请补充议程时间');
    expect(texts(await dm(h, 'm-li')).at(-1)).toContain('被退回，意见：请补充议程时间');
    await h.say('group-a', 'm-li', '读书会 送审 68 14:30 理论学习；15:00 心得分享');
    secDm = await dm(h, 'sec-wang');
    const approved = await h.click('dm-sec-wang', 'sec-wang', secDm.at(-1)!, 'club.review.approve');
    expect(approved.toast?.text).toContain('审核通过');
    const history = await db.clubReviewEvent.findMany({ where: { session: { seq: 68 } }, orderBy: { at: 'asc' } });
    expect(history.map((e) => e.state)).toEqual([
      'pending',
      'reminded',
      'submitted',
      'returned',
      'submitted',
      'approved',
    ]);

    // Reminders reach the group on their days.
    await advanceTo(h, '2027-01-06T01:00:00Z');
    expect(texts(await h.transcript('group-a')).filter((x) => x.startsWith('读书会提醒 · 第68期'))).toEqual([
      '读书会提醒 · 第68期（还有7个工作日）',
    ]);

    // Session day: the sign-in card opens at 14:00; too early, on time, twice, late, on behalf.
    await advanceTo(h, '2027-01-15T05:50:00Z');
    expect(texts(await h.say('group-a', 'm-li', '签到'))[0]).toContain('14:00 开始签到');
    await advanceTo(h, '2027-01-15T06:05:00Z');
    const signCard = (await h.transcript('group-a'))
      .filter((m) => m.card?.header.title === '第68期读书会 · 签到')
      .at(-1)!;
    expect((await h.click('group-a', 'm-li', signCard, 'club.checkin')).toast?.text).toContain('签到成功');
    expect(texts(await h.say('group-a', 'm-li', '签到'))[0]).toContain('已经签过第68期');
    await advanceTo(h, '2027-01-15T06:45:00Z');
    expect(texts(await h.say('group-a', 'm-zhang', '签到'))[0]).toContain('签到成功');
    expect(texts(await h.say('group-a', 'sec-wang', '签到 代签 @陈静'))[0]).toContain('已为 陈静 代签');
    await advanceTo(h, '2027-01-15T08:31:00Z');
    expect(texts(await h.say('group-a', 'm-chen', '签到'))[0]).toContain('现在不在签到时间内');
    const closing = (await h.transcript('group-a')).find((m) => m.card?.header.title === '第68期读书会结束');
    expect(cardText(closing)).toContain('应到 4 人，实到 3 人');
    // Names of the absent go to secretaries only.
    expect(cardText(closing)).not.toContain('王书记');
    const attendance = (await dm(h, 'sec-wang')).find((m) => m.card?.header.title === '第68期读书会考勤');
    expect(cardText(attendance)).toContain('王书记（办公室）');
    expect(cardText(attendance)).toMatch(/书记代签[^}]*陈静/);
    expect(cardText(attendance)).toMatch(/迟到签到[^}]*张华/);

    await h.say('group-a', 'sec-wang', '读书会 考勤 2027');
    const year = (await dm(h, 'sec-wang')).at(-1)!;
    expect(cardText(year)).toContain('已举办 1 场，累计 3 人次');
    expect(cardText(year)).toContain('["王书记","办公室","0","0%"]');

    // Notes: handed in, edited, too long, then the archive closes.
    expect(texts(await h.say('group-a', 'm-li', '心得 读《论中国共产党历史》，体会到历史是最好的教科书。'))).toEqual(
      [],
    );
    expect(texts(await dm(h, 'm-li')).at(-1)).toContain('第68期学习心得已收到');
    await h.say('group-a', 'm-li', '心得 读《论中国共产党历史》，体会到历史是最生动、最有说服力的教科书。');
    expect(texts(await dm(h, 'm-li')).at(-1)).toContain('第68期学习心得已更新');
    const tooLong = await h.say('group-a', 'm-zhang', `心得 ${'学'.repeat(3500)}`);
    expect(tooLong[0]?.text?.slice(0, 80)).toContain('超过了 3000 字的上限');
    h.clock.advance(60_000);
    await h.say('dm-m-zhang', 'm-zhang', '心得 学史明理，学史增信。');
    const before = await lastRev(h, 'dm-m-chen');
    await h.say('group-a', 'sec-wang', '读书会 心得情况 68');
    const status = (await dm(h, 'sec-wang')).at(-1)!;
    expect(cardText(status)).toContain('未提交（2 人）');
    await h.click('dm-sec-wang', 'sec-wang', status, 'club.notes.remind');
    await h.shuxiang.worker.drain(20);
    expect(texts(await dm(h, 'm-chen', before)).at(-1)).toContain('学习心得还没提交');

    // Ratings: 1 to 5, shown to secretaries as a distribution.
    expect(texts(await h.say('group-a', 'm-li', '读书会 评分 6'))[0]).toContain('请打 1 到 5 分');
    await h.say('group-a', 'm-li', '读书会 评分 5 形式新颖');
    await h.say('group-a', 'm-zhang', '读书会 评分 4');
    await h.say('group-a', 'sec-wang', '读书会 评分情况 68');
    const ratings = (await dm(h, 'sec-wang')).at(-1)!;
    expect(cardText(ratings)).toContain('共 2 人评分，平均 4.5 分');
    expect(cardText(ratings)).not.toContain('李明');

    // Topics for the next plan, supported from the card, once each.
    await h.say('group-a', 'm-li', '读书会 点单 学习新修订的《中国共产党纪律处分条例》');
    await h.say('group-a', 'm-chen', '读书会 点单 红色家书');
    const list = (await h.say('group-a', 'm-zhang', '读书会 点单'))[0]!;
    expect((await h.click('group-a', 'm-zhang', list, 'club.topic.support', { seq: '2' })).toast?.text).toContain(
      '现有 2 人支持',
    );
    expect((await h.click('group-a', 'm-zhang', list, 'club.topic.support', { seq: '2' })).toast?.text).toContain(
      '已经支持过',
    );
    const ranked = (await h.say('group-a', 'sec-wang', '读书会 点单'))[0]!;
    const topicTable = ranked.card!.elements.find((e) => e.type === 'table');
    expect(topicTable?.type === 'table' && topicTable.rows[0]).toEqual(['2', '红色家书', '2']);

    // 第69期's plan is late: chased the next working morning after the holiday, then every working day.
    await advanceTo(h, '2027-01-29T07:00:00Z');
    expect(texts(await h.say('group-a', 'm-li', '心得 补一句'))[0]).toContain('已于 2027-01-29 周五 14:30 截止归档');
    await advanceTo(h, '2027-02-11T12:00:00Z');
    const chen = () => dm(h, 'm-chen').then((ms) => ms.filter((m) => cardText(m).includes('催办：第69期')));
    expect(await chen()).toEqual([]);
    await advanceTo(h, '2027-02-12T02:00:00Z');
    expect(await chen()).toHaveLength(1);
    await advanceTo(h, '2027-02-16T02:00:00Z');
    expect(await chen()).toHaveLength(3); // Friday 12th, Monday 15th, Tuesday 16th
    // She submits from the last chase's card; the chasing stops.
    const chase = (await chen()).at(-1)!;
    expect(
      (await h.click('dm-m-chen', 'm-chen', chase, 'club.review.submit', { plan: '2月19日 学史明理 议程' })).toast
        ?.text,
    ).toContain('已送审');
    await advanceTo(h, '2027-02-18T02:00:00Z');
    expect(await chen()).toHaveLength(3);
    const plan69 = (await h.say('group-a', 'sec-wang', '读书会 计划 2027'))[0]!;
    expect(cardText(plan69)).toMatch(/第69期[^\]]*待审核/);

    // The yearbook: DOCX (headings and every note, in order) and Markdown, privately.
    const sent = await lastRev(h, 'dm-sec-wang');
    await h.say('group-a', 'sec-wang', '读书会 年鉴');
    const files = (await h.transcript('dm-sec-wang', sent)) as (TranscriptMessage & {
      file?: { name: string; url: string };
    })[];
    const docx = files.find((m) => m.file?.name.endsWith('.docx'))!.file!;
    const md = files.find((m) => m.file?.name.endsWith('.md'))!.file!;
    const zip = await JSZip.loadAsync(Buffer.from(await (await h.shuxiang.app.request(docx.url)).arrayBuffer()));
    const xml = await zip.file('word/document.xml')!.async('string');
    const plain = xml.replace(/<w:p[ >]/g, '\n$&').replace(/<[^>]+>/g, '');
    const order = [
      '2027年读书会文集',
      '第68期　学习《论中国共产党历史》',
      '李明（办公室）',
      '最生动、最有说服力的教科书',
      '张华（学习科）',
      '学史明理，学史增信。',
      '第69期　学史明理',
      '第79期　年终分享',
      '附录',
    ];
    let at = -1;
    for (const piece of order) {
      const i = plain.indexOf(piece, at + 1);
      expect(i, piece).toBeGreaterThan(at);
      at = i;
    }
    expect(plain).not.toContain('体会到历史是最好的教科书'); // the edited note replaced the first
    const mdText = await (await h.shuxiang.app.request(md.url)).text();
    expect(mdText).toContain('## 第68期　学习《论中国共产党历史》');
    expect(mdText).toContain('### 李明（办公室）');
  });
});
