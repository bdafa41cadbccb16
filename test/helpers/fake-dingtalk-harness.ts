import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defineAction } from '../../src/bot/actions.ts';
import type { Feature } from '../../src/bot/bot.ts';
import { defineCommand } from '../../src/bot/commands.ts';
import { loadConfig } from '../../src/config.ts';
import { createManualClock, type ManualClock } from '../../src/lib/clock.ts';
import { createSilentLogger, type Logger } from '../../src/lib/logger.ts';
import { createShuxiang, type Shuxiang } from '../../src/main.ts';
import type { FeatureFactory } from '../../src/bot/feature.ts';
import { cardCallbackSignature, robotSignature } from '../../src/platforms/dingtalk/verify.ts';
import { cardSchema, type CardInput } from '../../src/platforms/types.ts';
import { createSqliteTestDatabase, type TestDatabase } from './databases.ts';
import { startFakeDingTalkApi, type FakeCard, type FakeDingTalkApi } from './fake-dingtalk-api.ts';
import { startFakeGateway, type FakeGateway } from './fake-dingtalk-gateway.ts';

export const CLIENT_ID = 'ding-client-id';
export const CLIENT_SECRET = 'ding-client-secret-0123456789';
export const ROBOT_CODE = 'ding-robot';
export const TEMPLATE_ID = 'a1b2c3d4-0000-4000-8000-000000000001.schema';
export const CORP_ID = 'ding-corp-0001';
export const GROUP = 'cidGroupA0001';
export const BOT_ID = '$:LWCP_v1:$bot0001';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/dingtalk/${name}.json`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;

/**
 * A quiz-like test feature: `dtquiz` posts a question card; clicking an
 * option answers once per member (the toast), and the card is updated for
 * everyone with the number of answers.
 */
export function createQuizLikeFeature(): Feature & { answers: Map<string, string>; releaseSlow(): void } {
  const answers = new Map<string, string>();
  let releaseSlow = () => {};
  const slowGate = new Promise<void>((resolve) => {
    releaseSlow = resolve;
  });
  const questionCard = (count: number): CardInput => ({
    header: { title: '每日一题', colour: 'blue' },
    elements: [
      { type: 'markdown', text: '中国共产党第一次全国代表大会在哪里召开？' },
      { type: 'fields', fields: [{ label: '已作答', value: `${count} 人` }] },
      {
        type: 'buttons',
        buttons: [
          { text: 'A 上海', actionId: 'dtquiz.answer', payload: { v: 1, q: 'q1', o: 'A' } },
          { text: 'B 北京', actionId: 'dtquiz.answer', payload: { v: 1, q: 'q1', o: 'B' } },
          { text: '慢慢想', actionId: 'dtquiz.slow', payload: { v: 1 } },
        ],
      },
      {
        type: 'choice',
        name: 'picks',
        multiple: true,
        options: [
          { value: 'A', text: '学习' },
          { value: 'B', text: '讨论' },
          { value: 'C', text: '实践' },
        ],
        submitText: '多选提交',
        actionId: 'dtquiz.multi',
        payload: { v: 1 },
      },
    ],
  });
  const quiz = defineCommand({
    name: 'dtquiz',
    zh: '钉钉测验',
    summaryKey: 'cmd.help.summary',
    usageKey: 'cmd.help.usage',
    scope: 'any',
    role: 'member',
    async run(ctx) {
      await ctx.replyCard(cardSchema.parse(questionCard(answers.size)));
    },
  });
  const answer = defineAction({
    id: 'dtquiz.answer',
    payload: z.object({ v: z.literal(1), q: z.literal('q1'), o: z.enum(['A', 'B']) }),
    async run(ctx, payload) {
      const who = ctx.event.sender.id;
      if (answers.has(who)) return { toast: { kind: 'warning', text: `你已经答过了（${answers.get(who)}）` } };
      answers.set(who, payload.o);
      await ctx.updateCard(cardSchema.parse(questionCard(answers.size)));
      return {
        toast:
          payload.o === 'A'
            ? { kind: 'success', text: '回答正确！' }
            : { kind: 'error', text: '回答错误，正确答案是 A' },
      };
    },
  });
  // An action that answers only when the test lets it, to miss the 2 s callback deadline on purpose.
  const slow = defineAction({
    id: 'dtquiz.slow',
    payload: z.object({ v: z.literal(1) }),
    async run() {
      await slowGate;
      return { toast: { kind: 'info', text: '想好了' } };
    },
  });
  const multi = defineAction({
    id: 'dtquiz.multi',
    payload: z.object({ v: z.literal(1) }),
    async run(ctx) {
      const picks = z.array(z.string()).parse(ctx.event.formValues?.picks);
      return { toast: { kind: 'success', text: `你选了 ${picks.join('、')}` } };
    },
  });
  return {
    name: 'dt-quiz',
    commands: [quiz],
    actions: [answer, slow, multi],
    answers,
    releaseSlow: () => releaseSlow(),
  };
}

export interface DingTalkHarness {
  sx: Shuxiang;
  api: FakeDingTalkApi;
  gateway?: FakeGateway;
  clock: ManualClock;
  database: TestDatabase;
  quiz: ReturnType<typeof createQuizLikeFeature>;
  /** A robot message as DingTalk sends it (fixture-based). */
  robotMessage(opts: {
    text: string;
    userId?: string;
    nick?: string;
    group?: string | null;
    msgId?: string;
    atUsers?: { dingtalkId: string; staffId?: string }[];
    sessionTtlMs?: number;
  }): Record<string, unknown>;
  /** A card click as DingTalk sends it; `params` default to those of the button with `text`. */
  cardClick(
    card: FakeCard,
    opts: { userId: string; buttonText?: string; params?: Record<string, unknown> },
  ): Record<string, unknown>;
  /** HTTP mode: posts a signed robot message. */
  postRobot(body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** HTTP mode: posts a signed card callback. */
  postCard(body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Waits for inbound work and delivers the outbox. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function createDingTalkHarness(
  options: {
    cardAckBudgetMs?: number;
    mode?: 'stream' | 'webhook';
    template?: boolean;
    env?: Record<string, string>;
    log?: Logger;
    quota?: number;
    /** More feature families next to the quiz-like one. */
    features?: FeatureFactory[];
  } = {},
): Promise<DingTalkHarness> {
  const mode = options.mode ?? 'stream';
  const clock = createManualClock(new Date());
  const api = await startFakeDingTalkApi({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    robotCode: ROBOT_CODE,
    templates: [TEMPLATE_ID],
    quota: options.quota,
    now: () => clock.now().getTime(),
  });
  const gateway =
    mode === 'stream' ? await startFakeGateway({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }) : undefined;
  const database = await createSqliteTestDatabase();
  const config = loadConfig({
    DATABASE_URL: database.url,
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    SHUXIANG_SANDBOX: 'off',
    SHUXIANG_ADMINS: 'dingtalk:sec-wang',
    DINGTALK_CLIENT_ID: CLIENT_ID,
    DINGTALK_CLIENT_SECRET: CLIENT_SECRET,
    DINGTALK_ROBOT_CODE: ROBOT_CODE,
    DINGTALK_MODE: mode,
    DINGTALK_API_BASE: api.url,
    ...(gateway ? { DINGTALK_STREAM_GATEWAY: gateway.gatewayUrl } : {}),
    ...(options.template === false ? {} : { DINGTALK_CARD_TEMPLATE_ID: TEMPLATE_ID }),
    ...options.env,
  });
  const quiz = createQuizLikeFeature();
  const sx = await createShuxiang(config, {
    clock,
    log: options.log ?? createSilentLogger(),
    features: [() => quiz, ...(options.features ?? [])],
    dingtalk: {
      webhookHosts: [api.host],
      stream: { backoff: { baseMs: 20, maxMs: 200 }, pingMs: 60_000 },
      cardAckBudgetMs: options.cardAckBudgetMs,
    },
  });
  if (gateway) {
    sx.dingtalk!.start();
    await gateway.waitForConnections(1);
  }

  function robotMessage(opts: Parameters<DingTalkHarness['robotMessage']>[0]): Record<string, unknown> {
    const base = fixture('robot-text-group');
    const group = opts.group === undefined ? GROUP : opts.group;
    const userId = opts.userId ?? 'm-li';
    const conversationId = group ?? `cidDirect-${userId}`;
    const session = api.openSession(conversationId, opts.sessionTtlMs);
    return {
      ...base,
      msgId: opts.msgId ?? `msg${randomUUID()}`,
      createAt: clock.now().getTime(),
      conversationId,
      conversationType: group ? '2' : '1',
      ...(group ? {} : { conversationTitle: undefined }),
      senderStaffId: userId,
      senderNick: opts.nick ?? { 'm-li': '李明', 'm-zhang': '张华', 'sec-wang': '王书记' }[userId] ?? userId,
      senderId: `$:LWCP_v1:$sender-${userId}`,
      atUsers: [{ dingtalkId: BOT_ID }, ...(opts.atUsers ?? [])],
      text: { content: ` ${opts.text}` },
      robotCode: ROBOT_CODE,
      ...session,
    };
  }

  function cardClick(card: FakeCard, opts: Parameters<DingTalkHarness['cardClick']>[1]): Record<string, unknown> {
    const buttons = JSON.parse(card.cardParamMap.buttons ?? '[]') as { text: string; d: string; s: string }[];
    const button = opts.buttonText ? buttons.find((b) => b.text === opts.buttonText) : buttons[0];
    if (!opts.params && !button) throw new Error(`no button ${opts.buttonText ?? ''} on card ${card.outTrackId}`);
    const params = opts.params ?? { d: button!.d, s: button!.s };
    return {
      ...fixture('card-callback'),
      outTrackId: card.outTrackId,
      userId: opts.userId,
      content: JSON.stringify({ cardPrivateData: { actionIds: ['button_1'], params } }),
    };
  }

  return {
    sx,
    api,
    gateway,
    clock,
    database,
    quiz,
    robotMessage,
    cardClick,
    async postRobot(body, headers) {
      // Each real request is signed at its own millisecond; signatures are single-use.
      clock.advance(1);
      const timestamp = String(clock.now().getTime());
      return sx.app.request('/dingtalk/webhook', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          timestamp,
          sign: robotSignature(timestamp, CLIENT_SECRET),
          ...headers,
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async postCard(body, headers) {
      clock.advance(1);
      const timestamp = String(clock.now().getTime());
      return sx.app.request('/dingtalk/card', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-ddpaas-signature-timestamp': timestamp,
          'x-ddpaas-signature': cardCallbackSignature(timestamp, CLIENT_SECRET),
          ...headers,
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async settle() {
      await sx.dingtalk!.settle();
      await sx.worker.drain(50);
      await sx.dingtalk!.settle();
    },
    async close() {
      await sx.stop();
      await gateway?.close();
      await api.close();
      await database.drop();
    },
  };
}
