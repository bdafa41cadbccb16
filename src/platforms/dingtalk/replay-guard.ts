import type { InboundDedupe } from '../../lib/inbound-dedupe.ts';

/**
 * DingTalk's HTTP-mode signatures cover a timestamp, not the body, so a
 * captured (timestamp, sign) pair could be replayed with another body for as
 * long as the timestamp is accepted. Each signature is therefore accepted
 * once, and "once" is a unique key in the database: a restarted process and
 * every other instance refuse it too. The keys go through the inbound
 * de-duplication batcher under their own platform key (one INSERT per burst:
 * a Prisma `create` per request cost about 1.5 ms of CPU, most of an ack) and
 * are pruned with it after 8 h, longer than a signature can be valid
 * (± SIGNATURE_WINDOW_MS).
 */
export interface ReplayGuard {
  /** False when this signature was accepted before (by any instance). */
  accept(signature: string): Promise<boolean>;
}

export function createReplayGuard(deps: { dedupe: InboundDedupe; scope: 'robot' | 'card' }): ReplayGuard {
  const platform = `dingtalk:signature:${deps.scope}`;
  return {
    accept: (signature) => deps.dedupe.firstSeen(platform, signature.slice(0, 200)),
  };
}
