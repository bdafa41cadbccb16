import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { providers } from '../helpers/databases.ts';
import { answer, botSaid, cardText, runUntil } from '../helpers/supervision.ts';

const TITLE = '学习《中国共产党简史》第1-3章';

describe('task lists', () => {
  let h: Harness;
  beforeEach(async () => {
    // 07:30 on Monday 2026-12-07 in Beijing: the UTC date is still the 6th.
    h = await createHarness({ clock: createManualClock('2026-12-06T23:30:00Z') });
  });
  afterEach(async () => {
    await h.close();
  });

  const db = () => h.shuxiang.db.prisma;
  const latestCard = async (seq: number) =>
    (await h.transcript('group-a')).filter((m) => m.card?.header.title === `任务单 · 第${seq}号`).at(-1)!;

  it('assigns to a unit and a member, posts the task list and tells each assignee privately', async () => {
    const [card, reply] = await h.say('group-a', 'sec-wang', `任务 新建 "${TITLE}" 截止 12-18 @学习科 @李明`);
    expect(card!.card!.header.title).toBe('任务单 · 第1号');
    expect(cardText(card)).toContain('12-18（周五）18:00');
    expect(cardText(card)).toContain('🟢 按期推进');
    expect(reply!.text).toContain(`已派发任务 1：${TITLE}`);
    expect(reply!.text).toContain('对象：学习科、李明');
    await h.shuxiang.worker.drain();
    for (const dm of ['dm-m-li', 'dm-m-zhang', 'dm-m-chen']) {
      expect(await botSaid(h, dm, '您有一项新的学习任务（任务 1）')).toHaveLength(1);
    }
    expect(await botSaid(h, 'dm-m-zhang', '派给学习科')).toHaveLength(1);
    // English, @unit: and a time; numbers go on per organisation.
    const en = await answer(
      h,
      'group-a',
      'sec-wang',
      'task add "Read chapter 4" due 2026-12-22 17:00 @unit:办公室 @m-zhang escalate 5',
    );
    expect(en).toContain('已派发任务 2：Read chapter 4');
    expect(en).toContain('截止：12-22（周二）17:00');
    expect(en).toContain('逾期 5 个工作日报告');
    const [secretaryView] = await h.say('group-a', 'sec-wang', '任务');
    expect(secretaryView!.text).toContain('进行中的任务（2 项）');
    const [mine] = await h.say('dm-m-chen', 'm-chen', 'tasks');
    expect(mine!.text).toContain(`任务 1：${TITLE}`);
    expect(mine!.text).not.toContain('Read chapter 4');
  });

  it('takes progress and checklist items from the card, and completion at 100%', async () => {
    await h.say('group-a', 'sec-wang', `任务 新建 "${TITLE}" 截止 12-18 @李明 清单 "第1章；第2章；第3章"`);
    const card = await latestCard(1);
    expect(cardText(card)).toContain('第2章');
    const progress = await h.click('group-a', 'm-li', card, 'supervision.progress', { progress: '60', note: '' });
    expect(progress.toast?.text).toBe('已记录任务 1 的进度：60%。');
    await h.shuxiang.worker.drain();
    expect(cardText(await latestCard(1))).toContain('60%');
    const checked = await h.click('group-a', 'm-li', await latestCard(1), 'supervision.check', { items: ['1', '2'] });
    expect(checked.toast?.text).toBe('已记录任务 1 的进度：67%。');
    // 张华 is not an assignee: clicking someone else's task changes nothing.
    const other = await h.click('group-a', 'm-zhang', await latestCard(1), 'supervision.done');
    expect(other.toast?.text).toBe('任务 1 不是派给您的，不能替别人完成或汇报进度。');
    const typed = await answer(h, 'group-a', 'm-li', '任务 进度 1 1 2 3');
    expect(typed).toContain('完成，按时');
    expect(typed).toContain('任务办结');
    await h.shuxiang.worker.drain();
    expect(cardText(await latestCard(1))).toContain('✅ 已办结');
  });

  it("completes a unit's task through its members, or when its contact marks it", async () => {
    await h.say('group-a', 'sec-wang', '单位 联络员 学习科 @陈静');
    await h.say('group-a', 'sec-wang', `任务 新建 "${TITLE}" 截止 12-18 @学习科`);
    await h.say('group-a', 'sec-wang', '任务 新建 "第二项" 截止 12-18 @学习科');
    expect(await answer(h, 'group-a', 'm-zhang', '完成 1')).not.toContain('任务办结');
    expect(await answer(h, 'group-a', 'm-chen', '完成 1')).toContain('任务 1 的全部对象都已完成，任务办结');
    // Task 2: the contact closes it for the unit; 张华 has nothing left to report.
    expect(await answer(h, 'group-a', 'm-li', '完成 2 @学习科')).toBe(
      '只有学习科的联络员或负责人可以为单位办结任务 2。',
    );
    expect(await answer(h, 'group-a', 'm-chen', '完成 2 @学习科 已组织集中学习')).toContain('学习科完成，按时');
    expect(await answer(h, 'group-a', 'm-zhang', '完成 2')).toContain('任务 2 已全部办结');
    const log = await answer(h, 'dm-sec-wang', 'sec-wang', '任务 记录 2');
    expect(log).toContain('学习科由联络员办结（按时）（陈静）');
  });

  it('lets a secretary send a completion back, and chasing resumes after the deadline', async () => {
    await h.say('group-a', 'sec-wang', `任务 新建 "${TITLE}" 截止 12-08 @李明 @张华`);
    await h.say('group-a', 'm-li', '完成 1');
    await runUntil(h, '2026-12-08T10:00:30Z');
    expect(await answer(h, 'group-a', 'sec-wang', '任务 退回 1 @张华')).toBe('张华还没有完成任务 1，不需要退回。');
    expect(await answer(h, 'group-a', 'sec-wang', '任务 退回 1 @李明')).toBe(
      '已退回：李明的任务 1 需要重新完成，已私聊通知。',
    );
    await runUntil(h, '2026-12-09T01:00:30Z');
    expect(await botSaid(h, 'dm-m-li', '书记退回了您对任务 1')).toHaveLength(1);
    expect(cardText((await botSaid(h, 'dm-m-li', '督办单 · 任务 1')).at(-1))).toContain('逾期第 1 个工作日');
    expect(await answer(h, 'dm-sec-wang', 'sec-wang', '任务 记录 1')).toContain('退回李明的完成报告（王书记）');
  });

  it('takes a file with a completion and hands it to the secretary who assigned the task', async () => {
    await h.say('group-a', 'sec-wang', `任务 新建 "${TITLE}" 截止 12-18 @李明`);
    const res = await h.shuxiang.app.request('/sandbox/api/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        chatId: 'dm-m-li',
        userId: 'm-li',
        text: '完成 1 心得见附件',
        file: { name: '学习心得.docx', contentBase64: Buffer.from('心得').toString('base64') },
      }),
    });
    expect(res.status).toBe(202);
    await h.shuxiang.worker.drain();
    expect(await botSaid(h, 'dm-m-li', '完成，按时')).toHaveLength(1);
    const file = (await h.transcript('dm-sec-wang')).find((m) => (m as { file?: { name: string } }).file) as
      { file: { name: string; url: string } } | undefined;
    expect(file?.file.name).toBe('学习心得.docx');
    const download = await h.shuxiang.app.request(file!.file.url);
    expect(Buffer.from(await download.arrayBuffer()).toString()).toBe('心得');
    expect(await answer(h, 'dm-sec-wang', 'sec-wang', '任务 记录 1')).toContain(
      '李明完成（按时）：心得见附件，附件：学习心得.docx',
    );
  });

  it('refuses bad input precisely and writes nothing', async () => {
    const counts = async () => ({
      tasks: await db().supervisionTask.count(),
      rows: await db().supervisionAssignee.count(),
      events: await db().supervisionEvent.count(),
      items: await db().scheduledItem.count({ where: { kind: { startsWith: 'supervision.' } } }),
      cards: (await h.transcript('group-a')).filter((m) => m.card).length,
    });
    const before = await counts();
    const cases: [string, string, string][] = [
      ['sec-wang', `任务 新建 "${TITLE}" 截止 2026-12-01 @李明`, '截止时间 2026-12-01 18:00 已经过去了'],
      ['sec-wang', `任务 新建 "${TITLE}" 截止 2026-02-30 @李明`, '「2026-02-30」不是有效的日期'],
      ['sec-wang', `任务 新建 "${TITLE}" 截止 某天 @李明`, '「某天」不是有效的日期'],
      ['sec-wang', `任务 新建 "${TITLE}" @李明`, '请写上截止日期'],
      ['sec-wang', `任务 新建 "${TITLE}" 截止 12-18 @王五`, '「@王五」不是本组织的成员或单位'],
      ['sec-wang', `任务 新建 "${TITLE}" 截止 12-18 @unit:宣传科`, '没有叫「宣传科」的单位'],
      ['sec-wang', `任务 新建 "${TITLE}" 截止 12-18 @李明 升级 0`, '升级天数应是 1 到 30 之间的整数'],
      ['sec-wang', '任务 新建 截止 12-18 @李明', '请写上任务内容'],
      ['m-li', `任务 新建 "${TITLE}" 截止 12-18 @李明`, '需要「书记」权限'],
      ['m-li', '完成 7', '没有编号为 7 的任务'],
    ];
    for (const [user, text, expected] of cases) {
      expect(await answer(h, 'group-a', user, text), text).toContain(expected);
    }
    expect(await counts()).toEqual(before);

    await h.say('group-a', 'sec-wang', `任务 新建 "${TITLE}" 截止 12-18 @李明`);
    const after = await counts();
    expect(await answer(h, 'group-a', 'm-zhang', '完成 1')).toBe('任务 1 不是派给您的，不能替别人完成或汇报进度。');
    expect(await answer(h, 'group-a', 'm-zhang', '任务 进度 1 50%')).toBe(
      '任务 1 不是派给您的，不能替别人完成或汇报进度。',
    );
    expect(await answer(h, 'group-a', 'm-li', '任务 进度 1 150%')).toContain('进度请写 0 到 100 的百分比');
    expect(await answer(h, 'group-a', 'm-li', '任务 进度 1 2')).toContain('任务 1 没有清单');
    expect(await answer(h, 'group-a', 'm-li', '任务 认领 1')).toBe('任务 1 已指定对象，不需要认领。');
    expect(await counts()).toEqual(after);
  });

  it("reads deadlines in Beijing time at 07:30, when the UTC date is still yesterday's", async () => {
    // Friday 12-18 07:30 in Beijing is Thursday 12-17 23:30 UTC.
    h.clock.set('2026-12-17T23:30:00Z');
    expect(await answer(h, 'group-a', 'sec-wang', '任务 新建 "当天任务" 截止 12-17 @李明')).toContain(
      '截止时间 2026-12-17 18:00 已经过去了',
    );
    const today = await answer(h, 'group-a', 'sec-wang', '任务 新建 "当天任务" 截止 12-18 @李明');
    expect(today).toContain('截止：12-18（周五）18:00');
    // Due today: already inside the warning window, so the light is yellow at once.
    const [list] = await h.say('dm-m-li', 'm-li', '任务');
    expect(list!.text).toContain('🟡 任务 1：当天任务');
    // A date without a year long past means next year's.
    expect(await answer(h, 'group-a', 'sec-wang', '任务 新建 "年初任务" 截止 01-08 @李明')).toContain(
      '截止：2027-01-08（周五）18:00',
    );
  });

  it('offers a form for step-by-step creation', async () => {
    const [form] = await h.say('group-a', 'sec-wang', '任务 新建');
    expect(form!.card!.header.title).toBe('新建任务单');
    const refused = await h.click('group-a', 'sec-wang', form!, 'supervision.create', {
      title: TITLE,
      due: '2026-12-01',
      assignees: '李明',
    });
    expect(refused.toast?.text).toContain('已经过去了');
    const created = await h.click('group-a', 'sec-wang', form!, 'supervision.create', {
      title: TITLE,
      due: '12-18',
      assignees: '学习科 李明',
      checklist: '第1章；第2章',
    });
    expect(created.toast?.text).toContain('已派发任务 1');
    expect(created.toast?.text).toContain('对象：学习科、李明');
    await h.shuxiang.worker.drain();
    expect(cardText(await latestCard(1))).toContain('第2章');
  });
});

