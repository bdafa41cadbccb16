import type { OutboxMessage } from '../generated/sqlite/client.ts';
import { DeliveryError, type Card, type Platform, type PlatformMessenger, type Target } from '../platforms/types.ts';
import type { Clock } from '../lib/clock.ts';
import type { Db } from '../lib/db.ts';
import type { Logger } from '../lib/logger.ts';
import type { FileStore } from '../files/file-store.ts';
import { outboxBodyColumn, type FileBody } from './outbox.ts';
import type { Outcome } from './outcome-writer.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { DeliveryStats, OutboxWorkerOptions } from './worker-options.ts';

export const targetOf = (row: OutboxMessage): Target => ({ kind: row.targetKind as Target['kind'], id: row.targetId });

/**
 * One outbox row's delivery attempt (outbox/worker.ts plans, paces and
 * claims; this sends): the platform call for its kind, and what the answer
 * means for the row. A throttled send waits out the platform's pause without
 * spending an attempt; other failures back off with jitter until the row is
 * dead-lettered.
 */
export function createSender(deps: {
  db: Db;
  clock: Clock;
  log: Logger;
  messengers: Map<Platform, PlatformMessenger>;
  limiter: RateLimiter;
  opts: Pick<OutboxWorkerOptions, 'maxAttempts' | 'baseBackoffMs' | 'maxBackoffMs'>;
  /** Counted here: sent, failed, retried, throttled. */
  stats: DeliveryStats;
  onDead?: (row: OutboxMessage, reasonKey: string | undefined) => Promise<void>;
  files?: Pick<FileStore, 'get' | 'link'>;
}): { send(row: OutboxMessage): Promise<Outcome> } {
  const { limiter, opts, stats } = deps;
  /** Pauses a platform asked for, by scope, and until when (limiter clock): each is logged once. */
  const pauses = new Map<string, number>();

  /** One line per pause the platform asks for, however many sends it refused meanwhile. */
  function notePause(row: OutboxMessage, err: DeliveryError, retryAfterMs: number): void {
    const scope = err.scope ?? 'app';
    const key = scope === 'app' ? `${row.platform}|app` : `${row.platform}|${scope}|${row.targetId}`;
    const t = limiter.now();
    const fresh = (pauses.get(key) ?? -Infinity) <= t;
    pauses.set(key, Math.max(pauses.get(key) ?? -Infinity, t + retryAfterMs));
    for (const [k, until] of pauses) if (until <= t) pauses.delete(k);
    if (fresh) {
      deps.log.warn(
        { platform: row.platform, scope, ...(scope === 'app' ? {} : { target: row.targetId }), pauseMs: retryAfterMs },
        'platform says too fast: sends paused, nothing is dropped',
      );
    } else {
      deps.log.debug({ outboxId: row.id, platform: row.platform }, 'send refused during a pause; waits for it');
    }
  }

  function backoff(attempt: number, retryAfterMs?: number): number {
    const exp = Math.min(opts.maxBackoffMs, opts.baseBackoffMs * 2 ** (attempt - 1));
    const jittered = Math.round(exp / 2 + Math.random() * (exp / 2)); // "equal jitter"
    // A reset header is a floor, not a suggestion: never come back earlier.
    return retryAfterMs !== undefined ? Math.max(retryAfterMs, Math.min(jittered, retryAfterMs + 1000)) : jittered;
  }

  /**
   * A file message where the platform takes the file (it has sendFile, the
   * file is within its upload limit, the upload is not refused for good);
   * otherwise the row's text, which carries the download link. Throttling
   * and server trouble are retried like any send, not turned into a link.
   */
  async function sendFile(
    messenger: PlatformMessenger,
    target: Target,
    body: FileBody,
    opts: { idempotencyKey: string; replyHandle?: string },
  ): Promise<string> {
    const asLink = async () => (await messenger.sendText(target, body.text, opts)).platformMessageId;
    if (!messenger.sendFile || !deps.files) return asLink();
    const stored = await deps.files.get(body.file.id);
    // Expired before it could be sent (the outbox was stuck for a week): the link in the text is dead too.
    if (!stored) throw new DeliveryError(`file ${body.file.id} expired before it was sent`, 'permanent');
    if (messenger.maxFileBytes !== undefined && stored.size > messenger.maxFileBytes) return asLink();
    try {
      const file = {
        name: stored.name,
        contentType: stored.contentType,
        bytes: stored.bytes,
        url: deps.files.link(stored.id, stored.name),
      };
      return (await messenger.sendFile(target, file, opts)).platformMessageId;
    } catch (err) {
      if (!(err instanceof DeliveryError) || err.kind !== 'permanent') throw err;
      deps.log.warn({ fileId: stored.id, error: err.message }, 'platform refused the file; sending its link instead');
      return asLink();
    }
  }

  async function send(row: OutboxMessage): Promise<Outcome> {
    const messenger = deps.messengers.get(row.platform as Platform);
    const attempt = row.attempts + 1;
    const now = () => deps.clock.now();
    try {
      if (!messenger) throw new DeliveryError(`no messenger for platform ${row.platform}`, 'retry');
      const body = outboxBodyColumn.parse(row.body);
      const target = targetOf(row);
      const sendOpts = { idempotencyKey: row.id, replyHandle: body.replyHandle };
      let platformMessageId: string | null = null;
      if (row.kind === 'text' && 'text' in body && !('file' in body)) {
        platformMessageId = (await messenger.sendText(target, body.text, { ...sendOpts, mentions: body.mentions }))
          .platformMessageId;
      } else if (row.kind === 'card' && 'card' in body) {
        platformMessageId = (await messenger.sendCard(target, body.card, sendOpts)).platformMessageId;
      } else if (row.kind === 'file' && 'file' in body) {
        platformMessageId = await sendFile(messenger, target, body, sendOpts);
      } else if (row.kind === 'card_update' && 'card' in body) {
        const ref = row.refId ? await deps.db.outboxMessage.findUnique({ where: { id: row.refId } }) : null;
        if (!ref || ref.status === 'dead' || ref.status === 'cancelled')
          throw new DeliveryError('card to update was never sent', 'permanent');
        if (!ref.platformMessageId) {
          // The card itself is still queued: wait for it without spending an attempt.
          return {
            id: row.id,
            kind: 'wait',
            attempts: row.attempts,
            nextAttemptAt: new Date(now().getTime() + 500),
          };
        }
        await messenger.updateCard({ platformMessageId: ref.platformMessageId, target }, body.card as Card, sendOpts);
      } else {
        throw new DeliveryError(`malformed outbox row ${row.id}`, 'permanent');
      }
      stats.sent++;
      return { id: row.id, kind: 'sent', platformMessageId, at: now() };
    } catch (err) {
      const permanent = err instanceof DeliveryError && err.kind === 'permanent';
      const dead = permanent || attempt >= opts.maxAttempts;
      const message = err instanceof Error ? err.message : String(err);
      const retryAfter = err instanceof DeliveryError ? err.retryAfterMs : undefined;
      if (retryAfter !== undefined && err instanceof DeliveryError) {
        stats.throttled++;
        // Pause the whole scope the platform complained about, not just this row.
        limiter.blockUntil(row.platform as Platform, targetOf(row), err.scope ?? 'app', limiter.now() + retryAfter);
        if (err.throttled) {
          // Throttling is not the message's failure: it waits out the pause without spending an attempt.
          notePause(row, err, retryAfter);
          return {
            id: row.id,
            kind: 'wait',
            attempts: row.attempts,
            nextAttemptAt: new Date(now().getTime() + retryAfter),
          };
        }
      }
      if (dead) {
        stats.failed++;
        deps.log.error({ err, outboxId: row.id, attempt }, 'outbox message dead-lettered');
        if (deps.onDead) {
          await deps
            .onDead(row, err instanceof DeliveryError ? err.reasonKey : undefined)
            .catch((e: unknown) => deps.log.error({ err: e }, 'dead-letter notification failed'));
        }
      } else {
        stats.retried++;
        deps.log.warn({ outboxId: row.id, attempt, error: message }, 'outbox delivery failed; will retry');
      }
      return {
        id: row.id,
        kind: dead ? 'dead' : 'retry',
        error: message.slice(0, 1000),
        nextAttemptAt: new Date(now().getTime() + (dead ? 0 : backoff(attempt, retryAfter))),
      };
    }
  }

  return { send };
}
