import { z } from 'zod';

/**
 * Optional, as platforms mean it: a field that is absent, `null` or an empty
 * string is the same "not given". Feishu sends `user_id: null` to apps
 * without the user-id scope and DingTalk leaves fields empty; refusing the
 * whole event for a field the bot does not need would lose a member's command.
 */
export function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === null || v === '' ? undefined : v), schema.optional());
}
