import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { HTTPException } from 'hono/http-exception';
import { BODY_LIMITS, CARD_VALUE_LIMITS, exceedsJsonLimits, withinJsonLimits } from '../json-bounds.ts';
import { stripMarksDeep } from '../text.ts';
import { z } from 'zod';
import {
  cardActions,
  cardForViewer,
  createDirectInbox,
  mentionSchema,
  type EventSink,
  type MessageInbox,
  type InboundFile,
  type Mention,
  type MessageEvent,
  type ActionEvent,
  type PlatformDirectory,
  type PlatformMessenger,
} from '../types.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Db } from '../../lib/db.ts';
import type { Logger } from '../../lib/logger.ts';
import { createSandboxMessenger } from './messenger.ts';
import { renderCardHtml } from './render-html.ts';
import { createTranscript, directChatId, type TranscriptEntry } from './transcript.ts';

/**
 * The sandbox is a real platform adapter on the same seam as Feishu and
 * DingTalk: its page and JSON API produce MessageEvent/ActionEvent for the
 * dispatcher, and the bot's replies come back through the outbox into a
 * transcript kept in the database.
 */
export const SANDBOX_TENANT = 'demo';

const messageBody = z
  .object({
    chatId: z.string().min(1).max(200),
    userId: z.string().min(1).max(200),
    /** May be empty only when a file is attached, as real platforms send uploads. */
    text: z.string().max(8000).default(''),
    /** An attached file (a question bank to import...); the 1 MB body limit bounds its size. */
    file: z
      .object({
        name: z.string().trim().min(1).max(200),
        contentBase64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
      })
      .optional(),
  })
  .refine((b) => b.text.trim().length > 0 || b.file !== undefined, { message: 'text is required', path: ['text'] });

const actionBody = z.object({
  chatId: z.string().min(1).max(200),
  userId: z.string().min(1).max(200),
  messageId: z.string().min(1).max(200),
  actionId: z.string().min(1).max(64),
  payload: z
    .record(z.string(), z.unknown())
    .refine((v) => withinJsonLimits(v, CARD_VALUE_LIMITS), 'nested too deeply or too large')
    .default({}),
  formValues: z
    .record(z.string(), z.unknown())
    .refine((v) => withinJsonLimits(v, CARD_VALUE_LIMITS), 'nested too deeply or too large')
    .optional(),
});

interface SandboxMember {
  userId: string;
  name: string;
  role: 'secretary' | 'member';
  unit: string | null;
}

interface SandboxChat {
  id: string;
  title: string;
  kind: 'group' | 'direct';
  members: SandboxMember[];
}

export interface SandboxAdapter {
  messenger: PlatformMessenger;
  /** The members of a sandbox group: the people GET /sandbox/api/chats shows in it. */
  directory: PlatformDirectory;
  routes: Hono;
}

/** What the inbox keeps of a sandbox message (an attached file with its bytes, as posted). */
const storedMessageSchema = z.object({
  chat: z.object({ id: z.string(), kind: z.enum(['group', 'direct']), title: z.string().optional() }),
  sender: z.object({ id: z.string(), name: z.string().optional() }),
  text: z.string(),
  mentions: z.array(mentionSchema),
  receivedAt: z.iso.datetime(),
  file: z.object({ name: z.string(), contentBase64: z.string() }).optional(),
});
type StoredMessage = z.infer<typeof storedMessageSchema>;

function fileOf(file: { name: string; contentBase64: string }): InboundFile {
  const bytes = Buffer.from(file.contentBase64, 'base64');
  return { name: file.name, size: bytes.length, read: async () => bytes };
}

