import type { MessageKey, MessageParams } from './messages.ts';

/**
 * A mistake the user can fix. The dispatcher answers it with the catalogue
 * message for `key`; it is not logged as an error.
 */
export class UserError extends Error {
  constructor(
    readonly key: MessageKey,
    readonly params: MessageParams = {},
  ) {
    super(key);
    this.name = 'UserError';
  }
}
