/**
 * bench:event-loop — does the process stay responsive while its heaviest
 * operations run? (issue 15, part 3)
 *
 * The whole bot runs in this process on a real HTTP port, as in production.
 * A worker thread (its own event loop, so it keeps time while the main loop
 * is held) sends a sandbox card click (the help card's 「我是谁」 button: the
 * dispatcher's dedupe write, identity, a toast) and a `GET /healthz` every
 * PROBE_MS and records how long each took. The main thread measures its own
 * loop with perf_hooks.monitorEventLoopDelay. Each heavy operation runs alone
 * while the probes continue:
 *
 *   first-contact  the directory lists a group of MEMBERS people on its
 *                  platform (a Feishu-like PlatformDirectory) and registers
 *                  them all (first contact with a big group)
 *   bank-import    a QUESTIONS-question XLSX bank sent as a file with 题库 导入
 *                  (through the dispatcher, as the adapters hand it over: the
 *                  sandbox HTTP body limit is 1 MB, a platform downloads files)
 *   test-export    测试 导出 of a closed test taken by EXAM_MEMBERS people
 *   void           作废 of one question of that test: every taker's week,
 *                  month and year tallies and rank buckets recomputed, the
 *                  results sheet re-issued
 *   yearbook       读书会 年鉴 of a year of 12 meetings of CLUB_MEMBERS members
 *                  (most signed in, two thirds of them writing notes): DOCX and
 *                  Markdown built and sent privately
 *
 * Targets: no stall over 200 ms (loop max), card acks under 1 s at p99.
 *
 *   npm run bench:event-loop
 *   MEMBERS=2000 QUESTIONS=2000 EXAM_MEMBERS=500 npm run bench:event-loop
 *   OPS=bank-import npm run bench:event-loop
 *   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test npm run bench:event-loop   # a fresh database on that server
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { serve } from '@hono/node-server';
import { loadConfig } from '../src/config.ts';
import { createDirectory } from '../src/features/org/directory.ts';
import { writeBankFile } from '../src/features/quiz/bank/file-format.ts';
import type { QuestionDraft } from '../src/features/quiz/bank/types.ts';
import { providerOf } from '../src/lib/db.ts';
import { createLogger, createSilentLogger } from '../src/lib/logger.ts';
import { createAnswerStore } from '../src/features/quiz/answer-store.ts';
import { createShuxiang, type Shuxiang } from '../src/main.ts';
import { cardActions, type Card, type InboundFile, type MessageEvent } from '../src/platforms/types.ts';
import { createPostgresTestDatabase } from '../test/helpers/databases.ts';

const MEMBERS = Number(process.env.MEMBERS ?? 20_000);
const QUESTIONS = Number(process.env.QUESTIONS ?? 20_000);
const EXAM_MEMBERS = Number(process.env.EXAM_MEMBERS ?? 5_000);
const EXAM_QUESTIONS = 10;
const CLUB_MEMBERS = Number(process.env.CLUB_MEMBERS ?? 300);
const CLUB_YEAR = 2025;
const PROBE_MS = Number(process.env.PROBE_MS ?? 100);
const OPS = (process.env.OPS ?? 'idle,first-contact,bank-import,test-export,void,yearbook').split(',').filter(Boolean);
const STALL_MS = 200;
const ACK_P99_MS = 1000;

const ORG = 'demo-org';
const GROUP = 'group-a';
const SECRETARY = 'sec-wang';
const EXAM_SEQ = 900;

// ---- probes (worker thread) ---------------------------------------------------------

/** Plain JavaScript: the worker is started from a string, so it needs no loader. */
const PROBE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { base, click, every } = workerData;
// Only requests sent between 'begin' and 'end' count, each in its phase's bucket;
// a backlog left by the set-up is drained before a phase begins.
let epoch = 0;
const buckets = new Map();
const inFlight = new Set();
function fire(kind, url, init) {
  const t0 = performance.now();
  const bucket = buckets.get(epoch);
  const p = fetch(url, init)
    .then(async (res) => { await res.arrayBuffer(); return res.ok; })
    .catch(() => false)
    .then((ok) => { if (bucket) bucket[kind].push({ ms: performance.now() - t0, ok }); inFlight.delete(p); });
  inFlight.add(p);
}
const timer = setInterval(() => {
  fire('healthz', base + '/healthz');
  fire('ack', base + '/sandbox/api/actions', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(click),
  });
}, every);
parentPort.on('message', async (m) => {
  if (m === 'begin') {
    while (inFlight.size) await Promise.all([...inFlight]);
    epoch++;
    buckets.set(epoch, { ack: [], healthz: [] });
    parentPort.postMessage('begun');
  }
  if (m === 'end') {
    const phase = epoch++;
    await Promise.all([...inFlight]);
    parentPort.postMessage(buckets.get(phase));
    buckets.delete(phase);
  }
  if (m === 'exit') { clearInterval(timer); await Promise.all([...inFlight]); process.exit(0); }
});
parentPort.postMessage('ready');
`;

interface Sample {
  ms: number;
  ok: boolean;
}

function startProbes(base: string, click: unknown) {
  const worker = new Worker(PROBE_WORKER, { eval: true, workerData: { base, click, every: PROBE_MS } });
  const next = () => new Promise<unknown>((resolve) => worker.once('message', resolve));
  return {
    ready: next(),
    async begin() {
      const reply = next();
      worker.postMessage('begin');
      await reply;
    },
    async end(): Promise<{ ack: Sample[]; healthz: Sample[] }> {
      const reply = next();
      worker.postMessage('end');
      return (await reply) as { ack: Sample[]; healthz: Sample[] };
    },
    async stop() {
      worker.postMessage('exit');
      await new Promise((r) => worker.once('exit', r));
    },
  };
}

// ---- figures ------------------------------------------------------------------------

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (n: number) => (Number.isNaN(n) ? '-' : n >= 10_000 ? `${(n / 1000).toFixed(1)}s` : `${Math.round(n)}`);

function latency(samples: Sample[]) {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return {
    n: samples.length,
    failed: samples.filter((s) => !s.ok).length,
    p50: pct(sorted, 50),
    p99: pct(sorted, 99),
    max: sorted.at(-1) ?? NaN,
  };
}

// ---- the bot under test -----------------------------------------------------------------

async function openBot(): Promise<{ shuxiang: Shuxiang; base: string; drop(): Promise<void> }> {
  const given = process.env.DATABASE_URL;
  let url: string;
  let drop: () => Promise<void>;
  if (given && providerOf(given) === 'postgresql') {
    const db = await createPostgresTestDatabase(given);
    url = db.url;
    drop = db.drop;
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), 'shuxiang-loop-'));
    url = `file:${path.join(dir, 'loop.db')}`;
    drop = async () => rmSync(dir, { recursive: true, force: true });
  }
  const config = loadConfig({
    DATABASE_URL: url,
    LOG_LEVEL: 'silent',
    NODE_ENV: 'production',
    SHUXIANG_TIMEZONE: 'Asia/Shanghai',
    // No platform configured: the sandbox is on and, as a local demo, not rate-capped.
  });
  const shuxiang = await createShuxiang(config, { log: createLogger({ level: process.env.LOG_LEVEL ?? 'silent' }) });
  shuxiang.start();
  const port = await new Promise<number>((resolve) => {
    serve({ fetch: shuxiang.app.fetch, port: 0, hostname: '127.0.0.1' }, (i) => resolve(i.port));
  });
  return { shuxiang, base: `http://127.0.0.1:${port}`, drop };
}