export function createSandboxAdapter(deps: {
  db: Db;
  clock: Clock;
  log: Logger;
  sink: EventSink;
  /** Where messages are recorded before they are processed; without it they are processed in memory. */
  inbox?: MessageInbox;
  /** Lets a request wait until the replies it caused are in the transcript. */
  settle?: () => Promise<void>;
  isConfiguredAdmin?: (platform: string, userId: string) => boolean;
  /** Messages and clicks a minute per client address (SHUXIANG_SANDBOX_RATE); unset, no cap. */
  ratePerMinute?: number;
}): SandboxAdapter {
  const { db, clock, sink } = deps;
  const admit = deps.ratePerMinute ? createMinuteWindows(deps.ratePerMinute, () => clock.now().getTime()) : () => true;
  const transcript = createTranscript(db);
  const messenger = createSandboxMessenger(transcript);
  const page = readFileSync(new URL('./page.html', import.meta.url), 'utf8');
  const settle = deps.settle ?? (async () => {});
  const inbox = deps.inbox ?? createDirectInbox((err) => deps.log.error({ err }, 'sandbox message handling failed'));
  inbox.handle('sandbox', async (payload, meta) => {
    const stored = storedMessageSchema.safeParse(payload);
    if (!stored.success) {
      deps.log.error({ eventKey: meta.eventKey }, 'stored sandbox message unreadable; dropped');
      return;
    }
    const { file, receivedAt, ...rest } = stored.data;
    const event: MessageEvent = {
      type: 'message',
      platform: 'sandbox',
      tenant: SANDBOX_TENANT,
      eventKey: meta.eventKey,
      ...rest,
      // Every sandbox message counts as addressed to the bot.
      mentionedBot: true,
      receivedAt: new Date(receivedAt),
      ...(file ? { files: [fileOf(file)] } : {}),
      ...(meta.durable ? { recorded: true } : {}),
    };
    await sink.handleMessage(event);
  });

  async function listChats(): Promise<SandboxChat[]> {
    const chats = await db.chat.findMany({ where: { platform: 'sandbox' }, orderBy: { platformChatId: 'asc' } });
    const orgIds = [...new Set(chats.map((c) => c.orgId))];
    const members = await db.member.findMany({
      where: { orgId: { in: orgIds }, platform: 'sandbox' },
      include: { unit: true, roles: true },
      orderBy: { createdAt: 'asc' },
    });
    const toMember = (m: (typeof members)[number]): SandboxMember => ({
      userId: m.platformUserId,
      name: m.displayName,
      role:
        m.roles.some((r) => r.role === 'secretary') || deps.isConfiguredAdmin?.('sandbox', m.platformUserId)
          ? 'secretary'
          : 'member',
      unit: m.unit?.name ?? null,
    });
    const groups: SandboxChat[] = chats.map((c) => ({
      id: c.platformChatId,
      title: c.title,
      kind: 'group',
      members: members.filter((m) => m.orgId === c.orgId).map(toMember),
    }));
    const seen = new Set<string>();
    const directs: SandboxChat[] = [];
    for (const m of members) {
      if (seen.has(m.platformUserId)) continue;
      seen.add(m.platformUserId);
      directs.push({
        id: directChatId(m.platformUserId),
        title: `私聊 · ${m.displayName}`,
        kind: 'direct',
        members: [toMember(m)],
      });
    }
    return [...groups, ...directs];
  }

  async function findChat(chatId: string, userId: string): Promise<{ chat: SandboxChat; member: SandboxMember }> {
    const chat = (await listChats()).find((c) => c.id === chatId);
    if (!chat) throw new HTTPException(404, { message: `unknown chat ${chatId}` });
    const member = chat.members.find((m) => m.userId === userId);
    if (!member) throw new HTTPException(403, { message: `${userId} is not a member of ${chatId}` });
    return { chat, member };
  }

  /** `@m-li` and `@李明` both mention 李明; `@书香` mentions the bot. */
  function parseMentions(text: string, chat: SandboxChat): { mentions: Mention[]; text: string } {
    const mentions: Mention[] = [];
    const out = text.replace(/@([^\s@,，。]+)/g, (whole, token: string) => {
      if (token === '书香' || token.toLowerCase() === 'bot') return '';
      const m = chat.members.find((x) => x.userId === token || x.name === token);
      if (!m) return whole;
      if (!mentions.some((x) => x.id === m.userId)) mentions.push({ id: m.userId, name: m.name });
      return `@${m.name}`;
    });
    return { mentions, text: out.replace(/\s+/g, ' ').trim() };
  }

  async function readJson(c: { req: { json: () => Promise<unknown> } }): Promise<unknown> {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new HTTPException(400, { message: 'body is not valid JSON' });
    }
    // Bounded before zod or anything else recurses over it (a RangeError would be a 500).
    const excess = exceedsJsonLimits(body, BODY_LIMITS);
    if (excess) throw new HTTPException(400, { message: `body ${excess}` });
    return body;
  }

  function validate<T>(schema: z.ZodType<T>, body: unknown): T {
    const r = schema.safeParse(body);
    if (!r.success) {
      throw new HTTPException(400, {
        message: r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      });
    }
    return r.data;
  }

  const directory: PlatformDirectory = {
    platform: 'sandbox',
    async listChatMembers(chatId) {
      const chat = (await listChats()).find((c) => c.id === chatId && c.kind === 'group');
      if (!chat) throw new Error(`unknown sandbox group ${chatId}`);
      return chat.members.map((m) => ({ id: m.userId, name: m.name }));
    },
  };

  const routes = new Hono();

  // A sandbox left on in production is an open door; at least it cannot be flooded.
  routes.use('/sandbox/api/*', async (c, next) => {
    if (c.req.method !== 'GET' && !admit(clientAddress(c))) {
      deps.log.warn({ path: c.req.path }, 'sandbox request refused: over the per-minute limit');
      return c.json({ error: 'too_many_requests', message: 'too many sandbox requests; try again in a minute' }, 429, {
        'retry-after': '60',
      });
    }
    await next();
  });

  // The page never loads an image from elsewhere, whatever a card holds (defence in depth for
  // render-html, which already renders no markdown images).
  routes.get('/sandbox', (c) => c.html(page, 200, { 'content-security-policy': "img-src 'self' data:" }));

  routes.get('/sandbox/api/chats', async (c) => c.json(await listChats()));

  routes.get('/sandbox/api/chats/:chatId/messages', async (c) => {
    const after = Number(c.req.query('after') ?? '0');
    if (!Number.isInteger(after) || after < 0)
      throw new HTTPException(400, { message: 'after must be a whole number' });
    const withHtml = c.req.query('html') === '1';
    // `viewer=<userId>`: cards as that member sees them (their own viewer sections, or the
    // default). Without it a card is returned as stored, every member's section included.
    const viewer = c.req.query('viewer') || undefined;
    const list = await transcript.list(c.req.param('chatId'), after);
    return c.json(
      list.map((m: TranscriptEntry) => {
        if (!m.card) return m;
        // As data, a card shows its text without the member-text marks (render-html uses them).
        const card = stripMarksDeep(viewer === undefined ? m.card : cardForViewer(m.card, viewer));
        return { ...m, card, ...(withHtml ? { html: renderCardHtml(m.card, viewer) } : {}) };
      }),
    );
  });

  routes.post('/sandbox/api/messages', async (c) => {
    const body = validate(messageBody, await readJson(c));
    const { chat, member } = await findChat(body.chatId, body.userId);
    const { mentions, text } = parseMentions(body.text, chat);
    const eventKey = randomUUID();
    await transcript.append({
      chatId: chat.id,
      messageId: eventKey,
      from: 'user',
      userId: member.userId,
      // The transcript keeps no file bytes, only a line saying one was attached.
      text: body.file ? `${body.text}\n📎 ${body.file.name}`.trim() : body.text,
      mentions,
    });
    const stored: StoredMessage = {
      chat: { id: chat.id, kind: chat.kind, title: chat.title },
      sender: { id: member.userId, name: member.name },
      text,
      mentions,
      receivedAt: clock.now().toISOString(),
      ...(body.file ? { file: body.file } : {}),
    };
    // Recorded, then processed; the sandbox answers once the replies are in the transcript.
    const { processed } = await inbox.record('sandbox', eventKey, stored);
    await processed;
    await settle();
    return c.json({ eventKey }, 202);
  });

  routes.post('/sandbox/api/actions', async (c) => {
    const body = validate(actionBody, await readJson(c));
    const { chat, member } = await findChat(body.chatId, body.userId);
    const message = await transcript.find(body.messageId);
    if (!message || message.card === undefined || message.from !== 'bot') {
      throw new HTTPException(404, { message: `no card ${body.messageId}` });
    }
    if (message.chatId !== chat.id)
      throw new HTTPException(404, { message: `no card ${body.messageId} in ${chat.id}` });
    // Like a real platform, only what the card shows this member can be clicked.
    const offered = cardActions(cardForViewer(message.card, member.userId));
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (!offered.some((o) => o.actionId === body.actionId && same(o.payload, body.payload))) {
      throw new HTTPException(400, { message: 'this card has no such button' });
    }
    const event: ActionEvent = {
      type: 'action',
      platform: 'sandbox',
      tenant: SANDBOX_TENANT,
      eventKey: randomUUID(),
      chat: { id: chat.id, kind: chat.kind, title: chat.title },
      sender: { id: member.userId, name: member.name },
      actionId: body.actionId,
      payload: body.payload,
      formValues: body.formValues,
      card: { messageId: body.messageId },
      receivedAt: clock.now(),
    };
    const ack = await sink.handleAction(event);
    await settle();
    return c.json(stripMarksDeep(ack), 200);
  });

  return { messenger, directory, routes };
}

/** The caller's address; requests made in-process (tests) have none. */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'local';
  } catch {
    return 'local';
  }
}

/**
 * Fixed one-minute windows per key: a flood from one address is cut off, a
 * person clicking around never notices. The map is bounded by forgetting
 * windows that have ended.
 */
function createMinuteWindows(perMinute: number, now: () => number): (key: string) => boolean {
  const windows = new Map<string, { start: number; count: number }>();
  return (key) => {
    const t = now();
    if (windows.size > 10_000) for (const [k, w] of windows) if (t - w.start >= 60_000) windows.delete(k);
    const w = windows.get(key);
    if (!w || t - w.start >= 60_000) {
      windows.set(key, { start: t, count: 1 });
      return true;
    }
    w.count++;
    return w.count <= perMinute;
  };
}
