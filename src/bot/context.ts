import type { ActionEvent, Card, Mention, MessageEvent, Platform } from '../platforms/types.ts';
import type { Clock } from '../lib/clock.ts';
import type { Db, Tx } from '../lib/db.ts';
import type { Logger } from '../lib/logger.ts';
import type { MessageRef, Outbox } from '../outbox/outbox.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { CardTemplates } from './card-templates.ts';
import type { Jobs } from './jobs.ts';
import type { Content, SendHub } from './send.ts';
import type { MessageKey, MessageParams, Messages } from './messages.ts';

export type Role = 'secretary' | 'member';

/** A role tied to one unit: its head (负责人) or one of its contacts (联络员). */
export type UnitRoleName = 'head' | 'contact';

/** Who is speaking, as the directory resolved them. */
export interface Identity {
  orgId: string;
  orgName: string;
  timezone: string;
  memberId: string;
  displayName: string;
  unitId: string | null;
  unitName: string | null;
  role: Role;
  /** The units this person heads or is a contact of (who receives a unit's escalations and may act for it). */
  unitRoles: { unitId: string; unitName: string; role: UnitRoleName }[];
  /** The chat record, when the event came from a registered chat. */
  chatId: string | null;
}

/** Resolves the sender and chat of an event; implemented by features/org. */
export interface IdentityResolver {
  resolve(event: MessageEvent | ActionEvent): Promise<Identity>;
  /** Registers a chat the bot was added to (onboarding); optional so simple resolvers stay simple. */
  registerChat?(input: {
    platform: Platform;
    tenant: string;
    platformChatId: string;
    kind: 'group' | 'direct';
    title: string;
  }): Promise<{ chatId: string; orgId: string; created: boolean }>;
  /** The organisation's secretaries, for private notices (the bot leaving a group). */
  secretaries?(orgId: string): Promise<{ platform: string; platformUserId: string }[]>;
}

/** A group chat the bot has just left (removed, or the group dissolved), as features see it. */
export interface LeftChat {
  orgId: string;
  /** Our Chat row id. */
  chatId: string;
  platform: Platform;
  /** The platform's chat id: what plans, rounds and reminders name as their target. */
  platformChatId: string;
}

/** One line of the secretaries' notice: something a feature paused in that chat, and how to resume it. */
export interface PausedLine {
  key: MessageKey;
  params?: MessageParams;
}

/** Shared services every handler can reach; features close over their own. */
export interface BotServices {
  db: Db;
  clock: Clock;
  log: Logger;
  messages: Messages;
  cards: CardTemplates;
  outbox: Outbox;
  scheduler: Scheduler;
  /** Sending, once (bot/send.ts): the only way features send. */
  send: SendHub;
  /** Scheduling typed jobs (bot/jobs.ts). */
  jobs: Jobs;
}

export interface ReplyOptions {
  mentions?: Mention[];
  /** Write the reply inside this transaction, so it commits with the caller's writes. */
  tx?: Tx;
}

interface BaseContext {
  platform: Platform;
  identity: Identity;
  services: BotServices;
  log: Logger;
  t(key: MessageKey, params?: MessageParams): string;
  /** Reply in the chat the event came from: a composed text, a catalogue text, or a card. */
  reply(content: string | Content, opts?: ReplyOptions): Promise<MessageRef>;
  replyCard(card: Card, opts?: { tx?: Tx }): Promise<MessageRef>;
  /** Privately to whoever sent the message or clicked, wherever they did it. */
  replyPrivately(content: string | Content, opts?: ReplyOptions): Promise<MessageRef>;
  /** Anywhere else: chats, members, units, secretaries (`send.in(tx)` inside a transaction). */
  send: SendHub;
}

export interface CommandContext extends BaseContext {
  event: MessageEvent;
}

export interface ActionContext extends BaseContext {
  event: ActionEvent;
  /** Replace the card the button was on (delivered after the ack; close updates are merged). */
  updateCard(card: Card, opts?: { tx?: Tx }): Promise<void>;
}

/**
 * A feature's part when the bot leaves a group: stop what it runs there, in
 * the caller's transaction (with the dedupe row and the notice), and say what
 * it stopped. Private things (reminders to people, test attempts) stay.
 */
export type ChatLeftHook = (chat: LeftChat, tx: Tx) => Promise<PausedLine[]>;

/** A message whose first word is no command, offered to a feature (see Feature.onOtherText). */
export type OtherTextHook = (ctx: CommandContext) => Promise<boolean>;
