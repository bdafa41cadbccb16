// bench:province — the 09:00 burst of a province (issue 15 part 4), in one run.
//
// PostgreSQL (DATABASE_URL, or a fresh database on postgresql://postgres@127.0.0.1:5432/test,
// dropped afterwards) and TWO complete bots (createShuxiang, each a child process) behind a
// round-robin "load balancer" (this process sends click k to instance k mod 2). Feishu is
// the tests' fake OpenAPI (test/helpers/fake-feishu.ts), which counts 50 sends in any second
// and 1,000 in any minute per app and refuses the rest, as bench:shared-limit uses it.
// `--sqlite` runs the same with ONE instance on a file SQLite database.
//
// Seeded in bulk, not measured: one organisation, GROUPS Feishu groups (default 300),
// MEMBERS members (default 70,000; member i in group i mod GROUPS), in the directory's own
// tables (Member, Chat, ChatMember, TenantLink) so the bot sees known members; a bank of
// five questions (2 single choice, 2 true/false, 1 multiple choice on a form) through the
// bank's import; and in every group a daily practice plan (每日一练 09:00, 5 questions) with
// its push scheduled through the scheduler, as `每日一练 开启 09:00 5` leaves it.
//
// Measured: the bots' clocks run in real time from Mon 2026-11-23 08:59:5x Asia/Shanghai;
// at 09:00 their schedulers fire the 300 pushes (each once, across instances) and their
// outboxes send the 300 cards through the shared rate limit. Then the members answer:
// the daily card is one card with five questions, and a member who does the daily practice
// answers all five (one click each, a few seconds apart; that is what completes the day and
// moves the streak), so each answering member makes 5 clicks. Half of the members start
// within the first two minutes after the push (real time), the other half over the rest of
// the hour, which is compressed: `--hour-seconds N` (default 300) plays the 58 minutes in N s.
// Every click is a signed, encrypted card.action.trigger callback built like
// bench:feishu-ingest's, sent open-loop at its due time through at most CONNECTIONS
// keep-alive sockets per instance; its ack latency is measured from its due time (so a
// backlog counts) and from when it was written to the socket.
//
// The bots run from this file bundled as the bot ships, in plain node with npm start's
// environment and flags (bench/shipped-build.ts).
//
// Printed: ack p50/p99, answers/s, push completion time against the fastest the platform
// limit allows, server CPU per answer (process.cpuUsage of the bots, over IPC), and the
// checks after the run (non-zero exit if one fails): every acknowledged answer stored
// exactly once, QuizTally and QuizRankBucket equal to a recount from QuizAnswer, one card
// per group and nothing sent twice.
//
//   npm run bench:province                                  # full size, PostgreSQL, 2 instances
//   npm run bench:province -- --members 7000 --groups 30 --hour-seconds 60   # quick (< 2 min)
//   npm run bench:province -- --sqlite                      # one instance on SQLite
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { loadConfig } from '../src/config.ts';
import { feishu as feishuTexts } from '../src/messages/zh-CN/feishu.ts';
import { DAILY_PUSH } from '../src/features/quiz/daily.ts';
import { createAnswerStore } from '../src/features/quiz/answer-store.ts';
import { createQuestionBank } from '../src/features/quiz/bank/repository.ts';
import { decodeAnswer } from '../src/features/quiz/bank/types.ts';
import { createSystemClock } from '../src/lib/clock.ts';
import { openDatabase } from '../src/lib/db.ts';
import { createLogger, createSilentLogger } from '../src/lib/logger.ts';
import { createMigrator, migrationsDir } from '../src/lib/migrator.ts';
import { createShuxiang, ROOT } from '../src/main.ts';
import { createScheduler } from '../src/scheduler/scheduler.ts';
import { createPostgresTestDatabase, createSqliteTestDatabase, type TestDatabase } from '../test/helpers/databases.ts';
import { startFakeFeishu } from '../test/helpers/fake-feishu.ts';
import {
  APP_ID,
  APP_SECRET,
  ENCRYPT_KEY,
  TOKEN,
  answerFor,
  cardControls,
  createOffsetClock,
  signedAnswer,
  verdict,
  type PositionInfo,
  type QuestionType,
} from './feishu-ingest-quiz.ts';
import { bundleForBench, startCommand } from './shipped-build.ts';

