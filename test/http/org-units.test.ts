import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * Units, their heads (负责人) and contacts (联络员), managed by secretaries in
 * the chat of the sandbox's demo organisation (units 办公室 and 学习科).
 */
describe('sandbox: 单位 / units', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const say = async (userId: string, text: string) => {
    const replies = await h.say('group-a', userId, text);
    expect(replies).toHaveLength(1);
    return replies[0]!;
  };

  it('lists the units with member counts, heads and contacts', async () => {
    const reply = await say('sec-wang', '单位');
    expect(reply.text).toContain('· 办公室（2 人）负责人：未设置；联络员：未设置');
    expect(reply.text).toContain('· 学习科（2 人）');
    expect((await say('sec-wang', 'units list')).text).toBe(reply.text);
  });

  it('makes a head and a contact, shown in the list and in 我是谁 at once', async () => {
    expect((await say('m-li', '我是谁')).text).not.toContain('单位职务');
    const granted = await say('sec-wang', '单位 负责人 办公室 @m-li');
    expect(granted.text).toBe('已将 李明 设为「办公室」负责人。');
    expect(granted.mentions).toEqual([{ id: 'm-li', name: '李明' }]);
    expect((await say('sec-wang', 'units contact 办公室 @m-zhang @陈静')).text).toBe(
      '已将 张华、陈静 设为「办公室」联络员。',
    );
    expect((await say('sec-wang', '单位 负责人 办公室 @李明')).text).toBe('李明 已经是「办公室」负责人了。');

    expect((await say('m-li', '我是谁')).text).toContain('单位职务：办公室负责人');
    expect((await say('sec-wang', '单位')).text).toContain('· 办公室（2 人）负责人：李明；联络员：陈静、张华');
  });

  it('removes a head or contact, and says so when there was nothing to remove', async () => {
    await say('sec-wang', '单位 负责人 办公室 @m-li');
    await say('m-li', '我是谁');
    expect((await say('sec-wang', '单位 移除 办公室 @m-li')).text).toBe(
      '已取消 李明 在「办公室」的负责人、联络员职务。',
    );
    expect((await say('m-li', '我是谁')).text).not.toContain('单位职务');
    expect((await say('sec-wang', 'units remove 办公室 @m-li')).text).toBe(
      '李明 不是「办公室」的负责人或联络员，无需移除。',
    );
  });

  it('creates a unit and puts members in it', async () => {
    expect((await say('m-zhang', '我是谁')).text).toContain('单位：学习科');
    expect((await say('sec-wang', '单位 新建 财务科')).text).toBe('已新建单位「财务科」。');
    expect((await say('sec-wang', 'units new 财务科')).text).toBe('单位「财务科」已经存在。');
    expect((await say('sec-wang', '单位 成员 财务科 @m-zhang')).text).toBe('已将 张华 分入「财务科」。');
    expect((await say('sec-wang', '单位 成员 财务科 @m-zhang')).text).toBe('张华 已经在「财务科」了。');
    expect((await say('m-zhang', '我是谁')).text).toContain('单位：财务科');
    expect((await say('sec-wang', '单位')).text).toContain('· 财务科（1 人）');
  });

  it('refuses a member, naming the role needed, and changes nothing', async () => {
    const reply = await say('m-li', '单位 负责人 办公室 @m-li');
    expect(reply.text).toContain('「书记」权限');
    expect((await say('m-li', '我是谁')).text).not.toContain('单位职务');
  });

  it('names an unknown unit and lists the existing ones', async () => {
    const reply = await say('sec-wang', '单位 负责人 财务科 @m-li');
    expect(reply.text).toBe('没有名为「财务科」的单位。现有单位：办公室、学习科。可用“单位 新建 财务科”新建。');
  });

  it('says who it cannot find when the @ is nobody in the chat', async () => {
    const reply = await say('sec-wang', '单位 联络员 办公室 @m-nobody');
    expect(reply.text).toBe('找不到 @m-nobody：请在群里用 @ 选择要设置的人。');
    expect((await say('sec-wang', '单位')).text).toContain('联络员：未设置');
  });

  it('answers a missing person, a missing unit and an unknown sub-word with help', async () => {
    expect((await say('sec-wang', '单位 负责人 办公室')).text).toBe('请@要设置的人，例如：单位 负责人 办公室 @李明');
    expect((await say('sec-wang', '单位 负责人')).text).toContain('用法：单位 | 单位 新建 名称');
    const bad = await say('sec-wang', '单位 开除 办公室 @m-li');
    expect(bad.text).toContain('不认识「开除」');
    expect(bad.text).toContain('用法：');
  });

  it('knows who is in a sandbox group: the seeded members, recorded as the chat membership', async () => {
    const { directory, db } = h.shuxiang;
    const members = await directory.chatMembers('demo-org', 'sandbox', 'group-a');
    expect(members.map((m) => m.platformUserId).sort()).toEqual(['m-chen', 'm-li', 'm-zhang', 'sec-wang']);
    expect(await db.prisma.chatMember.count({ where: { chat: { platformChatId: 'group-a' } } })).toBe(4);
  });
});
