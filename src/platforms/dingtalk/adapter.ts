import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { HTTPException } from 'hono/http-exception';
import type { Config } from '../../config.ts';
import type { Clock } from '../../lib/clock.ts';
import type { DbHealth } from '../../lib/db-health.ts';
import { isUniqueViolation, type Db } from '../../lib/db.ts';
import type { Logger } from '../../lib/logger.ts';
import { createBackgroundTasks } from '../../lib/tasks.ts';
import { parseJsonColumn } from '../../lib/json-column.ts';
import type { Metrics } from '../../server/metrics.ts';
import {
  cardSchema,
  createDirectInbox,
  type AckReply,
  type ActionEvent,
  type Card,
  type EventSink,
  type MessageEvent,
  type MessageInbox,
  type PlatformMessenger,
} from '../types.ts';
import { createDingTalkApi, type DingTalkApi } from './api-client.ts';
import { createDingTalkMessenger } from './messenger.ts';
import { decodeReplyHandle, parseCardCallback, parseRobotMessage } from './parse.ts';
import {
  cardCode,
  createParamSigner,
  listActionables,
  renderMarkdownMessage,
  renderPrivateResult,
  renderPrivateSection,
  renderTemplateParams,
} from './render-card.ts';
import { createStreamConnection, type StreamConnection, type StreamStatus } from './stream.ts';
import { createUsageRecorder, type QuotaCrossing, type UsageRecorder } from './usage.ts';
import type { InboundDedupe } from '../../lib/inbound-dedupe.ts';
import { createReplayGuard, type ReplayGuard } from './replay-guard.ts';
import { verifyCardCallbackSignature, verifyRobotSignature } from './verify.ts';
import { BODY_LIMITS, exceedsJsonLimits } from '../json-bounds.ts';

/**
 * The DingTalk adapter: robot messages and card callbacks, over Stream mode
 * (default, no public address) or HTTP mode (`POST /dingtalk/webhook` and
 * `POST /dingtalk/card`), turned into MessageEvent/ActionEvent for the
 * dispatcher; and the messenger that sends through the outbox worker.
 */

export type DingTalkSettings = NonNullable<Config['dingtalk']>;

/** Hosts a sessionWebhook may point at; anything else in a payload is ignored. */
export const DINGTALK_WEBHOOK_HOSTS = ['oapi.dingtalk.com', 'api.dingtalk.com'];

/** The route key card callbacks are registered under in HTTP mode (docs/dingtalk-setup.md). */
export const CARD_CALLBACK_ROUTE_KEY = 'shuxiang';

/** Files larger than this are refused (a question bank is far smaller). */
const MAX_FILE_BYTES = 20 * 1024 * 1024;

/** A card callback must be answered within 2 s; leave room for the network. */
const CARD_ACK_BUDGET_MS = 1_500;

/** Text commands that stand in for card buttons: `按 1a2b 2 [values]`. */
const CARD_COMMAND = /^(?:按|点|click|press)\s+([0-9a-f]{4})\s+(\d{1,2})(?:\s+(.+))?$/i;

export interface DingTalkAdapterDeps {
  settings: DingTalkSettings;
  db: Db;
  clock: Clock;
  log: Logger;
  sink: EventSink;
  /** Spent signatures are recorded here (group-committed, shared by every instance). */
  dedupe: InboundDedupe;
  /** Where robot messages are recorded before DingTalk is answered; without it they are processed in memory. */
  inbox?: MessageInbox;
  /** The organisation's time zone, for the calendar month of the quota. */
  timezone: string;
  /** OpenAPI calls a month the organisation may make (5,000 on the standard edition). */
  monthlyQuota: number;
  onQuotaCrossing?: (crossing: QuotaCrossing) => Promise<void> | void;
  /** Message catalogue lookup, for the few things the adapter itself says. */
  t: (key: string, params?: Record<string, string | number>) => string;
  webhookHosts?: string[];
  stream?: { backoff?: { baseMs?: number; maxMs?: number }; pingMs?: number };
  cardAckBudgetMs?: number;
  /** Told of database outages (lib/db-health.ts). */
  health?: DbHealth;
}

