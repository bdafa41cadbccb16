// Feishu ingest benchmark: encrypted, signed card.action.trigger callbacks
// fired with autocannon at three servers, one after the other, in one run:
//   bare     — a Hono route on @hono/node-server that only answers 200 (the machine's ceiling)
//   sdk      — the SDK's adaptDefault + EventDispatcher on node:http, answering with a
//              toast and recording nothing (the platform's own cost)
//   sdk-prisma — the same SDK path writing each answer with Prisma in its own transaction
//              (dedupe row, answer, three tallies): what one would otherwise build
//   sdk-journal — the same SDK path appending each answer, keyed by its callback token, to
//              one SQLite table with better-sqlite3, group-committed, before the toast: the
//              floor of any durably recorded answer (no answer-once check, grading, identity,
//              tallies or folding), so the distance between sdk and shuxiang can be split
//              into what durability itself costs and what everything else does
//   shuxiang — the whole bot (createShuxiang, SQLite) answering real daily-practice
//              (每日一练) questions: verify, decrypt, check the seal, dedupe the event,
//              resolve the member, check the round, grade, durably append the answer to
//              the answer journal (group-committed; folded into QuizAnswer, tallies and
//              mistakes behind it) and only then reply with the "第N题 回答正确/错误" toast.
//              Its CPU per answer includes folding, after the run, what the run left.
// The shuxiang child is set up the way a branch would use it (bench/feishu-ingest-quiz.ts):
// a clock that starts on a working-day morning (Mon 2026-11-23 08:59 Asia/Shanghai) and
// ticks in real time, the fake Feishu OpenAPI holding the group and its members, the
// secretary (SHUXIANG_ADMINS) @-mentioning the bot through the webhook, 20 questions of
// mixed types imported through the bank, `每日一练 开启 09:00 20`, then the clock moved
// past 09:00 and the scheduler and outbox run, so the daily card reaches the fake. The
// members (--members, default 20,000, bulk-created in the chat's organisation) answer with
// the button values and forms taken from that card. Each (member, question) pair is
// answered at most once across the warm-up, the throughput runs, the 1,000 req/s run and
// the crash run (a repeated pair would take the cheaper "already answered" path).
// The SDK and shuxiang are measured in --rounds (3) pairs, the SDK then shuxiang, and the
// round with the median ratio stands for the run: this machine's speed drifts by a third
// within minutes, and one pair measured minutes apart gave anything from 1.95x to 4.3x on
// one day.
// Each server runs in its own child process, from this file bundled as the bot ships and run
// by plain node (bench/shipped-build.ts); autocannon runs here. After the
// shuxiang runs the child is killed with SIGKILL under load (a crash) and the
// database is opened again to check that every acknowledged answer is in QuizAnswer.
//   npm run bench:feishu-ingest [-- --seconds 10 --connections 50 --members 20000]
// Targets (issue 4): shuxiang >= 1.2x sdk and >= 0.3x bare; p99 < 50 ms at 1,000 req/s.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lark from '@larksuiteoapi/node-sdk';
import { serve } from '@hono/node-server';
import autocannon from 'autocannon';
import { Hono } from 'hono';
import { createAnswerStore } from '../src/features/quiz/answer-store.ts';
import { isUniqueViolation, openDatabase } from '../src/lib/db.ts';
import { createSilentLogger } from '../src/lib/logger.ts';
import { createMigrator } from '../src/lib/migrator.ts';
import { createValueSealer, encryptFeishu, feishuSignature } from '../src/platforms/feishu/crypto.ts';
import {
  APP_ID,
  CardRefused,
  FULL_MIX,
  ONE_FORM_MIX,
  formatMix,
  parseMix,
  APP_SECRET,
  CHAT,
  ENCRYPT_KEY,
  TOKEN,
  createAnswerPool,
  startQuizServer,
  statementTexts,
  verdict,
  type Built as Answer,
  type Mix,
  type QuizSetup,
} from './feishu-ingest-quiz.ts';
import { bundleForBench, describeStart, startCommand } from './shipped-build.ts';

const SELF = fileURLToPath(import.meta.url);

type Kind = 'bare' | 'sdk' | 'sdk-prisma' | 'sdk-journal' | 'shuxiang';

// ---- servers (child processes) -------------------------------------------------------

/** A card callback as the SDK hands it to a handler (the fields the bench's baselines read). */
interface SdkCard {
  token: string;
  operator: { open_id: string };
  action: { value: { p: { r: string; p: number; c: string } } };
}

