import { describe, expect, it } from 'vitest';
import { nextSeq } from '../../src/features/quiz/rounds.ts';
import { providers } from '../helpers/databases.ts';
import { openMigrated } from '../helpers/migrated-db.ts';

/**
 * Round numbers (第N场) when many rounds open at once in one organisation: at
 * 09:00 a province's 300 groups each open their daily practice, fired by
 * several instances. Each must get its own number without failing on the
 * unique key (a failed push is retried later, so the card comes late).
 */
const postgres = providers.find((p) => p.name === 'postgresql');

describe('round numbers under concurrent pushes (PostgreSQL; set TEST_DATABASE_URL)', () => {
  it.skipIf(!postgres)('rounds opened at the same moment in one organisation all commit, numbered 1..n', async () => {
    const { database, close } = await openMigrated(postgres!.create);
    const db = database.prisma;
    try {
      await db.organisation.create({ data: { id: 'org', name: 'org' } });
      const open = (i: number, orgId = 'org') =>
        db.$transaction(async (tx) => {
          const seq = await nextSeq(tx, orgId);
          // The rest of a push's work happens between taking the number and committing.
          await new Promise((r) => setTimeout(r, 50));
          await tx.quizRound.create({ data: round(`r${i}`, orgId, seq) });
          return seq;
        });
      // A first round, so the rest race on an organisation that already has numbers.
      expect(await open(0)).toBe(1);
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => open(i + 1)));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const seqs = (await db.quizRound.findMany({ select: { seq: true } })).map((r) => r.seq).sort((a, b) => a - b);
      expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
      // An organisation's very first rounds, opened at once (the first 09:00 of a province), race
      // on creating the counter itself: none fails (bench:province logged a failed push here).
      await db.organisation.create({ data: { id: 'org2', name: 'org2' } });
      const first = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => open(i + 10, 'org2')));
      expect(first.filter((r) => r.status === 'rejected')).toEqual([]);
      const seqs2 = (await db.quizRound.findMany({ where: { orgId: 'org2' }, select: { seq: true } })).map(
        (r) => r.seq,
      );
      expect(seqs2.sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);
    } finally {
      await close();
    }
  });

  it.skipIf(!postgres)('a counter created after rounds already exist continues from the highest', async () => {
    const { database, close } = await openMigrated(postgres!.create);
    const db = database.prisma;
    try {
      await db.organisation.create({ data: { id: 'org', name: 'org' } });
      await db.quizRound.create({ data: round('old', 'org', 41) });
      expect(await db.$transaction((tx) => nextSeq(tx, 'org'))).toBe(42);
      expect(await db.$transaction((tx) => nextSeq(tx, 'org'))).toBe(43);
    } finally {
      await close();
    }
  });
});

function round(id: string, orgId: string, seq: number) {
  return {
    id,
    orgId,
    seq,
    kind: 'daily',
    platform: 'feishu',
    chatId: `oc_${id}`,
    title: '每日一练',
    status: 'running',
    settings: '{}',
    opensAt: new Date(),
    createdBy: 'm',
  };
}
