/**
 * bench:fanout — push one private message to each of 70,000 members through
 * the real outbox worker, against a fake platform API on 127.0.0.1 that
 * enforces its limits the way the platforms document them (HTTP 429, body
 * code 99991400, header x-ogw-ratelimit-reset = seconds to wait) and
 * de-duplicates by the message `uuid` like Feishu does.
 *
 * The fake platform runs in a child process so it does not share an event
 * loop with the worker. Limits are DingTalk's 20 sends/s per app and
 * Feishu's 5/s per user, both multiplied by SCALE so the run takes under two
 * minutes. Printed: achieved rate as a ratio of the app limit, throttled
 * answers, losses and duplicates. Targets: ratio >= 0.9, no losses, no duplicates.
 *
 *   npm run bench:fanout                       # 70,000 members
 *   MEMBERS=10000 SCALE=35 npm run bench:fanout
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSystemClock } from '../src/lib/clock.ts';
import { openDatabase } from '../src/lib/db.ts';
import { newId } from '../src/lib/ids.ts';
import { createSilentLogger } from '../src/lib/logger.ts';
import { createMigrator } from '../src/lib/migrator.ts';
import { createOutboxWorker } from '../src/outbox/worker.ts';
import { DeliveryError, type PlatformMessenger, type RateLimits } from '../src/platforms/types.ts';

const MEMBERS = Number(process.env.MEMBERS ?? 70_000);
const SCALE = Number(process.env.SCALE ?? 35);
/** DingTalk: 20 QPS per app and API; Feishu: 5 QPS per user. */
const APP_PER_S = 20 * SCALE;
const USER_PER_S = 5 * SCALE;

interface PlatformStats {
  accepted: number;
  throttled: number;
  dedupedRepeats: number;
  firstAcceptAt: number;
  lastAcceptAt: number;
  /** receiver → how many distinct messages it got */
  perReceiver: Record<string, number>;
}

// ---- the fake platform (child process) ------------------------------------------

/** Fixed one-second windows per app and per user, like a gateway counter. */
function runFakePlatform(): void {
  const stats: PlatformStats = {
    accepted: 0,
    throttled: 0,
    dedupedRepeats: 0,
    firstAcceptAt: 0,
    lastAcceptAt: 0,
    perReceiver: {},
  };
  const seen = new Map<string, string>();
  let appWindow = { second: 0, count: 0 };
  const userWindows = new Map<string, { second: number; count: number }>();
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { receive_id: string; uuid: string; content: string };
      const nowMs = performance.timeOrigin + performance.now();
      const second = Math.floor(nowMs / 1000);
      const reset = String(Math.max(0.001, (second + 1) * 1000 - nowMs) / 1000);
      const throttle = () => {
        stats.throttled++;
        res.writeHead(429, { 'content-type': 'application/json', 'x-ogw-ratelimit-reset': reset });
        res.end(JSON.stringify({ code: 99991400, msg: 'request trigger frequency limit' }));
      };
      // A repeated uuid is answered with the first message, not delivered again.
      const again = seen.get(body.uuid);
      if (again) {
        stats.dedupedRepeats++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 0, data: { message_id: again } }));
        return;
      }
      if (appWindow.second !== second) appWindow = { second, count: 0 };
      if (appWindow.count >= APP_PER_S) return throttle();
      let user = userWindows.get(body.receive_id);
      if (!user || user.second !== second) userWindows.set(body.receive_id, (user = { second, count: 0 }));
      if (user.count >= USER_PER_S) return throttle();
      appWindow.count++;
      user.count++;
      const id = `om_${stats.accepted}`;
      seen.set(body.uuid, id);
      stats.accepted++;
      if (!stats.firstAcceptAt) stats.firstAcceptAt = nowMs;
      stats.lastAcceptAt = nowMs;
      stats.perReceiver[body.receive_id] = (stats.perReceiver[body.receive_id] ?? 0) + 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 0, data: { message_id: id } }));
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
  });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stats') process.send!({ stats });
    if (m.type === 'exit') process.exit(0);
  });
}

// ---- the bench (parent) -------------------------------------------------------

function httpMessenger(base: string, rateLimits: RateLimits): PlatformMessenger {
  async function post(receiveId: string, text: string, uuid: string) {
    let res: Response;
    try {
      res = await fetch(`${base}/open-apis/im/v1/messages?receive_id_type=open_id`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ receive_id: receiveId, msg_type: 'text', content: JSON.stringify({ text }), uuid }),
      });
    } catch (err) {
      throw new DeliveryError(`network: ${(err as Error).message}`, 'retry');
    }
    const json = (await res.json()) as { code: number; data?: { message_id: string } };
    if (res.status === 429) {
      const reset = Number(res.headers.get('x-ogw-ratelimit-reset') ?? '1');
      throw new DeliveryError('429 rate limited', 'retry', Math.ceil(reset * 1000), undefined, 'app');
    }
    if (res.status >= 500) throw new DeliveryError(`HTTP ${res.status}`, 'retry');
    if (json.code !== 0 || !json.data) throw new DeliveryError(`code ${json.code}`, 'permanent');
    return { platformMessageId: json.data.message_id };
  }
  return {
    platform: 'feishu',
    rateLimits,
    sendText: (target, text, opts) => post(target.id, text, opts.idempotencyKey),
    sendCard: () => Promise.reject(new DeliveryError('cards not used in this bench', 'permanent')),
    updateCard: () => Promise.reject(new DeliveryError('cards not used in this bench', 'permanent')),
  };
}

