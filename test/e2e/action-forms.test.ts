/* eslint-disable @typescript-eslint/no-explicit-any -- Feishu card JSON is walked freely here */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAction } from '../../src/bot/actions.ts';
import { defineCommand } from '../../src/bot/commands.ts';
import { defineFeature } from '../../src/bot/feature.ts';
import { createDingTalkHarness } from '../helpers/fake-dingtalk-harness.ts';
import { CHAT, PEOPLE, BOT, startFeishuBot } from '../helpers/fake-feishu-setup.ts';
import { createHarness } from '../helpers/harness.ts';

/**
 * ActionSpec.form on each platform: what a member types into a card form
 * reaches the handler only after the action's schema accepted it, whichever
 * way the platform delivers it (Feishu form_value with per-card field names,
 * DingTalk's typed card command, the sandbox's formValues).
 */
const seen: { note: string; by: string }[] = [];

function createNoteFeature() {
  const noteCard = defineCommand({
    name: 'notecard',
    zh: '心得卡',
    summaryKey: 'cmd.help.summary',
    usageKey: 'cmd.help.usage',
    scope: 'any',
    role: 'member',
    async run(ctx) {
      await ctx.replyCard({
        header: { title: '交心得', colour: 'blue' },
        elements: [
          {
            type: 'form',
            inputs: [{ name: 'note', label: '心得', multiline: false }],
            submitText: '提交心得',
            actionId: 'notes.submit',
            payload: { v: 1 },
          },
        ],
      });
    },
  });
  const submit = defineAction({
    id: 'notes.submit',
    payload: z.object({ v: z.literal(1) }),
    form: z.object({ note: z.string().trim().min(4, { message: 'form.too_short' }) }),
    async run(ctx, _p, form) {
      seen.push({ note: form.note, by: ctx.identity.displayName });
      return { toast: { kind: 'success', text: `已收到：${form.note}` } };
    },
  });
  return defineFeature({ name: 'notes', commands: [noteCard], actions: [submit] });
}

describe('form schemas on card actions', () => {
  it('sandbox: refuses a too-short note with the catalogue text, accepts a good one', async () => {
    seen.length = 0;
    const h = await createHarness({ features: [createNoteFeature] });
    try {
      const [card] = await h.say('group-a', 'm-li', '心得卡');
      const short = await h.click('group-a', 'm-li', card!, 'notes.submit', { note: '好' });
      expect(short.toast).toEqual({ kind: 'warning', text: '填写的内容不对：内容太短了，请多写几个字' });
      expect(seen).toEqual([]);
      const ok = await h.click('group-a', 'm-li', card!, 'notes.submit', { note: ' 读了第一章，很有收获 ' });
      expect(ok.toast?.text).toBe('已收到：读了第一章，很有收获');
      expect(seen).toEqual([{ note: '读了第一章，很有收获', by: '李明' }]);
    } finally {
      await h.close();
    }
  });

  it('Feishu: form_value under the per-card field name is validated before the handler', async () => {
    seen.length = 0;
    const bot = await startFeishuBot({ features: [createNoteFeature] });
    try {
      await bot.post(
        bot.pusher.push(
          bot.pusher.textMessage({ senderOpenId: PEOPLE.li.open_id, chatId: CHAT, text: '心得卡', botOpenId: BOT }),
        ),
      );
      await bot.settle();
      const sent = bot.fake.sent({ chat_id: CHAT, msg_type: 'interactive' }).find((m) => m.content.includes('交心得'))!;
      let value: unknown;
      let field: string | undefined;
      const walk = (node: any, form?: any): void => {
        if (Array.isArray(node)) return node.forEach((n) => walk(n, form));
        if (!node || typeof node !== 'object') return;
        if (node.tag === 'form') return walk(node.elements, node);
        if (node.tag === 'button' && form) {
          value = node.behaviors?.find((b: any) => b.type === 'callback')?.value;
          field = form.elements.find((e: any) => e.tag !== 'button')?.name;
        }
        for (const v of Object.values(node)) if (typeof v === 'object') walk(v, form);
      };
      walk(JSON.parse(sent.content));
      expect(field).toBeDefined();
      const submit = async (note: string) => {
        const res = await bot.post(
          bot.pusher.push(
            bot.pusher.cardClick({
              operatorOpenId: PEOPLE.li.open_id,
              messageId: sent.message_id,
              chatId: CHAT,
              value,
              formValue: { [field!]: note },
            }),
          ),
        );
        return (await res.json()) as { toast: { type: string; content: string } };
      };
      expect((await submit('好')).toast).toEqual({
        type: 'warning',
        content: '填写的内容不对：内容太短了，请多写几个字',
      });
      expect(seen).toEqual([]);
      expect((await submit('读了第一章，很有收获')).toast.type).toBe('success');
      expect(seen.map((s) => s.note)).toEqual(['读了第一章，很有收获']);
    } finally {
      await bot.close();
    }
  });

  it('DingTalk: the typed card command carries the form, validated before the handler', async () => {
    seen.length = 0;
    const h = await createDingTalkHarness({ mode: 'webhook', template: false, features: [createNoteFeature] });
    try {
      await h.postRobot(h.robotMessage({ text: '心得卡', userId: 'm-li' }));
      await h.settle();
      const last = () => h.api.webhookMessages[h.api.webhookMessages.length - 1]!.body as any;
      const command = /(按 [0-9a-f]{4} 1)/.exec(last().markdown.text as string)![1]!;
      await h.postRobot(h.robotMessage({ text: `${command} 好`, userId: 'm-li' }));
      await h.settle();
      expect(last().text.content).toContain('填写的内容不对：内容太短了，请多写几个字');
      expect(seen).toEqual([]);
      await h.postRobot(h.robotMessage({ text: `${command} 读了第一章很有收获`, userId: 'm-li' }));
      await h.settle();
      expect(last().text.content).toContain('已收到：读了第一章很有收获');
      expect(seen.map((s) => s.note)).toEqual(['读了第一章很有收获']);
    } finally {
      await h.close();
    }
  });
});
