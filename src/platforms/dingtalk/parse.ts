import { z } from 'zod';
import { BODY_LIMITS, exceedsJsonLimits } from '../json-bounds.ts';
import { optional } from '../optional.ts';
import type { Mention, MessageEvent } from '../types.ts';

/**
 * DingTalk payloads → the seam. The robot message body is the same over
 * Stream mode (frame `data`) and HTTP mode (request body).
 */

const atUser = z.object({ dingtalkId: optional(z.string()), staffId: optional(z.string()) }).passthrough();

export const robotMessageSchema = z
  .object({
    msgtype: z.string(),
    msgId: z.string().min(1).max(200),
    createAt: optional(z.union([z.number(), z.string()])),
    conversationType: z.union([z.literal('1'), z.literal('2'), z.literal(1), z.literal(2)]),
    conversationId: z.string().min(1).max(200),
    conversationTitle: optional(z.string()),
    senderId: optional(z.string()),
    senderStaffId: optional(z.string().min(1).max(200)),
    senderNick: optional(z.string()),
    senderCorpId: optional(z.string()),
    chatbotCorpId: optional(z.string()),
    chatbotUserId: optional(z.string()),
    robotCode: optional(z.string()),
    isInAtList: optional(z.boolean()),
    atUsers: optional(z.array(atUser)),
    text: optional(z.object({ content: z.string() })),
    content: optional(z.unknown()),
    sessionWebhook: optional(z.string()),
    sessionWebhookExpiredTime: optional(z.union([z.number(), z.string()])),
  })
  .passthrough();

export type RobotMessage = z.infer<typeof robotMessageSchema>;

/** What the messenger needs to answer on the sessionWebhook; opaque to the bot. */
export interface ReplyHandle {
  /** sessionWebhook URL */
  w: string;
  /** expiry, ms since epoch */
  e: number;
  /** conversation id */
  c: string;
  /** the sender's userId, for private chats */
  u?: string;
}

export function encodeReplyHandle(h: ReplyHandle): string {
  return JSON.stringify(h);
}

export function decodeReplyHandle(raw: string | undefined): ReplyHandle | undefined {
  if (!raw) return undefined;
  try {
    const h = JSON.parse(raw) as Partial<ReplyHandle>;
    if (typeof h.w === 'string' && typeof h.e === 'number' && typeof h.c === 'string') return h as ReplyHandle;
  } catch {
    // not ours
  }
  return undefined;
}

/** The text the member typed: text messages, or the text parts of a rich-text message. */
function textOf(msg: RobotMessage): string {
  if (msg.msgtype === 'text') return msg.text?.content ?? '';
  if (msg.msgtype === 'richText') {
    const rich = (msg.content as { richText?: { text?: string }[] } | undefined)?.richText ?? [];
    return rich
      .map((p) => p.text ?? '')
      .join('')
      .trim();
  }
  return '';
}

/**
 * DingTalk gives mentioned users as ids without names, and the text keeps
 * `@name` for everyone but the bot. The @-tokens appear in the same order as
 * the ids, which is how names are paired with ids.
 */
function mentionsOf(msg: RobotMessage, text: string): Mention[] {
  const others = (msg.atUsers ?? []).filter(
    (u) => u.staffId && (!msg.chatbotUserId || u.dingtalkId !== msg.chatbotUserId),
  );
  const names = [...text.matchAll(/@([^\s@]+)/g)].map((m) => m[1]!);
  const pairable = names.length === others.length;
  const out: Mention[] = [];
  others.forEach((u, i) => {
    if (!out.some((m) => m.id === u.staffId)) out.push({ id: u.staffId!, name: pairable ? names[i]! : u.staffId! });
  });
  return out;
}

/** A file a member sent (private chats only); the bytes are fetched on demand with the download code. */
export interface FileRef {
  name: string;
  size?: number;
  downloadCode: string;
}

function filesOf(msg: RobotMessage): FileRef[] {
  if (msg.msgtype !== 'file') return [];
  const c = msg.content as { downloadCode?: unknown; fileName?: unknown; fileSize?: unknown } | undefined;
  if (typeof c?.downloadCode !== 'string' || typeof c.fileName !== 'string') return [];
  const size = typeof c.fileSize === 'number' ? c.fileSize : undefined;
  return [{ name: c.fileName, downloadCode: c.downloadCode, size }];
}