const SELF = fileURLToPath(import.meta.url);
const BOT = 'ou_province_bot';
const TENANT = '2ca1d211f64f6438';
const TZ = 'Asia/Shanghai';
/** A Monday, a Chinese working day. */
const NINE = new Date('2026-11-23T09:00:00+08:00');
const QUESTIONS: Record<QuestionType, number> = { single: 2, truefalse: 2, multiple: 1, fill: 0 };
/** Seconds between a member's clicks on the five questions (reading the next one). */
const GAP_SECONDS = 5;
/** Feishu gives up on a card callback after 3 s. */
const DEADLINE_MS = 3000;

const chatIdOf = (g: number) => `oc_province_${String(g).padStart(4, '0')}`;
const openIdOf = (i: number) => `ou_province_${String(i).padStart(6, '0')}`;
const memberIdOf = (i: number) => `pm-${i}`;
const nameOf = (i: number) => `党员${String(i).padStart(6, '0')}`;
/** The bot's "answered within 2.5 s? no: 已收到，正在处理" toast: the click is recorded, its result comes later. */
const SLOW = feishuTexts['feishu.card.slow'];

// ---- a bot instance (child process) --------------------------------------------------------

async function serveInstance(dbUrl: string, fakeUrl: string): Promise<void> {
  const clock = createOffsetClock(new Date(NINE.getTime() - 60_000));
  const config = loadConfig({
    DATABASE_URL: dbUrl,
    LOG_LEVEL: 'error',
    NODE_ENV: 'production',
    SHUXIANG_SANDBOX: 'off',
    SHUXIANG_DEMO_SEED: 'off',
    SHUXIANG_TIMEZONE: TZ,
    FEISHU_APP_ID: APP_ID,
    FEISHU_APP_SECRET: APP_SECRET,
    FEISHU_ENCRYPT_KEY: ENCRYPT_KEY,
    FEISHU_VERIFICATION_TOKEN: TOKEN,
    FEISHU_DOMAIN: fakeUrl,
  });
  const shuxiang = await createShuxiang(config, {
    clock,
    log: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
  });
  shuxiang.start();
  const port = await new Promise<number>((resolve) => {
    serve({ fetch: shuxiang.app.fetch, port: 0, hostname: '127.0.0.1' }, (i) => resolve(i.port));
  });
  let cpuAt = process.cpuUsage();
  // PROVINCE_PROF=dir: a CPU profile of each instance while the members answer.
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  const prof = process.env.PROVINCE_PROF;
  if (prof) session.connect();
  let profiles = 0;
  process.on('message', (m: { type: string; offsetMs?: number }) => {
    void (async () => {
      if (m.type === 'clock') clock.jumpTo(new Date(Date.now() + m.offsetMs!));
      if (m.type === 'cpu-start') {
        cpuAt = process.cpuUsage();
        if (prof) {
          await session.post('Profiler.enable');
          await session.post('Profiler.start');
        }
      }
      if (m.type === 'cpu-stop') {
        const used = process.cpuUsage(cpuAt);
        if (prof) {
          const { profile } = await session.post('Profiler.stop');
          const { mkdirSync, writeFileSync } = await import('node:fs');
          mkdirSync(prof, { recursive: true });
          writeFileSync(path.join(prof, `instance-${process.pid}-${++profiles}.cpuprofile`), JSON.stringify(profile));
        }
        process.send?.({ type: 'cpu', micros: used.user + used.system, sent: shuxiang.worker.stats().sent });
      }
      if (m.type === 'stop') {
        await shuxiang.stop();
        process.send?.({ type: 'stopped' }, () => process.exit(0));
      }
    })();
  });
  process.send?.({ type: 'ready', port });
}

// ---- seeding (not measured) -----------------------------------------------------------------

function bankFile(): Buffer {
  const starter = JSON.parse(readFileSync(path.join(ROOT, 'data-seed', 'starter-bank.json'), 'utf8')) as {
    questions: { type: QuestionType }[];
  };
  const picked = Object.entries(QUESTIONS).flatMap(([type, n]) =>
    starter.questions.filter((q) => q.type === type).slice(0, n),
  );
  return Buffer.from(
    JSON.stringify({ format: 'shuxiang-question-bank', version: 1, title: 'province', questions: picked }),
  );
}

