import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { listen } from '../helpers/serve.ts';

describe('uploading a question bank through the sandbox page', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof listen>>;
  let browser: Browser;

  beforeAll(async () => {
    h = await createHarness();
    server = await listen(h.shuxiang.app);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await h?.close();
  });

  it('attaches a CSV with 📎, sends 题库 导入, and shows the import and the attachment', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/sandbox`);
    await page.selectOption('#chat', 'group-a');
    await page.selectOption('#user', 'sec-wang');

    const csv =
      '题型,题干,选项A,选项B,答案,标签\n单选,浏览器上传的题,甲,乙,B,浏览器\n判断,浏览器上传的判断题,,,对,浏览器\n';
    await page.setInputFiles('#file', { name: '浏览器题库.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    expect(await page.locator('#attached').textContent()).toContain('浏览器题库.csv');
    await page.fill('#text', '题库 导入');
    await page.press('#text', 'Enter');

    await page.locator('.msg.bot', { hasText: '已从「浏览器题库.csv」导入 2 道题' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('.msg.user').last().textContent()).toContain('📎 浏览器题库.csv');
    // The attachment is cleared after sending.
    expect(await page.locator('#attached').textContent()).toBe('');

    await page.fill('#text', '题库');
    await page.press('#text', 'Enter');
    const card = page.locator('.card').filter({ hasText: '题库概况' });
    await card.waitFor({ timeout: 10_000 });
    expect(await card.textContent()).toContain('浏览器');
    expect(errors).toEqual([]);
  });
});
