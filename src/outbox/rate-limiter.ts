import type { Tx } from '../lib/db.ts';
import type { Platform, RateLimit, RateLimits, Target } from '../platforms/types.ts';

/**
 * Token buckets per platform app, per chat and per user, written as GCRA
 * ("generic cell rate algorithm", the virtual-scheduling form of a token
 * bucket): each bucket is one number, its theoretical arrival time.
 *
 * Why not `limiter` or `bottleneck` (docs/decisions/scheduling.md): the worker
 * must *reserve* a send slot across several buckets at once (app AND chat AND
 * user, each with one or more limits such as Feishu's 50/s and 1000/min) and
 * must be able to ask "when could this go?" without taking a token, so it
 * only claims rows it can send before their lease runs out. Neither library
 * offers an all-or-nothing reservation over several buckets, and both keep
 * timers of their own; this is ~80 lines with an injected time source.
 */
export class Gcra {
  /** Emission interval: ms between sends at the sustained rate. */
  private readonly interval: number;
  /** How far ahead of the sustained schedule a burst may run, in ms. */
  private readonly tolerance: number;
  private tat: number;

  /** `tat`: a theoretical arrival time kept elsewhere (the shared limiter's row). */
  constructor(limit: RateLimit, tat = -Infinity) {
    this.tat = tat;
    if (!(limit.rate > 0) || !(limit.perMs > 0)) throw new Error(`bad rate limit ${JSON.stringify(limit)}`);
    this.interval = limit.perMs / limit.rate;
    // Undeclared burst: a tenth of the window. Sending a whole window's worth
    // at once invites a 429 from a platform that counts in fixed windows, and
    // pacing costs nothing at the sustained rate.
    const burst = Math.max(1, limit.burst ?? Math.ceil(limit.rate / 10));
    this.tolerance = (burst - 1) * this.interval;
  }

  /** Earliest time (ms, same scale as `now`) at which one send conforms. */
  availableAt(now: number): number {
    return Math.max(now, this.tat - this.tolerance);
  }

  /** Takes one send at time `at` (which must be >= availableAt). */
  take(at: number): void {
    this.tat = Math.max(this.tat, at) + this.interval;
  }

  /** The platform said "wait until `until`": nothing conforms before then. */
  blockUntil(until: number): void {
    this.tat = Math.max(this.tat, until + this.tolerance);
  }

  /** True when the bucket is full again, so it can be forgotten. */
  idle(now: number): boolean {
    return this.tat <= now;
  }

  /** The bucket's whole state: one number. */
  get state(): number {
    return this.tat;
  }
}

/**
 * A sliding-window limit kept exactly: the times of the last `rate` sends
 * (1,000 numbers for Feishu's per-minute limit, one such log per app).
 */
export class SlidingLog {
  private readonly times: number[];
  constructor(
    private readonly limit: RateLimit,
    times: number[] = [],
  ) {
    this.times = times.slice(-limit.rate).sort((a, b) => a - b);
  }
  availableAt(now: number): number {
    const { rate, perMs } = this.limit;
    return this.times.length < rate ? now : Math.max(now, this.times[this.times.length - rate]! + perMs);
  }
  take(at: number): void {
    let i = this.times.length;
    while (i > 0 && this.times[i - 1]! > at) i--;
    this.times.splice(i, 0, at);
    if (this.times.length > this.limit.rate) this.times.splice(0, this.times.length - this.limit.rate);
  }
  idle(now: number): boolean {
    return this.times.length === 0 || this.times[this.times.length - 1]! + this.limit.perMs <= now;
  }
  /** The send taken at `from` left at `to` instead, or never (null). */
  amend(from: number, to: number | null): void {
    const i = this.times.lastIndexOf(from);
    if (i < 0) return;
    this.times.splice(i, 1);
    if (to !== null) this.take(to);
  }
  get state(): number[] {
    return [...this.times];
  }
}

/** Several limits that must all hold (e.g. 50/s and 1000/min). */
export class BucketSet {
  readonly buckets: (Gcra | SlidingLog)[];
  /** Until when the platform told us to stop (a 429 with a reset time). */
  blockedUntil: number;
  constructor(limits: RateLimit[], state?: { tats: (number | number[])[]; blockedUntil: number }) {
    this.buckets = limits.map((l, i) => {
      const saved = state?.tats[i];
      return l.sliding
        ? new SlidingLog(l, Array.isArray(saved) ? saved : [])
        : new Gcra(l, typeof saved === 'number' ? saved : -Infinity);
    });
    this.blockedUntil = state?.blockedUntil ?? -Infinity;
  }
  availableAt(now: number): number {
    return this.buckets.reduce((t, b) => Math.max(t, b.availableAt(now)), Math.max(now, this.blockedUntil));
  }
  take(at: number): void {
    for (const b of this.buckets) b.take(at);
  }
  /** True when one of the limits counts sends in a sliding window (see `amend`). */
  get sliding(): boolean {
    return this.buckets.some((b) => b instanceof SlidingLog);
  }
  /**
   * A send taken at `from` left at `to` instead, or never (null): the sliding
   * windows count what the platform saw. A GCRA bucket keeps its spend, which
   * costs at most one interval (20 ms at 50/s); a sliding window would hold
   * the slot for its whole length.
   */
  amend(from: number, to: number | null): void {
    for (const b of this.buckets) if (b instanceof SlidingLog) b.amend(from, to);
  }
  /**
   * A pause, not a spend: moving each bucket's arrival time past the reset
   * (Gcra.blockUntil) would also empty its burst, so a 429 on the per-second
   * limit cut Feishu to its per-minute pace (16.7/s) for a whole minute.
   */
  blockUntil(until: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, until);
  }
  idle(now: number): boolean {
    return this.blockedUntil <= now && this.buckets.every((b) => b.idle(now));
  }
}

