import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providers, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/** Issue 11 part 6: a secretary is not removed by accident, and never the last one. */
describe.each(providers)('removing a secretary on $name', (provider) => {
  let database: TestDatabase;
  let h: Harness;
  beforeEach(async () => {
    database = await provider.create();
    h = await createHarness({ database });
  });
  afterEach(async () => {
    await h.close();
    await database.drop();
  });

  const texts = async (chat: string) => (await h.transcript(chat)).map((m) => m.text ?? '');

  it('asks first, and removes only on 确认移除, telling the person and the other secretaries', async () => {
    await h.say('group-a', 'sec-wang', '管理员 添加 @m-li');
    await h.say('group-a', 'sec-wang', '管理员 添加 @m-zhang');
    const [ask] = await h.say('group-a', 'sec-wang', '管理员 移除 @m-li');
    expect(JSON.stringify(ask!.card)).toContain('确定要取消 李明 的书记权限吗？');
    // Nothing changed yet: 李明 is still a secretary.
    const [still] = await h.say('group-a', 'm-li', '提醒列表');
    expect(still!.text).not.toContain('需要「书记」权限');

    const ack = await h.click('group-a', 'sec-wang', ask!, 'org.admin.remove.confirm');
    expect(ack.toast?.text).toBe('已取消 李明 的书记权限。');
    const [refused] = await h.say('group-a', 'm-li', '提醒列表');
    expect(refused!.text).toContain('需要「书记」权限');

    await h.shuxiang.worker.drain();
    expect(await texts('dm-m-li')).toContain('王书记 已取消您在「示范党支部」的书记权限。如有疑问，请联系其他书记。');
    expect(await texts('dm-m-zhang')).toContain('王书记 已取消 李明 的书记权限。现在的书记：王书记、张华。');
    // The one who confirmed sees it on the card, not in a private message as well.
    expect((await texts('dm-sec-wang')).some((t) => t.includes('已取消 李明'))).toBe(false);
  });

  it('不移除 leaves everything as it was', async () => {
    await h.say('group-a', 'sec-wang', '管理员 添加 @m-li');
    const [ask] = await h.say('group-a', 'sec-wang', '管理员 移除 @m-li');
    const ack = await h.click('group-a', 'sec-wang', ask!, 'org.admin.remove.cancel');
    expect(ack.toast?.text).toContain('书记权限不变');
    const [list] = await h.say('group-a', 'sec-wang', '管理员 列表');
    expect(list!.text).toContain('李明');
  });

  it('the last secretary cannot be removed, not even by themselves', async () => {
    const [reply] = await h.say('group-a', 'sec-wang', '管理员 移除 @sec-wang');
    expect(reply!.text).toContain('王书记 是本组织仅有的书记，不能移除');
    expect(reply!.card).toBeUndefined();
    const [list] = await h.say('group-a', 'sec-wang', '管理员 列表');
    expect(list!.text).toContain('王书记');
  });

  it('two secretaries removing each other at once leave one secretary', async () => {
    await h.say('group-a', 'sec-wang', '管理员 添加 @m-li');
    const [askA] = await h.say('group-a', 'sec-wang', '管理员 移除 @m-li');
    const [askB] = await h.say('group-b', 'm-li', '管理员 移除 @sec-wang');
    const [a, b] = await Promise.all([
      h.click('group-a', 'sec-wang', askA!, 'org.admin.remove.confirm'),
      h.click('group-b', 'm-li', askB!, 'org.admin.remove.confirm'),
    ]);
    const toasts = [a.toast?.text ?? '', b.toast?.text ?? ''];
    expect(toasts.filter((x) => x.startsWith('已取消'))).toHaveLength(1);
    const secretaries = await h.shuxiang.db.prisma.roleGrant.count({ where: { role: 'secretary' } });
    expect(secretaries).toBe(1);
  });

  it('a secretary may step down while another remains', async () => {
    await h.say('group-a', 'sec-wang', '管理员 添加 @m-li');
    const [ask] = await h.say('group-a', 'm-li', '管理员 移除 @m-li');
    const ack = await h.click('group-a', 'm-li', ask!, 'org.admin.remove.confirm');
    expect(ack.toast?.text).toBe('已取消 李明 的书记权限。');
    await h.shuxiang.worker.drain();
    expect(await texts('dm-sec-wang')).toContain('李明 已确认不再担任书记。现在的书记：王书记。');
    expect(await texts('dm-m-li')).toEqual([]);
  });
});