async function api<T>(base: string, pathname: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${pathname}`, {
    method: body ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${pathname} ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** The help card's 「我是谁」 button, as m-li would click it. */
async function probeClick(base: string) {
  await api(base, '/sandbox/api/messages', { chatId: GROUP, userId: 'm-li', text: '帮助' });
  // The card reaches the transcript through the outbox worker: wait for it.
  let card: { messageId: string; card?: Card; from: string } | undefined;
  for (let i = 0; i < 100 && !card; i++) {
    const list = await api<{ messageId: string; card?: Card; from: string }[]>(
      base,
      `/sandbox/api/chats/${GROUP}/messages`,
    );
    card = list.findLast((m) => m.from === 'bot' && m.card);
    if (!card) await new Promise((r) => setTimeout(r, 100));
  }
  if (!card) throw new Error('no help card in the transcript');
  const target = cardActions(card.card!).find((a) => a.actionId === 'org.whoami');
  if (!target) throw new Error('the help card has no 我是谁 button');
  return { chatId: GROUP, userId: 'm-li', messageId: card.messageId, ...target };
}

/** What the sandbox adapter hands the dispatcher when the secretary writes in the group. */
function secretarySays(text: string, files?: InboundFile[]): MessageEvent {
  return {
    type: 'message',
    platform: 'sandbox',
    tenant: 'demo',
    eventKey: `bench-${text}-${Math.random()}`,
    chat: { id: GROUP, kind: 'group', title: '第一党支部学习群' },
    sender: { id: SECRETARY, name: '王书记' },
    text,
    mentions: [],
    mentionedBot: true,
    receivedAt: new Date(),
    ...(files ? { files } : {}),
  };
}

async function lastBotText(base: string, db: Shuxiang['db']['prisma']): Promise<string> {
  // The reply goes out through the outbox after the command returns: wait for it (up to 10 s)
  // so the line shows this operation's reply, not the previous one's.
  for (let i = 0; i < 100; i++) {
    if ((await db.outboxMessage.count({ where: { status: { in: ['pending', 'sending'] } } })) === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const list = await api<{ from: string; text?: string; card?: Card }[]>(base, `/sandbox/api/chats/${GROUP}/messages`);
  const last = list.findLast((m) => m.from === 'bot');
  return (last?.text ?? JSON.stringify(last?.card ?? '')).slice(0, 60).replace(/\s+/g, ' ');
}

// ---- data for the heavy operations --------------------------------------------------------

function bankDrafts(n: number): QuestionDraft[] {
  return Array.from({ length: n }, (_, i) => {
    const kind = i % 4;
    const tags = [`专题${i % 12}`];
    const base = {
      explanation: `第${i}题的解析：依据党章和有关规定。`,
      tags,
      difficulty: (i % 3) + 1,
      source: '压测题库',
    };
    if (kind === 0 || kind === 1) {
      return {
        ...base,
        type: kind === 0 ? 'single' : 'multiple',
        stem: `压测题目第${i}题：下列关于学习教育的表述，哪些是正确的？`,
        options: ['A', 'B', 'C', 'D'].map((key) => ({ key, text: `第${i}题选项${key}的内容` })),
        answer: kind === 0 ? ['B'] : ['A', 'C'],
      } satisfies QuestionDraft;
    }
    if (kind === 2) {
      return { ...base, type: 'truefalse', stem: `压测判断第${i}题：这个说法正确。`, options: [], answer: ['true'] };
    }
    return {
      ...base,
      type: 'fill',
      stem: `压测填空第${i}题：____是根本宗旨。`,
      options: [],
      answer: ['全心全意为人民服务'],
    };
  });
}

/** A closed test in the demo organisation, taken by `n` people, each answering every question. */
async function seedClosedTest(shuxiang: Shuxiang, n: number): Promise<void> {
  const db = shuxiang.db.prisma;
  const answers = createAnswerStore({ db, provider: shuxiang.db.provider, log: createSilentLogger() });
  const opensAt = new Date(Date.now() - 3 * 3600_000);
  const roundId = 'bench-test-round';
  const questions = Array.from({ length: EXAM_QUESTIONS }, (_, i) => ({
    id: `bench-q-${i}`,
    orgId: ORG,
    type: 'truefalse',
    stem: `考试题${i}：这个说法正确。`,
    options: '[]',
    answer: '["true"]',
    fingerprint: `bench-fp-${i}`,
  }));
  await db.question.createMany({ data: questions });
  await db.quizRound.create({
    data: {
      id: roundId,
      orgId: ORG,
      seq: EXAM_SEQ,
      kind: 'test',
      platform: 'sandbox',
      chatId: GROUP,
      title: '压测月考',
      status: 'closed',
      settings: JSON.stringify({ minutes: 30, makeupHours: 0 }),
      opensAt,
      closesAt: new Date(opensAt.getTime() + 3600_000),
      createdBy: `demo-member-${SECRETARY}`,
    },
  });
  await db.quizRoundQuestion.createMany({
    data: questions.map((q, i) => ({
      roundId,
      position: i + 1,
      questionId: q.id,
      status: 'closed',
      openedAt: opensAt,
    })),
  });
  const units = ['demo-unit-office', 'demo-unit-study'];
  const chunk = 500;
  for (let from = 0; from < n; from += chunk) {
    const people = Array.from({ length: Math.min(chunk, n - from) }, (_, k) => {
      const i = from + k;
      return { id: `bench-m-${i}`, unitId: units[i % 2]!, i };
    });
    // Feishu members of the demo organisation: the sandbox page lists only sandbox ones.
    await db.member.createMany({
      data: people.map((p) => ({
        id: p.id,
        orgId: ORG,
        platform: 'feishu',
        platformUserId: `ou_exam_${p.i}`,
        displayName: `考生${String(p.i).padStart(5, '0')}`,
        unitId: p.unitId,
      })),
    });
    await db.quizInvite.createMany({ data: people.map((p) => ({ roundId, memberId: p.id, orgId: ORG })) });
    await db.quizAttempt.createMany({
      data: people.map((p) => ({
        id: `bench-at-${p.i}`,
        orgId: ORG,
        roundId,
        memberId: p.id,
        startedAt: new Date(opensAt.getTime() + (p.i % 600) * 1000),
        deadline: new Date(opensAt.getTime() + 3600_000),
        finishedAt: new Date(opensAt.getTime() + (p.i % 600) * 1000 + 900_000),
        status: 'submitted',
      })),
    });
    // Through the answer store, as live answers are written: tallies and rank buckets with them.
    await answers.writeBatch(
      people.flatMap((p) =>
        questions.map((q, qi) => ({
          orgId: ORG,
          roundId,
          questionId: q.id,
          position: qi + 1,
          memberId: p.id,
          unitId: p.unitId,
          attemptId: `bench-at-${p.i}`,
          response: ['true'],
          correct: (p.i + qi) % 3 !== 0,
          points: (p.i + qi) % 3 !== 0 ? 10 : 0,
          elapsedMs: 5000,
          answeredAt: new Date(opensAt.getTime() + (p.i % 600) * 1000 + qi * 60_000),
          timezone: 'Asia/Shanghai',
        })),
      ),
    );
  }
}

/**
 * A year of the reading club in the demo organisation: CLUB_MEMBERS members,
 * 12 monthly meetings, most members signed in and many writing notes of a
 * few paragraphs (what a branch's yearbook holds).
 */
async function seedClubYear(shuxiang: Shuxiang, members: number, year: number): Promise<void> {
  const db = shuxiang.db.prisma;
  const units = ['demo-unit-office', 'demo-unit-study'];
  await db.member.createMany({
    data: Array.from({ length: members }, (_, i) => ({
      id: `club-m-${i}`,
      orgId: ORG,
      platform: 'feishu',
      platformUserId: `ou_club_${i}`,
      displayName: `读者${String(i).padStart(3, '0')}`,
      unitId: units[i % 2]!,
    })),
  });
  for (let month = 1; month <= 12; month++) {
    const id = `club-s-${month}`;
    const startsAt = new Date(`${year}-${String(month).padStart(2, '0')}-15T11:00:00Z`);
    await db.clubSession.create({
      data: {
        id,
        orgId: ORG,
        seq: 800 + month,
        year,
        month,
        theme: `第${month}期：《习近平谈治国理政》选读`,
        startsAt,
        place: '三楼会议室',
        platform: 'sandbox',
        chatId: GROUP,
        createdBy: `demo-member-${SECRETARY}`,
      },
    });
    const present = Array.from({ length: members }, (_, i) => i).filter((i) => (i + month) % 6 !== 0);
    await db.clubCheckin.createMany({
      data: present.map((i) => ({ sessionId: id, memberId: `club-m-${i}`, unitId: units[i % 2]!, at: startsAt })),
    });
    // About two thirds of those present write a note: three paragraphs of a few sentences.
    const para = (i: number, k: number) =>
      `第${k}段：读者${i}在第${month}期学习中体会到，理论学习要联系实际，做到学思用贯通、知信行统一。`.repeat(3);
    await db.clubNote.createMany({
      data: present
        .filter((i) => i % 3 !== 0)
        .map((i) => ({
          id: `club-n-${month}-${i}`,
          sessionId: id,
          memberId: `club-m-${i}`,
          text: [1, 2, 3].map((k) => para(i, k)).join('\n'),
          createdAt: new Date(startsAt.getTime() + 86_400_000 + i * 1000),
          updatedAt: new Date(startsAt.getTime() + 86_400_000 + i * 1000),
        })),
    });
  }
}

// ---- the run -------------------------------------------------------------------------------

interface Op {
  name: string;
  size: string;
  prepare?: () => Promise<void>;
  run: () => Promise<void>;
  check: () => Promise<string>;
}

async function main(): Promise<void> {
  const { shuxiang, base, drop } = await openBot();
  const db = shuxiang.db.prisma;
  const bot = shuxiang.bot.dispatcher;
  const click = await probeClick(base);
  const probes = startProbes(base, click);
  await probes.ready;
  console.log(
    `bench:event-loop on ${shuxiang.db.provider}, probes every ${PROBE_MS} ms (a card click and GET /healthz); ` +
      `targets: loop max <= ${STALL_MS} ms, ack p99 < ${ACK_P99_MS} ms`,
  );

  let bankFile: Buffer | undefined;
  let firstContactOrg = '';
  const listed = Array.from({ length: MEMBERS }, (_, i) => ({ id: `ou_big_${i}`, name: `群成员${i}` }));
  const bigDirectory = createDirectory({
    db,
    defaultTimezone: 'Asia/Shanghai',
    admins: [],
    defaultOrgName: '省直机关',
    provider: shuxiang.db.provider,
    // The platform's list arrives as Feishu's paged API would return it, already fetched.
    listChatMembers: async () => listed,
  });

  const ops: Op[] = [
    {
      name: 'idle',
      size: '3 s, nothing running',
      run: () => new Promise((r) => setTimeout(r, 3000)),
      check: async () => 'baseline',
    },
    {
      name: 'first-contact',
      size: `${MEMBERS} members`,
      async prepare() {
        ({ orgId: firstContactOrg } = await bigDirectory.registerChat({
          platform: 'feishu',
          tenant: 'bench-big',
          platformChatId: 'oc_big',
          kind: 'group',
          title: '两万人大群',
        }));
      },
      run: async () => void (await bigDirectory.chatMembers(firstContactOrg, 'feishu', 'oc_big')),
      check: async () => `${await db.member.count({ where: { orgId: firstContactOrg } })} members registered`,
    },
    {
      name: 'bank-import',
      size: `${QUESTIONS} questions, XLSX`,
      async prepare() {
        bankFile = await writeBankFile('xlsx', bankDrafts(QUESTIONS));
      },
      run: () =>
        bot.handleMessage(
          secretarySays('题库 导入', [{ name: '压测题库.xlsx', size: bankFile!.length, read: async () => bankFile! }]),
        ),
      check: async () =>
        `${await db.question.count({ where: { orgId: ORG, source: '压测题库' } })} stored; bot: ${await lastBotText(base, db)}`,
    },
    {
      name: 'test-export',
      size: `${EXAM_MEMBERS} takers`,
      prepare: () => seedClosedTest(shuxiang, EXAM_MEMBERS),
      run: () => bot.handleMessage(secretarySays(`测试 导出 ${EXAM_SEQ}`)),
      check: async () => `${await db.fileChunk.count()} file chunks; bot: ${await lastBotText(base, db)}`,
    },
    {
      name: 'void',
      size: `${EXAM_MEMBERS} takers`,
      async prepare() {
        if (!(await db.quizRound.findUnique({ where: { id: 'bench-test-round' } })))
          await seedClosedTest(shuxiang, EXAM_MEMBERS);
      },
      run: () => bot.handleMessage(secretarySays(`作废 ${EXAM_SEQ} 1`)),
      check: async () =>
        `${await db.quizTally.count({ where: { orgId: ORG } })} tallies; bot: ${await lastBotText(base, db)}`,
    },
    {
      name: 'yearbook',
      size: `12 meetings, ${CLUB_MEMBERS} members`,
      prepare: () => seedClubYear(shuxiang, CLUB_MEMBERS, CLUB_YEAR),
      run: () => bot.handleMessage(secretarySays(`读书会 年鉴 ${CLUB_YEAR}`)),
      check: async () =>
        `${await db.clubNote.count({ where: { session: { year: CLUB_YEAR } } })} notes; ${await db.outboxMessage.count({ where: { body: { contains: '.docx' } } })} messages with a docx`,
    },
  ];

  const histogram = monitorEventLoopDelay({ resolution: 10 });
  // The histogram samples only when its timer gets to run: a loop held for the whole
  // operation records nothing. A ticker's longest gap (closed at the end) sees that too.
  let lastTick = 0;
  let longestGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - lastTick);
    lastTick = now;
  }, 5);
  let failures = 0;
  for (const op of ops.filter((o) => OPS.includes(o.name))) {
    await op.prepare?.();
    // Let the outbox and the probes settle before measuring.
    await new Promise((r) => setTimeout(r, 500));
    await probes.begin();
    histogram.reset();
    histogram.enable();
    const t0 = performance.now();
    lastTick = t0;
    longestGap = 0;
    await op.run();
    const took = performance.now() - t0;
    histogram.disable();
    const stall = Math.max(longestGap, performance.now() - lastTick);
    const samples = await probes.end();
    const loopMax = Math.max(stall, histogram.max / 1e6);
    const loopP99 = histogram.percentile(99) / 1e6;
    const ack = latency(samples.ack);
    const health = latency(samples.healthz);
    const pass = loopMax <= STALL_MS && ack.p99 < ACK_P99_MS && ack.failed === 0;
    if (!pass) failures++;
    console.log(
      `${op.name.padEnd(13)} ${op.size.padEnd(22)} ${(took / 1000).toFixed(2).padStart(6)} s | ` +
        `loop max ${ms(loopMax)} p99 ${ms(loopP99)} ms | ` +
        `ack p50/p99/max ${ms(ack.p50)}/${ms(ack.p99)}/${ms(ack.max)} ms (n=${ack.n}${ack.failed ? `, ${ack.failed} failed` : ''}) | ` +
        `healthz p50/p99/max ${ms(health.p50)}/${ms(health.p99)}/${ms(health.max)} ms | ${pass ? 'PASS' : 'FAIL'}`,
    );
    console.log(`  ${await op.check()}`);
  }
  clearInterval(ticker);
  await probes.stop();
  await shuxiang.stop();
  await drop();
  process.exit(failures ? 1 : 0);
}

await main();