export type ParsedMessage =
  | { ok: true; event: MessageEvent; payload: RobotMessage; files: FileRef[] }
  | { ok: false; reason: string; eventKey?: string };

export function parseRobotMessage(body: unknown, receivedAt: Date, allowedWebhookHosts: string[]): ParsedMessage {
  const parsed = robotMessageSchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  }
  const msg = parsed.data;
  // Without a staff id (external members, or a robot not yet published) nobody can be addressed later.
  if (!msg.senderStaffId)
    return { ok: false, reason: 'no senderStaffId (external member or unpublished robot)', eventKey: msg.msgId };
  const group = String(msg.conversationType) === '2';
  const text = textOf(msg).replace(/\s+/g, ' ').trim();
  let replyHandle: string | undefined;
  if (msg.sessionWebhook && msg.sessionWebhookExpiredTime !== undefined) {
    // A webhook we cannot use costs the reply path, not the message.
    const host = URL.canParse(msg.sessionWebhook) ? new URL(msg.sessionWebhook).host : '';
    // The webhook is only ever posted to DingTalk itself (HTTP-mode bodies are not signed).
    if (allowedWebhookHosts.includes(host)) {
      replyHandle = encodeReplyHandle({
        w: msg.sessionWebhook,
        e: Number(msg.sessionWebhookExpiredTime),
        c: msg.conversationId,
        u: group ? undefined : msg.senderStaffId,
      });
    }
  }
  const event: MessageEvent = {
    type: 'message',
    platform: 'dingtalk',
    tenant: msg.chatbotCorpId ?? msg.senderCorpId ?? 'unknown',
    eventKey: msg.msgId,
    chat: group
      ? { id: msg.conversationId, kind: 'group', title: msg.conversationTitle }
      : { id: msg.conversationId, kind: 'direct' },
    sender: { id: msg.senderStaffId, name: msg.senderNick },
    text,
    mentions: mentionsOf(msg, text),
    // In groups DingTalk delivers only messages that @-mention the bot.
    mentionedBot: group ? (msg.isInAtList ?? true) : true,
    receivedAt,
    replyHandle,
  };
  return { ok: true, event, payload: msg, files: filesOf(msg) };
}

// ---- card callbacks ------------------------------------------------------------

export const cardCallbackSchema = z
  .object({
    outTrackId: z.string().min(1).max(200),
    userId: z.string().min(1).max(200),
    corpId: optional(z.string()),
    type: optional(z.string()),
    spaceType: optional(z.string()),
    spaceId: optional(z.string()),
    content: optional(z.string()),
    value: optional(z.string()),
  })
  .passthrough();

export interface CardClick {
  outTrackId: string;
  /** The member who clicked, as DingTalk vouches for it. */
  userId: string;
  corpId?: string;
  params: Record<string, unknown>;
}

/**
 * The docs disagree on where the clicked button's params are (`content` or
 * `value`, inside `cardPrivateData` or not), so both shapes are accepted.
 */
export function parseCardCallback(body: unknown): { ok: true; click: CardClick } | { ok: false; reason: string } {
  const parsed = cardCallbackSchema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((i) => i.message).join('; ') };
  const raw = parsed.data.content ?? parsed.data.value;
  let inner: Record<string, unknown> = {};
  if (raw) {
    try {
      inner = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return { ok: false, reason: 'content is not JSON' };
    }
    const excess = exceedsJsonLimits(inner, BODY_LIMITS);
    if (excess) return { ok: false, reason: `content ${excess}` };
  }
  const priv = inner.cardPrivateData as { params?: unknown } | undefined;
  const params = (priv?.params ?? inner.params ?? {}) as unknown;
  if (typeof params !== 'object' || params === null) return { ok: false, reason: 'params are not an object' };
  return {
    ok: true,
    click: {
      outTrackId: parsed.data.outTrackId,
      userId: parsed.data.userId,
      corpId: parsed.data.corpId,
      params: params as Record<string, unknown>,
    },
  };
}
