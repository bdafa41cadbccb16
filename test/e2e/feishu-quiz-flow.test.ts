import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAction } from '../../src/bot/actions.ts';
import { defineCommand } from '../../src/bot/commands.ts';
import { UserError } from '../../src/bot/errors.ts';
import { loadConfig } from '../../src/config.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createShuxiang, type Shuxiang } from '../../src/main.ts';
import type { Card } from '../../src/platforms/types.ts';
import { createSqliteTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startFakeFeishu, type FakeFeishu } from '../helpers/fake-feishu.ts';
import { createFeishuPusher, type Push } from '../helpers/fake-feishu-push.ts';
import {
  APP_ID,
  APP_SECRET,
  BOT,
  CHAT,
  ENCRYPT_KEY,
  PEOPLE,
  VERIFICATION_TOKEN,
} from '../helpers/fake-feishu-setup.ts';

/**
 * The whole bot as deployed: createShuxiang listening on a loopback port,
 * its real Feishu SDK pointed at the fake OpenAPI, pushes encrypted and
 * signed as Feishu does, the outbox worker running on the system clock.
 * A quiz-like feature (question card, answer buttons, the card updated for
 * everyone) stands in for the quiz feature built elsewhere.
 */
function createQuizLikeFeature() {
  const answered = new Map<string, string>(); // memberId -> option (a stand-in for the quiz's unique key)
  const question = (reveal?: string): Card => ({
    header: { title: '练习题', colour: reveal ? 'grey' : 'blue' },
    elements: [
      { type: 'markdown', text: '党的二十大于哪一年召开？' },
      reveal
        ? { type: 'markdown', text: reveal }
        : {
            type: 'buttons',
            buttons: [
              { text: 'A. 2021', style: 'default', actionId: 'e2e.answer', payload: { v: 1, q: 'q1', o: 'A' } },
              { text: 'B. 2022', style: 'default', actionId: 'e2e.answer', payload: { v: 1, q: 'q1', o: 'B' } },
            ],
          },
    ],
  });
  const ask = defineCommand({
    name: 'practice',
    zh: '练习',
    summaryKey: 'cmd.help.summary',
    usageKey: 'cmd.help.usage',
    scope: 'any',
    role: 'member',
    async run(ctx) {
      await ctx.replyCard(question());
    },
  });
  const answer = defineAction({
    id: 'e2e.answer',
    payload: z.object({ v: z.literal(1), q: z.string(), o: z.enum(['A', 'B']) }),
    async run(ctx, p) {
      if (answered.has(ctx.identity.memberId)) throw new UserError('error.action.unknown');
      answered.set(ctx.identity.memberId, p.o);
      await ctx.updateCard(question(`${ctx.identity.displayName} 已作答，正确答案：B`));
      return { toast: { kind: p.o === 'B' ? 'success' : 'error', text: p.o === 'B' ? '回答正确' : '回答错误' } };
    },
  });
  return { name: 'quiz-like', commands: [ask], actions: [answer] };
}

