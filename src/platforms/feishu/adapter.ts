import * as lark from '@larksuiteoapi/node-sdk';
import { Hono } from 'hono';
import { z } from 'zod';
import type { Clock } from '../../lib/clock.ts';
import type { Db } from '../../lib/db.ts';
import type { Logger } from '../../lib/logger.ts';
import { createBackgroundTasks, type BackgroundTasks } from '../../lib/tasks.ts';
import { feishu as texts } from '../../messages/zh-CN/feishu.ts';
import type {
  AckReply,
  ActionEvent,
  ChatJoinedEvent,
  ChatLeftEvent,
  EventSink,
  InboundFile,
  MessageEvent,
  MessageInbox,
  PlatformDirectory,
  PlatformMessenger,
} from '../types.ts';
import { createDirectInbox } from '../types.ts';
import { createFeishuClient } from './client.ts';
import { BODY_LIMITS, CARD_VALUE_LIMITS, exceedsJsonLimits } from '../json-bounds.ts';
import { plainText } from '../text.ts';
import { aesKey, createValueSealer, decryptFeishu, feishuSignature, safeEqual, sealBinding } from './crypto.ts';
import { createFeishuMessenger, type FeishuMessenger } from './messenger.ts';
import {
  botAddedSchema,
  buttonValueSchema,
  cardActionSchema,
  challengeSchema,
  envelopeSchema,
  messageEventSchema,
  parseMessageText,
  parseRequestTimestamp,
  type FeishuEnvelope,
} from './parse.ts';
import { formValuesFromFeishu, renderFeishuCard } from './render-card.ts';

export interface FeishuConfig {
  appId: string;
  appSecret: string;
  encryptKey?: string;
  verificationToken?: string;
  mode: 'webhook' | 'ws';
  domain: string;
}

export interface FeishuAdapterOptions {
  /** Card callbacks must be answered within 3 s; we answer by this, then finish in the background. */
  ackDeadlineMs: number;
  /** A signed request whose timestamp is further than this from our clock is refused as stale. */
  maxSkewMs: number;
}

/** Largest attachment the bot will download. */
export const MAX_FILE_BYTES = 20 * 1024 * 1024;

export const defaultFeishuOptions: FeishuAdapterOptions = { ackDeadlineMs: 2_500, maxSkewMs: 60 * 60_000 };

export interface FeishuAdapter {
  messenger: FeishuMessenger & PlatformMessenger;
  /** Who is in a chat: the chat-members API, paged and paced (shares the messenger's name cache). */
  directory: PlatformDirectory;
  routes: Hono;
  /** Fetches the bot's identity and, in ws mode, opens the long connection. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Background work started by events (message handling, late card updates); tests await it. */
  tasks: BackgroundTasks;
  /** What the SDK's WSClient feeds in long-connection mode. */
  wsDispatcher: lark.EventDispatcher;
}

type FeishuMessageData = ReturnType<typeof messageEventSchema.parse>;
/** What the inbox keeps of a message event: the parsed event and its tenant. */
const storedMessageSchema = z.object({ tenant: z.string(), data: messageEventSchema });

type Reply = { status: 200 | 400 | 401 | 403; body: Record<string, unknown> };

/** Raised for requests that must be refused; the route turns it into a 4xx and a log line. */
class Rejected extends Error {
  constructor(
    readonly status: 400 | 401 | 403,
    reason: string,
    /** The event's key when it is known, for the log line. */
    readonly eventKey?: string,
  ) {
    super(reason);
  }
}

