import type { Clock } from '../../lib/clock.ts';
import { isUniqueViolation, type Db } from '../../lib/db.ts';

/**
 * DingTalk's HTTP-mode signatures cover a timestamp, not the body, so a
 * captured (timestamp, sign) pair could be replayed with another body for as
 * long as the timestamp is accepted. Each signature is therefore accepted
 * once, and "once" is a unique key in the database: a restarted process and
 * every other instance refuse it too. The rows live in the inbound
 * de-duplication table under their own platform key and are pruned with it
 * after 8 h, longer than a signature can be valid (± SIGNATURE_WINDOW_MS).
 */
export interface ReplayGuard {
  /** False when this signature was accepted before (by any instance). */
  accept(signature: string): Promise<boolean>;
}

export function createReplayGuard(deps: { db: Db; clock: Clock; scope: 'robot' | 'card' }): ReplayGuard {
  return {
    async accept(signature) {
      try {
        await deps.db.inboundEvent.create({
          data: {
            platform: `dingtalk:signature:${deps.scope}`,
            eventKey: signature.slice(0, 200),
            receivedAt: deps.clock.now(),
          },
        });
        return true;
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },
  };
}