/** The SDK's own webhook path (adaptDefault + EventDispatcher on node:http) answering clicks with `onCard`. */
async function serveSdk(onCard: (data: SdkCard) => Promise<object>): Promise<void> {
  const dispatcher = new lark.EventDispatcher({
    encryptKey: ENCRYPT_KEY,
    verificationToken: TOKEN,
    loggerLevel: lark.LoggerLevel.error,
  }).register({ 'card.action.trigger': onCard } as unknown as Parameters<lark.EventDispatcher['register']>[0]);
  const handler = lark.adaptDefault('/feishu/webhook', dispatcher, { autoChallenge: true });
  const server = createServer((req, res) => void handler(req, res));
  const port = await listen((p, done) =>
    server.listen(p, '127.0.0.1', () => done((server.address() as { port: number }).port)),
  );
  process.send?.({ port });
}

async function serveKind(kind: Kind, dbUrl: string, members: number, mix: Mix): Promise<void> {
  let statements = () => 0;
  let foldMicros = () => 0;
  // shuxiang: fold the answer journal (what is still owed for the answers acknowledged).
  let settle = async () => {};
  if (kind === 'bare') {
    const app = new Hono();
    app.post('/feishu/webhook', (c) => c.json({}));
    const port = await listen((p, done) =>
      serve({ fetch: app.fetch, port: p, hostname: '127.0.0.1' }, (i) => done(i.port)),
    );
    process.send?.({ port });
  } else if (kind === 'sdk') {
    await serveSdk(async () => ({ toast: { type: 'success', content: '已记录' } }));
  } else if (kind === 'sdk-journal') {
    const { default: Sqlite } = await import('better-sqlite3');
    const conn = new Sqlite(dbUrl.replace(/^file:/, ''));
    // As lib/db.ts sets up the bot's connection: WAL, synchronous NORMAL.
    conn.pragma('journal_mode = WAL');
    conn.pragma('synchronous = NORMAL');
    conn.exec(
      'CREATE TABLE Answer (eventKey TEXT PRIMARY KEY, roundId TEXT NOT NULL, position INTEGER NOT NULL, memberId TEXT NOT NULL, choice TEXT NOT NULL, answeredAt INTEGER NOT NULL)',
    );
    const insert = conn.prepare('INSERT INTO Answer VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
    type Pending = { row: unknown[]; done: (fresh: boolean) => void };
    const commit = conn.transaction((batch: Pending[]) => batch.map((b) => insert.run(...b.row).changes === 1));
    let queue: Pending[] = [];
    // Group commit: whatever arrived in one turn of the event loop, one transaction (by hand,
    // not lib/write-batcher.ts: the floor carries none of the bot's machinery).
    const append = (row: unknown[]) =>
      new Promise<boolean>((done) => {
        queue.push({ row, done });
        if (queue.length > 1) return;
        setImmediate(() => {
          const batch = queue;
          queue = [];
          commit(batch).forEach((fresh, i) => batch[i]!.done(fresh));
        });
      });
    await serveSdk(async (data) => {
      const { r, p, c } = data.action.value.p;
      const fresh = await append([data.token, r, p, data.operator.open_id, c, Date.now()]);
      return { toast: fresh ? { type: 'success', content: '已记录' } : { type: 'info', content: '已作答' } };
    });
  } else if (kind === 'sdk-prisma') {
    // What one would otherwise build: the SDK's path, each answer written with
    // Prisma in its own transaction (the event's dedupe row, the answer, the
    // member's week, month and year tallies) before the toast.
    const db = await openDatabase(dbUrl);
    await createMigrator(db, undefined).migrate();
    const prisma = db.prisma;
    let n = 0;
    await serveSdk(async (data) => {
      const now = new Date();
      const { r, p, c } = data.action.value.p;
      const member = data.operator.open_id;
      const tally = (period: string) =>
        prisma.quizTally.upsert({
          where: { orgId_period_scope_subjectId: { orgId: 'bench', period, scope: 'member', subjectId: member } },
          create: {
            orgId: 'bench',
            period,
            scope: 'member',
            subjectId: member,
            correct: 1,
            answered: 1,
            points: 10,
            reachedAt: now,
          },
          update: {
            correct: { increment: 1 },
            answered: { increment: 1 },
            points: { increment: 10 },
            reachedAt: now,
          },
        });
      try {
        await prisma.$transaction([
          prisma.inboundEvent.create({ data: { platform: 'feishu', eventKey: data.token, receivedAt: now } }),
          prisma.quizAnswer.create({
            data: {
              id: `a${++n}-${process.pid}`,
              orgId: 'bench',
              roundId: r,
              // One question per callback, so every request writes a new answer.
              questionId: data.token,
              position: p,
              memberId: member,
              response: JSON.stringify([c]),
              correct: true,
              points: 10,
              elapsedMs: 0,
              answeredAt: now,
            },
          }),
          tally('2026-W48'),
          tally('2026-11'),
          tally('2026'),
        ]);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        return { toast: { type: 'info', content: '已作答' } };
      }
      return { toast: { type: 'success', content: '已记录' } };
    });
  } else {
    const started = await startQuizServer(dbUrl, members, mix).catch((err: unknown) => {
      if (err instanceof CardRefused) {
        process.send?.({ refused: err.message }, () => process.exit(3));
        return new Promise<never>(() => {});
      }
      throw err;
    });
    statements = started.statements;
    foldMicros = started.foldMicros;
    settle = () => started.shuxiang.bot.settle();
    process.send?.({ port: started.setup.port, setup: started.setup });
  }
  // BENCH_PROF=dir: a CPU profile and an allocation profile of the measured run only (not start-up or warm-up).
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  let profiles = 0;
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const loop = monitorEventLoopDelay({ resolution: 1 });

  let cpuAtStart = process.cpuUsage();
  let statementsAtStart = statements();
  let foldAtStart = foldMicros();
  process.on('message', (m) => {
    void (async () => {
      // CPU time of the server during the measured run: robust on a shared, busy machine.
      if (m === 'cpu-start') {
        cpuAtStart = process.cpuUsage();
        statementsAtStart = statements();
        foldAtStart = foldMicros();
        statementTexts?.clear();
      }
      if (m === 'cpu-stop') {
        const used = process.cpuUsage(cpuAtStart);
        // The answers acknowledged in the run are only paid for once folded: that CPU counts too.
        await settle();
        const settled = process.cpuUsage(cpuAtStart);
        process.send?.({
          cpuMicros: settled.user + settled.system,
          runMicros: used.user + used.system,
          foldMicros: foldMicros() - foldAtStart,
          statements: statements() - statementsAtStart,
        });
        const top = [...(statementTexts ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 25);
        for (const [sql, k] of top) process.stderr.write(`${k}\t${sql}\n`);
      }
      // The server's event loop during a run: how long a webhook can wait behind other work.
      if (m === 'loop-start') {
        loop.reset();
        loop.enable();
      } else if (m === 'loop-stop') {
        loop.disable();
        const ms = (ns: number) => ns / 1e6;
        process.send?.({ loop: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) } });
      }
      if (m === 'profile-start') {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
        // Where the garbage comes from (the collector is 7-9 % of the bot's CPU): a sample every 32 KB allocated.
        await session.post('HeapProfiler.startSampling', {
          samplingInterval: 32_768,
          // Everything allocated, not only what is still alive when the run ends.
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        });
      } else if (m === 'profile-stop') {
        const { profile } = await session.post('Profiler.stop');
        const { profile: allocations } = await session.post('HeapProfiler.stopSampling');
        session.disconnect();
        const { mkdirSync, writeFileSync } = await import('node:fs');
        mkdirSync(process.env.BENCH_PROF!, { recursive: true });
        // One file per measured run (the paired rounds measure the same child again).
        const name = `${kind}-${++profiles}`;
        writeFileSync(path.join(process.env.BENCH_PROF!, `${name}.cpuprofile`), JSON.stringify(profile));
        writeFileSync(path.join(process.env.BENCH_PROF!, `${name}.heapprofile`), JSON.stringify(allocations));
        process.send?.('profiled');
      }
    })();
  });
}