/** The event id of an envelope that has not been validated yet (for the log line), read without recursing. */
function eventIdOf(plain: Record<string, unknown>): string | undefined {
  const header = plain.header;
  const id = header && typeof header === 'object' ? (header as { event_id?: unknown }).event_id : undefined;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Feishu in both modes: webhook (POST /feishu/webhook for events and card
 * callbacks, verified, decrypted and token-checked here) and the SDK's long
 * connection. Both feed one envelope handler and the injected EventSink.
 */
export function createFeishuAdapter(deps: {
  config: FeishuConfig;
  db: Db;
  clock: Clock;
  log: Logger;
  sink: EventSink;
  /** Where messages are recorded before Feishu is answered; without it they are processed in memory. */
  inbox?: MessageInbox;
  tasks?: BackgroundTasks;
  options?: Partial<FeishuAdapterOptions>;
}): FeishuAdapter {
  const { config, db, clock, sink } = deps;
  const log = deps.log.child({ platform: 'feishu' });
  const opts = { ...defaultFeishuOptions, ...deps.options };
  const tasks = deps.tasks ?? createBackgroundTasks(log);
  const inbox = deps.inbox ?? createDirectInbox((err) => log.error({ err }, 'message handling failed'));
  inbox.handle('feishu', async (payload, meta) => {
    const stored = storedMessageSchema.safeParse(payload);
    if (!stored.success) {
      log.error({ eventKey: meta.eventKey }, 'stored Feishu message unreadable; dropped');
      return;
    }
    await deliverMessage(stored.data.data, stored.data.tenant, meta.durable);
  });
  if (config.mode === 'webhook' && !config.encryptKey && !config.verificationToken) {
    // Without either, anyone who finds the URL could act as any member.
    throw new Error(
      'Feishu webhook mode needs FEISHU_ENCRYPT_KEY (recommended) or FEISHU_VERIFICATION_TOKEN; set them from the app console, or use FEISHU_MODE=ws',
    );
  }
  const key = config.encryptKey ? aesKey(config.encryptKey) : undefined;
  const sealer = createValueSealer(config.appSecret);
  const { client, forgetToken } = createFeishuClient({
    appId: config.appId,
    appSecret: config.appSecret,
    domain: config.domain,
    log,
  });
  const messenger = createFeishuMessenger({ client, forgetToken, sealer, clock, log });

  // open_message_id → our outbox id; cards are clicked in bursts, the mapping never changes.
  const cardRefs = new Map<string, { id: string; targetKind: string; targetId: string }>();
  async function findCard(platformMessageId: string) {
    const hit = cardRefs.get(platformMessageId);
    if (hit) return hit;
    const row = await db.outboxMessage.findFirst({
      where: { platform: 'feishu', platformMessageId, kind: 'card' },
      select: { id: true, targetKind: true, targetId: true },
    });
    if (row) {
      if (cardRefs.size >= 10_000) cardRefs.delete(cardRefs.keys().next().value as string);
      cardRefs.set(platformMessageId, row);
    }
    return row ?? undefined;
  }

  // ---- inbound: one envelope handler for both modes ---------------------------------

  async function handleEnvelope(env: FeishuEnvelope, source: 'webhook' | 'ws'): Promise<Reply> {
    const { header } = env;
    if (header.app_id && header.app_id !== config.appId)
      throw new Rejected(403, `event for another app ${header.app_id}`);
    const tenant = header.tenant_key ?? 'default';
    switch (header.event_type) {
      case 'im.message.receive_v1': {
        const parsed = messageEventSchema.safeParse(env.event);
        if (!parsed.success) throw new Rejected(400, 'malformed im.message.receive_v1');
        // Recorded (group commit), then acknowledged, then processed: Feishu re-pushes
        // anything not answered in 3 s, and never again what was answered.
        const { processed } = await inbox.record('feishu', parsed.data.message.message_id, {
          tenant,
          data: parsed.data,
        });
        tasks.run('feishu.message', () => processed);
        return { status: 200, body: {} };
      }
      case 'card.action.trigger':
        return { status: 200, body: await cardAction(env, tenant) };
      case 'im.chat.member.bot.added_v1': {
        const parsed = botAddedSchema.safeParse(env.event);
        if (!parsed.success) throw new Rejected(400, 'malformed im.chat.member.bot.added_v1');
        tasks.run('feishu.joined', () => joined(parsed.data, header.event_id, tenant));
        return { status: 200, body: {} };
      }
      case 'im.chat.member.bot.deleted_v1':
      case 'im.chat.disbanded_v1': {
        // Removed from the group, or the group dissolved: either way nothing can be sent there any more.
        const parsed = botAddedSchema.safeParse(env.event);
        if (!parsed.success) throw new Rejected(400, `malformed ${header.event_type}`);
        tasks.run('feishu.left', () => left(parsed.data, header.event_id, tenant));
        return { status: 200, body: {} };
      }
      default:
        log.debug({ eventType: header.event_type, source }, 'event type not handled');
        return { status: 200, body: {} };
    }
  }

  async function deliverMessage(data: FeishuMessageData, tenant: string, recorded: boolean) {
    const botId = await messenger.botOpenId();
    const { text, mentions, mentionedBot } = parseMessageText(data, botId);
    const senderId = data.sender.sender_id.open_id ?? data.sender.sender_id.user_id;
    if (!senderId) {
      log.warn({ messageId: data.message.message_id }, 'message without a sender id; ignored');
      return;
    }
    const isGroup = data.message.chat_type !== 'p2p';
    const name = isGroup ? await messenger.displayName(data.message.chat_id, senderId) : undefined;
    const event: MessageEvent = {
      type: 'message',
      platform: 'feishu',
      tenant,
      // Feishu's own advice: message_id, not event_id, identifies a message across re-pushes.
      eventKey: data.message.message_id,
      chat: { id: data.message.chat_id, kind: isGroup ? 'group' : 'direct' },
      sender: { id: senderId, ...(name ? { name } : {}), isBot: data.sender.sender_type !== 'user' },
      text,
      mentions,
      mentionedBot,
      receivedAt: clock.now(),
      ...(data.message.message_type === 'file' ? { files: fileOf(data.message.message_id, data.message.content) } : {}),
      ...(recorded ? { recorded } : {}),
    };
    await sink.handleMessage(event);
  }

  function fileOf(messageId: string, content: string): InboundFile[] {
    let parsed: { file_key?: string; file_name?: string };
    try {
      parsed = JSON.parse(content) as typeof parsed;
    } catch {
      return [];
    }
    const fileKey = parsed.file_key;
    if (!fileKey) return [];
    return [
      {
        name: parsed.file_name ?? fileKey,
        async read() {
          const res = await client.im.v1.messageResource.get({
            path: { message_id: messageId, file_key: fileKey },
            params: { type: 'file' },
          });
          const chunks: Buffer[] = [];
          let size = 0;
          for await (const chunk of res.getReadableStream()) {
            const buf = Buffer.from(chunk as Uint8Array);
            size += buf.length;
            // Nothing the bot reads (question banks, notes) is this large; do not hold it in memory.
            if (size > MAX_FILE_BYTES) throw new Error(`file larger than ${MAX_FILE_BYTES} bytes`);
            chunks.push(buf);
          }
          return Buffer.concat(chunks);
        },
      },
    ];
  }

  async function joined(data: ReturnType<typeof botAddedSchema.parse>, eventId: string, tenant: string) {
    if (!sink.handleChatJoined) return;
    const adderId = data.operator_id?.open_id;
    const adderName = adderId ? await messenger.displayName(data.chat_id, adderId) : undefined;
    const event: ChatJoinedEvent = {
      type: 'chat_joined',
      platform: 'feishu',
      tenant,
      eventKey: eventId,
      chat: { id: data.chat_id, kind: 'group', ...(data.name ? { title: data.name } : {}) },
      ...(adderId ? { addedBy: { id: adderId, ...(adderName ? { name: adderName } : {}) } } : {}),
      receivedAt: clock.now(),
    };
    await sink.handleChatJoined(event);
  }

  async function left(data: ReturnType<typeof botAddedSchema.parse>, eventId: string, tenant: string) {
    if (!sink.handleChatLeft) return;
    // No name lookup: the bot is no longer in the chat, so its member list is closed to us.
    const removerId = data.operator_id?.open_id;
    const event: ChatLeftEvent = {
      type: 'chat_left',
      platform: 'feishu',
      tenant,
      eventKey: eventId,
      chat: { id: data.chat_id, ...(data.name ? { title: data.name } : {}) },
      ...(removerId ? { removedBy: { id: removerId } } : {}),
      receivedAt: clock.now(),
    };
    await sink.handleChatLeft(event);
  }

  const toast = (kind: 'error' | 'info', content: string) => ({ toast: { type: kind, content } });

  /** A card click: answered with the sink's AckReply inside Feishu's deadline. */
  async function cardAction(env: FeishuEnvelope, tenant: string): Promise<Record<string, unknown>> {
    const parsed = cardActionSchema.safeParse(env.event);
    if (!parsed.success) throw new Rejected(400, 'malformed card.action.trigger');
    const { operator, action, context, token } = parsed.data;
    // Bounded before anything recurses over them (zod, the seal's canonical JSON, the dispatcher).
    const excess =
      exceedsJsonLimits(action.value, CARD_VALUE_LIMITS) ?? exceedsJsonLimits(action.form_value, CARD_VALUE_LIMITS);
    if (excess) throw new Rejected(400, `card value ${excess}`, env.header.event_id);
    const value = buttonValueSchema.safeParse(action.value);
    if (!value.success) {
      log.warn({ eventKey: env.header.event_id, operator: operator.open_id }, 'card value malformed');
      return toast('error', texts['feishu.card.tampered']);
    }
    const card = await findCard(context.open_message_id);
    if (!card) {
      log.warn({ eventKey: env.header.event_id, message: context.open_message_id }, 'click on a card we did not send');
      return toast('error', texts['feishu.card.unknown']);
    }
    const direct = card.targetKind === 'user';
    if (direct ? card.targetId !== operator.open_id : card.targetId !== context.open_chat_id) {
      // A group card clicked elsewhere, or a private card (a test paper, a reminder) forwarded to someone else.
      log.warn({ eventKey: env.header.event_id, chat: context.open_chat_id }, 'card clicked outside its chat');
      return toast('error', texts['feishu.card.unknown']);
    }
    const target = { kind: direct ? ('user' as const) : ('chat' as const), id: card.targetId };
    if (!sealer.verify(value.data.a, value.data.p, value.data.s, sealBinding(target))) {
      // Someone edited the value (another question, another action), or carried a value sealed for a
      // card in another chat over to this one: refuse, write nothing.
      log.warn({ eventKey: env.header.event_id, operator: operator.open_id }, 'card value seal rejected');
      return toast('error', texts['feishu.card.tampered']);
    }
    const name = operator.name ?? (direct ? undefined : messenger.cachedName(context.open_chat_id, operator.open_id));
    if (!direct && !name)
      tasks.run('feishu.names', () => messenger.displayName(context.open_chat_id, operator.open_id));
    const event: ActionEvent = {
      type: 'action',
      platform: 'feishu',
      tenant,
      eventKey: env.header.event_id,
      chat: { id: context.open_chat_id, kind: direct ? 'direct' : 'group' },
      // The operator is who Feishu vouches for; nothing in the value can change that.
      sender: { id: operator.open_id, ...(name ? { name } : {}) },
      actionId: value.data.a,
      payload: value.data.p,
      ...(action.form_value ? { formValues: formValuesFromFeishu(action.form_value) } : {}),
      card: { messageId: card.id, ...(token ? { updateToken: token } : {}) },
      receivedAt: clock.now(),
    };
    const work = sink.handleAction(event);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), opts.ackDeadlineMs);
    });
    let first: AckReply | 'late';
    try {
      first = await Promise.race([work, late]);
    } catch (err) {
      // The click was not recorded (e.g. the database is down): say so, the member can click again.
      log.error({ err, eventKey: env.header.event_id }, 'card action failed');
      return toast('error', texts['feishu.card.failed']);
    } finally {
      clearTimeout(timer);
    }
    if (first === 'late') {
      // Answer now; a replacement card that comes later goes through the callback token.
      tasks.run('feishu.late-ack', async () => {
        const ack = await work;
        if (ack.card && token) await messenger.updateWithToken(token, ack.card, target);
      });
      return toast('info', texts['feishu.card.slow']);
    }
    // The replacement card is shown to everyone who has the card: only a private card shows the clicker's own section.
    return renderAck(first, target);
  }

  function renderAck(ack: AckReply, target: { kind: 'user' | 'chat'; id: string }): Record<string, unknown> {
    const viewer = target.kind === 'user' ? target.id : undefined;
    return {
      ...(ack.toast ? { toast: { type: ack.toast.kind, content: plainText(ack.toast.text) } } : {}),
      ...(ack.card
        ? { card: { type: 'raw', data: renderFeishuCard(ack.card, sealer, { binding: sealBinding(target), viewer }) } }
        : {}),
    };
  }

  // ---- webhook ----------------------------------------------------------------------

  /** Verifies, decrypts and token-checks one push; returns the plaintext envelope. */
  function open(raw: string, headers: Headers): Record<string, unknown> {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new Rejected(400, 'body is not JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new Rejected(400, 'body is not an object');
    const encrypted = (body as { encrypt?: unknown }).encrypt;
    let plain: Record<string, unknown>;
    if (key && config.encryptKey) {
      if (typeof encrypted !== 'string')
        throw new Rejected(400, 'expected an encrypted body (FEISHU_ENCRYPT_KEY is set)');
      try {
        plain = JSON.parse(decryptFeishu(key, encrypted)) as Record<string, unknown>;
      } catch {
        throw new Rejected(400, 'body could not be decrypted with FEISHU_ENCRYPT_KEY');
      }
      if (typeof plain !== 'object' || plain === null) throw new Rejected(400, 'decrypted body is not an object');
      const signature = headers.get('x-lark-signature');
      const isChallenge = plain.type === 'url_verification';
      // The URL-verification push carries no signature; its token is checked below.
      if (!signature && !isChallenge) throw new Rejected(401, 'missing X-Lark-Signature');
      if (signature) {
        const ts = headers.get('x-lark-request-timestamp') ?? '';
        const nonce = headers.get('x-lark-request-nonce') ?? '';
        if (!safeEqual(feishuSignature(ts, nonce, config.encryptKey, raw), signature.toLowerCase())) {
          throw new Rejected(401, 'bad X-Lark-Signature');
        }
        const at = parseRequestTimestamp(ts);
        if (at !== undefined && Math.abs(clock.now().getTime() - at) > opts.maxSkewMs) {
          throw new Rejected(401, 'stale request timestamp');
        }
      }
    } else {
      if (encrypted !== undefined) throw new Rejected(400, 'encrypted body but FEISHU_ENCRYPT_KEY is not set');
      plain = body as Record<string, unknown>;
    }
    const excess = exceedsJsonLimits(plain, BODY_LIMITS);
    if (excess) throw new Rejected(400, `payload ${excess}`, eventIdOf(plain));
    if (config.verificationToken) {
      const header = plain.header as { token?: unknown } | undefined;
      const token = plain.schema === '2.0' ? header?.token : plain.token;
      if (typeof token !== 'string' || !safeEqual(token, config.verificationToken)) {
        throw new Rejected(401, 'wrong verification token');
      }
    }
    return plain;
  }

  const routes = new Hono();
  // In ws mode nothing is pushed over HTTP, and the route may have no secret to check with.
  if (config.mode === 'webhook')
    routes.post('/feishu/webhook', async (c) => {
      const raw = await c.req.text();
      try {
        const plain = open(raw, c.req.raw.headers);
        // Only a handshake is parsed as one: a failed zod parse builds its issues, which on
        // every card click cost more than the click's own work.
        if (plain.type === 'url_verification') {
          const challenge = challengeSchema.safeParse(plain);
          if (challenge.success) return c.json({ challenge: challenge.data.challenge });
        }
        const env = envelopeSchema.safeParse(plain);
        if (!env.success) {
          // v1 envelopes and the legacy card format are not subscribed to; say so and move on.
          log.warn({ type: plain.type ?? null }, 'not a schema 2.0 envelope; ignored');
          return c.json({}, 200);
        }
        const reply = await handleEnvelope(env.data, 'webhook');
        return c.json(reply.body, reply.status);
      } catch (err) {
        if (err instanceof Rejected) {
          log.warn({ status: err.status, reason: err.message, eventKey: err.eventKey }, 'feishu request rejected');
          return c.json({ error: 'rejected', message: err.message }, err.status);
        }
        throw err;
      }
    });

  // ---- long connection ------------------------------------------------------------

  let ws: lark.WSClient | undefined;

  /** The SDK hands handlers a flattened {…header, …event}; rebuild the envelope our handler takes. */
  function fromFlattened(d: Record<string, unknown>, eventType: string): FeishuEnvelope {
    const { event_id, create_time, app_id, tenant_key, event_type: _t, schema: _s, ...event } = d;
    return {
      schema: '2.0',
      header: {
        event_id: String(event_id ?? ''),
        event_type: eventType,
        ...(typeof create_time === 'string' ? { create_time } : {}),
        ...(typeof app_id === 'string' ? { app_id } : {}),
        ...(typeof tenant_key === 'string' ? { tenant_key } : {}),
      },
      event,
    };
  }

  function wsHandler(eventType: string) {
    return async (d: Record<string, unknown>) => {
      try {
        const reply = await handleEnvelope(fromFlattened(d, eventType), 'ws');
        return reply.body;
      } catch (err) {
        if (err instanceof Rejected) {
          log.warn({ reason: err.message, eventType, eventKey: err.eventKey }, 'feishu ws event rejected');
          return {};
        }
        throw err;
      }
    };
  }

  // Frames on the long connection are authenticated when it opens; the SDK
  // invokes this with needCheck:false and acks with what the handler returns.
  const wsDispatcher = new lark.EventDispatcher({ loggerLevel: lark.LoggerLevel.warn }).register({
    'im.message.receive_v1': wsHandler('im.message.receive_v1'),
    'card.action.trigger': wsHandler('card.action.trigger'),
    'im.chat.member.bot.added_v1': wsHandler('im.chat.member.bot.added_v1'),
    'im.chat.member.bot.deleted_v1': wsHandler('im.chat.member.bot.deleted_v1'),
    'im.chat.disbanded_v1': wsHandler('im.chat.disbanded_v1'),
  } as unknown as Parameters<lark.EventDispatcher['register']>[0]);

  return {
    messenger,
    directory: { platform: 'feishu', listChatMembers: (chatId) => messenger.listChatMembers(chatId) },
    routes,
    tasks,
    wsDispatcher,
    async start() {
      void messenger.botOpenId();
      if (config.mode !== 'ws') return;
      // The SDK's WSClient.start() returns at once and, for an app id not shaped
      // like cli_ + 16 hex digits, only logs and never connects: say so loudly.
      if (!/^cli_[0-9a-fA-F]{16}$/.test(config.appId)) {
        log.error(
          { appId: config.appId },
          'FEISHU_APP_ID does not look like cli_<16 hex>; the long connection will not start',
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn('Feishu long connection not ready after 30 s; the SDK keeps trying');
          resolve();
        }, 30_000);
        timer.unref();
        const settle = () => {
          clearTimeout(timer);
          resolve();
        };
        ws = new lark.WSClient({
          appId: config.appId,
          appSecret: config.appSecret,
          domain: config.domain.replace(/\/+$/, ''),
          loggerLevel: lark.LoggerLevel.warn,
          autoReconnect: true,
          // Resolve once frames can be received: start() itself does not wait.
          onReady: () => {
            log.info('Feishu long connection ready');
            settle();
          },
          onError: (err) => {
            log.error({ err }, 'Feishu long connection failed');
            settle();
          },
          onReconnecting: () => log.warn('Feishu long connection lost; reconnecting'),
          onReconnected: () => log.info('Feishu long connection restored'),
        });
        void ws.start({ eventDispatcher: wsDispatcher });
      });
    },
    async stop() {
      ws?.close({ force: true });
      await tasks.drain();
    },
  };
}
