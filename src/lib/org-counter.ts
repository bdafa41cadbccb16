import type { Tx } from './db.ts';

/**
 * Takes `count` consecutive numbers from an organisation's counter `name`,
 * inside the caller's transaction; returns the first. For numbers people see
 * whose rows may be deleted later (dead letters are cleaned up), where "the
 * highest row plus one" could hand out a number again. Two first uses racing
 * collide on the key: run the transaction again (retryOnUniqueViolation).
 */
export async function takeNumbers(tx: Tx, orgId: string, name: string, count = 1): Promise<number> {
  const row = await tx.orgCounter.upsert({
    where: { orgId_name: { orgId, name } },
    create: { orgId, name, last: count },
    update: { last: { increment: count } },
  });
  return row.last - count + 1;
}