describe('e2e: a quiz-like flow in a Feishu group, over real HTTP', () => {
  let fake: FakeFeishu;
  let database: TestDatabase;
  let shuxiang: Shuxiang;
  let server: ServerType;
  let base: string;
  const pusher = createFeishuPusher({ appId: APP_ID, encryptKey: ENCRYPT_KEY, verificationToken: VERIFICATION_TOKEN });

  beforeAll(async () => {
    fake = await startFakeFeishu({ appId: APP_ID, appSecret: APP_SECRET, botOpenId: BOT });
    fake.addChat({ chat_id: CHAT, name: '第一党支部学习群', members: Object.values(PEOPLE) });
    database = await createSqliteTestDatabase();
    const config = loadConfig({
      DATABASE_URL: database.url,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      SHUXIANG_SANDBOX: 'off',
      FEISHU_APP_ID: APP_ID,
      FEISHU_APP_SECRET: APP_SECRET,
      FEISHU_ENCRYPT_KEY: ENCRYPT_KEY,
      FEISHU_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
      FEISHU_DOMAIN: fake.url,
    });
    shuxiang = await createShuxiang(config, {
      log: createSilentLogger(),
      features: [() => createQuizLikeFeature()],
      worker: { pollMs: 50 },
    });
    shuxiang.start();
    server = await new Promise((resolve) => {
      const s = serve({ fetch: shuxiang.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await shuxiang.stop();
    await fake.close();
    await database.drop();
  });

  const post = (push: Push) =>
    fetch(`${base}/feishu/webhook`, { method: 'POST', headers: push.headers, body: push.body });

  /** Waits (bounded) until the fake OpenAPI has seen what we expect; not a speed assertion. */
  async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
    for (let i = 0; i < 200; i++) {
      const v = probe();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  const cardsIn = (title: string) =>
    fake.sent({ chat_id: CHAT, msg_type: 'interactive' }).filter((m) => m.content.includes(title));

  function callbackValue(content: string, buttonText: string): unknown {
    const found = JSON.stringify(JSON.parse(content)).match(
      new RegExp(`"content":"${buttonText.replace('.', '\\.')}"[^]*?"value":(\\{"a":[^}]*\\},"s":"[^"]+"\\})`),
    );
    if (!found) throw new Error(`no button ${buttonText}`);
    return JSON.parse(found[1]!);
  }

  it('help: the member @-mentions the bot, the command card reaches the chat, its button answers with a toast', async () => {
    const res = await post(
      pusher.push(pusher.textMessage({ senderOpenId: PEOPLE.li.open_id, chatId: CHAT, text: '帮助', botOpenId: BOT })),
    );
    expect(res.status).toBe(200);
    const help = await until(() => cardsIn('书香 · 命令列表')[0], 'the help card');
    const click = await post(
      pusher.push(
        pusher.cardClick({
          operatorOpenId: PEOPLE.li.open_id,
          messageId: help.message_id,
          chatId: CHAT,
          value: callbackValue(help.content, '我的身份'),
        }),
      ),
    );
    const ack = (await click.json()) as { toast: { content: string } };
    expect(ack.toast.content).toContain('李明，您好');
  });

  it('quiz-like: a question card, a button clicked by a member, the card updated for everyone via PATCH', async () => {
    await post(
      pusher.push(
        pusher.textMessage({ senderOpenId: PEOPLE.zhang.open_id, chatId: CHAT, text: '练习', botOpenId: BOT }),
      ),
    );
    const q = await until(() => cardsIn('练习题')[0], 'the question card');
    const original = q.content; // the fake replaces it on update, as Feishu does
    const cardToken = fake.issueCardToken(q.message_id);
    const res = await post(
      pusher.push(
        pusher.cardClick({
          operatorOpenId: PEOPLE.zhang.open_id,
          messageId: q.message_id,
          chatId: CHAT,
          value: callbackValue(original, 'B. 2022'),
          cardToken,
        }),
      ),
    );
    expect(await res.json()).toEqual({ toast: { type: 'success', content: '回答正确' } });
    await until(() => (fake.messages.get(q.message_id)!.patches > 0 ? true : undefined), 'the card update');
    const updated = fake.messages.get(q.message_id)!.content;
    expect(updated).toContain('张华 已作答，正确答案：B');
    expect(updated).not.toContain('A. 2021');
    const patch = fake.requests.find((r) => r.method === 'PATCH' && r.path.endsWith(q.message_id));
    expect(patch?.authorization).toMatch(/^Bearer t-/);

    // The same member clicking again (a new event) is refused politely; the card is not touched again.
    const again = await post(
      pusher.push(
        pusher.cardClick({
          operatorOpenId: PEOPLE.zhang.open_id,
          messageId: q.message_id,
          chatId: CHAT,
          value: callbackValue(original, 'A. 2021'),
        }),
      ),
    );
    expect(((await again.json()) as { toast: { type: string } }).toast.type).toBe('warning');
    expect(fake.messages.get(q.message_id)!.patches).toBe(1);
  });
});
