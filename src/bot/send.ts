import { PLATFORMS, type Card, type Mention, type Platform, type Target } from '../platforms/types.ts';
import type { Db, Tx } from '../lib/db.ts';
import type { MessageRef, Outbox } from '../outbox/outbox.ts';
import type { FileStore } from '../files/file-store.ts';
import { offerFile } from './downloads.ts';
import type { MessageKey, MessageParams, Messages } from './messages.ts';

/**
 * Sending, once: the one way features put a message on its way, used alike
 * by command handlers, card actions and scheduled jobs. Every send is an
 * outbox row; bound to a transaction (`send.in(tx)`), the row commits with
 * the caller's own writes, so "decided to send" and "sent" cannot part.
 *
 * Platforms arrive from database columns as strings; `asPlatform` checks
 * them once here, so features never cast.
 */

/**
 * What to send: a catalogue text, an already composed text, a card, or a
 * file (a file message where the platform takes it, else the download link,
 * with `caption` said alongside the link).
 */
export type Content =
  | { key: MessageKey; params?: MessageParams; mentions?: Mention[] }
  | { text: string; mentions?: Mention[] }
  | { card: Card }
  | { file: { name: string; contentType: string; bytes: Uint8Array }; caption?: string };

export interface SendOptions {
  /** Deliver no earlier than this. */
  notBefore?: Date;
  /** Caller-chosen outbox id, so a retried decision maps to the same row. */
  id?: string;
  /** Free-form markers kept with the row (reports, scheduled item ids). */
  meta?: Record<string, unknown>;
  /** The platform's reply handle from the inbound event (DingTalk sessionWebhook). */
  replyHandle?: string;
}

/** A chat by its platform id (what rounds, plans and reminders store). */
export interface ChatAddress {
  platform: string;
  chatId: string;
  orgId?: string | null;
}

/** A person by their platform user id, privately. */
export interface UserAddress {
  platform: string;
  userId: string;
  orgId?: string | null;
}

/** A member row (or the fields of one that sending needs). */
export interface MemberAddress {
  platform: string;
  platformUserId: string;
  orgId: string;
}

/** A card already sent, to be replaced in place. */
export interface CardAddress {
  platform: string;
  /** Where the card is (its chat, or the user for a private card). */
  target: Target;
  /** The outbox id of the card (a MessageRef id). */
  messageId: string;
  orgId?: string | null;
}

export interface Sender {
  toChat(chat: ChatAddress, content: Content, opts?: SendOptions): Promise<MessageRef>;
  toUser(user: UserAddress, content: Content, opts?: SendOptions): Promise<MessageRef>;
  /** Privately to a member, by id or by row. */
  toMember(member: string | MemberAddress, content: Content, opts?: SendOptions): Promise<MessageRef>;
  /** Privately to each member of a unit (on their own platform). */
  toUnit(unitId: string, content: Content, opts?: SendOptions): Promise<MessageRef[]>;
  /** Privately to each secretary of an organisation. */
  toSecretaries(orgId: string, content: Content, opts?: SendOptions): Promise<MessageRef[]>;
  /** Replaces a card; updates to one card close together are merged by the outbox. */
  updateCard(card: CardAddress, next: Card): Promise<MessageRef>;
}

export interface SendHub extends Sender {
  /** The same sender writing inside `tx`: its rows commit (or roll back) with the caller's. */
  in(tx: Tx | undefined): Sender;
}

export class UnknownPlatformError extends Error {
  constructor(readonly value: string) {
    super(`unknown platform "${value}"`);
    this.name = 'UnknownPlatformError';
  }
}

const platformSet = new Set<string>(PLATFORMS);

/** A platform read from storage, checked. */
export function asPlatform(value: string): Platform {
  if (!platformSet.has(value)) throw new UnknownPlatformError(value);
  return value as Platform;
}

export function createSendHub(deps: {
  db: Db;
  outbox: Outbox;
  messages: Messages;
  /** Where files are stored; without it a file content is refused. */
  files?: FileStore;
  /** The organisation's secretaries (the directory). */
  secretaries: (orgId: string) => Promise<{ platform: string; platformUserId: string }[]>;
}): SendHub {
  const { outbox, messages } = deps;

  function body(content: Exclude<Content, { file: unknown }>, replyHandle?: string) {
    if ('card' in content) return { kind: 'card' as const, body: { card: content.card, replyHandle } };
    const text = 'key' in content ? messages.t(content.key, content.params) : content.text;
    const mentions = content.mentions?.length ? content.mentions : undefined;
    return { kind: 'text' as const, body: { text, mentions, replyHandle } };
  }

  function bind(tx: Tx | undefined): Sender {
    const reader: Db | Tx = tx ?? deps.db;
    const put = async (
      platform: string,
      orgId: string | null | undefined,
      target: Target,
      content: Content,
      o?: SendOptions,
    ): Promise<MessageRef> => {
      if ('file' in content) {
        if (!deps.files) throw new Error('sending a file needs the file store');
        if (!orgId) throw new Error('sending a file needs the organisation it belongs to');
        const { id } = await offerFile(
          { files: deps.files, outbox, t: messages.t },
          { ...content.file, orgId, platform: asPlatform(platform), target, text: content.caption, ...o },
          tx,
        );
        return { id };
      }
      return outbox.enqueue(
        {
          platform: asPlatform(platform),
          orgId: orgId ?? null,
          target,
          ...body(content, o?.replyHandle),
          notBefore: o?.notBefore,
          id: o?.id,
          meta: o?.meta,
        },
        tx,
      );
    };
    const sender: Sender = {
      toChat: (chat, content, o) => put(chat.platform, chat.orgId, { kind: 'chat', id: chat.chatId }, content, o),
      toUser: (user, content, o) => put(user.platform, user.orgId, { kind: 'user', id: user.userId }, content, o),
      async toMember(member, content, o) {
        const row =
          typeof member === 'string'
            ? await reader.member.findUniqueOrThrow({
                where: { id: member },
                select: { platform: true, platformUserId: true, orgId: true },
              })
            : member;
        return put(row.platform, row.orgId, { kind: 'user', id: row.platformUserId }, content, o);
      },
      async toUnit(unitId, content, o) {
        const rows = await reader.member.findMany({
          where: { unitId },
          select: { platform: true, platformUserId: true, orgId: true },
          orderBy: { id: 'asc' },
        });
        const refs: MessageRef[] = [];
        for (const r of rows)
          refs.push(await put(r.platform, r.orgId, { kind: 'user', id: r.platformUserId }, content, o));
        return refs;
      },
      async toSecretaries(orgId, content, o) {
        const refs: MessageRef[] = [];
        for (const s of await deps.secretaries(orgId)) {
          refs.push(await put(s.platform, orgId, { kind: 'user', id: s.platformUserId }, content, o));
        }
        return refs;
      },
      updateCard: (card, next) =>
        outbox.enqueue(
          {
            platform: asPlatform(card.platform),
            orgId: card.orgId ?? null,
            target: card.target,
            kind: 'card_update',
            body: { card: next },
            refId: card.messageId,
          },
          tx,
        ),
    };
    return sender;
  }

  return Object.assign(bind(undefined), { in: bind });
}
