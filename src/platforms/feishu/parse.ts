import { z } from 'zod';
import { optional } from '../optional.ts';
import type { Mention } from '../types.ts';

/**
 * Feishu payload shapes (schema 2.0 envelopes, after decryption), validated
 * with zod so that a malformed push is a clear 400, not a crash. Unknown
 * fields pass through: Feishu adds fields without notice.
 */
export const headerSchema = z.object({
  event_id: z.string().min(1),
  event_type: z.string().min(1),
  create_time: optional(z.string()),
  token: optional(z.string()),
  app_id: optional(z.string()),
  tenant_key: optional(z.string()),
});

export type FeishuHeader = z.infer<typeof headerSchema>;

export const envelopeSchema = z.object({
  schema: z.literal('2.0'),
  header: headerSchema,
  event: z.record(z.string(), z.unknown()),
});

export type FeishuEnvelope = z.infer<typeof envelopeSchema>;

export const challengeSchema = z.object({
  type: z.literal('url_verification'),
  challenge: z.string(),
  token: optional(z.string()),
});

const userId = z.object({
  open_id: optional(z.string()),
  union_id: optional(z.string()),
  user_id: optional(z.string()),
});

export const messageEventSchema = z.object({
  sender: z.object({
    sender_id: userId,
    sender_type: optional(z.string()),
    tenant_key: optional(z.string()),
  }),
  message: z.object({
    message_id: z.string().min(1),
    chat_id: z.string().min(1),
    chat_type: z.string(),
    message_type: z.string(),
    content: z.string().default(''),
    create_time: optional(z.string()),
    mentions: optional(
      z.array(
        z.object({
          key: z.string(),
          id: optional(userId),
          name: z.string().default(''),
          mentioned_type: optional(z.string()),
        }),
      ),
    ),
  }),
});

export type FeishuMessageEvent = z.infer<typeof messageEventSchema>;

export const cardActionSchema = z.object({
  operator: z.object({
    open_id: z.string().min(1),
    user_id: optional(z.string()),
    union_id: optional(z.string()),
    tenant_key: optional(z.string()),
    name: optional(z.string()),
  }),
  token: optional(z.string()),
  action: z.object({
    tag: optional(z.string()),
    value: z.unknown(),
    name: optional(z.string()),
    form_value: optional(z.record(z.string(), z.unknown())),
    option: optional(z.string()),
    options: optional(z.array(z.string())),
    input_value: optional(z.string()),
  }),
  context: z.object({
    open_message_id: z.string().min(1),
    open_chat_id: z.string().min(1),
  }),
});

export type FeishuCardAction = z.infer<typeof cardActionSchema>;

/** The callback value our renderer put on a button: action id, payload, seal. */
export const buttonValueSchema = z.object({
  a: z.string().min(1).max(64),
  p: z.record(z.string(), z.unknown()),
  s: z.string().min(1).max(64),
});

/** im.chat.member.bot.added_v1; bot.deleted_v1 and chat.disbanded_v1 carry the same fields (only chat_id is relied on there). */
export const botAddedSchema = z.object({
  chat_id: z.string().min(1),
  operator_id: optional(userId),
  name: optional(z.string()),
  external: optional(z.boolean()),
  operator_tenant_key: optional(z.string()),
});

export interface ParsedText {
  text: string;
  mentions: Mention[];
  mentionedBot: boolean;
}

/**
 * The text a member typed, with the bot's @ removed and other @s shown as
 * `@Name`. Each @ arrives as a placeholder (`@_user_1`) resolved through
 * `mentions`; `@_all` is @everyone, which is not a command to the bot.
 */
export function parseMessageText(event: FeishuMessageEvent, botOpenId: string | undefined): ParsedText {
  const raw = plainText(event.message.message_type, event.message.content);
  const byKey = new Map((event.message.mentions ?? []).map((m) => [m.key, m]));
  const mentions: Mention[] = [];
  let mentionedBot = false;
  const isBot = (m: NonNullable<FeishuMessageEvent['message']['mentions']>[number]) =>
    botOpenId ? m.id?.open_id === botOpenId : m.mentioned_type === 'bot';
  const text = raw.replace(/@_(?:user_\d+|all)\b/g, (key) => {
    if (key === '@_all') return '@所有人';
    const m = byKey.get(key);
    if (!m) return key;
    if (isBot(m)) {
      mentionedBot = true;
      return ' ';
    }
    const id = m.id?.open_id ?? m.id?.user_id ?? m.id?.union_id;
    if (id && !mentions.some((x) => x.id === id)) mentions.push({ id, name: m.name || id });
    return `@${m.name || id || key}`;
  });
  return { text: text.replace(/[ \t\u00a0]+/g, ' ').trim(), mentions, mentionedBot };
}

/** Text of a text or post message; other kinds (images, files, stickers) carry no command. */
export function plainText(messageType: string, content: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content || '{}');
  } catch {
    return '';
  }
  if (typeof parsed !== 'object' || parsed === null) return '';
  if (messageType === 'text') {
    const t = (parsed as { text?: unknown }).text;
    return typeof t === 'string' ? t : '';
  }
  if (messageType === 'post') {
    // Received posts are {title, content}; sent ones are keyed by locale.
    const p = parsed as Record<string, unknown>;
    const body = (Array.isArray(p.content) ? p : (Object.values(p).find((v) => typeof v === 'object') ?? {})) as {
      title?: string;
      content?: unknown;
    };
    const lines = Array.isArray(body.content) ? body.content : [];
    return lines
      .map((line) =>
        (Array.isArray(line) ? line : [])
          .map((node: { tag?: string; text?: string; user_id?: string }) =>
            node.tag === 'at'
              ? (node.user_id ?? '')
              : node.tag === 'text' || node.tag === 'a' || node.tag === 'md'
                ? (node.text ?? '')
                : '',
          )
          .join(''),
      )
      .join('\n');
  }
  return '';
}

/**
 * The request timestamp Feishu signs with: Unix seconds for events; card
 * callbacks have been seen carrying Go's time.String() form. Unparseable
 * values give undefined (the signature still protects the body).
 */
export function parseRequestTimestamp(raw: string | undefined): number | undefined {
  if (!raw) return undefined;
  const s = raw.trim();
  if (/^\d{9,10}$/.test(s)) return Number(s) * 1000;
  if (/^\d{13}$/.test(s)) return Number(s);
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ([+-]\d{2})(\d{2})/.exec(s);
  if (m) {
    const t = Date.parse(`${m[1]}T${m[2]}${m[3]}:${m[4]}`);
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
}
