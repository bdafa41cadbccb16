import {
  DeliveryError,
  type Card,
  type Mention,
  type PlatformMessenger,
  type SendOptions,
  type Target,
} from '../types.ts';
import type { Clock } from '../../lib/clock.ts';
import { stripMarks, withoutBidi } from '../text.ts';
import type { Logger } from '../../lib/logger.ts';
import { DingTalkApiError, toDeliveryError, type DingTalkApi } from './api-client.ts';
import { decodeReplyHandle, type ReplyHandle } from './parse.ts';
import {
  cardCode,
  renderMarkdownMessage,
  renderTemplateParams,
  renderViewerPrivateData,
  type ParamSigner,
} from './render-card.ts';

/**
 * Sends through the cheapest path DingTalk allows:
 * 1. the sessionWebhook of the message being answered, while it is valid
 *    (no access token, and the only way to @-mention in a plain message);
 * 2. otherwise the robot OpenAPI (group send, or private batch send where
 *    concurrent identical messages to several members share one call);
 * 3. cards through the card platform when a template is configured, or as
 *    markdown with text commands when it is not.
 */

/** The sessionWebhook is not used in its last minute: the send could arrive after expiry. */
const WEBHOOK_MARGIN_MS = 60_000;
/** DingTalk: at most 20 users per batchSend call. */
export const BATCH_MAX_USERS = 20;
/** How long to wait for more identical private messages before sending a batch. */
const BATCH_WINDOW_MS = 30;
/** A flow-controlled member is tried again after this long. */
const FLOW_CONTROL_RETRY_MS = 30_000;
/** Media upload: "普通文件（file）：最大20MB" (KB upload-media-files). */
export const DINGTALK_MAX_FILE_BYTES = 20 * 1024 * 1024;
/** The only types media upload takes as a `file` (KB upload-media-files); others (Markdown…) go as links. */
export const DINGTALK_FILE_TYPES = new Set(['doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'zip', 'pdf', 'rar']);
/** msgParam is limited to 15,000 bytes; at 3 bytes a character this leaves room for the JSON around it. */
export const MAX_TEXT_LENGTH = 4500;

export interface DingTalkMessengerDeps {
  api: DingTalkApi;
  clock: Clock;
  log: Logger;
  robotCode: string;
  cardTemplateId?: string;
  callbackType: 'STREAM' | 'HTTP';
  callbackRouteKey: string;
  signer: ParamSigner;
}

interface BatchEntry {
  userId: string;
  resolve: (processQueryKey: string) => void;
  reject: (err: unknown) => void;
}

interface SendResult {
  processQueryKey?: string;
  invalidStaffIdList?: string[];
  flowControlledStaffIdList?: string[];
}

/**
 * Private messages with the same content to several members, issued at the
 * same moment (the outbox worker sends different targets in parallel), go
 * out as one batchSend of up to 20 users: one API call instead of twenty.
 */
function createOtoBatcher(deps: Pick<DingTalkMessengerDeps, 'api' | 'robotCode' | 'log'>) {
  const pending = new Map<string, { entries: BatchEntry[]; timer: NodeJS.Timeout }>();

  async function flush(key: string) {
    const batch = pending.get(key);
    if (!batch) return;
    pending.delete(key);
    clearTimeout(batch.timer);
    const [msgKey, msgParam] = JSON.parse(key) as [string, string];
    const userIds = [...new Set(batch.entries.map((e) => e.userId))];
    try {
      const res = await deps.api.call<SendResult>('robot.otoBatchSend', 'POST', '/v1.0/robot/oToMessages/batchSend', {
        robotCode: deps.robotCode,
        userIds,
        msgKey,
        msgParam,
      });
      const flow = new Set(res.flowControlledStaffIdList ?? []);
      const invalid = new Set(res.invalidStaffIdList ?? []);
      for (const e of batch.entries) {
        if (flow.has(e.userId)) {
          e.reject(new DeliveryError(`flow-controlled: ${e.userId}`, 'retry', FLOW_CONTROL_RETRY_MS));
        } else if (invalid.has(e.userId)) {
          e.reject(
            new DeliveryError(
              `invalid staff id ${e.userId}`,
              'permanent',
              undefined,
              'dingtalk.error.user_unreachable',
            ),
          );
        } else {
          e.resolve(res.processQueryKey ?? '');
        }
      }
    } catch (err) {
      for (const e of batch.entries) e.reject(err);
    }
  }

  return {
    send(userId: string, msgKey: string, msgParam: string): Promise<string> {
      const key = JSON.stringify([msgKey, msgParam]);
      return new Promise<string>((resolve, reject) => {
        let batch = pending.get(key);
        if (!batch) {
          batch = { entries: [], timer: setTimeout(() => void flush(key), BATCH_WINDOW_MS) };
          pending.set(key, batch);
        }
        batch.entries.push({ userId, resolve, reject });
        if (new Set(batch.entries.map((e) => e.userId)).size >= BATCH_MAX_USERS) void flush(key);
      });
    },
  };
}

/** For a card sent as markdown: `md:<our id>:<c|u>:<target id>`, so an update knows where to post. */
function markdownRef(outboxId: string, target: Target): string {
  return `md:${outboxId}:${target.kind === 'user' ? 'u' : 'c'}:${target.id}`;
}

function parseMarkdownRef(ref: string): { outboxId: string; target: Target } | undefined {
  const m = /^md:([^:]+):([uc]):(.+)$/.exec(ref);
  if (!m) return undefined;
  return { outboxId: m[1]!, target: { kind: m[2] === 'u' ? 'user' : 'chat', id: m[3]! } };
}

/** DingTalk shows `@userId` in a message as the member's name when the id is in atUserIds. */
export function withAtIds(text: string, mentions: Mention[] | undefined): { text: string; atUserIds: string[] } {
  if (!mentions?.length) return { text, atUserIds: [] };
  let out = text;
  for (const m of mentions) {
    const byName = `@${m.name}`;
    if (out.includes(byName)) out = out.split(byName).join(`@${m.id}`);
    else if (!out.includes(`@${m.id}`)) out = `${out} @${m.id}`;
  }
  return { text: out, atUserIds: [...new Set(mentions.map((m) => m.id))] };
}

export function createDingTalkMessenger(deps: DingTalkMessengerDeps): PlatformMessenger {
  const { api, log } = deps;
  const batcher = createOtoBatcher(deps);

  function usableHandle(target: Target, raw: string | undefined): ReplyHandle | undefined {
    const h = decodeReplyHandle(raw);
    if (!h) return undefined;
    if (h.e - WEBHOOK_MARGIN_MS <= deps.clock.now().getTime()) return undefined;
    const matches = target.kind === 'chat' ? h.c === target.id && !h.u : h.u === target.id;
    return matches ? h : undefined;
  }

  /** True when the sessionWebhook took it; false to fall back to the OpenAPI. */
  async function viaWebhook(handle: ReplyHandle | undefined, body: unknown): Promise<boolean> {
    if (!handle) return false;
    try {
      await api.webhook(handle.w, body);
      return true;
    } catch (err) {
      log.warn(
        { error: err instanceof Error ? err.message : String(err) },
        'sessionWebhook refused; sending through the OpenAPI instead',
      );
      return false;
    }
  }

  async function viaOpenApi(target: Target, msgKey: string, msgParam: Record<string, string>): Promise<string> {
    const param = JSON.stringify(msgParam);
    try {
      if (target.kind === 'user') return await batcher.send(target.id, msgKey, param);
      const res = await api.call<SendResult>('robot.groupSend', 'POST', '/v1.0/robot/groupMessages/send', {
        robotCode: deps.robotCode,
        openConversationId: target.id,
        msgKey,
        msgParam: param,
      });
      return res.processQueryKey ?? '';
    } catch (err) {
      throw toDeliveryError(err);
    }
  }

  async function sendMarkdown(target: Target, title: string, text: string, opts: SendOptions): Promise<void> {
    const handle = usableHandle(target, opts.replyHandle);
    const at = withAtIds(text, opts.mentions);
    if (
      await viaWebhook(handle, {
        msgtype: 'markdown',
        markdown: { title, text: at.text },
        at: { atUserIds: at.atUserIds, isAtAll: false },
      })
    )
      return;
    await viaOpenApi(target, 'sampleMarkdown', { title, text });
  }

  async function deliverCard(target: Target, card: Card, opts: SendOptions): Promise<string> {
    const outTrackId = opts.idempotencyKey;
    const renderOpts = { outTrackId, signer: deps.signer, hint: { code: cardCode(outTrackId) } };
    const cardParamMap = renderTemplateParams(card, renderOpts);
    // Members with their own viewer section: private data, in this same call.
    const privateData = renderViewerPrivateData(card, renderOpts);
    const group = target.kind === 'chat';
    const atUserIds = Object.fromEntries((opts.mentions ?? []).map((m) => [m.id, m.name]));
    const body = {
      cardTemplateId: deps.cardTemplateId,
      outTrackId,
      cardData: { cardParamMap },
      ...(Object.keys(privateData).length ? { privateData } : {}),
      callbackType: deps.callbackType,
      ...(deps.callbackType === 'HTTP' ? { callbackRouteKey: deps.callbackRouteKey } : {}),
      userIdType: 1,
      openSpaceId: group ? `dtv1.card//IM_GROUP.${target.id}` : `dtv1.card//IM_ROBOT.${target.id}`,
      ...(group
        ? {
            imGroupOpenSpaceModel: { supportForward: true },
            imGroupOpenDeliverModel: {
              robotCode: deps.robotCode,
              ...(Object.keys(atUserIds).length ? { atUserIds } : {}),
            },
          }
        : {
            imRobotOpenSpaceModel: { supportForward: true },
            imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: deps.robotCode },
          }),
    };
    try {
      const res = await api.call<{
        success?: boolean;
        result?: { deliverResults?: { success?: boolean; errorMsg?: string }[] };
      }>('card.createAndDeliver', 'POST', '/v1.0/card/instances/createAndDeliver', body);
      const failed = (res.result?.deliverResults ?? []).filter((r) => r.success === false);
      if (failed.length > 0) {
        throw new DeliveryError(
          `card not delivered: ${failed.map((f) => f.errorMsg ?? '?').join('; ')}`,
          'permanent',
          undefined,
          'dingtalk.error.chat_gone',
        );
      }
    } catch (err) {
      // A retry after a lost response: the card exists, which is what we wanted.
      if (err instanceof DingTalkApiError && err.code === 'param.cardAlreadyExist') return outTrackId;
      throw toDeliveryError(err);
    }
    return outTrackId;
  }

  return {
    platform: 'dingtalk',
    // 20 calls a second per API and app (DingTalk's standard edition), paced
    // as Feishu's are (19: the worker's 30 ms lateness allowance); group
    // robots are throttled at 20 in any minute per chat, counted exactly
    // (a bucket of 20 would let 39 through in its first minute).
    rateLimits: {
      perApp: [{ rate: 19, perMs: 1_000, burst: 1 }],
      perChat: [{ rate: 20, perMs: 60_030, sliding: true }],
    },
    maxTextLength: MAX_TEXT_LENGTH,

    async sendText(target, raw, opts) {
      // A text message shows what it holds as typed; member-text marks and bidi overrides never reach it.
      const text = withoutBidi(stripMarks(raw));
      const handle = usableHandle(target, opts.replyHandle);
      const at = withAtIds(text, opts.mentions);
      if (
        await viaWebhook(handle, {
          msgtype: 'text',
          text: { content: at.text },
          at: { atUserIds: at.atUserIds, isAtAll: false },
        })
      ) {
        return { platformMessageId: `wh:${opts.idempotencyKey}` };
      }
      // The OpenAPI cannot @-mention: the names stay as plain text.
      return { platformMessageId: await viaOpenApi(target, 'sampleText', { content: text }) };
    },

    async sendCard(target, card, opts) {
      if (deps.cardTemplateId) return { platformMessageId: await deliverCard(target, card, opts) };
      // A markdown message looks the same to a whole group; in a private chat it shows the member's own sections.
      const md = renderMarkdownMessage(
        card,
        { code: cardCode(opts.idempotencyKey) },
        target.kind === 'user' ? target.id : undefined,
      );
      await sendMarkdown(target, md.title, md.text, opts);
      return { platformMessageId: markdownRef(opts.idempotencyKey, target) };
    },

    maxFileBytes: DINGTALK_MAX_FILE_BYTES,

    /**
     * Media upload, then a robot `sampleFile` message: two OpenAPI calls
     * against the monthly quota (the sessionWebhook cannot carry files).
     * A type DingTalk does not take is refused before any call.
     */
    async sendFile(target, file, opts) {
      const fileType = /\.([A-Za-z0-9]+)$/.exec(file.name)?.[1]?.toLowerCase() ?? '';
      if (!DINGTALK_FILE_TYPES.has(fileType)) {
        throw new DeliveryError(`DingTalk does not take .${fileType || '?'} files`, 'permanent');
      }
      if (file.bytes.byteLength === 0 || file.bytes.byteLength > DINGTALK_MAX_FILE_BYTES) {
        throw new DeliveryError(`DingTalk takes files of 1 byte to 20 MB, not ${file.bytes.byteLength}`, 'permanent');
      }
      let mediaId: string;
      try {
        mediaId = await api.uploadMedia('file', file.name, file.bytes);
      } catch (err) {
        throw toDeliveryError(err);
      }
      const key = await viaOpenApi(target, 'sampleFile', { mediaId, fileName: file.name, fileType });
      return { platformMessageId: key || `file:${opts.idempotencyKey}` };
    },

    async updateCard(ref, card, opts) {
      const md = parseMarkdownRef(ref.platformMessageId);
      if (md) {
        // A markdown message cannot be edited: the new version is posted, keeping
        // the original card's code so its text commands still point at it.
        const rendered = renderMarkdownMessage(
          { ...card, header: { ...card.header, title: `${card.header.title}（已更新）` } },
          { code: cardCode(md.outboxId) },
          md.target.kind === 'user' ? md.target.id : undefined,
        );
        await sendMarkdown(md.target, rendered.title, rendered.text, { ...opts, replyHandle: undefined });
        return;
      }
      if (!deps.cardTemplateId) {
        throw new DeliveryError(
          'card template no longer configured',
          'permanent',
          undefined,
          'dingtalk.error.rejected',
        );
      }
      const renderOpts = {
        outTrackId: ref.platformMessageId,
        signer: deps.signer,
        hint: { code: cardCode(ref.platformMessageId) },
      };
      const cardParamMap = renderTemplateParams(card, renderOpts);
      const privateData = renderViewerPrivateData(card, renderOpts);
      try {
        // One call for the whole group: the public data and every listed member's own section.
        await api.call('card.update', 'PUT', '/v1.0/card/instances', {
          outTrackId: ref.platformMessageId,
          cardData: { cardParamMap },
          ...(Object.keys(privateData).length ? { privateData } : {}),
          // Merge by key, so each member's private result line stays.
          cardUpdateOptions: { updateCardDataByKey: true, updatePrivateDataByKey: true },
          userIdType: 1,
        });
      } catch (err) {
        throw toDeliveryError(err);
      }
    },
  };
}