function ask<T>(child: ChildProcess, type: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        child.off('message', on);
        resolve(m[key] as T);
      }
    };
    child.on('message', on);
    if (type) child.send({ type });
  });
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--fake-platform'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, MEMBERS: String(MEMBERS), SCALE: String(SCALE) },
  });
  const port = await ask<number>(child, '', 'port');
  const dir = mkdtempSync(path.join(tmpdir(), 'shuxiang-fanout-'));
  const db = await openDatabase(`file:${path.join(dir, 'fanout.db')}`);
  try {
    await createMigrator(db).migrate();
    const clock = createSystemClock();
    const limits: RateLimits = {
      perApp: [{ rate: APP_PER_S, perMs: 1000 }],
      perUser: [{ rate: USER_PER_S, perMs: 1000 }],
    };

    // One outbox row per member, as a daily-quiz push would write them.
    const createdAt = clock.now();
    for (let i = 0; i < MEMBERS; i += 2000) {
      await db.prisma.outboxMessage.createMany({
        data: Array.from({ length: Math.min(2000, MEMBERS - i) }, (_, k) => ({
          id: newId(),
          platform: 'feishu',
          orgId: 'bench',
          targetKind: 'user',
          targetId: `ou_${i + k}`,
          kind: 'text',
          body: JSON.stringify({ text: `今日学习提醒 #${i + k}` }),
          nextAttemptAt: createdAt,
          createdAt: new Date(createdAt.getTime() + i + k),
        })),
      });
    }

    const worker = createOutboxWorker({
      db: db.prisma,
      clock,
      log: createSilentLogger(),
      messengers: new Map([['feishu', httpMessenger(`http://127.0.0.1:${port}`, limits)]]),
      options: { pollMs: 200 },
    });
    const started = performance.now();
    worker.start();
    let lastReport = started;
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const left = await db.prisma.outboxMessage.count({ where: { status: { in: ['pending', 'sending'] } } });
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        console.log(`  … ${MEMBERS - left} / ${MEMBERS} done after ${((lastReport - started) / 1000).toFixed(0)} s`);
      }
      if (left === 0) break;
      if (performance.now() - started > 10 * 60_000) throw new Error('bench did not finish in 10 minutes');
    }
    await worker.stop();
    const wall = (performance.now() - started) / 1000;
    const stats = await ask<PlatformStats>(child, 'stats', 'stats');

    const receivers = Object.values(stats.perReceiver);
    const delivered = receivers.length;
    const losses = MEMBERS - delivered;
    const duplicates = receivers.reduce((n, c) => n + (c - 1), 0);
    const dead = await db.prisma.outboxMessage.count({ where: { status: 'dead' } });
    const span = (stats.lastAcceptAt - stats.firstAcceptAt) / 1000;
    // The first window's burst is free; the sustained rate is what the limit allows per second.
    const achieved = (stats.accepted - 1) / span;
    const ratio = achieved / APP_PER_S;

    console.log(
      `fanout: ${MEMBERS} members, limits: app ${APP_PER_S}/s (DingTalk 20/s x${SCALE}), user ${USER_PER_S}/s`,
    );
    console.log(`  wall time                 ${wall.toFixed(1)} s (delivery span ${span.toFixed(1)} s)`);
    console.log(`  achieved rate             ${achieved.toFixed(0)}/s`);
    console.log(`  ratio of the app limit    ${ratio.toFixed(3)}   (target >= 0.9)`);
    console.log(`  throttled answers (429)   ${stats.throttled}`);
    console.log(`  repeats deduped by uuid   ${stats.dedupedRepeats}`);
    console.log(`  losses                    ${losses}   (target 0; dead-lettered ${dead})`);
    console.log(`  duplicates                ${duplicates}   (target 0)`);
    console.log(`  worker                    ${JSON.stringify(worker.stats())}`);
    const ok = ratio >= 0.9 && losses === 0 && duplicates === 0;
    console.log(ok ? 'PASS' : 'FAIL');
    process.exitCode = ok ? 0 : 1;
  } finally {
    child.send({ type: 'exit' });
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--fake-platform')) runFakePlatform();
else await main();
