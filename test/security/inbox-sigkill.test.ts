import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createAnswerStore } from '../../src/features/quiz/answer-store.ts';
import { openDatabase } from '../../src/lib/db.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createShuxiang, type Shuxiang } from '../../src/main.ts';
import { robotSignature } from '../../src/platforms/dingtalk/verify.ts';
import { providers } from '../helpers/databases.ts';
import { startFakeDingTalkApi } from '../helpers/fake-dingtalk-api.ts';
import { seedQuestions } from '../helpers/quiz-fixtures.ts';

/**
 * Issue 10, part 1: "acknowledged means recorded, for messages too". The
 * real app runs as a child process in DingTalk HTTP mode; a burst of typed
 * answers (`答 B`, each from another member, a contest question open) and
 * commands (`我是谁`) is fired at it and the child is killed with SIGKILL in
 * the middle. After a restart, every message that was answered 200 must have
 * been processed exactly once: its answer stored once, its reply once in the
 * outbox. Messages killed in flight (no 200) may be processed or not, but
 * never twice.
 */
const CLIENT_ID = 'ding-client-id';
const CLIENT_SECRET = 'ding-client-secret-0123456789';
const ROBOT_CODE = 'ding-robot';
const TEMPLATE_ID = 'a1b2c3d4-0000-4000-8000-000000000001.schema';
const GROUP = 'cidGroupA0001';
const CHILD = new URL('./fixtures/inbox-child.ts', import.meta.url).pathname;
const ANSWERS = 500;
const COMMANDS = 100;
const KILL_AFTER = 150;

