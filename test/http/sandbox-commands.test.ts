import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.ts';

describe('sandbox: commands through the HTTP API', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('lists the demo organisation: two group chats, a secretary and three members', async () => {
    const res = await h.shuxiang.app.request('/sandbox/api/chats');
    const chats = (await res.json()) as {
      id: string;
      kind: string;
      members: { userId: string; role: string; unit: string }[];
    }[];
    const groups = chats.filter((c) => c.kind === 'group');
    expect(groups.map((c) => c.id)).toEqual(['group-a', 'group-b']);
    const members = groups[0]!.members;
    expect(members.find((m) => m.userId === 'sec-wang')?.role).toBe('secretary');
    expect(
      members
        .filter((m) => m.role === 'member')
        .map((m) => m.userId)
        .sort(),
    ).toEqual(['m-chen', 'm-li', 'm-zhang']);
    expect(new Set(members.map((m) => m.unit))).toEqual(new Set(['办公室', '学习科']));
  });

  it.each(['帮助', 'help', 'HELP', 'ｈｅｌｐ'])('answers %s with the command list in Chinese', async (text) => {
    const replies = await h.say('group-a', 'm-li', text);
    expect(replies).toHaveLength(1);
    const card = replies[0]!.card!;
    expect(card.header.title).toBe('书香 · 命令列表');
    const labels = card.elements.flatMap((e) => (e.type === 'fields' ? e.fields.map((f) => f.label) : []));
    expect(labels.some((l) => l.startsWith('帮助'))).toBe(true);
    expect(labels.some((l) => l.startsWith('管理员'))).toBe(true);
  });

  it('refuses a secretary-only command from a member, naming the role', async () => {
    const [reply] = await h.say('group-a', 'm-li', '管理员 添加 @m-zhang');
    expect(reply!.text).toContain('书记');
    expect(reply!.text).toContain('权限');
    // and nothing changed: 张华 is still a member
    const [who] = await h.say('group-a', 'm-zhang', '我是谁');
    expect(who!.text).toContain('身份：成员');
  });

  it('answers bad arguments with the usage line', async () => {
    const [reply] = await h.say('group-a', 'sec-wang', 'admin frobnicate');
    expect(reply!.text).toContain('用法：管理员 添加 @某人');
  });

  it('hints at the nearest command for a typo', async () => {
    const [reply] = await h.say('group-a', 'm-li', 'hepl');
    expect(reply!.text).toContain('没有「hepl」这个命令');
    expect(reply!.text).toContain('帮助');
  });

  it('lets a secretary add another secretary by mention, who can then use secretary commands', async () => {
    const [added] = await h.say('group-a', 'sec-wang', '管理员 添加 @李明');
    expect(added!.text).toBe('已将 李明 设为书记。');
    const [list] = await h.say('group-a', 'm-li', 'admin list');
    expect(list!.text).toContain('王书记');
    expect(list!.text).toContain('李明');
    // Removing asks first (docs/reminders.md, "Secretaries"); the click removes.
    const [ask] = await h.say('group-a', 'm-li', 'admin remove @王书记');
    expect(JSON.stringify(ask!.card)).toContain('确定要取消 王书记 的书记权限吗');
    const removed = await h.click('group-a', 'm-li', ask!, 'org.admin.remove.confirm');
    expect(removed.toast?.text).toContain('已取消 王书记 的书记权限');
    const [refused] = await h.say('group-a', 'sec-wang', 'admin list');
    expect(refused!.text).toContain('需要「书记」权限');
  });

  it('treats SHUXIANG_ADMINS entries as secretaries', async () => {
    await h.close();
    h = await createHarness({ env: { SHUXIANG_ADMINS: 'sandbox:m-chen' } });
    const [reply] = await h.say('group-b', 'm-chen', 'admin list');
    expect(reply!.text).toContain('陈静（配置）');
  });

  it('clicks a help-card button and gets a private toast', async () => {
    const [help] = await h.say('group-a', 'm-zhang', 'help');
    const ack = await h.click('group-a', 'm-zhang', help!, 'org.whoami');
    expect(ack.toast?.text).toContain('张华');
    expect(ack.toast?.text).toContain('学习科');
  });

  it('refuses a click on a button the card does not carry', async () => {
    const [help] = await h.say('group-a', 'm-zhang', 'help');
    const res = await h.shuxiang.app.request('/sandbox/api/actions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        chatId: 'group-a',
        userId: 'm-zhang',
        messageId: help!.messageId,
        actionId: 'admin.nuke',
        payload: {},
      }),
    });
    expect(res.status).toBe(400);
  });
});
