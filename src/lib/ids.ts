import { randomUUID } from 'node:crypto';

/** Opaque unique ids for database rows. */
export function newId(): string {
  return randomUUID();
}
