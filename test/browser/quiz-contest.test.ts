import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import {
  advance,
  correctChoice,
  questionOn,
  QUIZ_ENV,
  SAMPLE,
  seedQuestions,
  wrongChoice,
} from '../helpers/quiz-fixtures.ts';
import { listen } from '../helpers/serve.ts';

describe('a live contest in the sandbox page, in a real browser', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof listen>>;
  let browser: Browser;

  beforeAll(async () => {
    h = await createHarness({ env: QUIZ_ENV });
    // Only questions answered with a button: a fill-in question is answered by typing, and the
    // contest picks at random, so a mixed tag made this test hang one run in five.
    await seedQuestions(
      h.shuxiang.db.prisma,
      SAMPLE.filter((q) => q.type === 'single' && q.tags?.includes('党史')),
    );
    server = await listen(h.shuxiang.app);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await h?.close();
  });

  async function as(page: Page, userId: string) {
    await page.selectOption('#user', userId);
  }

  it('the secretary starts it, members click options, the card reveals the answer, a podium follows', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/sandbox`);
    await page.selectOption('#chat', 'group-a');

    await as(page, 'sec-wang');
    await page.fill('#text', '出题 1 党史');
    await page.press('#text', 'Enter');
    const card = page.locator('.card').filter({ hasText: '知识抢答赛' }).first();
    await card.waitFor({ timeout: 10_000 });

    // Which question came up decides which button is right.
    const [question] = (await h.transcript('group-a')).filter((m) => m.card?.header.title.includes('第1/1题'));
    const q = questionOn(question!);

    await as(page, 'm-li');
    await card.getByRole('button', { name: correctChoice(q), exact: true }).click();
    await expect.poll(() => page.locator('#toast').textContent(), { timeout: 10_000 }).toContain('已记录您的答案');

    await as(page, 'm-zhang');
    await page.locator('#toast').evaluate((el) => (el.textContent = ''));
    await card.getByRole('button', { name: wrongChoice(q), exact: true }).click();
    await expect.poll(() => page.locator('#toast').textContent(), { timeout: 10_000 }).toContain('已记录您的答案');

    // Time runs out on the server; the page's poll picks up the revealed card and the podium.
    await advance(h, 21_000);
    await expect.poll(() => card.textContent(), { timeout: 10_000 }).toContain('正确答案');
    expect(await card.textContent()).toContain('李明');
    expect(await card.locator('button').count()).toBe(0);
    const podium = page.locator('.card').filter({ hasText: '最终排名' });
    await podium.waitFor({ timeout: 10_000 });
    expect(await podium.textContent()).toContain('李明');
    expect(errors).toEqual([]);
  });
});
