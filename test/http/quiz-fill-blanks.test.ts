import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providers, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import { advance, latestCards, rawClick, QUIZ_ENV } from '../helpers/quiz-fixtures.ts';
import { csvFile, sayWithFile } from '../helpers/sandbox-files.ts';

const G = 'group-a';

function formOn(card: TranscriptMessage) {
  const form = card.card!.elements.find((e) => e.type === 'form');
  if (form?.type !== 'form') throw new Error('no form on the card');
  return form;
}

describe.each(providers)('a fill-in question with two blanks on $name', (provider) => {
  let h: Harness;
  let database: TestDatabase;
  beforeEach(async () => {
    database = await provider.create();
    h = await createHarness({ database, env: QUIZ_ENV });
  });
  afterEach(async () => {
    await h.close();
    await database.drop();
  });

  it('is imported as two blanks, answered blank by blank, and half an answer scores nothing', async () => {
    const [imported] = await sayWithFile(
      h,
      G,
      'sec-wang',
      '题库 导入',
      csvFile('bank.csv', [
        ['题型', '题干', '答案', '标签'],
        ['填空', '学习党史要做到____、____。', '全面的|全面；系统的', '两空'],
      ]),
    );
    expect(imported!.text).toBe('已从「bank.csv」导入 1 道题，题库现有 1 道题。');

    const [card] = await h.say(G, 'sec-wang', '出题 1 两空');
    const form = formOn(card!);
    expect(form.inputs.map((i) => i.label)).toEqual(['第1空', '第2空']);
    expect(JSON.stringify(card!.card)).toContain('本题有 2 个空');

    // 李明 fills both blanks (the first with its second accepted answer).
    const li = await rawClick(h, G, 'm-li', card!, form.actionId, form.payload, { c1: '全面', c2: '系统的' });
    expect(li.toast?.text).toContain('已记录您的答案');
    // 陈静 leaves the second blank empty: asked again, nothing recorded.
    const chen = await rawClick(h, G, 'm-chen', card!, form.actionId, form.payload, { c1: '全面的', c2: '' });
    expect(chen.toast?.text).toContain('本题有 2 个空，请每空都填写');
    // 张华 types only the first blank: asked again; then a full answer with the second blank wrong.
    const [half] = await h.say(G, 'm-zhang', '答 全面的');
    expect(half!.text).toContain('本题有 2 个空，请每空都填写');
    await h.say(G, 'm-zhang', '答 全面的；深入的');

    await advance(h, 21_000);
    const revealed = (await h.transcript(G)).find((m) => m.messageId === card!.messageId)!;
    const text = JSON.stringify(revealed.card);
    expect(text).toContain('正确答案：全面的 / 全面；系统的');
    expect(text).toMatch(/李明（\+\d+）/);
    expect(text).not.toContain('张华（+');
    expect(text).not.toContain('陈静（+');
    const podium = (await latestCards(h, G)).find((m) => m.card!.header.title.includes('最终排名'))!;
    expect(JSON.stringify(podium.card)).toContain('🥇 **李明**');
    expect(JSON.stringify(podium.card)).not.toContain('🥈');
  });
});
