import { loadConfig } from '../../src/config.ts';
import { createManualClock, type ManualClock } from '../../src/lib/clock.ts';
import { createSilentLogger, type Logger } from '../../src/lib/logger.ts';
import type { Feature } from '../../src/bot/bot.ts';
import type { WorkingDays } from '../../src/features/calendar/working-days.ts';
import { createShuxiang, type Shuxiang } from '../../src/main.ts';
import { cardActions, type Card } from '../../src/platforms/types.ts';
import { createSqliteTestDatabase, type TestDatabase } from './databases.ts';

export interface TranscriptMessage {
  seq: number;
  rev: number;
  messageId: string;
  from: 'bot' | 'user';
  userId?: string;
  text?: string;
  card?: Card;
  mentions?: { id: string; name: string }[];
}

export interface Harness {
  shuxiang: Shuxiang;
  clock: ManualClock;
  database: TestDatabase;
  /** A user types in a sandbox chat; resolves once the bot's replies are in the transcript. */
  say(chatId: string, userId: string, text: string): Promise<TranscriptMessage[]>;
  /** A user clicks a card button; returns the AckReply. */
  click(
    chatId: string,
    userId: string,
    message: TranscriptMessage,
    actionId?: string,
    formValues?: Record<string, unknown>,
  ): Promise<{ toast?: { kind: string; text: string }; card?: Card }>;
  transcript(chatId: string, after?: number): Promise<TranscriptMessage[]>;
  close(): Promise<void>;
}

/**
 * The whole bot on a fresh database with the demo organisation, driven
 * through the sandbox HTTP API with app.request (no port, no network).
 */
export async function createHarness(
  options: {
    env?: Record<string, string>;
    database?: TestDatabase;
    clock?: ManualClock;
    log?: Logger;
    workingDays?: WorkingDays;
    /** Extra features (test-only commands and actions). */
    features?: Feature[];
  } = {},
): Promise<Harness> {
  const database = options.database ?? (await createSqliteTestDatabase());
  const clock = options.clock ?? createManualClock('2026-03-02T01:00:00Z');
  const config = loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent', NODE_ENV: 'test', ...options.env });
  const shuxiang = await createShuxiang(config, {
    clock,
    log: options.log ?? createSilentLogger(),
    ...(options.workingDays ? { workingDays: options.workingDays } : {}),
    ...(options.features ? { features: options.features } : {}),
  });
  const { app } = shuxiang;

  async function transcript(chatId: string, after = 0): Promise<TranscriptMessage[]> {
    const res = await app.request(`/sandbox/api/chats/${encodeURIComponent(chatId)}/messages?after=${after}`);
    if (res.status !== 200) throw new Error(`transcript ${res.status}: ${await res.text()}`);
    return (await res.json()) as TranscriptMessage[];
  }

  async function lastRev(chatId: string): Promise<number> {
    const all = await transcript(chatId);
    return all.reduce((m, x) => Math.max(m, x.rev), 0);
  }

  return {
    shuxiang,
    clock,
    database,
    transcript,
    async say(chatId, userId, text) {
      const before = await lastRev(chatId);
      const res = await app.request('/sandbox/api/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chatId, userId, text }),
      });
      if (res.status !== 202) throw new Error(`say ${res.status}: ${await res.text()}`);
      return (await transcript(chatId, before)).filter((m) => m.from === 'bot');
    },
    async click(chatId, userId, message, actionId, formValues) {
      const targets = message.card ? cardActions(message.card) : [];
      const target = actionId ? targets.find((t) => t.actionId === actionId) : targets[0];
      if (!target) throw new Error(`no button ${actionId ?? '(any)'} on message ${message.messageId}`);
      const res = await app.request('/sandbox/api/actions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chatId, userId, messageId: message.messageId, ...target, formValues }),
      });
      if (res.status !== 200) throw new Error(`click ${res.status}: ${await res.text()}`);
      return (await res.json()) as { toast?: { kind: string; text: string }; card?: Card };
    },
    async close() {
      await shuxiang.stop();
      if (!options.database) await database.drop();
    },
  };
}
