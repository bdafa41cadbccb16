import { randomBytes, randomUUID } from 'node:crypto';

/** Opaque unique ids for database rows. */
export function newId(): string {
  return randomUUID();
}

/**
 * Ids that grow with time within a process (milliseconds, then a counter, then
 * a random part per generator): rows written in bulk land at the right edge of
 * their primary-key index instead of at random pages of it. As opaque and as
 * unique as newId's across instances (the random part), not secret.
 */
export function createOrderedIds(now: () => number = Date.now): () => string {
  const tail = randomBytes(6).toString('hex');
  let last = 0;
  let seq = 0;
  return () => {
    const ms = now();
    if (ms === last) seq++;
    else {
      last = ms;
      seq = 0;
    }
    return `${ms.toString(36).padStart(9, '0')}${seq.toString(36).padStart(5, '0')}${tail}`;
  };
}