function listen(start: (port: number, done: (port: number) => void) => void): Promise<number> {
  return new Promise((resolve) => start(0, resolve));
}

// ---- load (this process) ---------------------------------------------------------------

interface Built {
  id: string;
  headers: Record<string, string>;
  body: string;
}

/** n distinct callbacks for the bare and sdk servers (fresh event ids), encrypted and signed as Feishu does. */
function buildCallbacks(n: number): Built[] {
  const sealer = createValueSealer(APP_SECRET);
  // The size and shape of a daily-practice button value.
  const payload = { v: 1, r: randomBytes(12).toString('hex'), p: 7, c: 'B' };
  const value = { a: 'quiz.answer', p: payload, s: sealer.seal('quiz.answer', payload, `chat:${CHAT}`) };
  const ts = String(Math.floor(Date.now() / 1000));
  const out: Built[] = [];
  for (let i = 0; i < n; i++) {
    const id = `bench-${i}-${randomBytes(6).toString('hex')}`;
    const env = {
      schema: '2.0',
      header: {
        event_id: id,
        token: TOKEN,
        create_time: String(Date.now() * 1000),
        event_type: 'card.action.trigger',
        tenant_key: 'bench-tenant',
        app_id: APP_ID,
      },
      event: {
        operator: { tenant_key: 'bench-tenant', open_id: `ou_bench_${i % 300}`, union_id: 'on_x', user_id: 'u_x' },
        token: `c-${randomBytes(16).toString('hex')}`,
        action: { value, tag: 'button' },
        host: 'im_message',
        context: { open_message_id: 'om_bench_card', open_chat_id: CHAT },
      },
    };
    const body = JSON.stringify({ encrypt: encryptFeishu(ENCRYPT_KEY, JSON.stringify(env)) });
    const nonce = randomBytes(8).toString('hex');
    out.push({
      id,
      body,
      headers: {
        'content-type': 'application/json',
        'x-lark-request-timestamp': ts,
        'x-lark-request-nonce': nonce,
        'x-lark-signature': feishuSignature(ts, nonce, ENCRYPT_KEY, body),
      },
    });
  }
  return out;
}

