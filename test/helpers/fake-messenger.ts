import type { Card, PlatformMessenger, SendOptions, Target } from '../../src/platforms/types.ts';

export interface SentMessage {
  kind: 'text' | 'card' | 'update';
  target: Target;
  text?: string;
  card?: Card;
  opts: SendOptions;
  platformMessageId: string;
}

/** Records what the bot sends; can be told to fail the next sends. */
export function createFakeMessenger(platform: PlatformMessenger['platform'] = 'sandbox') {
  const sent: SentMessage[] = [];
  let failures: Error[] = [];
  let n = 0;
  const maybeFail = () => {
    const err = failures.shift();
    if (err) throw err;
  };
  const messenger: PlatformMessenger = {
    platform,
    async sendText(target, text, opts) {
      maybeFail();
      const platformMessageId = `fake-${++n}`;
      sent.push({ kind: 'text', target, text, opts, platformMessageId });
      return { platformMessageId };
    },
    async sendCard(target, card, opts) {
      maybeFail();
      const platformMessageId = `fake-${++n}`;
      sent.push({ kind: 'card', target, card, opts, platformMessageId });
      return { platformMessageId };
    },
    async updateCard(ref, card, opts) {
      maybeFail();
      sent.push({ kind: 'update', target: ref.target, card, opts, platformMessageId: ref.platformMessageId });
    },
  };
  return {
    messenger,
    sent,
    failNext(...errors: Error[]) {
      failures = [...failures, ...errors];
    },
  };
}
