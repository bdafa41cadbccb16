import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand } from '../../src/bot/commands.ts';
import { defineFeature, type FeatureDeps } from '../../src/bot/feature.ts';
import { defineJob } from '../../src/bot/jobs.ts';
import { providers, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { correctChoice, questionOn, seedQuestions, QUIZ_ENV } from '../helpers/quiz-fixtures.ts';

const G = 'group-a';

/** A command whose state (a scheduled item) and reply commit in one transaction. */
function createTallyFeature(deps: FeatureDeps) {
  const noop = defineJob({ kind: 'tally.noop', payload: z.object({}), async run() {} });
  const tally = defineCommand({
    name: 'tally',
    zh: '记一笔',
    summaryKey: 'cmd.help.summary',
    usageKey: 'cmd.help.usage',
    scope: 'any',
    role: 'member',
    async run(ctx) {
      await deps.db.$transaction(async (tx) => {
        await deps.jobs.schedule(
          noop,
          { orgId: ctx.identity.orgId, dueAt: new Date(deps.clock.now().getTime() + 3_600_000), payload: {} },
          tx,
        );
        await ctx.reply('记下了', { tx });
      });
      await ctx.reply('第二条回复');
    },
  });
  return defineFeature({ name: 'tally', commands: [tally], jobs: [noop] });
}

/**
 * A crash after a message's effects committed but before its inbox row was
 * marked processed: the restarted bot processes the row again. Its replies
 * get the same derived ids, so the first one already there stops the run and
 * rolls back what it would have written again.
 */
describe.each(providers)('inbox: a message processed again after a crash on $name', (provider) => {
  let h: Harness;
  let database: TestDatabase;
  beforeEach(async () => {
    database = await provider.create();
    h = await createHarness({ database, env: QUIZ_ENV, features: [createTallyFeature] });
  });
  afterEach(async () => {
    await h.close();
    await database.drop();
  });

  /** What a crash between the effects and the processed mark leaves behind. */
  async function forgetProcessed(): Promise<number> {
    const db = h.shuxiang.db.prisma;
    const { count } = await db.inboxMessage.updateMany({
      data: { processedAt: null, leaseOwner: null, leaseUntil: null },
    });
    return count;
  }

  async function recoverAll(): Promise<number> {
    const n = await h.shuxiang.inbox.recover();
    await h.shuxiang.inbox.drain();
    await h.shuxiang.worker.drain(20);
    return n;
  }

  it('says nothing twice and writes nothing twice', async () => {
    const replies = await h.say(G, 'm-li', '记一笔');
    expect(replies.map((m) => m.text)).toEqual(['记下了', '第二条回复']);
    expect(await h.shuxiang.db.prisma.scheduledItem.count({ where: { kind: 'tally.noop' } })).toBe(1);

    expect(await forgetProcessed()).toBe(1);
    expect(await recoverAll()).toBe(1);

    expect((await h.transcript(G)).filter((m) => m.from === 'bot')).toHaveLength(2);
    expect(await h.shuxiang.db.prisma.scheduledItem.count({ where: { kind: 'tally.noop' } })).toBe(1);
    expect(await h.shuxiang.db.prisma.inboxMessage.count({ where: { processedAt: null } })).toBe(0);
  });

  it('a typed answer is stored once and acknowledged once', async () => {
    await seedQuestions(h.shuxiang.db.prisma);
    const [card] = await h.say(G, 'sec-wang', '出题 1 党史');
    await h.say(G, 'm-li', `答 ${correctChoice(questionOn(card!))}`);
    const privately = async () =>
      (await h.transcript('dm-m-li')).filter((m) => m.from === 'bot' && m.text?.includes('已记录您的答案'));
    expect(await privately()).toHaveLength(1);
    await h.shuxiang.worker.drain(20);
    const before = (await h.transcript(G)).filter((m) => m.from === 'bot').length;

    await forgetProcessed();
    expect(await recoverAll()).toBe(2);

    await h.shuxiang.bot.settle(); // fold the answer journal before reading its tables
    expect(await h.shuxiang.db.prisma.quizAnswer.count()).toBe(1);
    expect(await privately()).toHaveLength(1);
    // Neither "you already answered" nor "a contest is still running": nothing new at all.
    expect((await h.transcript(G)).filter((m) => m.from === 'bot')).toHaveLength(before);
    // The contest was not started a second time either.
    expect(await h.shuxiang.db.prisma.quizRound.count()).toBe(1);
  });

  it('a typed answer whose reply could not be written is answered once when the message is processed again', async () => {
    await seedQuestions(h.shuxiang.db.prisma);
    const [card] = await h.say(G, 'sec-wang', '出题 1 党史 120秒');
    // The fault: the database goes away just as the private "recorded" reply is written (after
    // the answer's transaction, before this fix). The message stays in the inbox for a retry.
    const outbox = h.shuxiang.outbox;
    const enqueue = outbox.enqueue.bind(outbox);
    let injected = 0;
    outbox.enqueue = async (input, tx) => {
      if (!injected && 'text' in input.body && input.body.text.includes('已记录您的答案')) {
        injected++;
        throw new Error('Connection terminated unexpectedly (injected)');
      }
      return enqueue(input, tx);
    };
    await h.say(G, 'm-li', `答 ${correctChoice(questionOn(card!))}`);
    expect(injected).toBe(1);
    const unprocessed = () => h.shuxiang.db.prisma.inboxMessage.count({ where: { processedAt: null } });
    expect(await unprocessed()).toBe(1);

    // After the message's lease, recovery processes it again.
    h.clock.advance(61_000);
    expect(await recoverAll()).toBe(1);
    expect(await unprocessed()).toBe(0);

    await h.shuxiang.bot.settle(); // fold the answer journal before reading its tables
    expect(await h.shuxiang.db.prisma.quizAnswer.count()).toBe(1);
    const toMember = (await h.transcript('dm-m-li')).filter((m) => m.from === 'bot').map((m) => m.text ?? '');
    // One reply, the right one: not "you already answered", and not nothing.
    expect(toMember).toHaveLength(1);
    expect(toMember[0]).toContain('已记录您的答案');
    expect((await h.transcript(G)).filter((m) => m.text?.includes('已经答过'))).toEqual([]);
  });

  it('a message whose processing never finished is processed on recovery', async () => {
    // Recorded (the platform was answered) but the process died before processing it.
    await h.shuxiang.db.prisma.inboxMessage.create({
      data: {
        id: 'inbox-left-behind',
        platform: 'sandbox',
        eventKey: 'left-behind',
        payload: JSON.stringify({
          chat: { id: G, kind: 'group' },
          sender: { id: 'm-li', name: '李明' },
          text: '记一笔',
          mentions: [],
          receivedAt: h.clock.now().toISOString(),
        }),
        // Before this instance started.
        receivedAt: new Date(h.clock.now().getTime() - 1000),
        leaseOwner: 'a-dead-instance',
        leaseUntil: new Date(h.clock.now().getTime() + 60_000),
      },
    });
    // Another instance's lease is respected until it runs out…
    if (provider.name === 'postgresql') {
      expect(await recoverAll()).toBe(0);
      h.clock.advance(61_000);
    }
    // …on SQLite (one process) rows from before the start are taken over at once.
    expect(await recoverAll()).toBe(1);
    const said = (await h.transcript(G)).filter((m) => m.from === 'bot').map((m) => m.text);
    expect(said).toEqual(['记下了', '第二条回复']);
  });
});