const base = JSON.parse(
  readFileSync(new URL('../fixtures/dingtalk/robot-text-group.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

function startChild(env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /ready (\d+)/.exec(d.toString());
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before ready: ${err}`)));
  });
}

async function until(what: string, check: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Sent {
  userId: string;
  nick: string;
  kind: 'answer' | 'command';
  acked: boolean;
}

describe.each(providers)('inbox on $name: SIGKILL in the middle of a burst of typed answers', (provider) => {
  it('processes every acknowledged message exactly once after a restart', { timeout: 240_000 }, async () => {
    const api = await startFakeDingTalkApi({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      robotCode: ROBOT_CODE,
      templates: [TEMPLATE_ID],
      quota: 1_000_000,
      qpsPerApi: 100_000,
    });
    const database = await provider.create();
    const env = {
      DATABASE_URL: database.url,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      SHUXIANG_SANDBOX: 'off',
      SHUXIANG_ADMINS: 'dingtalk:sec-wang',
      DINGTALK_CLIENT_ID: CLIENT_ID,
      DINGTALK_CLIENT_SECRET: CLIENT_SECRET,
      DINGTALK_ROBOT_CODE: ROBOT_CODE,
      DINGTALK_MODE: 'webhook',
      DINGTALK_API_BASE: api.url,
      DINGTALK_CARD_TEMPLATE_ID: TEMPLATE_ID,
      WEBHOOK_HOST: api.host,
    };
    // Signatures are single-use: every request is signed at its own millisecond.
    let tick = Date.now() - 20 * 60_000;
    const session = api.openSession(GROUP);
    const message = (userId: string, nick: string, text: string) =>
      JSON.stringify({
        ...base,
        msgId: `msg-${userId}-${text.length}${text.charCodeAt(0)}`,
        createAt: Date.now(),
        senderStaffId: userId,
        senderNick: nick,
        senderId: `$:LWCP_v1:$sender-${userId}`,
        text: { content: ` ${text}` },
        ...session,
      });
    const headers = () => {
      const timestamp = String(tick++);
      return { 'content-type': 'application/json', timestamp, sign: robotSignature(timestamp, CLIENT_SECRET) };
    };

    let child: ChildProcess | undefined;
    let setup: Shuxiang | undefined;
    try {
      // Set-up with the same app: the organisation, its question bank, a contest question open for 120 s.
      setup = await createShuxiang(loadConfig(env), {
        log: createSilentLogger(),
        dingtalk: { webhookHosts: [api.host] },
      });
      const say = async (userId: string, nick: string, text: string) => {
        const res = await setup!.app.request('/dingtalk/webhook', {
          method: 'POST',
          headers: headers(),
          body: message(userId, nick, text),
        });
        expect(res.status).toBe(200);
        await setup!.dingtalk!.settle();
        await setup!.inbox.drain();
      };
      await say('sec-wang', '王书记', '我是谁');
      const org = await setup.db.prisma.organisation.findFirstOrThrow();
      await seedQuestions(setup.db.prisma, undefined, org.id);
      await say('sec-wang', '王书记', '出题 1 党史 120秒');
      expect(await setup.db.prisma.quizRound.count({ where: { chatId: GROUP } })).toBe(1);
      const setupReplies = await setup.db.prisma.outboxMessage.count();
      await setup.stop();
      setup = undefined;

      // The burst: typed answers from distinct members, with a command every sixth message.
      const sent: Sent[] = [];
      for (let i = 0; i < ANSWERS + COMMANDS; i++) {
        const n = String(i).padStart(3, '0');
        sent.push(
          i % 6 === 5
            ? { userId: `c${n}`, nick: `问询者${n}`, kind: 'command', acked: false }
            : { userId: `a${n}`, nick: `答题者${n}`, kind: 'answer', acked: false },
        );
      }
      const started = await startChild(env);
      child = started.child;
      const url = `http://127.0.0.1:${started.port}/dingtalk/webhook`;
      let acked = 0;
      let killed = false;
      const exited = new Promise((r) => child!.once('exit', r));
      const fire = async (s: Sent) => {
        if (killed) return;
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: headers(),
            body: message(s.userId, s.nick, s.kind === 'answer' ? '答 B' : '我是谁'),
          });
          if (res.status === 200) {
            s.acked = true;
            acked++;
          }
        } catch {
          // Killed while in flight: not acknowledged.
        }
        if (acked >= KILL_AFTER && !killed) {
          killed = true;
          child!.kill('SIGKILL');
        }
      };
      // 64 requests in flight at a time, like a busy group.
      const queue = [...sent];
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          for (let s = queue.shift(); s; s = queue.shift()) await fire(s);
        }),
      );
      await exited;
      const ackedBeforeKill = sent.filter((s) => s.acked).length;
      expect(ackedBeforeKill).toBeGreaterThanOrEqual(KILL_AFTER);
      expect(ackedBeforeKill).toBeLessThan(sent.length); // killed in the middle, not after

      const db = await openDatabase(database.url);
      try {
        const leftOver = await db.prisma.inboxMessage.count({ where: { processedAt: null } });

        // Restart: what the killed process had recorded but not processed is processed now.
        child = (await startChild(env)).child;
        await until(
          'every recorded message to be processed',
          async () => (await db.prisma.inboxMessage.count({ where: { processedAt: null } })) === 0,
        );
        child.kill('SIGKILL');
        await new Promise((r) => child!.once('exit', r));

        // Answers the restarted process had not folded yet: folded here, as its next start would.
        await createAnswerStore({ db: db.prisma, provider: db.provider, log: createSilentLogger() }).settle();
        const members = await db.prisma.member.findMany({ select: { id: true, platformUserId: true } });
        const userOf = new Map(members.map((m) => [m.id, m.platformUserId]));
        const answers = new Map<string, number>();
        for (const a of await db.prisma.quizAnswer.findMany({ select: { memberId: true } })) {
          const user = userOf.get(a.memberId)!;
          answers.set(user, (answers.get(user) ?? 0) + 1);
        }
        const replies = (
          await db.prisma.outboxMessage.findMany({ select: { body: true, targetKind: true, targetId: true } })
        ).map((r) => ({ ...r, text: (JSON.parse(r.body) as { text?: string }).text ?? '' }));
        // A typed answer is acknowledged privately (nothing others could copy); 我是谁 names the member.
        const repliesTo = (s: Sent) =>
          replies.filter((r) =>
            s.kind === 'answer'
              ? r.targetKind === 'user' && r.targetId === s.userId && r.text.includes('已记录您的答案')
              : r.text.startsWith(`${s.nick}，您好`),
          ).length;

        const problems: string[] = [];
        for (const s of sent) {
          const r = repliesTo(s);
          const a = answers.get(s.userId) ?? 0;
          const want = s.acked ? 1 : r; // not acknowledged: processed once or not at all
          if (r !== want || r > 1) problems.push(`${s.nick}: ${r} replies`);
          if (s.kind === 'answer' && a !== r) problems.push(`${s.nick}: ${a} answers, ${r} replies`);
          if (s.kind === 'command' && a !== 0) problems.push(`${s.nick}: an answer for a command`);
        }
        if (problems.length) {
          // Say where each lost message got to, so a failure points at the step that lost it.
          const rows = await db.prisma.inboxMessage.findMany();
          for (const s of sent.filter((x) => x.acked && repliesTo(x) === 0)) {
            const row = rows.find((r) => r.eventKey.startsWith(`msg-${s.userId}-`));
            problems.push(`${s.nick}: inbox ${row ? JSON.stringify({ ...row, payload: undefined }) : 'has no row'}`);
          }
        }
        expect(problems).toEqual([]);
        const processed = sent.filter((s) => repliesTo(s) === 1).length;
        expect(await db.prisma.outboxMessage.count()).toBe(setupReplies + processed);
        expect(await db.prisma.inboxMessage.count({ where: { lastError: { not: null } } })).toBe(0);
        console.log(
          `inbox-sigkill (${provider.name}): ${ackedBeforeKill} of ${sent.length} acknowledged before SIGKILL, ` +
            `${leftOver} recorded but unprocessed at the kill, ${processed} processed in all`,
        );
      } finally {
        await db.close();
      }
    } finally {
      await setup?.stop();
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child!.once('exit', r));
      }
      await api.close();
      await database.drop();
    }
  });
});
