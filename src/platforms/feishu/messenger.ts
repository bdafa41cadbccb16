import { setTimeout as sleep } from 'node:timers/promises';
import type * as lark from '@larksuiteoapi/node-sdk';
import type { Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/logger.ts';
import {
  DeliveryError,
  type Card,
  type ChatMemberInfo,
  type Mention,
  type PlatformMessenger,
  type RateLimits,
  type Target,
} from '../types.ts';
import { Gcra } from '../../outbox/rate-limiter.ts';
import { ok, toDeliveryError } from './client.ts';
import { stripMarks, withoutBidi } from '../text.ts';
import { sealBinding, type ValueSealer } from './crypto.ts';
import { CARD_MAX_BYTES, renderFeishuCard } from './render-card.ts';

/**
 * Feishu's documented send limits (im/v1 messages): 50/s and 1000/min per
 * app, 5/s to one group (shared by every bot in it) and 5/s to one user.
 */
export const FEISHU_RATE_LIMITS: RateLimits = {
  perApp: [
    // Paced too: a bucket of 50 lets 50 go at once and 49 more within the
    // same second as it refills, and a platform counting any one second
    // refuses those (measured: 33 of 1,033 sends by three instances). 48, not
    // 50: a send may leave up to the worker's maxLateMs (30 ms) after its
    // slot, and 48 × 1.03 s still fits 50 into any one second.
    { rate: 48, perMs: 1000, burst: 1 },
    // 1000 in any one minute, counted exactly: a bucket of 1000 refilling
    // at 1000/min lets nearly 2,000 through in its first minute, and a bucket
    // that cannot wastes half of every minute (bench:shared-limit: 0.53 of
    // the possible rate). The window is stretched by the lateness allowed.
    { rate: 1000, perMs: 60_030, sliding: true },
  ],
  // Paced, not burst: Feishu counts 5 in any one second, and a full bucket of 5 followed by the
  // refill at 200 ms puts 6 in that second (code 230020, then a backoff that delays the message).
  perChat: [{ rate: 5, perMs: 1000, burst: 1 }],
  perUser: [{ rate: 5, perMs: 1000, burst: 1 }],
};

/**
 * Text content may be 150 KB of JSON; a CJK character is 3 bytes in UTF-8,
 * so 50,000 characters always fit with room for mentions and escaping.
 */
export const FEISHU_MAX_TEXT_LENGTH = 50_000;
const TEXT_MAX_BYTES = 150 * 1024;
/** im/v1/files: "文件大小不得超过 30 MB，且不允许上传空文件". */
export const FEISHU_MAX_FILE_BYTES = 30 * 1024 * 1024;

type FeishuFileType = 'opus' | 'mp4' | 'pdf' | 'doc' | 'xls' | 'ppt' | 'stream';

/** Feishu's upload file_type by extension; anything else is a plain `stream`. */
export function feishuFileType(name: string): FeishuFileType {
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  const byExt: Record<string, FeishuFileType> = {
    pdf: 'pdf',
    doc: 'doc',
    docx: 'doc',
    xls: 'xls',
    xlsx: 'xls',
    ppt: 'ppt',
    pptx: 'ppt',
    mp4: 'mp4',
    opus: 'opus',
  };
  return byExt[ext] ?? 'stream';
}

export interface FeishuMessenger extends PlatformMessenger {
  /** The bot's own open_id (GET /open-apis/bot/v3/info), fetched once and cached. */
  botOpenId(): Promise<string | undefined>;
  /** A member's display name in a chat, from the chat-members API (cached per chat). */
  displayName(chatId: string, openId: string): Promise<string | undefined>;
  /** The name if already cached; never waits for the network (card callbacks have 3 s). */
  cachedName(chatId: string, openId: string): string | undefined;
  /**
   * Delayed update with a callback token (30 min, two uses); call only after the callback was answered.
   * `target`: where the card was sent (its seals are bound there); a private card's member sees their own sections.
   */
  updateWithToken(token: string, card: Card, target: Target): Promise<void>;
  /** Everyone in a chat (the same paged, cached list the names come from); throws unless the whole list was read. */
  listChatMembers(chatId: string): Promise<ChatMemberInfo[]>;
}

/** 50,000 members (Feishu's largest groups), 100 a page. */
const MAX_MEMBER_PAGES = 500;
/** 429s one page waits out (each about a second) before its listing gives up. */
const MAX_PAGE_REFUSALS = 60;

export function createFeishuMessenger(deps: {
  client: lark.Client;
  /** Called when Feishu says the tenant token is invalid, so the next call fetches a new one. */
  forgetToken?: () => void;
  sealer: ValueSealer;
  clock: Clock;
  log: Logger;
  /** How long a chat's member list is trusted. */
  namesTtlMs?: number;
  /** Interval between member-list pages, of all chats together (the API allows 50 calls a second). */
  memberPageIntervalMs?: number;
  /** How long a message waits for its sender's name from a member listing (default 2 s). */
  nameWaitMs?: number;
}): FeishuMessenger {
  const { client, sealer, clock, log } = deps;
  /** Every SDK failure goes through here: a dead token is dropped before the outbox retries. */
  const failure = (err: unknown, what: string) => {
    const mapped = toDeliveryError(err, what);
    if (/code (99991663|99991661|99991668)\b/.test(mapped.message)) deps.forgetToken?.();
    return mapped;
  };
  const namesTtlMs = deps.namesTtlMs ?? 10 * 60_000;
  const memberPageIntervalMs = deps.memberPageIntervalMs ?? 25;
  const nameWaitMs = deps.nameWaitMs ?? 2_000;
  /** `complete` is false when a failure cut the list short: names from it are good, the roster is not. */
  const names = new Map<string, { at: number; byId: Map<string, string>; complete: boolean }>();
  const loading = new Map<string, Promise<Map<string, string>>>();
  let bot: Promise<string | undefined> | undefined;

  const receiveIdType = (target: Target) => (target.kind === 'chat' ? 'chat_id' : 'open_id');

  /** A private card has one viewer, who sees their own viewer sections; a group card shows the defaults. */
  const viewerOf = (target: Target) => (target.kind === 'user' ? target.id : undefined);

  const renderFor = (card: Card, target: Target) =>
    renderFeishuCard(card, sealer, { binding: sealBinding(target), viewer: viewerOf(target) });

  function cardContent(card: Card, target: Target): string {
    const content = JSON.stringify(renderFor(card, target));
    if (Buffer.byteLength(content) > CARD_MAX_BYTES) {
      throw new DeliveryError(
        `card is ${Buffer.byteLength(content)} bytes, Feishu allows ${CARD_MAX_BYTES}`,
        'permanent',
        undefined,
        'feishu.delivery.too_long',
      );
    }
    return content;
  }

  async function send(target: Target, msgType: 'text' | 'interactive' | 'file', content: string, uuid: string) {
    try {
      const res = ok(
        await client.im.v1.message.create({
          params: { receive_id_type: receiveIdType(target) },
          data: { receive_id: target.id, msg_type: msgType, content, uuid },
        }),
      );
      const id = res.data?.message_id;
      if (!id) throw new DeliveryError('Feishu answered without a message_id', 'retry');
      return { platformMessageId: id };
    } catch (err) {
      throw failure(err, `send ${msgType} to ${target.kind} ${target.id}`);
    }
  }

  /**
   * All members of a chat, 100 a page. A Feishu group holds up to 50,000
   * people, and the API allows 50 calls a second: pages are paced under that,
   * a 429 waits out its reset and retries the page, and what was read before
   * a failure is kept (a quiz in a big group still shows most names).
   */
  async function loadMembers(chatId: string): Promise<Map<string, string>> {
    const byId = new Map<string, string>();
    let pageToken: string | undefined;
    try {
      for (let page = 0; page < MAX_MEMBER_PAGES; page++) {
        const res = await memberPage(chatId, pageToken);
        for (const item of res.data?.items ?? []) {
          if (item.member_id && item.name) byId.set(item.member_id, item.name);
        }
        if (!res.data?.has_more || !res.data.page_token) break;
        pageToken = res.data.page_token;
      }
    } catch (err) {
      if (byId.size > 0) names.set(chatId, { at: clock.now().getTime(), byId, complete: false });
      throw err;
    }
    names.set(chatId, { at: clock.now().getTime(), byId, complete: true });
    return byId;
  }

  /**
   * One pace for the member-list pages of every chat. At 09:00 a province's 300 groups are
   * clicked at once and each group's first clicker without a known name starts a listing: paced
   * per chat only, they all asked together, met the API's 50 calls a second with 429s, gave up
   * after five attempts and started over a minute later (bench:province: 1,375 failed listings
   * in its first minute). A 429 pauses every listing of this process until the platform's reset
   * (another instance shares the limit), and is not one of a page's attempts.
   */
  const pagePace = new Gcra({ rate: 1, perMs: memberPageIntervalMs, burst: 1 });
  async function pageSlot(): Promise<void> {
    const now = performance.now();
    const at = pagePace.availableAt(now);
    pagePace.take(at);
    if (at > now) await sleep(at - now);
  }

  async function memberPage(chatId: string, pageToken: string | undefined) {
    let refusals = 0;
    for (let attempt = 1; ;) {
      await pageSlot();
      try {
        return ok(
          await client.im.v1.chatMembers.get({
            path: { chat_id: chatId },
            params: { member_id_type: 'open_id', page_size: 100, ...(pageToken ? { page_token: pageToken } : {}) },
          }),
        );
      } catch (err) {
        const mapped = failure(err, 'chat members');
        if (mapped.throttled && ++refusals <= MAX_PAGE_REFUSALS) {
          pagePace.blockUntil(performance.now() + (mapped.retryAfterMs ?? 1000));
          continue;
        }
        if (mapped.kind !== 'retry' || ++attempt > 5) throw err;
        await sleep(mapped.retryAfterMs ?? 500 * attempt);
      }
    }
  }

  function membersOf(chatId: string): Promise<Map<string, string>> {
    let p = loading.get(chatId);
    if (!p) {
      p = loadMembers(chatId).finally(() => loading.delete(chatId));
      loading.set(chatId, p);
    }
    return p;
  }

  return {
    platform: 'feishu',
    rateLimits: FEISHU_RATE_LIMITS,
    maxTextLength: FEISHU_MAX_TEXT_LENGTH,

    async sendText(target, text, opts) {
      const content = JSON.stringify({ text: textWithMentions(text, opts.mentions ?? []) });
      if (Buffer.byteLength(content) > TEXT_MAX_BYTES) {
        throw new DeliveryError('text longer than 150 KB', 'permanent', undefined, 'feishu.delivery.too_long');
      }
      return send(target, 'text', content, opts.idempotencyKey);
    },

    async sendCard(target, card, opts) {
      return send(target, 'interactive', cardContent(card, target), opts.idempotencyKey);
    },

    maxFileBytes: FEISHU_MAX_FILE_BYTES,

    /**
     * Upload (im/v1/files), then a `file` message with the file_key and the
     * row's uuid. The upload has no idempotency key: a retry after a lost
     * answer uploads again, which costs nothing but an unused file_key.
     */
    async sendFile(target, file, opts) {
      if (file.bytes.byteLength === 0 || file.bytes.byteLength > FEISHU_MAX_FILE_BYTES) {
        throw new DeliveryError(`Feishu takes files of 1 byte to 30 MB, not ${file.bytes.byteLength}`, 'permanent');
      }
      let fileKey: string | undefined;
      try {
        const res = await client.im.v1.file.create({
          data: {
            file_type: feishuFileType(file.name),
            file_name: file.name,
            file: Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength),
          },
        });
        fileKey = res?.file_key;
      } catch (err) {
        throw failure(err, `upload file ${file.name}`);
      }
      if (!fileKey) throw new DeliveryError('Feishu answered the upload without a file_key', 'retry');
      return send(target, 'file', JSON.stringify({ file_key: fileKey }), opts.idempotencyKey);
    },

    async updateCard(ref, card) {
      // PATCH updates the shared card for everyone in the chat (update_multi).
      const content = cardContent(card, ref.target);
      try {
        ok(await client.im.v1.message.patch({ path: { message_id: ref.platformMessageId }, data: { content } }));
      } catch (err) {
        throw failure(err, `patch card ${ref.platformMessageId}`);
      }
    },

    async updateWithToken(token, card, target) {
      try {
        ok(
          await client.request<{ code?: number; msg?: string }>({
            method: 'POST',
            url: '/open-apis/interactive/v1/card/update',
            data: { token, card: renderFor(card, target) },
          }),
        );
      } catch (err) {
        throw failure(err, 'delayed card update');
      }
    },

    botOpenId() {
      if (!bot) {
        bot = client
          .request<{ code?: number; msg?: string; bot?: { open_id?: string } }>({
            method: 'GET',
            url: '/open-apis/bot/v3/info',
          })
          .then((res) => ok(res).bot?.open_id)
          .catch((err: unknown) => {
            log.warn({ error: failure(err, 'bot info').message }, 'could not read the bot open_id; will retry');
            bot = undefined; // try again on the next event
            return undefined;
          });
      }
      return bot;
    },

    async displayName(chatId, openId) {
      const cached = names.get(chatId);
      const fresh = cached && clock.now().getTime() - cached.at < namesTtlMs;
      if (fresh && cached.byId.has(openId)) return cached.byId.get(openId);
      // A newcomer or a stale list: reload, but at most once a minute per chat.
      if (cached && clock.now().getTime() - cached.at < 60_000) return cached.byId.get(openId);
      const listed = membersOf(chatId).then(
        (byId) => byId.get(openId),
        (err: unknown) => {
          log.warn({ chatId, error: failure(err, 'chat members').message }, 'could not list chat members');
          // Remember the failure too, so clicks during a quiz do not each retry the API.
          names.set(chatId, { at: clock.now().getTime(), byId: cached?.byId ?? new Map(), complete: false });
          return cached?.byId.get(openId);
        },
      );
      // A listing queued behind a province's 09:00 (hundreds of groups, 50 pages a second) could take
      // half a minute: the message goes on without the name after a short wait, and the listing
      // finishes behind it for the next event.
      const waited = sleep(nameWaitMs, undefined, { ref: false }).then(() => cached?.byId.get(openId));
      return Promise.race([listed, waited]);
    },

    cachedName(chatId, openId) {
      return names.get(chatId)?.byId.get(openId);
    },

    async listChatMembers(chatId) {
      const cached = names.get(chatId);
      const byId =
        cached?.complete && clock.now().getTime() - cached.at < namesTtlMs ? cached.byId : await membersOf(chatId);
      return [...byId].map(([id, name]) => ({ id, name }));
    },
  };
}

