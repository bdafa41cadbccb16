import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';

/**
 * The inbound event being processed, for the writes it causes. While the
 * inbox processes a message, every outbox row written on its behalf gets an
 * id derived from the inbox row and a counter (the 1st, 2nd… reply), instead
 * of a random one. Processing the message again after a crash derives the
 * same ids, so the first reply that already exists proves the message was
 * processed: the outbox throws AlreadyProcessed, the transaction that would
 * have repeated the handler's writes rolls back, and nothing is said twice.
 */
export interface EventScope {
  /** Runs `work` as the processing of inbox row `key`. */
  run<T>(key: string, work: () => Promise<T>): Promise<T>;
  /** The next derived id inside a scope; undefined outside one. */
  nextId(): string | undefined;
}

/** An outbox row this event would write exists already: the event was processed before. */
export class AlreadyProcessed extends Error {
  constructor(readonly rowId: string) {
    super(`already processed (outbox row ${rowId} exists)`);
    this.name = 'AlreadyProcessed';
  }
}

/** A UUID-shaped id (platforms take it as an idempotency key) derived from `key` and `n`. */
export function derivedId(key: string, n: number): string {
  const h = createHash('sha256').update(`${key}\u0000${n}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function createEventScope(): EventScope {
  const storage = new AsyncLocalStorage<{ key: string; n: number }>();
  return {
    run: (key, work) => storage.run({ key, n: 0 }, work),
    nextId() {
      const s = storage.getStore();
      return s ? derivedId(s.key, s.n++) : undefined;
    },
  };
}
