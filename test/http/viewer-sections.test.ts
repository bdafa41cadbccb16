import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAction } from '../../src/bot/actions.ts';
import type { Feature } from '../../src/bot/bot.ts';
import { defineCommand } from '../../src/bot/commands.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createDingTalkApi } from '../../src/platforms/dingtalk/api-client.ts';
import { createDingTalkMessenger } from '../../src/platforms/dingtalk/messenger.ts';
import { createParamSigner } from '../../src/platforms/dingtalk/render-card.ts';
import { cardSchema, type Card, type CardInput } from '../../src/platforms/types.ts';
import { startFakeDingTalkApi, type FakeDingTalkApi } from '../helpers/fake-dingtalk-api.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/** A sign-in card: the counter for everyone, "你已签到 <time>" for those who did, a button for the rest. */
function signInCard(signed: Map<string, string>): Card {
  const input: CardInput = {
    header: { title: '读书会签到' },
    elements: [
      { type: 'markdown', text: `已签到：${signed.size} 人` },
      {
        type: 'viewer',
        key: 'me',
        default: [{ type: 'buttons', buttons: [{ text: '签到', actionId: 'test.checkin', payload: { v: 1 } }] }],
        byUser: Object.fromEntries([...signed].map(([u, at]) => [u, [{ type: 'markdown', text: `你已签到 ${at}` }]])),
      },
    ],
  };
  return cardSchema.parse(input);
}

function signInFeature(): Feature {
  const signed = new Map<string, string>();
  return {
    name: 'sign-in-probe',
    commands: [
      defineCommand({
        name: 'signin',
        zh: '测试签到',
        summaryKey: 'cmd.help.summary',
        usageKey: 'cmd.help.usage',
        scope: 'any',
        role: 'member',
        async run(ctx) {
          await ctx.replyCard(signInCard(signed));
        },
      }),
    ],
    actions: [
      defineAction({
        id: 'test.checkin',
        payload: z.object({ v: z.literal(1) }),
        async run(ctx) {
          signed.set(ctx.event.sender.id, `0${signed.size + 9}:02`);
          await ctx.updateCard(signInCard(signed));
          return { toast: { kind: 'success', text: '签到成功' } };
        },
      }),
    ],
  };
}

describe('a card with a section per viewer in the sandbox', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('keeps the whole card in the transcript and shows each member their own section with ?viewer=', async () => {
    h = await createHarness({ features: [() => signInFeature()] });
    const [card] = await h.say('group-a', 'm-li', '测试签到');
    expect(card?.card).toBeDefined();
    const ack = await h.click('group-a', 'm-li', card!, 'test.checkin');
    expect(ack.toast?.text).toBe('签到成功');

    const read = async (viewer?: string) => {
      const q = viewer ? `&viewer=${viewer}` : '';
      const res = await h!.shuxiang.app.request(`/sandbox/api/chats/group-a/messages?after=0&html=1${q}`);
      const list = (await res.json()) as { messageId: string; card?: Card; html?: string }[];
      return list.find((m) => m.messageId === card!.messageId)!;
    };
    const li = await read('m-li');
    expect(JSON.stringify(li.card)).toContain('你已签到 09:02');
    expect(JSON.stringify(li.card)).not.toContain('test.checkin');
    expect(li.card!.elements.some((e) => e.type === 'viewer')).toBe(false);
    expect(li.html).toContain('你已签到 09:02');

    const zhang = await read('m-zhang');
    expect(JSON.stringify(zhang.card)).toContain('test.checkin');
    expect(JSON.stringify(zhang.card)).not.toContain('你已签到');
    expect(zhang.card!.elements[0]).toEqual({ type: 'markdown', text: '已签到：1 人' });

    // Without a viewer: the card as stored, every member's section in it.
    const stored = await read();
    const section = stored.card!.elements.find((e) => e.type === 'viewer');
    expect(section).toMatchObject({ key: 'me', byUser: { 'm-li': [{ type: 'markdown', text: '你已签到 09:02' }] } });

    // A member cannot click what their own section does not show.
    const res = await h.shuxiang.app.request('/sandbox/api/actions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        chatId: 'group-a',
        userId: 'm-li',
        messageId: card!.messageId,
        actionId: 'test.checkin',
        payload: { v: 1 },
      }),
    });
    expect(res.status).toBe(400);
  });
});

describe('a card with a section per viewer on DingTalk', () => {
  let fake: FakeDingTalkApi | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it('sends each member their section as private data: one create and one update call for the whole group', async () => {
    fake = await startFakeDingTalkApi({ clientId: 'id', clientSecret: 'secret', robotCode: 'id', templates: ['tpl'] });
    const clock = createManualClock('2026-03-02T01:00:00Z');
    const log = createSilentLogger();
    const api = createDingTalkApi({ apiBase: fake.url, clientId: 'id', clientSecret: 'secret', clock, log });
    const messenger = createDingTalkMessenger({
      api,
      clock,
      log,
      robotCode: 'id',
      cardTemplateId: 'tpl',
      callbackType: 'STREAM',
      callbackRouteKey: 'shuxiang',
      signer: createParamSigner('secret'),
    });
    const target = { kind: 'chat' as const, id: 'cid-group' };
    const outTrackId = 'c0ffee00-0000-4000-8000-000000000000';
    const signed = new Map([['m-li', '09:02']]);
    const ref = await messenger.sendCard(target, signInCard(signed), { idempotencyKey: outTrackId });
    expect(fake.viewAs(outTrackId, 'm-li')).toMatchObject({ hasMySection: 'true', mySection: '你已签到 09:02' });
    expect(fake.viewAs(outTrackId, 'm-zhang')!.hasMySection).toBeUndefined();
    expect(JSON.parse(fake.viewAs(outTrackId, 'm-zhang')!.sectionButtons!)).toHaveLength(1);

    signed.set('m-zhang', '09:05 <b>"x"</b>');
    await messenger.updateCard({ ...ref, target }, signInCard(signed), { idempotencyKey: 'u1' });
    expect(fake.viewAs(outTrackId, 'm-zhang')).toMatchObject({
      hasMySection: 'true',
      // Member text reaches DingTalk's markdown with no tag left in it.
      mySection: '你已签到 09:05 &lt;b>"x"&lt;/b>',
      body1: '已签到：2 人',
    });
    expect(fake.viewAs(outTrackId, 'm-chen')!.hasMySection).toBeUndefined();
    const cardCalls = fake.calls.filter((c) => c.path.startsWith('/v1.0/card/'));
    expect(cardCalls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /v1.0/card/instances/createAndDeliver',
      'PUT /v1.0/card/instances',
    ]);
  });
});
