import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { createFileStore } from '../../src/files/file-store.ts';
import { cleanUp } from '../../src/scheduler/cleanup.ts';
import { createAnswerStore } from '../../src/features/quiz/answer-store.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { providers } from '../helpers/databases.ts';
import { openMigrated } from '../helpers/migrated-db.ts';

const HOUR = 3600_000;

describe.each(providers)('housekeeping on $name', ({ create }) => {
  let env: Awaited<ReturnType<typeof openMigrated>>;
  beforeEach(async () => {
    env = await openMigrated(create);
  });
  afterEach(async () => {
    await env.close();
  });

  it('forgets inbound event keys after 8 h (Feishu retries for ~7.1 h), not before', async () => {
    const clock = createManualClock('2026-03-02T12:00:00Z');
    const db = env.database.prisma;
    const at = (h: number) => new Date(clock.now().getTime() - h * HOUR);
    await db.inboundEvent.createMany({
      data: [
        { platform: 'feishu', eventKey: 'fresh', receivedAt: at(1) },
        { platform: 'feishu', eventKey: 'retry-window', receivedAt: at(7.5) },
        { platform: 'feishu', eventKey: 'old', receivedAt: at(8.5) },
      ],
    });
    const deleted = await cleanUp(db, clock);
    expect(deleted.inboundEvents).toBe(1);
    expect((await db.inboundEvent.findMany()).map((e) => e.eventKey).sort()).toEqual(['fresh', 'retry-window']);
  });

  it('forgets the dedupe key a quiz answer wrote with it, on the same 8 h schedule', async () => {
    const clock = createManualClock('2026-03-02T12:00:00Z');
    const db = env.database.prisma;
    const store = createAnswerStore({ db, provider: env.database.provider, log: createSilentLogger() });
    const answer = (eventKey: string, hoursAgo: number, memberId: string) =>
      store.submit({
        orgId: 'org',
        roundId: 'r1',
        questionId: 'q1',
        position: 1,
        memberId,
        unitId: null,
        response: ['A'],
        correct: true,
        points: 10,
        elapsedMs: 1000,
        answeredAt: new Date(clock.now().getTime() - hoursAgo * HOUR),
        timezone: 'Asia/Shanghai',
        event: { platform: 'feishu', eventKey },
      });
    await answer('click-old', 8.5, 'm1');
    await answer('click-fresh', 7.5, 'm2');
    await store.settle(); // the fold writes the clicks' dedupe rows
    expect((await cleanUp(db, clock)).inboundEvents).toBe(1);
    expect((await db.inboundEvent.findMany()).map((e) => e.eventKey)).toEqual(['click-fresh']);
  });

  it('deletes dead letters after 90 days and cancelled messages after a week', async () => {
    const clock = createManualClock('2026-06-02T12:00:00Z');
    const db = env.database.prisma;
    const daysAgo = (d: number) => new Date(clock.now().getTime() - d * 24 * HOUR);
    const row = (id: string, status: string, age: number) => ({
      id,
      platform: 'feishu',
      targetKind: 'chat',
      targetId: 'oc_1',
      kind: 'text',
      body: '{"text":"x"}',
      status,
      nextAttemptAt: daysAgo(age),
      createdAt: daysAgo(age),
    });
    await db.outboxMessage.createMany({
      data: [
        row('dead-old', 'dead', 91),
        row('dead-listed', 'dead', 30),
        row('cancelled-old', 'cancelled', 8),
        row('cancelled-new', 'cancelled', 2),
        row('pending-old', 'pending', 91),
      ],
    });
    expect((await cleanUp(db, clock)).unsentMessages).toBe(2);
    expect((await db.outboxMessage.findMany({ orderBy: { id: 'asc' } })).map((m) => m.id)).toEqual([
      'cancelled-new',
      'dead-listed',
      'pending-old',
    ]);
  });

  it('deletes download files once their link has expired, and keeps live ones', async () => {
    const clock = createManualClock('2026-03-02T12:00:00Z');
    const db = env.database.prisma;
    const files = createFileStore({ db, clock, ttlMs: 24 * HOUR });
    const put = (name: string) =>
      files.put({ orgId: 'org-1', name, contentType: 'text/plain', bytes: Buffer.from(name) });
    const old = await put('old.txt');
    clock.advance(12 * HOUR);
    const fresh = await put('fresh.txt');
    clock.advance(12 * HOUR);
    const deleted = await cleanUp(db, clock);
    expect(deleted.downloadFiles).toBe(1);
    expect((await db.downloadFile.findMany({ select: { id: true } })).map((f) => f.id)).toEqual([fresh.id]);
    expect(await files.get(old.id)).toBeNull();
    // The bytes go with the link: no chunk of the expired file is left behind.
    expect((await db.fileChunk.findMany({ select: { fileId: true } })).map((c) => c.fileId)).toEqual([fresh.id]);
    expect(Buffer.from((await files.get(fresh.id))!.bytes).toString()).toBe('fresh.txt');
  });
});
