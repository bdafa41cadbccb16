// The outbox worker's tunables and counters, apart from the worker so that the sender
// (send-one.ts), which the worker imports, can name them without importing the worker back.

export interface OutboxWorkerOptions {
  /** Most rows one round reads and claims. */
  batchSize: number;
  /** How long a claimed row stays ours; a crashed sender's rows come back after it. */
  leaseMs: number;
  maxAttempts: number;
  pollMs: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /**
   * A round claims only rows the rate limiters let it send within this many
   * ms, so claimed rows never sit out their lease waiting for a token and
   * rows for a throttled chat stay free for another instance.
   */
  horizonMs: number;
  /**
   * A send woken more than this many ms after its slot is planned again
   * instead of sent (see sendQueue); the platform limits declare the
   * headroom this lateness needs.
   */
  maxLateMs: number;
  /** Most results written back in one transaction. */
  flushSize: number;
  /**
   * Results are written back at least this often, so a crash repeats only
   * the sends of the last few ms (which the platform de-duplicates by key).
   */
  flushDelayMs: number;
}

export const defaultWorkerOptions: OutboxWorkerOptions = {
  batchSize: 1000,
  leaseMs: 30_000,
  maxAttempts: 8,
  pollMs: 1_000,
  baseBackoffMs: 1_000,
  maxBackoffMs: 10 * 60_000,
  horizonMs: 2_000,
  maxLateMs: 30,
  flushSize: 200,
  flushDelayMs: 20,
};

export interface DeliveryStats {
  sent: number;
  failed: number;
  retried: number;
  /** Answers from a platform that said "too fast" (429 and the like). */
  throttled: number;
  /** Sends put back unsent because they could not leave in their slot (a pause since the plan, a late wake-up). */
  requeued: number;
}
