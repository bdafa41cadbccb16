import { DeliveryError, type PlatformMessenger, type Target } from '../types.ts';
import { directChatId, type Transcript } from './transcript.ts';

/** Delivers into the sandbox transcript; the platform message id is our idempotency key. */
export function createSandboxMessenger(transcript: Transcript): PlatformMessenger {
  const chatOf = (target: Target) => (target.kind === 'user' ? directChatId(target.id) : target.id);
  return {
    platform: 'sandbox',
    // A modest limit, like a real platform's, so "too long" paths can be tried in the sandbox.
    maxTextLength: 2000,
    async sendText(target, text, opts) {
      await transcript.append({
        chatId: chatOf(target),
        messageId: opts.idempotencyKey,
        from: 'bot',
        text,
        mentions: opts.mentions,
      });
      return { platformMessageId: opts.idempotencyKey };
    },
    async sendCard(target, card, opts) {
      await transcript.append({ chatId: chatOf(target), messageId: opts.idempotencyKey, from: 'bot', card });
      return { platformMessageId: opts.idempotencyKey };
    },
    // Sandbox files are links to the bot's own file store, which the page opens.
    async sendFile(target, file, opts) {
      if (!file.url) throw new DeliveryError('sandbox file messages need the stored file link', 'permanent');
      await transcript.append({
        chatId: chatOf(target),
        messageId: opts.idempotencyKey,
        from: 'bot',
        file: { name: file.name, size: file.bytes.byteLength, url: file.url },
      });
      return { platformMessageId: opts.idempotencyKey };
    },
    async updateCard(ref, card) {
      if (!(await transcript.updateCard(ref.platformMessageId, card))) {
        throw new DeliveryError(`sandbox message ${ref.platformMessageId} not found`, 'permanent');
      }
    },
  };
}