/** The servers' script: this file bundled as the bot ships (bench/shipped-build.ts), built once in main(). */
let serverScript = SELF;

async function startChild(
  kind: Kind,
  dbUrl: string,
  members: number,
  mix: Mix = FULL_MIX,
): Promise<{ child: ChildProcess; port: number; setup?: QuizSetup }> {
  const args = ['--serve', kind, '--db', dbUrl, '--members', String(members), '--mix', formatMix(mix)];
  // The bot as npm start runs it; the baselines as anyone would run the SDK, in plain node.
  const start = kind === 'shuxiang' ? startCommand() : { env: {}, flags: [] };
  const child = fork(serverScript, args, {
    execArgv: start.flags,
    env: { ...process.env, ...start.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ port: number; setup?: QuizSetup }>((resolve, reject) => {
    child.once('message', (m) => {
      const refused = (m as { refused?: string }).refused;
      if (refused) reject(new CardRefused(refused));
      else resolve(m as { port: number; setup?: QuizSetup });
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  return { child, ...ready };
}

interface RunResult {
  rps: number;
  seconds: number;
  /** Server CPU (user + system) per request in µs, measured in the server process (shuxiang: incl. folding the journal after the run). */
  cpuPerRequest?: number;
  /** shuxiang: the part spent while the load ran (acks, and the folds that ran meanwhile). */
  cpuDuringRun?: number;
  /** shuxiang: the part spent in the journal's fold transactions (during the run and after it). */
  foldPerRequest?: number;
  /** SQL statements the server ran per request (shuxiang only). */
  statementsPerRequest?: number;
  p50: number;
  p90: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  toasts: number;
}

interface AnswerRun extends RunResult {
  sent: number;
  /** Answers the server said it recorded ("第N题 回答正确/错误"). */
  acked: Answer[];
  /** Replies graded differently from the answer sent (a bench or grading bug). */
  misgraded: number;
  /** Every other reply, by what it said. */
  other: Map<string, number>;
  /** Mean latency (ms) of a member's first answer vs. the later ones. */
  firstMs: number;
  laterMs: number;
  /** The run stopped early because every (member, question) pair was used. */
  exhausted: boolean;
}

function summary(result: autocannon.Result, seconds: number): RunResult {
  return {
    rps: result.requests.average,
    seconds,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    toasts: 0,
  };
}

/** bare and sdk: the same callbacks over and over (neither dedupes nor records). */
async function fire(port: number, pool: Built[], o: { seconds: number; connections: number }): Promise<RunResult> {
  let next = 0;
  let toasts = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: o.connections,
    duration: o.seconds,
    requests: [
      {
        method: 'POST',
        path: '/feishu/webhook',
        setupRequest: (req) => {
          const r = pool[next++ % pool.length]!;
          return { ...req, headers: r.headers, body: r.body };
        },
        onResponse: (status, body) => {
          if (status === 200 && body.includes('"toast"')) toasts++;
        },
      },
    ],
  });
  return { ...summary(result, o.seconds), toasts };
}

type AnswerPool = ReturnType<typeof createAnswerPool>;

/**
 * shuxiang: every request a fresh (member, question) answer. Stops early when
 * `limit` answers were sent or the pool is empty (no pair is ever sent twice).
 */
async function fireAnswers(
  port: number,
  pool: AnswerPool,
  o: { seconds: number; connections: number; rate?: number; limit?: number },
): Promise<AnswerRun> {
  let sent = 0;
  let toasts = 0;
  let misgraded = 0;
  let exhausted = false;
  const acked: Answer[] = [];
  const other = new Map<string, number>();
  const lat = { first: 0, firstN: 0, later: 0, laterN: 0 };
  const t0 = performance.now();
  type Ctx = { answer?: Answer; at?: number };
  // Without a callback autocannon returns its tracker, a thenable that can be stopped.
  const instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: o.connections,
    duration: o.seconds,
    ...(o.rate ? { overallRate: o.rate } : {}),
    requests: [
      {
        method: 'POST',
        path: '/feishu/webhook',
        // One request at a time per connection (no pipelining): the context ties a reply to its answer.
        setupRequest: (req, context: Ctx) => {
          const a = o.limit !== undefined && sent >= o.limit ? undefined : pool.take();
          if (!a) {
            // Nothing fresh left: a harmless filler until autocannon stops.
            if (!exhausted) setImmediate(() => instance.stop());
            exhausted = true;
            context.answer = undefined;
            return { ...req, method: 'GET', path: '/healthz', headers: {}, body: undefined };
          }
          sent++;
          context.answer = a;
          context.at = performance.now();
          return { ...req, method: 'POST', path: '/feishu/webhook', headers: a.headers, body: a.body };
        },
        onResponse: (status, body, context: Ctx) => {
          const a = context.answer;
          if (!a) return;
          const ms = performance.now() - context.at!;
          if (a.position === 1) {
            lat.first += ms;
            lat.firstN++;
          } else {
            lat.later += ms;
            lat.laterN++;
          }
          if (body.includes('"toast"')) toasts++;
          const v = verdict(status, body);
          if (v.recorded) {
            acked.push(a);
            if (v.right !== a.correct) misgraded++;
          } else other.set(v.what, (other.get(v.what) ?? 0) + 1);
        },
      },
    ],
  }) as Promise<autocannon.Result> & { stop(): void };
  const result = await instance;
  const seconds = (performance.now() - t0) / 1000;
  return {
    ...summary(result, seconds),
    toasts,
    sent,
    acked,
    misgraded,
    other,
    firstMs: lat.first / Math.max(1, lat.firstN),
    laterMs: lat.later / Math.max(1, lat.laterN),
    exhausted,
  };
}

async function measured<R extends RunResult>(child: ChildProcess, run: () => Promise<R>): Promise<R> {
  if (process.env.BENCH_PROF) child.send('profile-start');
  child.send('cpu-start');
  const r = await run();
  child.send('cpu-stop');
  type Used = { cpuMicros: number; runMicros: number; foldMicros?: number; statements: number };
  const used = await new Promise<Used>((resolve) => child.once('message', (m) => resolve(m as Used)));
  const requests = Math.max(1, r.ok + r.non2xx);
  r.cpuPerRequest = used.cpuMicros / requests;
  r.cpuDuringRun = used.runMicros / requests;
  r.foldPerRequest = (used.foldMicros ?? 0) / requests;
  r.statementsPerRequest = used.statements / requests;
  if (process.env.BENCH_PROF) {
    child.send('profile-stop');
    await new Promise((resolve) => child.once('message', resolve));
  }
  return r;
}

/** A paired round's CPU per request, shuxiang against the SDK. */
const roundRatio = (p: { sdk: RunResult; shuxiang: RunResult }) => p.shuxiang.cpuPerRequest! / p.sdk.cpuPerRequest!;

async function main(): Promise<void> {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const seconds = arg('seconds', 10);
  const ROUNDS = arg('rounds', 3);
  const connections = arg('connections', 50);
  const members = arg('members', 20_000);
  const poolSize = arg('pool', 50_000);
  const mixAt = process.argv.indexOf('--mix');
  const mix = mixAt >= 0 ? parseMix(process.argv[mixAt + 1]!) : FULL_MIX;
  serverScript = await bundleForBench(SELF);
  console.log(
    `servers: ${path.relative(process.cwd(), serverScript)} in plain node, the bot as npm start runs it (${describeStart(startCommand())})`,
  );
  console.log(`building ${poolSize} encrypted, signed callbacks for bare and sdk…`);
  const pool = buildCallbacks(poolSize);
  const dir = mkdtempSync(path.join(tmpdir(), 'shuxiang-bench-'));
  let dbUrl = `file:${path.join(dir, 'bench.db')}`;
  const results: Partial<Record<Kind, RunResult>> = {};
  let quiz:
    | {
        setup: QuizSetup;
        warm: AnswerRun;
        run: AnswerRun;
        atRate: AnswerRun;
        rateLoop: { p50: number; p99: number; max: number };
        crashed: AnswerRun;
      }
    | undefined;
  let refused: string | undefined;
  let sdkServer: { child: ChildProcess; port: number } | undefined;
  /** The SDK and shuxiang measured one after the other, round after round: the machine's speed drifts. */
  const rounds: { sdk: RunResult; shuxiang: AnswerRun }[] = [];
  let durable:
    { acknowledged: number; inDatabase: number; eventsInDatabase: number; rows: number; unfolded: number } | undefined;
  try {
    for (const kind of ['bare', 'sdk', 'sdk-prisma', 'sdk-journal'] as Kind[]) {
      const { child, port } = await startChild(
        kind,
        kind.startsWith('sdk-') ? `file:${path.join(dir, `${kind}.db`)}` : dbUrl,
        members,
      );
      // Warm-up (JIT) on the end of the pool, so the measured run's callbacks are new to the recording servers.
      await fire(port, pool.slice(-6000), { seconds: 3, connections: 10 });
      results[kind] = await measured(child, () => fire(port, pool, { seconds, connections }));
      if (kind === 'sdk') {
        // Kept for the paired rounds below (it records nothing, so the pool can be sent again).
        sdkServer = { child, port };
        continue;
      }
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }

    console.log(`setting up the bot: ${members} members, 20 questions (${formatMix(mix)}), daily practice…`);
    let started: Awaited<ReturnType<typeof startChild>>;
    try {
      started = await startChild('shuxiang', dbUrl, members, mix);
    } catch (err) {
      if (!(err instanceof CardRefused) || mixAt >= 0) throw err;
      // A bug in the app, not in the bench: say so, and measure what Feishu can take today.
      refused = err.message;
      console.warn(`\nWARNING: ${refused}`);
      console.warn(
        `WARNING: the daily card with ${formatMix(mix)} cannot be sent to Feishu; starting again on a fresh database with ${formatMix(ONE_FORM_MIX)}\n`,
      );
      dbUrl = `file:${path.join(dir, 'bench-one-form.db')}`;
      started = await startChild('shuxiang', dbUrl, members, ONE_FORM_MIX);
    }
    const { child, port, setup } = started;
    if (!setup) throw new Error('the shuxiang server sent no set-up');
    console.log(
      `  ${Object.entries(setup.timings)
        .map(([k, v]) => `${k}: ${v}${k.includes('bytes') ? '' : ' ms'}`)
        .join(', ')}`,
    );
    console.log(
      `  daily card ${setup.cardMessageId}: ${setup.positions.map((p) => `${p.position}:${p.type}`).join(' ')}`,
    );
    // About 5 members per connection are mid-way through their questions at any time.
    const answers = createAnswerPool(setup, connections * 5);
    const RATE_RUN = 5_500; // 5 s at 1,000 req/s, and some slack
    const CRASH_RUN = 30_000;
    console.log(`${answers.total} distinct (member, question) answers available`);
    // Warm-up (JIT, token fetch, member names) with answers the measured runs do not reuse.
    answers.prepare(6000);
    const warm = await fireAnswers(port, answers, { seconds: 3, connections: 10, limit: 6000 });
    const throughputLimit = Math.floor((answers.remaining() - RATE_RUN - CRASH_RUN) / ROUNDS);
    if (throughputLimit < seconds * 1000) {
      console.warn(
        `warning: only ${Math.max(0, throughputLimit)} fresh answers left for each ${seconds} s throughput run; raise --members or lower --seconds`,
      );
    }
    for (let r = 0; r < ROUNDS; r++) {
      const sdk = await measured(sdkServer!.child, () => fire(sdkServer!.port, pool, { seconds, connections }));
      // Built before the run, so the load generator does not compete with the server for CPU.
      answers.prepare(Math.max(0, Math.min(throughputLimit, seconds * Math.max(3000, 3 * warm.rps))));
      const shuxiang = await measured(child, () =>
        fireAnswers(port, answers, { seconds, connections, limit: Math.max(0, throughputLimit) }),
      );
      rounds.push({ sdk, shuxiang });
    }
    sdkServer!.child.kill('SIGTERM');
    pool.length = 0;
    // The round whose ratio is the median stands for the run in the lines below.
    const median = [...rounds].sort((a, b) => roundRatio(a) - roundRatio(b))[Math.floor(rounds.length / 2)]!;
    const run = median.shuxiang;
    results.sdk = median.sdk;
    results.shuxiang = run;
    answers.prepare(answers.ready() + RATE_RUN);
    child.send('loop-start');
    const atRate = await fireAnswers(port, answers, { seconds: 5, connections: 20, rate: 1000, limit: RATE_RUN });
    child.send('loop-stop');
    const rateLoop = await new Promise<{ p50: number; p99: number; max: number }>((resolve) =>
      child.once('message', (m) => resolve((m as { loop: { p50: number; p99: number; max: number } }).loop)),
    );
    // A crash under full load: SIGKILL mid-run, nothing gets to flush or shut down.
    answers.prepare(answers.ready() + CRASH_RUN);
    const exited = new Promise((r) => child.once('exit', r));
    const crash = fireAnswers(port, answers, { seconds: 3, connections });
    setTimeout(() => child.kill('SIGKILL'), 1500);
    const crashed = await crash;
    await exited;
    if (crashed.exhausted)
      console.warn('warning: the answer pool ran out before the crash; the crash was not under load');
    quiz = { setup, warm, run, atRate, rateLoop, crashed };

    const acked = [warm, ...rounds.map((p) => p.shuxiang), atRate, crashed].flatMap((r) => r.acked);
    const db = await openDatabase(dbUrl);
    // What the killed process had appended but not folded: folded now, as its next start would.
    const unfolded = await db.prisma.quizJournal.count();
    await createAnswerStore({ db: db.prisma, provider: db.provider, log: createSilentLogger() }).settle();
    const rows = await db.prisma.quizAnswer.findMany({
      where: { roundId: setup.roundId },
      select: { memberId: true, questionId: true },
    });
    const stored = new Set(rows.map((r) => `${r.memberId}|${r.questionId}`));
    const inDatabase = acked.filter((a) =>
      stored.has(`${setup.memberIds[a.member]}|${setup.positions[a.position - 1]!.questionId}`),
    ).length;
    let eventsInDatabase = 0;
    for (let i = 0; i < acked.length; i += 500) {
      eventsInDatabase += await db.prisma.inboundEvent.count({
        where: { platform: 'feishu', eventKey: { in: acked.slice(i, i + 500).map((a) => a.id) } },
      });
    }
    await db.close();
    durable = { acknowledged: acked.length, inDatabase, eventsInDatabase, rows: rows.length, unfolded };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const b = results.bare!;
  const s = results.sdk!;
  const sp = results['sdk-prisma']!;
  const sj = results['sdk-journal']!;
  const x = results.shuxiang!;
  const q = quiz!;
  const d = durable!;
  const line = (name: string, r: RunResult) =>
    `${name.padEnd(11)} ${r.rps.toFixed(0).padStart(7)} req/s   p99 ${String(r.p99).padStart(4)} ms   server CPU ${r.cpuPerRequest!.toFixed(0).padStart(4)} µs/req   2xx ${r.ok}  non-2xx ${r.non2xx}  errors ${r.errors}`;
  const answerLine = (name: string, r: AnswerRun) => {
    const others = [...r.other.entries()].map(([k, n]) => `${n}× ${k}`).join('; ');
    return `  ${name.padEnd(11)} sent ${r.sent}, recorded ${r.acked.length} (${(r.acked.length / r.seconds).toFixed(0)}/s)${
      r.misgraded ? `, MISGRADED ${r.misgraded}` : ''
    }${others ? `, other replies: ${others}` : ''}${r.exhausted ? ' [stopped early: no fresh answers left]' : ''}`;
  };
  console.log('');
  console.log(
    `feishu-ingest: ${connections} connections, ${seconds} s each, one machine, one run (sdk and shuxiang: the median of ${rounds.length} paired rounds)`,
  );
  console.log(line('bare', b));
  console.log(line('sdk', s));
  console.log(line('sdk-prisma', sp));
  console.log(line('sdk-journal', sj));
  console.log(line('shuxiang', x));
  console.log(
    `           shuxiang CPU: ${x.cpuDuringRun!.toFixed(0)} µs/answer while the load ran (acks and the folds meanwhile), ${(x.cpuPerRequest! - x.cpuDuringRun!).toFixed(0)} µs/answer folding what was left after it`,
  );
  console.log('');
  console.log(
    `shuxiang answers (daily practice, ${q.setup.memberOpenIds.length} members × ${q.setup.positions.length} questions: ${[
      ...q.setup.positions.reduce((m, p) => m.set(p.type, (m.get(p.type) ?? 0) + 1), new Map<string, number>()),
    ]
      .map(([t, n]) => `${n} ${t}`)
      .join(', ')}):`,
  );
  if (refused) console.log(`  NOTE: the requested mix was refused by Feishu (${refused.slice(0, 160)}…)`);
  console.log(answerLine('warm-up', q.warm));
  rounds.forEach((p, i) => console.log(answerLine(`round ${i + 1}${p.shuxiang === q.run ? '*' : ''}`, p.shuxiang)));
  console.log(answerLine('1,000/s', q.atRate));
  console.log(answerLine('crash run', q.crashed));
  console.log(
    `  SQL statements per answer ${!process.env.BENCH_SQL ? '(BENCH_SQL=1 counts them)' : x.statementsPerRequest!.toFixed(1)} (throughput run, incl. BEGIN/COMMIT and group-committed writes); mean latency of a member's first answer ${q.run.firstMs.toFixed(1)} ms vs later answers ${q.run.laterMs.toFixed(1)} ms`,
  );
  console.log('');
  const vsSdk = x.rps / s.rps;
  const vsBare = x.rps / b.rps;
  console.log(`shuxiang / sdk  = ${vsSdk.toFixed(2)}  (target >= 1.20) ${vsSdk >= 1.2 ? 'OK' : 'MISSED'}`);
  console.log(`shuxiang / bare = ${vsBare.toFixed(2)}  (target >= 0.30) ${vsBare >= 0.3 ? 'OK' : 'MISSED'}`);
  const cpu = (r: RunResult) => r.cpuPerRequest!;
  console.log(
    `by server CPU per request (less sensitive to other load on the machine): shuxiang/sdk = ${(cpu(s) / cpu(x)).toFixed(2)}, shuxiang/bare = ${(cpu(b) / cpu(x)).toFixed(2)}`,
  );
  // Issue 15's targets, by server CPU per request in this run.
  const vsDurable = cpu(sp) / cpu(x);
  const vsNoop = cpu(x) / cpu(s);
  console.log(
    `shuxiang vs sdk-prisma (durable baseline), CPU per request: ${vsDurable.toFixed(2)}x cheaper (target >= 3) ${vsDurable >= 3 ? 'OK' : 'MISSED'}`,
  );
  console.log(
    `shuxiang vs sdk (records nothing), CPU per request: ${vsNoop.toFixed(2)}x dearer (target <= 2) ${vsNoop <= 2 ? 'OK' : 'MISSED'}; the median of ${rounds.length} rounds, each the SDK then shuxiang: ${rounds
      .map(
        (p) =>
          `${p.sdk.cpuPerRequest!.toFixed(0)} → ${p.shuxiang.cpuPerRequest!.toFixed(0)} µs (${roundRatio(p).toFixed(2)}x)`,
      )
      .join(', ')}`,
  );
  const fold = x.foldPerRequest!;
  console.log(
    `  split: the floor of a durable answer (sdk-journal vs sdk) ${(cpu(sj) / cpu(s)).toFixed(2)}x; shuxiang up to the ack and the rest ${(cpu(x) - fold).toFixed(0)} µs/answer = ${((cpu(x) - fold) / cpu(s)).toFixed(2)}x sdk; folding into answers, tallies, rank buckets and mistakes ${fold.toFixed(0)} µs/answer = ${(fold / cpu(s)).toFixed(2)}x sdk`,
  );
  console.log(
    `p99 at 1,000 req/s = ${q.atRate.p99} ms over ${q.atRate.ok} requests (target < 50 ms) ${q.atRate.p99 < 50 ? 'OK' : 'MISSED'}; p50 ${q.atRate.p50} ms, p90 ${q.atRate.p90} ms; the server's event-loop delay meanwhile p50 ${q.rateLoop.p50.toFixed(1)} ms, p99 ${q.rateLoop.p99.toFixed(1)} ms, max ${q.rateLoop.max.toFixed(1)} ms`,
  );
  console.log(
    `durability after SIGKILL under load: acknowledged ${d.acknowledged} answers (${q.crashed.acked.length} in the crashed run), in database ${d.inDatabase} ${
      d.inDatabase === d.acknowledged ? 'OK (none lost)' : 'LOST SOME'
    }; their InboundEvent rows ${d.eventsInDatabase}; QuizAnswer rows for the round ${d.rows} (${d.unfolded} of them still in the journal at the crash, folded on reopening)`,
  );
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  const at = (name: string) => process.argv[process.argv.indexOf(name) + 1]!;
  serveKind(process.argv[serveAt + 1] as Kind, at('--db'), Number(at('--members')), parseMix(at('--mix'))).catch(
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