export type LimitScope = 'app' | 'chat' | 'user';

/** What one delivery round plans with (see `RateLimiter.plan`). */
export interface Planner {
  /** Where the round reads and claims rows: the limiter's transaction when it has one. */
  db?: Tx;
  /** Loads the buckets these sends will use; call before `reserve`. */
  prepare(sends: { platform: Platform; target: Target }[]): Promise<void>;
  /** True when the platform's app budget has no slot left before `notAfter`. */
  exhausted(platform: Platform, notAfter: number): boolean;
  /** As `RateLimiter.reserve`, within this round's plan. */
  reserve(platform: Platform, target: Target, notAfter: number): number | null;
}

export interface RateLimiter {
  /**
   * Plans one delivery round: `work` reads the due rows, reserves their slots
   * through the planner and claims them. In memory this simply runs; the
   * shared limiter (PostgreSQL, several instances) runs it in one transaction
   * that holds the platforms' app buckets, so two instances never plan the
   * same rows or spend the same slots.
   */
  plan<T>(platforms: Platform[], work: (planner: Planner) => Promise<T>): Promise<T>;
  /**
   * Reserves one send to `target` on `platform` at the earliest conforming
   * time, if that is no later than `notAfter`; returns the time or null
   * (nothing taken). Times are on the limiter's own monotonic scale.
   */
  reserve(platform: Platform, target: Target, notAfter: number): number | null;
  /**
   * For a send reserved earlier: if the platform has since said "stop" for
   * its app or target, when the pause ends (the worker puts the send back to
   * be planned again); otherwise `plannedAt`. Sends planned before a 429
   * would otherwise all hit the same full window.
   */
  confirm(platform: Platform, target: Target, plannedAt: number): number;
  /** After a 429 with a reset time: nothing more in that scope until `until`. */
  blockUntil(platform: Platform, target: Target, scope: LimitScope, until: number): void;
  /**
   * A send reserved at `plannedAt` left later, at `sentAt`, or was put back
   * unsent (null). Sliding windows (Feishu's 1000 in any minute) then count
   * what the platform saw: a slot held by a send that never left would stay
   * spent for a whole minute and push the last messages of a fan-out into
   * the next one, and a send that left late would be followed a minute later
   * by one the platform refuses. The shared limiter writes amendments with
   * its next plan.
   */
  amend(platform: Platform, target: Target, plannedAt: number, sentAt: number | null): void;
  now(): number;
  /** Number of live buckets (for tests of the memory bound). */
  size(): number;
}

export function createRateLimiter(deps: {
  limitsFor: (platform: Platform) => RateLimits | undefined;
  /** Monotonic milliseconds; injected so tests can drive it. */
  now?: () => number;
  /** Idle per-chat/per-user buckets are dropped once there are more than this. */
  maxBuckets?: number;
}): RateLimiter {
  const now = deps.now ?? (() => performance.now());
  const maxBuckets = deps.maxBuckets ?? 20_000;
  const buckets = new Map<string, BucketSet | null>();

  function bucket(platform: Platform, scope: LimitScope, id: string): BucketSet | null {
    const key = scope === 'app' ? `${platform}|app` : `${platform}|${scope}|${id}`;
    let b = buckets.get(key);
    if (b === undefined) {
      const limits = deps.limitsFor(platform);
      const list = scope === 'app' ? limits?.perApp : scope === 'chat' ? limits?.perChat : limits?.perUser;
      b = list && list.length > 0 ? new BucketSet(list) : null;
      if (buckets.size >= maxBuckets) sweep();
      buckets.set(key, b);
    }
    return b;
  }

  function sweep(): void {
    const t = now();
    for (const [key, b] of buckets) {
      if (!key.endsWith('|app') && (b === null || b.idle(t))) buckets.delete(key);
    }
  }

  function bucketsFor(platform: Platform, target: Target): BucketSet[] {
    const scoped = bucket(platform, target.kind === 'chat' ? 'chat' : 'user', target.id);
    return [bucket(platform, 'app', ''), scoped].filter((b): b is BucketSet => b !== null);
  }

  const limiter: RateLimiter = {
    now,
    plan: (_platforms, work) =>
      work({
        prepare: async () => {},
        exhausted: (p, notAfter) => (bucket(p, 'app', '')?.availableAt(now()) ?? -Infinity) > notAfter,
        reserve: (p, t, n) => limiter.reserve(p, t, n),
      }),
    reserve(platform, target, notAfter) {
      const t = now();
      const set = bucketsFor(platform, target);
      const at = set.reduce((m, b) => Math.max(m, b.availableAt(t)), t);
      if (at > notAfter) return null;
      for (const b of set) b.take(at);
      return at;
    },
    confirm(platform, target, plannedAt) {
      const until = bucketsFor(platform, target).reduce((m, b) => Math.max(m, b.blockedUntil), -Infinity);
      return until > now() ? Math.max(plannedAt, until) : plannedAt;
    },
    blockUntil(platform, target, scope, until) {
      const id = scope === 'app' ? '' : target.id;
      bucket(platform, scope, id)?.blockUntil(until);
    },
    amend(platform, target, plannedAt, sentAt) {
      for (const b of bucketsFor(platform, target)) b.amend(plannedAt, sentAt);
    },
    size: () => buckets.size,
  };
  return limiter;
}