/**
 * Feishu text mentions are `<at user_id="ou_x">Name</at>`. A mention whose
 * `@Name` appears in the text is replaced in place; the others lead the text.
 */
export function textWithMentions(text: string, mentions: Mention[]): string {
  let out = escapeText(text);
  const leading: string[] = [];
  for (const m of mentions) {
    const tag = `<at user_id="${escapeAttr(m.id)}">${escapeText(m.name)}</at>`;
    const needle = `@${escapeText(m.name)}`;
    if (m.name && out.includes(needle)) out = out.split(needle).join(tag);
    else leading.push(tag);
  }
  return leading.length ? `${leading.join(' ')} ${out}` : out;
}

/**
 * Feishu text messages read `<at …>`, `<i>`/`<u>`/`<s>`, `**bold**` and
 * `[text](url)`. None of that may come from text the bot sends (names,
 * notes, stems): a tag-like `<` is written as `&lt;`, and bold and link
 * syntax is broken with an invisible word joiner (U+2060), so the text
 * shows as typed. The bot's own mentions are added after this, from
 * SendOptions.mentions. Card-template marks, if any, are dropped.
 */
export function escapeText(s: string): string {
  return withoutBidi(stripMarks(s))
    .replace(/<(?=[A-Za-z/!?])/g, '&lt;')
    .replace(/\*(?=\*)/g, '*\u2060')
    .replace(/\](?=\()/g, ']\u2060');
}

function escapeAttr(s: string): string {
  return s.replace(/["<>&]/g, '');
}
