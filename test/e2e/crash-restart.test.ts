import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { openDatabase } from '../../src/lib/db.ts';
import { createShuxiang } from '../../src/main.ts';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));
const COUNT = 400;

function startChild(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  if (process.env.CRASH_DEBUG) child.stdout!.on('data', (d: Buffer) => appendFileSync(process.env.CRASH_DEBUG!, d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before ready: ${err}`)));
  });
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('crash in the middle of a burst of deliveries', () => {
  it('after SIGKILL and restart, every reminder is delivered once and none twice', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shuxiang-crash-'));
    const env = {
      DATABASE_URL: `file:${path.join(dir, 'crash.db')}`,
      SEND_LOG: path.join(dir, 'sends.log'),
      LOG_LEVEL: process.env.CRASH_DEBUG ? 'debug' : 'silent',
      NODE_ENV: 'test',
    };
    const sends = () =>
      existsSync(env.SEND_LOG) ? readFileSync(env.SEND_LOG, 'utf8').split('\n').filter(Boolean) : [];
    let child: ChildProcess | undefined;
    try {
      // Set-up with the same app: migrate, seed, and 400 reminders due now.
      const setup = await createShuxiang(loadConfig(env), { log: createSilentLogger() });
      const now = Date.now();
      await setup.db.prisma.$transaction(async (tx) => {
        for (let i = 0; i < COUNT; i++) {
          await setup.scheduler.schedule(
            {
              orgId: 'demo-org',
              kind: 'reminder',
              dueAt: new Date(now - 1000),
              payload: { v: 1, text: `R${i}`, platform: 'sandbox', targets: [{ kind: 'chat', id: 'group-a' }] },
            },
            tx,
          );
        }
      });
      await setup.stop();

      child = await startChild(env);
      await until('the burst to be under way', () => sends().length >= 150);
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      const beforeKill = sends().length;
      expect(beforeKill).toBeLessThan(COUNT); // killed in the middle, not after

      child = await startChild(env);
      const db = await openDatabase(env.DATABASE_URL);
      try {
        await until(
          'every message to be sent',
          async () =>
            (await db.prisma.outboxMessage.count({ where: { status: { not: 'sent' } } })) === 0 &&
            (await db.prisma.outboxMessage.count()) >= COUNT,
        );
        const delivered = await db.prisma.sandboxMessage.findMany({ where: { chatId: 'group-a', from: 'bot' } });
        const texts = delivered.map((m) => m.text!.replace('⏰ 提醒：', ''));
        expect(texts).toHaveLength(COUNT);
        expect(new Set(texts).size).toBe(COUNT);
        expect(texts.sort()).toEqual([...Array(COUNT).keys()].map((i) => `R${i}`).sort());
        // the scheduler fired each reminder once: one outbox row each
        expect(await db.prisma.outboxMessage.count()).toBe(COUNT);
        expect(await db.prisma.scheduledItem.count({ where: { status: 'done' } })).toBe(COUNT);
        // Neither run called the platform twice for one message. The only
        // repeats are sends whose result the killed process had not yet
        // written back: sent again with the same idempotency key, which the
        // platform (here the sandbox, like Feishu's uuid) keeps once.
        const calls = sends();
        const before = calls.slice(0, beforeKill);
        const after = calls.slice(beforeKill);
        expect(new Set(before).size).toBe(before.length);
        expect(new Set(after).size).toBe(after.length);
        const repeated = after.filter((k) => before.includes(k)).length;
        // Results are written back every few ms, so only the last few sends are at risk.
        expect(repeated).toBeLessThanOrEqual(30);
        console.log(
          `crash-restart: ${beforeKill} send calls before SIGKILL, ${repeated} repeated after restart (deduplicated by idempotency key)`,
        );
      } finally {
        await db.close();
      }
    } finally {
      if (child && child.exitCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child!.once('exit', r));
      }
      if (!process.env.KEEP_CRASH_DIR) rmSync(dir, { recursive: true, force: true });
      else console.log('kept', dir);
    }
  });
});
