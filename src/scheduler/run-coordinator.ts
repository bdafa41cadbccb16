import type { RunCoordinator } from 'node-cron';
import type { Clock } from '../lib/clock.ts';
import { isUniqueViolation, type Db } from '../lib/db.ts';

/**
 * node-cron's RunCoordinator backed by the database: node-cron asks
 * `shouldRun("<job>:<slot ISO time>")` on every instance at every firing; the
 * first instance to insert that key runs the job, the others skip. A runner
 * that died mid-run leaves an unfinished row whose lease (the ttl) runs out;
 * then one other instance may take the slot over with a conditional update.
 */
export function createDbRunCoordinator(deps: { db: Db; clock: Clock; owner: string }): RunCoordinator {
  const { db, clock, owner } = deps;
  return {
    async shouldRun(key, ttlMs) {
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + (ttlMs > 0 ? ttlMs : 60_000));
      try {
        await db.cronRun.create({
          data: { key, job: /^(.*):\d{4}-\d\d-\d\dT/.exec(key)?.[1] ?? key, owner, startedAt: now, expiresAt },
        });
        return true;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      const { count } = await db.cronRun.updateMany({
        where: { key, finishedAt: null, expiresAt: { lt: now } },
        data: { owner, startedAt: now, expiresAt },
      });
      return count === 1;
    },
    async onComplete(key) {
      await db.cronRun.updateMany({ where: { key, owner }, data: { finishedAt: clock.now() } });
    },
  };
}
