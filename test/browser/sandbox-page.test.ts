import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { listen } from '../helpers/serve.ts';

describe('the sandbox page in a real browser', () => {
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

  it('sends help as a member, shows the command card, and a click answers with a toast', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/sandbox`);

    await page.selectOption('#chat', 'group-a');
    await page.selectOption('#user', 'm-zhang');
    await page.fill('#text', 'help');
    await page.press('#text', 'Enter');

    const card = page.locator('.card').filter({ hasText: '书香 · 命令列表' });
    await card.waitFor({ timeout: 10_000 });
    expect(await card.textContent()).toContain('管理员');
    expect(await page.locator('.msg.user').last().textContent()).toContain('张华');

    await card.getByRole('button', { name: '我的身份' }).click();
    const toast = page.locator('#toast');
    await expect.poll(() => toast.textContent(), { timeout: 10_000 }).toContain('张华');
    expect(await toast.textContent()).toContain('学习科');
    expect(errors).toEqual([]);
  });

  it('shows a member the polite refusal for a secretary command', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/sandbox`);
    await page.selectOption('#chat', 'group-b');
    await page.selectOption('#user', 'm-chen');
    await page.fill('#text', '管理员 添加 @张华');
    await page.press('#text', 'Enter');
    await page.locator('.msg.bot', { hasText: '需要「书记」权限' }).waitFor({ timeout: 10_000 });
  });
});
