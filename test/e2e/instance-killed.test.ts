import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/lib/db.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createShuxiang, type Shuxiang } from '../../src/main.ts';
import { providers } from '../helpers/databases.ts';
import { queueNotices } from '../helpers/notices.ts';
import type { FakeDingTalkApi } from '../helpers/fake-dingtalk-api.ts';
import { startFakeFeishu, type FakeFeishu } from '../helpers/fake-feishu.ts';
import {
  ackSendsByUser,
  answersByUser,
  createRobotSender,
  DING,
  dingtalkEnv,
  startDingApi,
} from '../helpers/dingtalk-typed-answers.ts';
import { seedQuestions } from '../helpers/quiz-fixtures.ts';

/**
 * Issue 15, "Bad input and faults": an instance killed in the middle of the
 * burst. Two instances run as child processes on one PostgreSQL database;
 * members' typed answers (DingTalk) are spread over both, while a notice to
 * many Feishu groups is being pushed; one instance is killed with SIGKILL.
 * The platform sends again what was not acknowledged (to the survivor, as a
 * load balancer would), and the survivor finishes the dead one's inbox rows
 * and sends after their (short) leases, saying so once per kind.
 */
const CHILD = new URL('../security/fixtures/inbox-child.ts', import.meta.url).pathname;
const ANSWERS = 300;
const KILL_AFTER = 60;
const PUSH = 600;
const CHATS = 40;
const FEISHU_APP = 'cli_killed0001';

const postgres = providers.find((p) => p.name === 'postgresql');

interface Child {
  child: ChildProcess;
  port: number;
  lines: { level: number; msg: string; [k: string]: unknown }[];
}