async function seed(url: string, members: number, groups: number): Promise<void> {
  const db = await openDatabase(url);
  try {
    await createMigrator(db, migrationsDir(db.provider, ROOT)).migrate();
    const prisma = db.prisma;
    const orgId = 'province-org';
    const now = new Date(NINE.getTime() - 86_400_000);
    await prisma.organisation.create({ data: { id: orgId, name: '省直机关工委', timezone: TZ } });
    await prisma.tenantLink.create({ data: { platform: 'feishu', tenant: TENANT, orgId } });
    await prisma.chat.createMany({
      data: Array.from({ length: groups }, (_, g) => ({
        id: `pc-${g}`,
        orgId,
        platform: 'feishu',
        platformChatId: chatIdOf(g),
        kind: 'group',
        title: `第${g + 1}党支部学习群`,
      })),
    });
    const CHUNK = db.provider === 'sqlite' ? 2000 : 5000;
    for (let i = 0; i < members; i += CHUNK) {
      const ids = Array.from({ length: Math.min(CHUNK, members - i) }, (_, k) => i + k);
      await prisma.member.createMany({
        data: ids.map((m) => ({
          id: memberIdOf(m),
          orgId,
          platform: 'feishu',
          platformUserId: openIdOf(m),
          displayName: nameOf(m),
        })),
      });
      await prisma.chatMember.createMany({
        data: ids.map((m) => ({ chatId: `pc-${m % groups}`, memberId: memberIdOf(m), seenAt: now })),
      });
    }
    const clock = createSystemClock();
    const imported = await createQuestionBank({ db: prisma, clock, provider: db.provider }).importFile(orgId, {
      name: 'province-bank.json',
      bytes: bankFile(),
    });
    if (!imported.ok) throw new Error(`bank import failed: ${JSON.stringify(imported.problems.slice(0, 3))}`);
    // What `每日一练 开启 09:00 5` leaves in each group: the plan and its push, due at 09:00.
    const scheduler = createScheduler({ db: prisma, clock, log: createSilentLogger(), defaultTimezone: TZ });
    for (let g = 0; g < groups; g++) {
      const planId = `plan-${g}`;
      await prisma.quizDailyPlan.create({
        data: {
          id: planId,
          orgId,
          platform: 'feishu',
          chatId: chatIdOf(g),
          time: '09:00',
          count: 5,
          createdBy: memberIdOf(g),
        },
      });
      const { id } = await scheduler.schedule({
        orgId,
        kind: DAILY_PUSH,
        dueAt: NINE,
        payload: { planId },
        timezone: TZ,
      });
      await prisma.quizDailyPlan.update({ where: { id: planId }, data: { itemId: id } });
    }
  } finally {
    await db.close();
  }
}

// ---- the load (this process) ----------------------------------------------------------------

interface Instance {
  child: ChildProcess;
  port: number;
  agent: Agent;
}

/** The bots' script: this file bundled as the bot ships (bench/shipped-build.ts), built once in main(). */
let serverScript = SELF;

