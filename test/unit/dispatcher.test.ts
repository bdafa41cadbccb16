import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { FeatureDeps } from '../../src/bot/feature.ts';
import { createJobs } from '../../src/bot/jobs.ts';
import { createSendHub } from '../../src/bot/send.ts';
import { createBot, type Bot } from '../../src/bot/bot.ts';
import { defineAction } from '../../src/bot/actions.ts';
import { loadCardTemplates } from '../../src/bot/card-templates.ts';
import { defineCommand } from '../../src/bot/commands.ts';
import type { BotServices } from '../../src/bot/context.ts';
import { UserError } from '../../src/bot/errors.ts';
import { createMessages } from '../../src/bot/messages.ts';
import { createDirectory } from '../../src/features/org/directory.ts';
import { createOrgFeature } from '../../src/features/org/commands.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import { openDatabase, type Database } from '../../src/lib/db.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createMigrator } from '../../src/lib/migrator.ts';
import { createOutbox } from '../../src/outbox/outbox.ts';
import { createOutboxWorker, type OutboxWorker } from '../../src/outbox/worker.ts';
import type { ActionEvent, MessageEvent } from '../../src/platforms/types.ts';
import { createScheduler } from '../../src/scheduler/scheduler.ts';
import { providers, type TestDatabase } from '../helpers/databases.ts';
import { createFakeMessenger } from '../helpers/fake-messenger.ts';