describe.each(providers)('claiming on $name', (provider) => {
  it('gives a task to whoever claims first, even at the same moment', async () => {
    const database = await provider.create();
    const h = await createHarness({ database, clock: createManualClock('2026-12-06T23:30:00Z') });
    try {
      const [card, reply] = await h.say('group-a', 'sec-wang', '任务 新建 "整理支部学习台账" 截止 12-18');
      expect(reply!.text).toContain('已发布待认领任务 1');
      expect(cardText(card)).toContain('待认领');
      const [a, b] = await Promise.all([
        h.click('group-a', 'm-li', card!, 'supervision.claim'),
        h.click('group-a', 'm-zhang', card!, 'supervision.claim'),
      ]);
      const toasts = [a.toast?.text ?? '', b.toast?.text ?? ''];
      expect(toasts.filter((x) => x.startsWith('您已认领任务 1'))).toHaveLength(1);
      const loser = toasts.find((x) => !x.startsWith('您已认领'))!;
      expect(loser).toMatch(/^任务 1 已被(李明|张华)认领了。$/);
      expect(await h.shuxiang.db.prisma.supervisionAssignee.count()).toBe(1);
      await h.shuxiang.worker.drain();
      const winner = loser.includes('李明') ? '李明' : '张华';
      const updated = (await h.transcript('group-a')).filter((m) => m.card?.header.title === '任务单 · 第1号').at(-1)!;
      expect(cardText(updated)).toContain(winner);
      expect(cardText(updated)).not.toContain('supervision.claim');
      expect(await botSaid(h, 'group-a', `任务 1 已由${winner}认领`)).toHaveLength(1);
      // The updated card has no claim button; a typed claim later gets the same precise answer.
      expect(await answer(h, 'group-a', 'm-chen', '任务 认领 1')).toBe(`任务 1 已被${winner}认领了。`);
      // A unit claim needs a unit role.
      await h.say('group-a', 'sec-wang', '任务 新建 "第二项" 截止 12-18');
      expect(await answer(h, 'group-a', 'm-chen', '任务 认领 2 单位')).toContain('您不是任何单位的联络员或负责人');
      await h.say('group-a', 'sec-wang', '单位 联络员 学习科 @陈静');
      expect(await answer(h, 'group-a', 'm-chen', '任务 认领 2 单位')).toContain('您已为学习科认领任务 2');
      // Nobody claims task 3 before its deadline: the secretary hears, once.
      await h.say('group-a', 'sec-wang', '任务 新建 "第三项" 截止 12-08');
      await runUntil(h, '2026-12-09T02:00:00Z');
      expect(await botSaid(h, 'dm-sec-wang', '待认领任务 3「第三项」已到截止时间，仍没有人认领')).toHaveLength(1);
    } finally {
      await h.close();
      await database.drop();
    }
  });
});
