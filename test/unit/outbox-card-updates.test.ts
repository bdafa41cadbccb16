import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/lib/clock.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createOutbox, type Outbox } from '../../src/outbox/outbox.ts';
import { createOutboxWorker } from '../../src/outbox/worker.ts';
import type { Card } from '../../src/platforms/types.ts';
import { providers } from '../helpers/databases.ts';
import { createFakeMessenger } from '../helpers/fake-messenger.ts';
import { openMigrated } from '../helpers/migrated-db.ts';

const counter = (n: number): Card => ({ header: { title: `已签到 ${n} 人`, colour: 'blue' }, elements: [] });

/**
 * A sign-in counter updates its card on every click; Feishu allows 5
 * messages a second per chat. Updates to one card that wait together go out
 * as one call carrying the newest state.
 */
describe.each(providers)('card updates on $name', ({ create }) => {
  let env: Awaited<ReturnType<typeof openMigrated>>;
  let clock: ManualClock;
  let outbox: Outbox;
  beforeEach(async () => {
    env = await openMigrated(create);
    clock = createManualClock('2026-03-02T01:00:00Z');
    outbox = createOutbox({ db: env.database.prisma, clock });
  });
  afterEach(async () => env.close());

  const target = { kind: 'chat' as const, id: 'group-a' };
  const update = (refId: string, n: number) =>
    outbox.enqueue({ platform: 'sandbox', target, kind: 'card_update', body: { card: counter(n) }, refId });

  it('merges updates waiting for the same card into one call with the newest card', async () => {
    const fake = createFakeMessenger();
    const worker = createOutboxWorker({
      db: env.database.prisma,
      clock,
      log: createSilentLogger(),
      messengers: new Map([['sandbox', fake.messenger]]),
    });
    const card = await outbox.enqueue({ platform: 'sandbox', target, kind: 'card', body: { card: counter(0) } });
    await worker.drain(5);
    const refs = [];
    for (let n = 1; n <= 30; n++) refs.push(await update(card.id, n));
    expect(new Set(refs.map((r) => r.id)).size).toBe(1);
    await worker.drain(5);
    const updates = fake.sent.filter((s) => s.kind === 'update');
    expect(updates.map((u) => u.card?.header.title)).toEqual(['已签到 30 人']);

    // Once that one went out, the next click is a new call again.
    await update(card.id, 31);
    await worker.drain(5);
    expect(fake.sent.filter((s) => s.kind === 'update').map((u) => u.card?.header.title)).toEqual([
      '已签到 30 人',
      '已签到 31 人',
    ]);
  });

  it('keeps updates of different cards apart', async () => {
    const a = await update('card-a', 1);
    const b = await update('card-b', 2);
    expect(a.id).not.toBe(b.id);
    expect(await env.database.prisma.outboxMessage.count({ where: { kind: 'card_update' } })).toBe(2);
  });

  it('never changes an update already claimed for sending', async () => {
    const first = await update('card-a', 1);
    await env.database.prisma.outboxMessage.update({ where: { id: first.id }, data: { status: 'sending' } });
    const second = await update('card-a', 2);
    expect(second.id).not.toBe(first.id);
    const row = await env.database.prisma.outboxMessage.findUniqueOrThrow({ where: { id: first.id } });
    expect(row.body).toContain('已签到 1 人');
  });
});