describe.each(providers)('dispatcher on $name', ({ create }) => {
  let t: TestDatabase;
  let db: Database;
  let bot: Bot;
  let worker: OutboxWorker;
  let fake: ReturnType<typeof createFakeMessenger>;
  let logs: { level: number; msg: string; eventKey?: string }[];
  let calls: string[];
  const clock = createManualClock('2026-03-02T01:00:00Z');

  let n = 0;
  const message = (text: string, over: Partial<MessageEvent> = {}): MessageEvent => ({
    type: 'message',
    platform: 'sandbox',
    tenant: 'acme',
    eventKey: `evt-${++n}`,
    chat: { id: 'chat-1', kind: 'group', title: '测试群' },
    sender: { id: 'u-1', name: '赵一' },
    text,
    mentions: [],
    mentionedBot: true,
    receivedAt: clock.now(),
    ...over,
  });

  beforeEach(async () => {
    t = await create();
    db = await openDatabase(t.url);
    await createMigrator(db).migrate();
    logs = [];
    calls = [];
    const log = createLogger(
      { level: 'debug' },
      {
        write: (line: string) => void logs.push(JSON.parse(line) as (typeof logs)[number]),
      },
    );
    const outbox = createOutbox({ db: db.prisma, clock });
    const scheduler = createScheduler({ db: db.prisma, clock, log, defaultTimezone: 'Asia/Shanghai' });
    const messages = createMessages();
    const services: BotServices = {
      db: db.prisma,
      clock,
      log,
      messages,
      cards: loadCardTemplates('cards'),
      outbox,
      scheduler,
      send: createSendHub({ db: db.prisma, outbox, messages, secretaries: async () => [] }),
      jobs: createJobs(scheduler),
    };
    const directory = createDirectory({
      db: db.prisma,
      defaultTimezone: 'Asia/Shanghai',
      admins: [{ platform: 'sandbox', userId: 'boss' }],
      defaultOrgName: '测试支部',
      provider: db.provider,
    });
    const probe = defineCommand({
      name: 'probe',
      zh: '探针',
      summaryKey: 'cmd.help.summary',
      usageKey: 'cmd.help.usage',
      scope: 'group',
      role: 'member',
      positionals: ['what'],
      args: z.object({ what: z.enum(['ok', 'oops', 'crash']).default('ok') }),
      async run(ctx, { what }) {
        calls.push(what);
        if (what === 'oops') throw new UserError('admin.need_mention');
        if (what === 'crash') throw new Error('kaboom');
        await ctx.reply('pong');
      },
    });
    const dmOnly = defineCommand({
      name: 'secret',
      zh: '悄悄话',
      summaryKey: 'cmd.help.summary',
      usageKey: 'cmd.help.usage',
      scope: 'direct',
      role: 'member',
      run: async (ctx) => void (await ctx.reply('嘘')),
    });
    const press = defineAction({
      id: 'test.press',
      payload: z.object({ v: z.literal(1), n: z.number() }),
      async run(ctx, p) {
        calls.push(`press:${p.n}:${ctx.event.sender.id}`);
        return { toast: { kind: 'success', text: `第${p.n}号` } };
      },
    });
    bot = createBot({
      services,
      identity: directory,
      features: [
        createOrgFeature({ ...services, directory } as FeatureDeps),
        { name: 'probe', commands: [probe, dmOnly], actions: [press] },
      ],
      isSelf: (e) => e.sender.id === 'the-bot',
    });
    fake = createFakeMessenger();
    worker = createOutboxWorker({ db: db.prisma, clock, log, messengers: new Map([['sandbox', fake.messenger]]) });
  });

  afterEach(async () => {
    await db.close();
    await t.drop();
  });

  async function dispatch(e: MessageEvent) {
    const outcome = await bot.dispatcher.dispatchMessage(e);
    await worker.drain();
    return outcome;
  }

  it('routes a command and replies through the outbox to the same chat', async () => {
    expect(await dispatch(message('probe'))).toEqual({ status: 'handled' });
    expect(fake.sent).toMatchObject([{ kind: 'text', text: 'pong', target: { kind: 'chat', id: 'chat-1' } }]);
    // the idempotency key handed to the platform is the outbox id
    expect(
      await db.prisma.outboxMessage.findUnique({ where: { id: fake.sent[0]!.opts.idempotencyKey } }),
    ).toMatchObject({ status: 'sent', platformMessageId: 'fake-1' });
  });

  it('handles a platform retry of the same event once', async () => {
    const e = message('probe');
    await dispatch(e);
    expect(await dispatch({ ...e })).toEqual({ status: 'duplicate' });
    expect(calls).toEqual(['ok']);
    expect(fake.sent).toHaveLength(1);
  });

  it('ignores its own messages and group chatter that does not mention it, writing nothing', async () => {
    expect(await dispatch(message('probe', { sender: { id: 'the-bot' } }))).toEqual({ status: 'ignored' });
    expect(await dispatch(message('probe', { sender: { id: 'other-bot', isBot: true } }))).toEqual({
      status: 'ignored',
    });
    expect(await dispatch(message('probe', { mentionedBot: false }))).toEqual({ status: 'ignored' });
    expect(calls).toEqual([]);
    expect(await db.prisma.inboundEvent.count()).toBe(0);
  });

  it('registers the chat and the member on first contact', async () => {
    await dispatch(message('probe'));
    const chat = await db.prisma.chat.findFirstOrThrow({ where: { platformChatId: 'chat-1' } });
    expect(chat.title).toBe('测试群');
    const member = await db.prisma.member.findFirstOrThrow({ where: { platformUserId: 'u-1' } });
    expect(member).toMatchObject({ displayName: '赵一', orgId: chat.orgId });
  });

  it('answers a UserError with its catalogue message', async () => {
    await dispatch(message('probe oops'));
    expect(fake.sent[0]!.text).toBe('请@要设置的人，例如：管理员 添加 @李明');
  });

  it('logs any other error with the event key and apologises', async () => {
    const e = message('probe crash');
    expect(await dispatch(e)).toEqual({ status: 'failed' });
    expect(fake.sent[0]!.text).toContain('抱歉');
    expect(logs.some((l) => l.level === 50 && l.eventKey === e.eventKey && l.msg === 'command failed')).toBe(true);
  });

  it('answers bad arguments with the usage line', async () => {
    await dispatch(message('probe sideways'));
    // The wrong word is named; the field name and zod's English are not shown.
    expect(fake.sent[0]!.text).toMatch(/^命令格式不对：「sideways」不符合要求\n/);
    expect(fake.sent[0]!.text).toContain('用法：');
  });

  it('enforces scope', async () => {
    await dispatch(message('secret'));
    expect(fake.sent[0]!.text).toBe('这个命令只能在与我的私聊中使用。');
    await dispatch(message('secret', { chat: { id: 'dm-1', kind: 'direct' } }));
    expect(fake.sent[1]).toMatchObject({ text: '嘘', target: { kind: 'user', id: 'u-1' } });
  });

  it('treats SHUXIANG_ADMINS as secretaries and everyone else as members', async () => {
    await dispatch(message('admin list', { sender: { id: 'u-2', name: '钱二' } }));
    expect(fake.sent[0]!.text).toContain('需要「书记」权限');
    await dispatch(message('admin list', { sender: { id: 'boss', name: '孙书记' } }));
    expect(fake.sent[1]!.text).toContain('孙书记（配置）');
  });

  it('routes an action with a validated payload and returns its AckReply', async () => {
    const action = (payload: unknown, over: Partial<ActionEvent> = {}): ActionEvent => ({
      type: 'action',
      platform: 'sandbox',
      tenant: 'acme',
      eventKey: `act-${++n}`,
      chat: { id: 'chat-1', kind: 'group' },
      sender: { id: 'u-3', name: '孙三' },
      actionId: 'test.press',
      payload,
      card: { messageId: 'm-1' },
      receivedAt: clock.now(),
      ...over,
    });
    expect(await bot.dispatcher.handleAction(action({ v: 1, n: 7 }))).toEqual({
      toast: { kind: 'success', text: '第7号' },
    });
    expect(calls).toEqual(['press:7:u-3']);
    // an old or edited payload gets a polite toast and runs nothing
    expect((await bot.dispatcher.handleAction(action({ v: 0, n: 7 }))).toast?.kind).toBe('error');
    expect(
      (await bot.dispatcher.handleAction(action({ v: 1, n: 1 }, { actionId: 'test.nope' }))).toast?.text,
    ).toContain('已失效');
    expect(calls).toEqual(['press:7:u-3']);
  });

  it('loses nothing when the process dies after the outbox write: a new worker delivers it once', async () => {
    await bot.dispatcher.dispatchMessage(message('probe'));
    // "crash": this worker never runs; a fresh one (a restarted process) picks the row up
    const fresh = createFakeMessenger();
    const log = createLogger({ level: 'silent' });
    const restarted = createOutboxWorker({
      db: db.prisma,
      clock,
      log,
      messengers: new Map([['sandbox', fresh.messenger]]),
    });
    await restarted.drain();
    await restarted.drain();
    expect(fresh.sent.map((s) => s.text)).toEqual(['pong']);
  });

  it('retries a failed send with backoff and then delivers', async () => {
    fake.failNext(new Error('socket hang up'));
    await dispatch(message('probe'));
    expect(fake.sent).toHaveLength(0);
    const row = await db.prisma.outboxMessage.findFirstOrThrow();
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lastError: 'socket hang up' });
    clock.advance(60_000);
    await worker.drain();
    expect(fake.sent.map((s) => s.text)).toEqual(['pong']);
  });

  it('never crashes on random input typed by a member', async () => {
    let seed = 7;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const pieces = ['probe', 'admin', '添加', '"', '「', '--what', '-x', '@u-9', '\u0000', '😀', ' ', 'ok', 'crash'];
    for (let i = 0; i < 60; i++) {
      let text = '';
      for (let j = 0; j < 1 + Math.floor(rand() * 8); j++)
        text += pieces[Math.floor(rand() * pieces.length)] + (rand() < 0.5 ? ' ' : '');
      const outcome = await bot.dispatcher.dispatchMessage(message(text));
      expect(['handled', 'failed']).toContain(outcome.status);
    }
    // 'failed' is only ever our own deliberate crash command
    await worker.drain();
    expect(fake.sent.length).toBeGreaterThanOrEqual(60);
  });
});
