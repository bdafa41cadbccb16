// Ack latency of typed messages with the transactional inbox (issue 10 part 1):
// the bot runs as a child process (test/security/fixtures/inbox-child.ts) in
// DingTalk HTTP mode on a file SQLite database (or DATABASE_URL), a contest
// question is open, and typed answers (`答 B`, each from another member) are
// fired at RATE messages a second for SECONDS seconds by autocannon, from
// requests signed before the burst. Prints the ack latency percentiles, the
// bot's CPU per message and how long the backlog took to be processed.
//
//   npx tsx bench/inbox-ack.ts [--rate 1000] [--seconds 5]
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/lib/db.ts';
import { createSilentLogger } from '../src/lib/logger.ts';
import { createShuxiang } from '../src/main.ts';
import { robotSignature } from '../src/platforms/dingtalk/verify.ts';
import { startFakeDingTalkApi } from '../test/helpers/fake-dingtalk-api.ts';
import { seedQuestions } from '../test/helpers/quiz-fixtures.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RATE = arg('rate', 1000);
// --ack-only: the inbox processes nothing (concurrency 0), to measure what recording alone costs.
const ACK_ONLY = process.argv.includes('--ack-only');
const SECONDS = arg('seconds', 5);
// Connections the generator keeps open: enough that a slow ack never holds the rate back.
const CONNECTIONS = arg('connections', 200);
const SECRET = 'ding-client-secret-0123456789';
const GROUP = 'cidGroupA0001';
const base = JSON.parse(
  readFileSync(new URL('../test/fixtures/dingtalk/robot-text-group.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

const api = await startFakeDingTalkApi({
  clientId: 'ding-client-id',
  clientSecret: SECRET,
  robotCode: 'ding-robot',
  templates: ['a1b2c3d4-0000-4000-8000-000000000001.schema'],
  quota: 10_000_000,
  qpsPerApi: 10_000_000,
});
const dir = mkdtempSync(path.join(tmpdir(), 'shuxiang-inbox-bench-'));
const env = {
  DATABASE_URL: process.env.DATABASE_URL ?? `file:${path.join(dir, 'bench.db')}`,
  LOG_LEVEL: 'silent',
  NODE_ENV: 'production',
  SHUXIANG_SANDBOX: 'off',
  SHUXIANG_ADMINS: 'dingtalk:sec-wang',
  DINGTALK_CLIENT_ID: 'ding-client-id',
  DINGTALK_CLIENT_SECRET: SECRET,
  DINGTALK_ROBOT_CODE: 'ding-robot',
  DINGTALK_MODE: 'webhook',
  DINGTALK_API_BASE: api.url,
  DINGTALK_CARD_TEMPLATE_ID: 'a1b2c3d4-0000-4000-8000-000000000001.schema',
  WEBHOOK_HOST: api.host,
};
let tick = Date.now() - 50 * 60_000;
const session = api.openSession(GROUP);
const body = (userId: string, text: string, n: number) =>
  JSON.stringify({
    ...base,
    msgId: `msg-${userId}-${n}`,
    senderStaffId: userId,
    senderNick: `成员${userId}`,
    senderId: `$:LWCP_v1:$sender-${userId}`,
    text: { content: ` ${text}` },
    ...session,
  });
const headers = () => {
  const timestamp = String(tick++);
  return { 'content-type': 'application/json', timestamp, sign: robotSignature(timestamp, SECRET) };
};

// Set-up: the organisation, the bank, a contest question open for two minutes.
const setup = await createShuxiang(loadConfig(env), {
  log: createSilentLogger(),
  dingtalk: { webhookHosts: [api.host] },
});
const say = async (text: string, n: number) => {
  await setup.app.request('/dingtalk/webhook', { method: 'POST', headers: headers(), body: body('sec-wang', text, n) });
  await setup.dingtalk!.settle();
  await setup.inbox.drain();
};
await say('我是谁', 0);
const org = await setup.db.prisma.organisation.findFirstOrThrow();
await seedQuestions(setup.db.prisma, undefined, org.id);
await say('出题 1 党史 120秒', 1);
await setup.stop();

// BENCH_PROF=dir writes the child's CPU profile there (it exits on SIGTERM to write it).
const prof = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
const child = spawn(process.execPath, [...prof, '--import', 'tsx', 'test/security/fixtures/inbox-child.ts'], {
  env: { ...process.env, ...env, ...(ACK_ONLY ? { INBOX_CONCURRENCY: '0' } : {}) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise<number>((resolve) =>
  child.stdout!.on('data', (d: Buffer) => {
    const m = /ready (\d+)/.exec(d.toString());
    if (m) resolve(Number(m[1]));
  }),
);
// The bot's CPU time (Linux /proc, user + system, in ms): per message it moves far less
// with the machine's load than the latencies do.
const cpuMs = () => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
};
// What the bot spends doing nothing (timers, pollers), to subtract from the per-message figure.
await new Promise((r) => setTimeout(r, 1_000));
const idleFrom = cpuMs();
await new Promise((r) => setTimeout(r, 3_000));
const idlePerMs = (cpuMs() - idleFrom) / 3_000;
const cpuBefore = cpuMs();
const total = RATE * SECONDS;
const latencies: number[] = [];
let failed = 0;
const why = new Map<string, number>();
// Bodies and signatures made before the burst: the load generator shares the machine's cores
// with the bot, and its own work would show up as ack latency.
const requests = Array.from({ length: total }, (_, i) => ({ headers: headers(), body: body(`u${i}`, '答 B', i) }));
const generatorCpu = process.cpuUsage();
const started = performance.now();
// autocannon holds keep-alive connections and writes prepared requests (fetch cost the generator
// most of a core at 1,000/s); one request at a time per connection, the rate capped overall.
let next = 0;
type Ctx = { at?: number };
const run = await (autocannon({
  url: `http://127.0.0.1:${port}`,
  connections: CONNECTIONS,
  overallRate: RATE,
  amount: total,
  requests: [
    {
      setupRequest: (req, context: Ctx) => {
        const r = requests[next++ % total]!;
        context.at = performance.now();
        return { ...req, method: 'POST', path: '/dingtalk/webhook', headers: r.headers, body: r.body };
      },
      onResponse: (status, _body, context: Ctx) => {
        if (status === 200) latencies.push(performance.now() - context.at!);
        else {
          failed++;
          why.set(String(status), (why.get(String(status)) ?? 0) + 1);
        }
      },
    },
  ],
}) as Promise<autocannon.Result>);
if (run.errors > 0) {
  failed += run.errors;
  why.set('connection errors', run.errors);
}
const sentFor = (performance.now() - started) / 1000;
const generator = process.cpuUsage(generatorCpu);
const cpuBurst = cpuMs() - cpuBefore - idlePerMs * (performance.now() - started);
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
console.log(
  `load generator (this process, the fake API included): ${(((generator.user + generator.system) / 1000 / (sentFor * 1000)) * 100).toFixed(0)} % of a core during the burst`,
);
console.log(
  `${total} messages in ${sentFor.toFixed(1)} s (${(total / sentFor).toFixed(0)}/s); ack ms p50 ${pct(50).toFixed(1)} p90 ${pct(90).toFixed(1)} p99 ${pct(99).toFixed(1)} max ${pct(100).toFixed(1)}; failed ${failed} ${JSON.stringify(Object.fromEntries(why))}`,
);
const db = await openDatabase(env.DATABASE_URL);
const t1 = performance.now();
while (!ACK_ONLY && (await db.prisma.inboxMessage.count({ where: { processedAt: null } })) > 0) {
  await new Promise((r) => setTimeout(r, 100));
}
// Answers still in the journal (not folded yet) are stored too.
const answers = (await db.prisma.quizAnswer.count()) + (await db.prisma.quizJournal.count());
const cpuAll = cpuMs() - cpuBefore - idlePerMs * (performance.now() - started);
console.log(
  `bot CPU per message (idle ${(idlePerMs * 100).toFixed(1)} % of a core subtracted): ${((cpuBurst / total) * 1000).toFixed(0)} µs until the last ack, ${((cpuAll / total) * 1000).toFixed(0)} µs with the backlog processed`,
);
console.log(
  `backlog processed ${((performance.now() - t1) / 1000).toFixed(1)} s after the last ack; ${answers} answers stored`,
);
await db.close();
child.kill(prof.length ? 'SIGTERM' : 'SIGKILL');
if (prof.length) await new Promise((r) => child.once('exit', r));
await api.close();
rmSync(dir, { recursive: true, force: true });