function startChild(env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let rest = '';
  const lines: Child['lines'] = [];
  spawned.push(child);
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const all = rest + d.toString();
      const parts = all.split('\n');
      rest = parts.pop()!;
      for (const line of parts) {
        const ready = /^ready (\d+)$/.exec(line);
        if (ready) resolve({ child, port: Number(ready[1]), lines });
        else if (line.startsWith('{')) lines.push(JSON.parse(line) as never);
      }
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before ready: ${err}`)));
  });
}

async function until(what: string, check: () => Promise<boolean>, ms = 45_000, every = 100): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

// A test that times out must not leave instances running.
const spawned: ChildProcess[] = [];
afterEach(() => {
  for (const c of spawned.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('an instance killed mid-burst (two child processes on PostgreSQL; set TEST_DATABASE_URL)', () => {
  it.skipIf(!postgres)(
    'every acknowledged answer stored and answered once, every notice delivered once, the survivor takes over and says so once',
    { timeout: 120_000 },
    async () => {
      const database = await postgres!.create();
      let api: FakeDingTalkApi | undefined;
      let feishu: FakeFeishu | undefined;
      let setup: Shuxiang | undefined;
      const children: Child[] = [];
      try {
        api = await startDingApi();
        feishu = await startFakeFeishu({ appId: FEISHU_APP, appSecret: 's', botOpenId: 'ou_bot' });
        for (let c = 0; c < CHATS; c++) feishu.addChat({ chat_id: `oc_notice${c}` });
        const env = {
          ...dingtalkEnv(database.url, api),
          FEISHU_APP_ID: FEISHU_APP,
          FEISHU_APP_SECRET: 's',
          FEISHU_DOMAIN: feishu.url,
          FEISHU_ALLOW_UNENCRYPTED: 'on',
          FEISHU_VERIFICATION_TOKEN: 'token',
        };
        const sender = createRobotSender(api);

        // Set-up in this process: the organisation, its bank, a contest question open for 120 s,
        // and the notice to every group waiting in the outbox.
        setup = await createShuxiang(loadConfig(env), {
          log: createSilentLogger(),
          dingtalk: { webhookHosts: [api.host] },
        });
        const say = async (text: string) => {
          const res = await setup!.app.request('/dingtalk/webhook', sender.request('sec-wang', '王书记', text));
          expect(res.status).toBe(200);
          await setup!.dingtalk!.settle();
          await setup!.inbox.drain();
        };
        await say('我是谁');
        const org = await setup.db.prisma.organisation.findFirstOrThrow();
        await seedQuestions(setup.db.prisma, undefined, org.id);
        await say('出题 1 党史 120秒');
        expect(await setup.db.prisma.quizRound.count({ where: { chatId: DING.group } })).toBe(1);
        const first = setup;
        await queueNotices(first, { count: PUSH, chats: CHATS, prefix: 'oc_notice' });
        await setup.stop();
        setup = undefined;

        const childEnv = { ...env, LOG_LEVEL: 'info', OUTBOX_LEASE_MS: '5000' };
        children.push(await startChild(childEnv), await startChild(childEnv));
        const [doomed, survivor] = children as [Child, Child];

        // The burst: distinct members, requests alternating between the instances; after
        // KILL_AFTER acknowledgements one instance is killed. What was not acknowledged is
        // sent again, to the survivor, until it is.
        const people = Array.from({ length: ANSWERS }, (_, i) => ({
          userId: `k${String(i).padStart(3, '0')}`,
          nick: `答题者${i}`,
        }));
        const acked = new Set<string>();
        let killed = false;
        let killing = false;
        let deliveredAtKill = 0;
        // What the killed instance held when it died (its leases name its process id), read
        // at once: the survivor starts taking it over when the leases run out.
        const left = new Promise<[number, number]>((resolve, reject) =>
          doomed.child.once('exit', () => {
            void (async () => {
              const db = await openDatabase(database.url);
              try {
                const dead = `:${doomed.child.pid}:`;
                resolve([
                  await db.prisma.inboxMessage.count({
                    where: { processedAt: null, leaseOwner: { contains: dead } },
                  }),
                  await db.prisma.outboxMessage.count({
                    where: { status: 'sending', leaseOwner: { contains: dead } },
                  }),
                ]);
              } finally {
                await db.close();
              }
            })().catch(reject);
          }),
        );
        let next = 0;
        const fire = async (p: (typeof people)[number]) => {
          const to = killed || next++ % 2 === 1 ? survivor : doomed;
          try {
            const res = await fetch(
              `http://127.0.0.1:${to.port}/dingtalk/webhook`,
              sender.request(p.userId, p.nick, '答 B'),
            );
            if (res.status === 200) acked.add(p.userId);
          } catch {
            // Killed while in flight: not acknowledged.
          }
          if (acked.size >= KILL_AFTER && !killing) {
            killing = true;
            // The kill must find a send in flight (what the take-over is about): on a loaded
            // machine the push may not have reached this instance yet, so wait for one.
            const db = await openDatabase(database.url);
            try {
              const dead = `:${doomed.child.pid}:`;
              await until(
                'the doomed instance to be sending',
                async () =>
                  (await db.prisma.outboxMessage.count({
                    where: { status: 'sending', leaseOwner: { contains: dead } },
                  })) > 0,
                20_000,
                10,
              );
              killed = true;
              deliveredAtKill = feishu!.messages.size;
              doomed.child.kill('SIGKILL');
            } finally {
              await db.close();
            }
          }
        };
        const queue = [...people];
        await Promise.all(
          Array.from({ length: 32 }, async () => {
            for (let p = queue.shift(); p; p = queue.shift()) await fire(p);
          }),
        );
        await left;
        for (const p of people) {
          for (let tries = 0; !acked.has(p.userId); tries++) {
            if (tries > 20) throw new Error(`${p.nick} never acknowledged`);
            await fire(p);
          }
        }

        const db = await openDatabase(database.url);
        try {
          const [leftInbox, leftSending] = await left;
          await until(
            'every message processed and every send done',
            async () =>
              (await db.prisma.inboxMessage.count({ where: { processedAt: null } })) === 0 &&
              (await db.prisma.outboxMessage.count({ where: { status: { not: 'sent' } } })) === 0,
            60_000,
          );

          // Every answer stored once, with one reply row (a DingTalk private message has no
          // idempotency key: a reply the dead instance was sending may reach the member twice).
          const answers = await answersByUser(db.prisma);
          const replyRows = new Map<string, number>();
          for (const r of await db.prisma.outboxMessage.findMany({
            where: { platform: 'dingtalk', targetKind: 'user' },
            select: { targetId: true, body: true },
          })) {
            if (r.body.includes('已记录您的答案')) replyRows.set(r.targetId, (replyRows.get(r.targetId) ?? 0) + 1);
          }
          const sends = ackSendsByUser(api);
          const problems: string[] = [];
          for (const p of people) {
            if (answers.get(p.userId) !== 1) problems.push(`${p.nick}: ${answers.get(p.userId) ?? 0} answers`);
            if (replyRows.get(p.userId) !== 1) problems.push(`${p.nick}: ${replyRows.get(p.userId) ?? 0} reply rows`);
            if (!sends.get(p.userId)) problems.push(`${p.nick}: no reply received`);
          }
          expect(problems).toEqual([]);

          // The notice: in progress at the kill, then every message delivered exactly once
          // (sends taken over go out again with the same Feishu uuid).
          expect(deliveredAtKill).toBeLessThan(PUSH);
          const texts = [...feishu.messages.values()]
            .filter((m) => m.chat_id.startsWith('oc_notice'))
            .map((m) => JSON.parse(m.content).text as string);
          expect(texts.length).toBe(PUSH);
          expect(new Set(texts).size).toBe(PUSH);
          expect(await db.prisma.outboxMessage.count({ where: { status: 'dead' } })).toBe(0);
          expect(await db.prisma.inboxMessage.count({ where: { lastError: { not: null } } })).toBe(0);

          // One line per kind of work taken over, naming how much.
          const took = (noun: string) =>
            survivor.lines.filter((l) => new RegExp(`^took over \\d+ ${noun} left by a stopped instance`).test(l.msg));
          expect(leftSending).toBeGreaterThan(0); // the push was being sent by the dead instance too
          expect(took('outbox messages').map((l) => l.count)).toEqual([leftSending]);
          expect(took('inbox messages').map((l) => l.count)).toEqual(leftInbox > 0 ? [leftInbox] : []);
          expect(survivor.lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
          console.log(
            `instance killed: ${deliveredAtKill} of ${PUSH} notices delivered at the kill; the dead instance left ` +
              `${leftInbox} inbox messages and ${leftSending} sends, taken over; ` +
              `${[...sends.values()].filter((n) => n > 1).length} members got their DingTalk reply twice`,
          );
        } finally {
          await db.close();
        }
      } finally {
        await setup?.stop();
        for (const c of children) {
          if (c.child.exitCode === null && c.child.signalCode === null) {
            c.child.kill('SIGKILL');
            await new Promise((r) => c.child.once('exit', r));
          }
        }
        await api?.close();
        await feishu?.close();
        await database.drop();
      }
    },
  );
});
