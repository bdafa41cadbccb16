import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand } from '../../src/bot/commands.ts';
import { defineFeature } from '../../src/bot/feature.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/** A command whose schema uses zod's own (English) messages, as a new feature might. */
function createPlainZodFeature() {
  const cmd = defineCommand({
    name: 'probe',
    zh: '探测',
    summaryKey: 'cmd.help.summary',
    usageKey: 'cmd.help.usage',
    scope: 'any',
    role: 'member',
    positionals: ['verb', 'count'],
    args: z.object({ verb: z.string(), count: z.coerce.number().int().min(1).optional() }),
    async run(ctx) {
      await ctx.reply('ok');
    },
  });
  return defineFeature({ name: 'probe', commands: [cmd] });
}

describe('the Chinese UI shows no English words', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ features: [createPlainZodFeature] });
  });
  afterEach(async () => {
    await h.close();
  });

  it('我是谁 names the platform in Chinese', async () => {
    const [reply] = await h.say('group-a', 'sec-wang', '我是谁');
    expect(reply!.text).toContain('平台：沙盒（测试页面）');
    expect(reply!.text).not.toMatch(/[A-Za-z]/);
  });

  it('a missing or wrong word is named in Chinese, not as "verb：Invalid input"', async () => {
    const [missing] = await h.say('group-a', 'm-li', '探测');
    expect(missing!.text).toMatch(/^命令格式不对：少写了必要的内容\n用法：/);
    const [wrong] = await h.say('group-a', 'm-li', '探测 看 十');
    expect(wrong!.text).toMatch(/^命令格式不对：「十」不符合要求\n用法：/);
    for (const text of [missing!.text!, wrong!.text!]) {
      expect(text.split('\n')[0]).not.toMatch(/verb|count|Invalid|expected/i);
    }
  });
});