export interface DingTalkAdapter {
  messenger: PlatformMessenger;
  routes: Hono;
  start(): void;
  stop(): Promise<void>;
  /** For /readyz: true, or why not. */
  ready(): Promise<true | string>;
  registerMetrics(metrics: Metrics): void;
  streamStatus(): StreamStatus | undefined;
  usage: UsageRecorder;
  /** Waits for background work started by inbound events; for tests and shutdown. */
  settle(): Promise<void>;
}

/** What the inbox keeps of a robot message: the body as DingTalk sent it and when it came. */
const storedMessageSchema = z.object({ body: z.unknown(), receivedAt: z.iso.datetime() });

interface CardResponse {
  cardData?: { cardParamMap: Record<string, string> };
  userPrivateData?: { cardParamMap: Record<string, string> };
  cardUpdateOptions?: { updateCardDataByKey: boolean; updatePrivateDataByKey: boolean };
}

export function createDingTalkAdapter(deps: DingTalkAdapterDeps): DingTalkAdapter {
  const { settings, db, clock, log, sink } = deps;
  const tasks = createBackgroundTasks(log);
  const inbox = deps.inbox ?? createDirectInbox((err) => log.error({ err }, 'robot message handling failed'));
  inbox.handle('dingtalk', async (payload, meta) => {
    const stored = storedMessageSchema.safeParse(payload);
    if (!stored.success) {
      log.error({ eventKey: meta.eventKey }, 'stored DingTalk robot message unreadable; dropped');
      return;
    }
    await onRobotMessage(stored.data.body, new Date(stored.data.receivedAt), meta.durable);
  });
  const webhookHosts = deps.webhookHosts ?? DINGTALK_WEBHOOK_HOSTS;
  const robotCode = settings.robotCode ?? settings.clientId;
  const budgetMs = deps.cardAckBudgetMs ?? CARD_ACK_BUDGET_MS;
  const signer = createParamSigner(settings.clientSecret);
  const robotReplays = createReplayGuard({ dedupe: deps.dedupe, scope: 'robot' });
  const cardReplays = createReplayGuard({ dedupe: deps.dedupe, scope: 'card' });
  let apiCalls: { inc(labels: { api: string; outcome: string }): void } | undefined;

  // The app belongs to one organisation; its corpId arrives with every event.
  let corpId: string | undefined;
  const learnTenant = (tenant: string | undefined) => {
    if (tenant && tenant !== 'unknown') corpId = tenant;
  };
  async function tenant(): Promise<string> {
    if (corpId) return corpId;
    const link = await db.tenantLink.findFirst({ where: { platform: 'dingtalk' }, orderBy: { tenant: 'asc' } });
    if (link) corpId = link.tenant;
    return corpId ?? `app:${settings.clientId}`;
  }

  const usage = createUsageRecorder({
    db,
    clock,
    log,
    timezone: deps.timezone,
    tenant,
    limit: deps.monthlyQuota,
    onCrossing: deps.onQuotaCrossing,
  });

  const api: DingTalkApi = createDingTalkApi({
    apiBase: settings.apiBase,
    oapiBase: settings.oapiBase,
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    clock,
    log,
    health: deps.health,
    onCall: async (name, outcome) => {
      apiCalls?.inc({ api: name, outcome });
      await usage.record(name, outcome);
    },
  });

  const messenger = createDingTalkMessenger({
    api,
    clock,
    log,
    robotCode,
    cardTemplateId: settings.cardTemplateId,
    callbackType: settings.mode === 'stream' ? 'STREAM' : 'HTTP',
    callbackRouteKey: CARD_CALLBACK_ROUTE_KEY,
    signer,
  });

  // ---- inbound: robot messages ---------------------------------------------------

  /** Files members send the robot (a question bank to import) are fetched only when a feature reads them. */
  async function downloadFile(downloadCode: string): Promise<Buffer> {
    const { downloadUrl } = await api.call<{ downloadUrl?: string }>(
      'robot.fileDownload',
      'POST',
      '/v1.0/robot/messageFiles/download',
      { downloadCode, robotCode },
    );
    if (!downloadUrl) throw new Error('DingTalk gave no download URL for the file');
    const res = await fetch(downloadUrl, { signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`file download failed: ${res.status}`);
    const size = Number(res.headers.get('content-length') ?? 0);
    if (size > MAX_FILE_BYTES) throw new Error(`file larger than ${MAX_FILE_BYTES} bytes`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MAX_FILE_BYTES) throw new Error(`file larger than ${MAX_FILE_BYTES} bytes`);
    return bytes;
  }

  /**
   * Records a robot message in the inbox; DingTalk may be answered once this
   * resolves. What cannot be parsed is logged and not kept (DingTalk would
   * only send it again the same); it is processed from the inbox.
   */
  async function recordRobotMessage(body: unknown): Promise<void> {
    const receivedAt = clock.now();
    const parsed = parseRobotMessage(body, receivedAt, webhookHosts);
    if (!parsed.ok) {
      log.warn({ reason: parsed.reason, eventKey: parsed.eventKey }, 'DingTalk robot message ignored');
      return;
    }
    const { processed } = await inbox.record('dingtalk', parsed.event.eventKey, {
      body,
      receivedAt: receivedAt.toISOString(),
    });
    tasks.run('dingtalk robot message', () => processed);
  }

  async function onRobotMessage(body: unknown, receivedAt: Date, recorded: boolean): Promise<void> {
    const parsed = parseRobotMessage(body, receivedAt, webhookHosts);
    if (!parsed.ok) {
      log.warn({ reason: parsed.reason, eventKey: parsed.eventKey }, 'DingTalk robot message ignored');
      return;
    }
    const { event, payload, files } = parsed;
    if (files.length > 0) {
      event.files = files.map((f) => ({ name: f.name, size: f.size, read: () => downloadFile(f.downloadCode) }));
    }
    if (payload.robotCode && payload.robotCode !== robotCode) {
      log.warn({ eventKey: event.eventKey }, 'DingTalk robot message for another robot ignored');
      return;
    }
    if (recorded) event.recorded = true;
    learnTenant(event.tenant);
    const command = CARD_COMMAND.exec(event.text);
    if (command) {
      await runCardCommand(event, command[1]!.toLowerCase(), Number(command[2]), command[3]);
      return;
    }
    await sink.handleMessage(event);
  }

  /** Says something back on the sessionWebhook (free), or through the messenger. */
  async function answer(event: MessageEvent, reply: { text: string } | { card: Card }): Promise<void> {
    const target =
      event.chat.kind === 'group'
        ? { kind: 'chat' as const, id: event.chat.id }
        : { kind: 'user' as const, id: event.sender.id };
    const idempotencyKey = `ack:${event.eventKey}`;
    const mentions =
      event.chat.kind === 'group' ? [{ id: event.sender.id, name: event.sender.name ?? event.sender.id }] : [];
    if ('text' in reply) {
      const text = mentions.length ? `@${mentions[0]!.name} ${reply.text}` : reply.text;
      await messenger.sendText(target, text, { idempotencyKey, mentions, replyHandle: event.replyHandle });
      return;
    }
    const md = renderMarkdownMessage(
      reply.card,
      { code: cardCode(idempotencyKey) },
      event.chat.kind === 'direct' ? event.sender.id : undefined,
    );
    const handle = decodeReplyHandle(event.replyHandle);
    if (handle && handle.e > clock.now().getTime()) {
      await api.webhook(handle.w, { msgtype: 'markdown', markdown: { title: md.title, text: md.text } });
      return;
    }
    await messenger.sendText(target, `${md.title}\n${md.text}`, { idempotencyKey });
  }

  /**
   * `按 <code> <n> [values]`: the text form of a card button, for cards sent
   * as markdown (no template) and for what a template button cannot express.
   * The card is found by its code among the cards sent to this chat.
   */
  async function runCardCommand(event: MessageEvent, code: string, n: number, rest: string | undefined) {
    if (!(await firstTime(event.eventKey))) return;
    const targetId = event.chat.kind === 'group' ? event.chat.id : event.sender.id;
    const row = await db.outboxMessage.findFirst({
      where: { platform: 'dingtalk', kind: 'card', targetId, id: { startsWith: code } },
      orderBy: { createdAt: 'desc' },
    });
    if (!row) return answer(event, { text: deps.t('dingtalk.card_command.no_card', { code }) });
    const latest = await db.outboxMessage.findFirst({
      where: { refId: row.id, kind: 'card_update', status: 'sent' },
      orderBy: { createdAt: 'desc' },
    });
    const card = cardSchema.safeParse(
      parseJsonColumn(z.object({ card: z.unknown() }), (latest ?? row).body, 'OutboxMessage.body').card,
    );
    if (!card.success) return answer(event, { text: deps.t('dingtalk.card_command.no_card', { code }) });
    // Numbered as the member saw them: their own sections on a template card or in a
    // private chat, the defaults on a markdown message in a group.
    const viewer = settings.cardTemplateId || event.chat.kind === 'direct' ? event.sender.id : undefined;
    const item = listActionables(card.data, viewer).find((a) => a.n === n);
    if (!item) return answer(event, { text: deps.t('dingtalk.card_command.no_button', { code, n }) });
    let formValues: Record<string, unknown> | undefined;
    if (item.kind === 'choice') {
      const picked = (rest ?? '')
        .split(/[\s,，、]+/)
        .filter(Boolean)
        .map((v) => item.values!.find((x) => x.toLowerCase() === v.toLowerCase()));
      if (picked.length === 0 || picked.some((v) => v === undefined) || (!item.multiple && picked.length !== 1)) {
        return answer(event, {
          text: deps.t('dingtalk.card_command.choose', {
            values: item.values!.join(' / '),
            first: item.values![0] ?? '',
            code,
            n,
          }),
        });
      }
      formValues = { [item.field!]: item.multiple ? [...new Set(picked)] : picked[0] };
    } else if (item.kind === 'form') {
      const parts = (rest ?? '').split('|').map((s) => s.trim());
      if (!rest || parts.length !== item.inputs!.length || parts.some((p) => !p)) {
        return answer(event, {
          text: deps.t('dingtalk.card_command.form', {
            inputs: (item.inputLabels ?? item.inputs!).map((i) => `<${i}>`).join(' | '),
            code,
            n,
          }),
        });
      }
      formValues = Object.fromEntries(item.inputs!.map((name, i) => [name, parts[i]]));
    }
    const action: ActionEvent = {
      type: 'action',
      platform: 'dingtalk',
      tenant: event.tenant,
      eventKey: `cmd:${event.eventKey}`,
      chat: event.chat,
      sender: event.sender,
      actionId: item.actionId,
      payload: item.payload,
      formValues,
      card: { messageId: row.id },
      receivedAt: event.receivedAt,
    };
    const ack = await sink.handleAction(action);
    if (ack.toast) await answer(event, { text: ack.toast.text });
    if (ack.card) await answer(event, { card: ack.card });
  }

  /** The dispatcher dedupes commands and actions; a card command is neither until resolved. */
  async function firstTime(eventKey: string): Promise<boolean> {
    try {
      await db.inboundEvent.create({
        data: { platform: 'dingtalk', eventKey: `msg:${eventKey}`, receivedAt: clock.now() },
      });
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  // ---- inbound: card callbacks -----------------------------------------------------

  function toCardResponse(ack: AckReply, outTrackId: string, clicker: string): CardResponse {
    const out: CardResponse = {};
    const renderOpts = { outTrackId, signer, hint: { code: cardCode(outTrackId) } };
    const own = ack.card ? renderPrivateSection(ack.card, clicker, renderOpts) : {};
    const result = ack.toast ? renderPrivateResult(ack.toast) : {};
    if (ack.toast || ack.card) out.userPrivateData = { cardParamMap: { ...result, ...own } };
    if (ack.card) {
      // DingTalk shows callback cardData to the clicking member only; their own section goes in private data.
      out.cardData = { cardParamMap: renderTemplateParams(ack.card, renderOpts) };
    }
    if (out.cardData || out.userPrivateData) {
      out.cardUpdateOptions = { updateCardDataByKey: true, updatePrivateDataByKey: true };
    }
    return out;
  }

  async function onCardCallback(body: unknown, eventKey: string): Promise<CardResponse> {
    const parsed = parseCardCallback(body);
    if (!parsed.ok) {
      log.warn({ reason: parsed.reason, eventKey }, 'DingTalk card callback ignored');
      return {};
    }
    const { click } = parsed;
    const row = await db.outboxMessage.findUnique({ where: { id: click.outTrackId } });
    if (!row || row.platform !== 'dingtalk' || row.kind !== 'card') {
      log.warn({ eventKey, outTrackId: click.outTrackId }, 'DingTalk card callback for a card we did not send');
      return {};
    }
    // The params must be exactly what we put on this card: an edited payload
    // (another question, another member) fails the signature.
    const data = signer.open(click.outTrackId, click.params.d, click.params.s);
    if (!data) {
      log.warn(
        { eventKey, outTrackId: click.outTrackId, userId: click.userId },
        'DingTalk card params failed verification',
      );
      return {};
    }
    learnTenant(click.corpId);
    const event: ActionEvent = {
      type: 'action',
      platform: 'dingtalk',
      tenant: click.corpId ?? (await tenant()),
      eventKey,
      chat: row.targetKind === 'chat' ? { id: row.targetId, kind: 'group' } : { id: row.targetId, kind: 'direct' },
      // Who clicked is what DingTalk says, never anything in the params.
      sender: { id: click.userId },
      actionId: data.a,
      payload: data.p,
      formValues: data.f,
      card: { messageId: row.id },
      receivedAt: clock.now(),
    };
    const handling = sink.handleAction(event);
    const late = Symbol('late');
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      handling,
      new Promise<typeof late>((resolve) => {
        timer = setTimeout(() => resolve(late), budgetMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (result !== late) return toCardResponse(result, row.id, click.userId);
    // Too slow for the 2 s answer: acknowledge now and put the member's result on the card afterwards.
    log.warn({ eventKey, actionId: data.a }, 'card action slower than the callback deadline; updating afterwards');
    tasks.run('late card ack', async () => {
      const ack = await handling;
      const response = toCardResponse(ack, row.id, click.userId);
      if (!response.userPrivateData && !response.cardData) return;
      await api.call('card.update', 'PUT', '/v1.0/card/instances', {
        outTrackId: row.id,
        ...(response.cardData ? { cardData: response.cardData } : {}),
        ...(response.userPrivateData ? { privateData: { [click.userId]: response.userPrivateData } } : {}),
        cardUpdateOptions: { updateCardDataByKey: true, updatePrivateDataByKey: true },
        userIdType: 1,
      });
    });
    return {};
  }

  // ---- HTTP mode ---------------------------------------------------------------------

  const routes = new Hono();

  /**
   * What both HTTP callbacks do first: refuse a bad signature, read JSON, and
   * accept each signature once — DingTalk's signature covers no body, so a
   * captured one could otherwise be replayed with any body inside its window.
   */
  async function signedJson(
    c: Context,
    problem: string | null | undefined,
    signature: string | undefined,
    replays: ReplayGuard,
  ): Promise<{ raw: string; body: unknown }> {
    if (problem) throw new HTTPException(401, { message: `signature ${problem}` });
    const raw = await c.req.text();
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new HTTPException(400, { message: 'body is not valid JSON' });
    }
    // Before the signature is spent: a body nested past the limits is refused with nothing written.
    const excess = exceedsJsonLimits(body, BODY_LIMITS);
    if (excess) {
      log.warn({ signature, excess }, 'DingTalk callback body refused');
      throw new HTTPException(400, { message: `body ${excess}` });
    }
    if (!(await replays.accept(signature!))) throw new HTTPException(409, { message: 'signature already used' });
    return { raw, body };
  }

  if (settings.mode === 'webhook') {
    routes.post('/dingtalk/webhook', async (c) => {
      const timestamp = c.req.header('timestamp');
      const sign = c.req.header('sign');
      const now = clock.now().getTime();
      const problem = verifyRobotSignature({ timestamp, sign }, settings.clientSecret, now);
      const { body } = await signedJson(c, problem, sign, robotReplays);
      // Recorded before the 200: an acknowledged message is never lost.
      await recordRobotMessage(body);
      return c.json({ msgtype: 'empty' });
    });

    routes.post('/dingtalk/card', async (c) => {
      const timestamp = c.req.header('x-ddpaas-signature-timestamp');
      const signature = c.req.header('x-ddpaas-signature');
      const now = clock.now().getTime();
      const problem = verifyCardCallbackSignature({ timestamp, signature }, settings.clientSecret, now);
      const { raw, body } = await signedJson(c, problem, signature, cardReplays);
      const eventKey = `card:${createHash('sha256').update(`${timestamp}\n${raw}`).digest('hex').slice(0, 40)}`;
      return c.json(await onCardCallback(body, eventKey));
    });
  }

  // ---- Stream mode -------------------------------------------------------------------

  let stream: StreamConnection | undefined;
  if (settings.mode === 'stream') {
    stream = createStreamConnection({
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      gateway: settings.streamGateway,
      log,
      backoff: deps.stream?.backoff,
      pingMs: deps.stream?.pingMs,
      async onRobotMessage(frame) {
        let body: unknown;
        try {
          body = JSON.parse(frame.data);
        } catch {
          log.warn({ messageId: frame.messageId }, 'DingTalk robot frame with broken JSON dropped');
          return;
        }
        if (exceedsJsonLimits(body, BODY_LIMITS)) {
          log.warn({ messageId: frame.messageId }, 'DingTalk robot frame nested too deeply or too large; dropped');
          return;
        }
        // The frame is acked once this resolves: recorded first.
        await recordRobotMessage(body);
      },
      async onCardCallback(frame) {
        let body: unknown;
        try {
          body = JSON.parse(frame.data);
        } catch {
          log.warn({ messageId: frame.messageId }, 'DingTalk card frame with broken JSON dropped');
          return {};
        }
        if (exceedsJsonLimits(body, BODY_LIMITS)) {
          log.warn(
            { eventKey: `card:${frame.messageId}` },
            'DingTalk card frame nested too deeply or too large; dropped',
          );
          return {};
        }
        return onCardCallback(body, `card:${frame.messageId}`);
      },
    });
  }

  return {
    messenger,
    routes,
    usage,
    start() {
      stream?.start();
    },
    async stop() {
      await stream?.stop();
      await tasks.drain();
    },
    async ready() {
      if (!stream) return true;
      const s = stream.status();
      if (s.state === 'connected') return true;
      return `stream ${s.state}${s.failures ? ` after ${s.failures} failed attempts` : ''}${s.lastError ? `: ${s.lastError}` : ''}`;
    },
    registerMetrics(metrics) {
      apiCalls = metrics.counter('shuxiang_dingtalk_api_calls_total', 'DingTalk OpenAPI calls by API and outcome', [
        'api',
        'outcome',
      ]);
      metrics.gauge(
        'shuxiang_dingtalk_api_calls_this_month',
        "DingTalk OpenAPI calls counted towards this month's quota",
        () => usage.used(),
      );
      metrics.gauge('shuxiang_dingtalk_api_quota', 'DingTalk OpenAPI calls allowed per month', () => deps.monthlyQuota);
      if (stream) {
        const s = stream;
        metrics.gauge('shuxiang_dingtalk_stream_connected', 'Whether the DingTalk stream connection is up', () =>
          s.status().state === 'connected' ? 1 : 0,
        );
        metrics.gauge(
          'shuxiang_dingtalk_stream_reconnects',
          'DingTalk stream reconnections since start',
          () => s.status().reconnects,
        );
        metrics.gauge(
          'shuxiang_dingtalk_stream_failed_attempts',
          'Failed DingTalk stream connection attempts since the last good one',
          () => s.status().failures,
        );
        metrics.gauge(
          'shuxiang_dingtalk_stream_bad_frames',
          'DingTalk stream frames dropped as unreadable',
          () => s.status().badFrames,
        );
      }
    },
    streamStatus: () => stream?.status(),
    settle: () => tasks.drain(),
  };
}