function startInstance(dbUrl: string, fakeUrl: string): Promise<Instance & { next: <T>(ms?: number) => Promise<T> }> {
  const start = startCommand();
  const child = fork(serverScript, ['--serve', '--db', dbUrl, '--fake', fakeUrl], {
    execArgv: start.flags,
    env: { ...process.env, ...start.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox: unknown[] = [];
  const waiting: ((m: unknown) => void)[] = [];
  child.on('message', (m) => {
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  // An instance that does not answer within `ms` (a stuck stop, a loop held for minutes) fails the run.
  const next = <T>(ms = 180_000) =>
    new Promise<T>((resolve, reject) => {
      if (inbox.length) return resolve(inbox.shift() as T);
      const timer = setTimeout(() => reject(new Error(`instance ${child.pid} did not answer in ${ms / 1000} s`)), ms);
      waiting.push((m) => {
        clearTimeout(timer);
        resolve(m as T);
      });
      child.once('exit', (code) => reject(new Error(`instance exited with ${code}`)));
    });
  return next<{ port: number }>().then(({ port }) => ({
    child,
    port,
    next,
    // An idle socket is closed here before the bot closes it (it says "Keep-Alive: timeout=5"; node's
    // agent heeds that only when it has a timeout of its own): a click written just as the server
    // closed its idle socket was reset (read ECONNRESET, once in 350,000 in one run).
    agent: new Agent({ keepAlive: true, maxSockets: Infinity, timeout: 4_000 }),
  }));
}

function post(
  inst: Instance,
  headers: Record<string, string>,
  body: string,
  onWritten: () => void,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: inst.port, path: '/feishu/webhook', method: 'POST', headers, agent: inst.agent },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body, onWritten);
  });
}

/** Seconds from first to last send of the fastest schedule within 50 in any second and 1,000 in any minute. */
function bestSeconds(n: number): number {
  const t: number[] = [];
  for (let k = 0; k < n; k++) t.push(Math.max(k / 50, k >= 1000 ? t[k - 1000]! + 60 : 0));
  return t[n - 1]!;
}

const pct = (sorted: Float64Array, p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;

interface Click {
  due: number;
  member: number;
  position: number;
  wave: 0 | 1;
}

/** Deterministic shuffle, so every run asks the same members in the same order. */
function shuffled(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let seed = 20261123;
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

function plan(members: number, burstSeconds: number, restSeconds: number, fraction: number): Click[] {
  // With --answer-fraction < 1 only that share of the members answers (same halves, same spread).
  const order = shuffled(members).slice(0, Math.round(members * fraction));
  const half = Math.ceil(order.length / 2);
  const span = (QUESTIONS.single + QUESTIONS.truefalse + QUESTIONS.multiple - 1) * GAP_SECONDS;
  const clicks: Click[] = [];
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  order.forEach((member, k) => {
    const wave: 0 | 1 = k < half ? 0 : 1;
    // Wave 0 finishes its five answers within the burst; wave 1 starts after it, over the (compressed) hour.
    const start = wave === 0 ? rand() * (burstSeconds - span) : burstSeconds + rand() * Math.max(1, restSeconds - span);
    for (let p = 1; p <= 5; p++)
      clicks.push({ due: (start + (p - 1) * GAP_SECONDS) * 1000, member, position: p, wave });
  });
  return clicks.sort((a, b) => a.due - b.due);
}

async function main(): Promise<void> {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const sqlite = process.argv.includes('--sqlite');
  const members = arg('members', 70_000);
  const groups = arg('groups', 300);
  const burstSeconds = arg('burst-seconds', 120);
  const hourSeconds = arg('hour-seconds', 300);
  const connections = arg('connections', 8);
  const fraction = arg('answer-fraction', 1);
  if (!(fraction > 0 && fraction <= 1)) throw new Error('--answer-fraction must be in (0, 1]');
  const instancesWanted = arg('instances', sqlite ? 1 : 2);
  if (sqlite && instancesWanted !== 1) throw new Error('SQLite runs one instance (one writer process)');
  if (!(members >= groups && groups >= 1)) throw new Error('--members must be at least --groups, and --groups >= 1');
  const restSeconds = hourSeconds;
  serverScript = await bundleForBench(SELF);
  console.log(
    `province: ${members} members in ${groups} groups, ${sqlite ? 'SQLite, 1 instance' : `PostgreSQL, ${instancesWanted} instances`}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (fraction < 1)
    console.log(
      `  only ${(fraction * 100).toFixed(0)}% of the members answer (--answer-fraction ${fraction}): a scaled-down load`,
    );
  console.log(
    `  answers: half the members within the first ${burstSeconds} s (real time), the rest over the hour's remaining ${60 - burstSeconds / 60} minutes compressed into ${restSeconds} s (×${((3600 - burstSeconds) / restSeconds).toFixed(1)}); 5 clicks a member, ${GAP_SECONDS} s apart`,
  );

  let database: TestDatabase;
  let dir: string | undefined;
  if (sqlite) {
    dir = mkdtempSync(path.join(tmpdir(), 'shuxiang-province-'));
    database = { url: `file:${path.join(dir, 'province.db')}`, provider: 'sqlite', drop: async () => {} };
  } else if (process.env.DATABASE_URL?.startsWith('postgres')) {
    database = { url: process.env.DATABASE_URL, provider: 'postgresql', drop: async () => {} };
  } else {
    database = await createPostgresTestDatabase(
      process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test',
    );
  }
  void createSqliteTestDatabase; // (the SQLite file lives in `dir`, removed at the end)
  const fake = await startFakeFeishu({ appId: APP_ID, appSecret: APP_SECRET, botOpenId: BOT });
  // The groups' member lists, with the names the directory holds (the bot reads names from here).
  for (let g = 0; g < groups; g++) {
    const list: { open_id: string; name: string }[] = [];
    for (let m = g; m < members; m += groups) list.push({ open_id: openIdOf(m), name: nameOf(m) });
    fake.addChat({ chat_id: chatIdOf(g), name: `第${g + 1}党支部学习群`, members: list });
  }
  const instances: Awaited<ReturnType<typeof startInstance>>[] = [];
  let failed: boolean;
  try {
    let t0 = performance.now();
    await seed(database.url, members, groups);
    console.log(`  seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s (not measured)`);

    t0 = performance.now();
    for (let i = 0; i < instancesWanted; i++) instances.push(await startInstance(database.url, fake.url));
    console.log(`  ${instances.length} instance(s) up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // ---- 09:00: the push ----
    const realNine = Date.now() + 2000;
    for (const inst of instances) inst.child.send({ type: 'clock', offsetMs: NINE.getTime() - realNine });
    const cardsIn = () => fake.sent({ msg_type: 'interactive' }).filter((m) => m.chat_id.startsWith('oc_province_'));
    while (cardsIn().length < groups) {
      if (Date.now() - realNine > 15 * 60_000) throw new Error(`only ${cardsIn().length} of ${groups} cards in 15 min`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const cards = cardsIn().sort((a, b) => a.createdAt - b.createdAt);
    const pushDone = cards.at(-1)!.createdAt;
    const push = {
      fromNine: (pushDone - realNine) / 1000,
      firstToLast: (pushDone - cards[0]!.createdAt) / 1000,
      best: bestSeconds(groups),
    };

    // What each group's card offers, and the right answers (from the database, read once).
    const db = await openDatabase(database.url);
    const rounds = await db.prisma.quizRound.findMany({ where: { kind: 'daily' } });
    const rqs = await db.prisma.quizRoundQuestion.findMany({ where: { roundId: { in: rounds.map((r) => r.id) } } });
    const questions = new Map((await db.prisma.question.findMany()).map((q) => [q.id, q]));
    await db.close();
    const cardByChat = new Map(cards.map((c) => [c.chat_id, c]));
    const byChat = new Map<string, { messageId: string; roundId: string; positions: PositionInfo[] }>();
    for (const round of rounds) {
      const card = cardByChat.get(round.chatId!);
      if (!card) throw new Error(`no card reached ${round.chatId}`);
      const controls = cardControls(card.content);
      const positions = rqs
        .filter((r) => r.roundId === round.id)
        .sort((a, b) => a.position - b.position)
        .map((rq) => {
          const q = questions.get(rq.questionId)!;
          const c = controls.get(rq.position)!;
          return {
            position: rq.position,
            questionId: q.id,
            type: q.type as QuestionType,
            answer: decodeAnswer(q.type, q.answer),
            optionKeys: (JSON.parse(q.options) as { key: string }[]).map((o) => o.key),
            ...(Object.keys(c.buttons).length ? { buttons: c.buttons } : {}),
            ...(c.form ? { form: c.form } : {}),
          };
        });
      byChat.set(round.chatId!, { messageId: card.message_id, roundId: round.id, positions });
    }
    if (byChat.size !== groups) throw new Error(`${byChat.size} daily rounds for ${groups} groups`);

    // What the instances burn with nothing to do (pollers, ticks), to tell it from the answers' cost.
    const IDLE_MS = 5000;
    for (const inst of instances) inst.child.send({ type: 'cpu-start' });
    await new Promise((r) => setTimeout(r, IDLE_MS));
    let idleCpu = 0;
    for (const inst of instances) {
      inst.child.send({ type: 'cpu-stop' });
      idleCpu += (await inst.next<{ micros: number }>()).micros;
    }
    const idlePerSecond = idleCpu / (IDLE_MS / 1000);

    // ---- the answers ----
    const clicks = plan(members, burstSeconds, restSeconds, fraction);
    const n = clicks.length;
    const fromDue = new Float64Array(n).fill(NaN);
    const fromSent = new Float64Array(n).fill(NaN);
    const done = new Float64Array(n).fill(NaN);
    /** 1: the answer's result (right/wrong); 2: the "正在处理" toast (recorded, result later). */
    const acked = new Uint8Array(n);
    const others = new Map<string, number>();
    let misgraded = 0;
    for (const inst of instances) inst.child.send({ type: 'cpu-start' });
    const cpu0 = process.cpuUsage();
    const startAt = performance.now();
    const perInstance = instances.map((_, i) => clicks.map((_, k) => k).filter((k) => k % instances.length === i));
    const offset = NINE.getTime() - realNine;
    let progressAt = 0;
    const worker = async (inst: Instance, queue: number[], cursor: { at: number }) => {
      while (cursor.at < queue.length) {
        const k = queue[cursor.at++]!;
        const c = clicks[k]!;
        const wait = startAt + c.due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const g = c.member % groups;
        const chat = byChat.get(chatIdOf(g))!;
        const info = chat.positions[c.position - 1]!;
        const correct = (c.member * 7 + c.position * 13) % 10 < 7;
        const signed = signedAnswer({
          id: `prov-${k}`,
          info,
          choice: answerFor(info, correct, c.member),
          openId: openIdOf(c.member),
          tenant: TENANT,
          chatId: chatIdOf(g),
          cardMessageId: chat.messageId,
          now: Date.now() + offset,
        });
        let sentAt = performance.now();
        try {
          const res = await post(inst, signed.headers, signed.body, () => (sentAt = performance.now()));
          const end = performance.now();
          done[k] = end - startAt;
          fromDue[k] = end - (startAt + c.due);
          fromSent[k] = end - sentAt;
          const v = verdict(res.status, res.body);
          if (v.recorded) {
            acked[k] = 1;
            if (v.right !== correct) misgraded++;
          } else if (v.what === `info: ${SLOW}`) acked[k] = 2;
          else others.set(v.what, (others.get(v.what) ?? 0) + 1);
        } catch (err) {
          const what = `request failed: ${(err as Error).message}`;
          others.set(what, (others.get(what) ?? 0) + 1);
        }
        if (performance.now() - progressAt > 15_000) {
          progressAt = performance.now();
          const sent = done.reduce((s, d) => s + (Number.isNaN(d) ? 0 : 1), 0);
          console.log(
            `  … ${((performance.now() - startAt) / 1000).toFixed(0)} s: ${sent} of ${n} clicks answered, load ${loadavg()[0]!.toFixed(2)}`,
          );
        }
      }
    };
    await Promise.all(
      instances.flatMap((inst, i) => {
        const cursor = { at: 0 };
        return Array.from({ length: connections }, () => worker(inst, perInstance[i]!, cursor));
      }),
    );
    const loadSeconds = (performance.now() - startAt) / 1000;
    const clientCpu = process.cpuUsage(cpu0);
    let serverCpu = 0;
    let pushSends = 0;
    for (const inst of instances) {
      inst.child.send({ type: 'cpu-stop' });
      const r = await inst.next<{ micros: number; sent: number }>();
      serverCpu += r.micros;
      pushSends += r.sent;
    }
    const loadEnd = loadavg();
    for (const inst of instances) {
      inst.child.send({ type: 'stop' });
      await inst.next();
      inst.agent.destroy();
    }
    instances.length = 0;

    // ---- figures ----
    const waveStats = (wave: 0 | 1) => {
      const ks = clicks.map((c, k) => (c.wave === wave ? k : -1)).filter((k) => k >= 0);
      const lat = Float64Array.from(ks.map((k) => fromDue[k]!).filter((x) => !Number.isNaN(x))).sort();
      const svc = Float64Array.from(ks.map((k) => fromSent[k]!).filter((x) => !Number.isNaN(x))).sort();
      const ok = ks.filter((k) => acked[k]).length;
      const deferred = ks.filter((k) => acked[k] === 2).length;
      let firstDue = Infinity;
      let lastDue = 0;
      let lastDone = 0;
      for (const k of ks) {
        firstDue = Math.min(firstDue, clicks[k]!.due);
        lastDue = Math.max(lastDue, clicks[k]!.due);
        if (!Number.isNaN(done[k]!)) lastDone = Math.max(lastDone, done[k]!);
      }
      const late = lat.filter((x) => x > DEADLINE_MS).length;
      const offered = ks.length / ((lastDue - firstDue) / 1000);
      return { clicks: ks.length, ok, deferred, lat, svc, late, rate: ok / ((lastDone - firstDue) / 1000), offered };
    };
    const w0 = waveStats(0);
    const w1 = waveStats(1);
    let totalAcked = 0;
    for (const a of acked) if (a) totalAcked++;

    // ---- checks (the instances have stopped and flushed) ----
    const check = await openDatabase(database.url);
    // Answers still in the journal are folded as the next start-up would fold them.
    const unfolded = await check.prisma.quizJournal.count();
    await createAnswerStore({ db: check.prisma, provider: check.provider, log: createSilentLogger() }).settle();
    console.log(`  ${unfolded} answers were still in the journal when the instances stopped; folded for the checks`);
    const roundIds = rounds.map((r) => r.id);
    const memberOfId = new Map(Array.from({ length: members }, (_, i) => [memberIdOf(i), i]));
    const rows = await check.prisma.quizAnswer.findMany({
      where: { roundId: { in: roundIds } },
      select: { memberId: true, position: true, correct: true, points: true, voided: true },
    });
    const stored = new Map<string, number>();
    for (const r of rows) {
      const key = `${memberOfId.get(r.memberId)}|${r.position}`;
      stored.set(key, (stored.get(key) ?? 0) + 1);
    }
    const ackedKeys = clicks.filter((_, k) => acked[k]).map((c) => `${c.member}|${c.position}`);
    const missing = ackedKeys.filter((key) => !stored.has(key)).length;
    const twice = [...stored.values()].filter((v) => v > 1).length;
    const unacked = rows.length - ackedKeys.length;
    // Tallies against a recount of the answers (every answer is from today: one W, M and Y period).
    const recount = new Map<string, { correct: number; answered: number; points: number }>();
    for (const r of rows) {
      if (r.voided) continue;
      const t = recount.get(r.memberId) ?? { correct: 0, answered: 0, points: 0 };
      t.answered++;
      if (r.correct) t.correct++;
      t.points += r.points;
      recount.set(r.memberId, t);
    }
    const tallies = await check.prisma.quizTally.findMany({ where: { orgId: 'province-org', scope: 'member' } });
    const periods = [...new Set(tallies.map((t) => t.period))].sort();
    let tallyWrong = 0;
    for (const period of periods) {
      const mine = new Map(tallies.filter((t) => t.period === period).map((t) => [t.subjectId, t]));
      for (const [memberId, want] of recount) {
        const t = mine.get(memberId);
        if (!t || t.correct !== want.correct || t.answered !== want.answered || t.points !== want.points) tallyWrong++;
      }
      for (const [memberId, t] of mine) if (!recount.has(memberId) && t.answered !== 0) tallyWrong++;
    }
    if (periods.length !== 3) tallyWrong += 1;
    // Rank buckets: how many members have exactly `correct` right answers, per period.
    const buckets = await check.prisma.quizRankBucket.findMany({ where: { orgId: 'province-org', scope: 'member' } });
    let bucketWrong = 0;
    for (const period of periods) {
      const want = new Map<number, number>();
      for (const t of recount.values()) want.set(t.correct, (want.get(t.correct) ?? 0) + 1);
      const got = new Map(buckets.filter((b) => b.period === period).map((b) => [b.correct, b.count]));
      for (const c of new Set([...want.keys(), ...got.keys()]))
        if ((want.get(c) ?? 0) !== (got.get(c) ?? 0)) bucketWrong++;
    }
    const outboxLeft = await check.prisma.outboxMessage.count({ where: { status: { not: 'sent' } } });
    await check.close();
    // Sends: one daily card per group, no message delivered twice.
    const perChat = new Map<string, number>();
    for (const m of fake.messages.values()) perChat.set(m.chat_id, (perChat.get(m.chat_id) ?? 0) + 1);
    const cardsPerChat = [...perChat.values()];
    const sentTwice = cardsPerChat.filter((c) => c > 1).length;
    const noCard = groups - perChat.size;
    const sendCalls = fake.requests.filter((r) => r.method === 'POST' && r.path === '/open-apis/im/v1/messages').length;

    // ---- report ----
    const ms = (x: number) => `${x.toFixed(0)} ms`;
    const cpuAnswer = serverCpu / Math.max(1, totalAcked);
    const cpuAnswerNet = (serverCpu - idlePerSecond * loadSeconds) / Math.max(1, totalAcked);
    console.log('');
    console.log(
      `province burst: ${sqlite ? 'SQLite, 1 instance' : `PostgreSQL, ${instancesWanted} instances`}, ${members} members, ${groups} groups, ${connections} connections per instance, one run`,
    );
    console.log(
      `push at 09:00: ${groups} cards delivered ${push.fromNine.toFixed(1)} s after 09:00 (first to last ${push.firstToLast.toFixed(1)} s); fastest the platform limit allows ${push.best.toFixed(1)} s; ratio fastest/achieved ${(push.best / push.fromNine).toFixed(2)} (from 09:00), ${(push.best / Math.max(0.001, push.firstToLast)).toFixed(2)} (first to last); refused by the fake: app ${fake.limited.app}, group ${fake.limited.chat}`,
    );
    for (const [name, w] of [
      [`first ${burstSeconds} s`, w0],
      [`rest (${restSeconds} s)`, w1],
    ] as const) {
      console.log(
        `answers, ${name.padEnd(14)} ${w.ok} of ${w.clicks} acknowledged (${w.deferred} of them with "正在处理", the result later), offered ${w.offered.toFixed(0)}/s, achieved ${w.rate.toFixed(0)}/s; ack from due p50 ${ms(pct(w.lat, 50))} p99 ${ms(pct(w.lat, 99))} max ${ms(w.lat.at(-1) ?? NaN)}; from written p50 ${ms(pct(w.svc, 50))} p99 ${ms(pct(w.svc, 99))}; over Feishu's 3 s: ${w.late}`,
      );
    }
    if (others.size) console.log(`other replies: ${[...others.entries()].map(([k, v]) => `${v}× ${k}`).join('; ')}`);
    console.log(
      `server CPU: ${(serverCpu / 1e6).toFixed(1)} s over ${totalAcked} answers = ${cpuAnswer.toFixed(0)} µs per answer (all instances, from the first click to the last ack, incl. their background work; idle they burn ${(idlePerSecond / 1e3).toFixed(0)} ms/s, so ${cpuAnswerNet.toFixed(0)} µs per answer beyond idle); load generator ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(1)} s on the same cores; answering took ${loadSeconds.toFixed(0)} s; outbox sends ${pushSends}`,
    );
    console.log(`load average at the end ${loadEnd.map((l) => l.toFixed(2)).join(' ')}`);
    const checks: [string, boolean, string][] = [
      ['every acknowledged answer stored', missing === 0, `${ackedKeys.length} acknowledged, ${missing} missing`],
      [
        'stored once',
        twice === 0,
        `${rows.length} QuizAnswer rows, ${twice} (member, question) pairs twice, ${unacked} stored without an ack`,
      ],
      [
        'tallies = recount',
        tallyWrong === 0,
        `${recount.size} members × ${periods.length} periods (${periods.join(', ')}), ${tallyWrong} wrong`,
      ],
      ['rank buckets = recount', bucketWrong === 0, `${bucketWrong} wrong`],
      [
        'one card per group, nothing sent twice',
        sentTwice === 0 && noCard === 0,
        `${perChat.size} groups with messages, ${sentTwice} with more than one, ${noCard} with none; ${sendCalls} send calls`,
      ],
      ['outbox empty', outboxLeft === 0, `${outboxLeft} not sent`],
      [
        'every click answered and graded right',
        others.size === 0 && misgraded === 0,
        `${n - totalAcked} not acknowledged, ${misgraded} misgraded`,
      ],
    ];
    // What the clicks not acknowledged got instead (an error toast, a failed request).
    for (const [what, count] of others) console.log(`  not acknowledged: ${count} × ${what.slice(0, 160)}`);
    console.log('checks:');
    for (const [name, ok, detail] of checks) console.log(`  ${ok ? 'OK  ' : 'FAIL'} ${name}: ${detail}`);
    failed = checks.some(([, ok]) => !ok);
  } finally {
    for (const inst of instances) inst.child.kill('SIGKILL');
    await fake.close();
    await database.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

if (process.argv.includes('--serve')) {
  const at = (name: string) => process.argv[process.argv.indexOf(name) + 1]!;
  serveInstance(at('--db'), at('--fake')).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
