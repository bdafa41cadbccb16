import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { QUIZ_ENV, SAMPLE, seedQuestions } from '../helpers/quiz-fixtures.ts';
import { listen } from '../helpers/serve.ts';

/** How far anything on the page reaches past the right edge of the window (0 when nothing does). */
async function overflow(page: Page): Promise<{ page: number; offenders: string[] }> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const offenders: string[] = [];
    for (const el of document.querySelectorAll('header, main *, footer *')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > width + 1)
        offenders.push(`${el.tagName}.${el.className} right=${Math.round(r.right)}`);
    }
    return { page: document.documentElement.scrollWidth - width, offenders: offenders.slice(0, 10) };
  });
}

describe('the sandbox page on a phone (390 px wide)', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof listen>>;
  let browser: Browser;

  beforeAll(async () => {
    h = await createHarness({ env: QUIZ_ENV });
    await seedQuestions(h.shuxiang.db.prisma, SAMPLE);
    server = await listen(h.shuxiang.app);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await h?.close();
  });

  it('fits cards, tables, forms and the composer inside the screen', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    await page.goto(`${server.url}/sandbox`);
    await page.selectOption('#chat', 'group-a');
    await page.selectOption('#user', 'sec-wang');
    for (const text of ['帮助', '题库', '出题 1 党建']) {
      await page.fill('#text', text);
      await page.press('#text', 'Enter');
      await page.locator('.msg.bot').last().waitFor({ timeout: 10_000 });
    }
    for (const title of ['书香 · 命令列表', '题库概况', '第1/1题']) {
      await page.locator('.card-header').filter({ hasText: title }).waitFor({ timeout: 10_000 });
    }
    if (process.env.SANDBOX_SCREENSHOT) await page.screenshot({ path: process.env.SANDBOX_SCREENSHOT, fullPage: true });
    expect(await overflow(page)).toEqual({ page: 0, offenders: [] });
    // The send button is on screen and usable.
    const send = await page.getByRole('button', { name: '发送' }).boundingBox();
    expect(send!.x + send!.width).toBeLessThanOrEqual(390);
  });

  it("says in Chinese when the API refuses a click, not in the API's English", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${server.url}/sandbox`);
    await page.selectOption('#chat', 'group-a');
    await page.selectOption('#user', 'm-li');
    await page.fill('#text', '帮助');
    const before = await page.locator('.card').count();
    await page.press('#text', 'Enter');
    await expect.poll(() => page.locator('.card').count(), { timeout: 10_000 }).toBeGreaterThan(before);
    const button = page.locator('.card').last().getByRole('button', { name: '我的身份' });
    // A button the card does not have (as when a card changed under a stale page): the API answers 400.
    await button.evaluate((el) => el.setAttribute('data-action-id', 'org.nothing'));
    await button.click();
    const toast = page.locator('#toast');
    await expect.poll(() => toast.textContent(), { timeout: 10_000 }).toContain('这个操作无效');
    expect(await toast.textContent()).not.toMatch(/[A-Za-z]/);
  });
});
