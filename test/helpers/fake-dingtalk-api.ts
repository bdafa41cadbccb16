import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';

/**
 * A fake of the DingTalk OpenAPI on 127.0.0.1 (token, robot group and
 * private sends, card create/deliver/update, the sessionWebhook, and the old
 * OAPI's media upload on the same host) that
 * behaves like the real one where the bot depends on it: the access-token
 * header is required, each API allows 20 calls a second, the organisation's
 * monthly quota runs out, and errors come back as `{code, message, requestid}`
 * with DingTalk's own codes.
 */

export interface RecordedCall {
  method: string;
  path: string;
  body: Record<string, unknown>;
  status: number;
  code?: string;
}

export interface FakeCard {
  outTrackId: string;
  cardTemplateId: string;
  openSpaceId: string;
  callbackType: string;
  callbackRouteKey?: string;
  cardParamMap: Record<string, string>;
  privateData: Record<string, Record<string, string>>;
  atUserIds?: Record<string, string>;
  robotCode?: string;
  updates: number;
}

export interface FakeDingTalkApiOptions {
  clientId: string;
  clientSecret: string;
  robotCode: string;
  /** Template ids that exist on the card platform. */
  templates?: string[];
  /** OpenAPI calls the organisation may make (token calls are exempt). */
  quota?: number;
  qpsPerApi?: number;
  now?: () => number;
}

export interface FakeDingTalkApi {
  url: string;
  /** host:port, to allow it as a sessionWebhook host. */
  host: string;
  calls: RecordedCall[];
  cards: Map<string, FakeCard>;
  groupMessages: { openConversationId: string; msgKey: string; msgParam: Record<string, string> }[];
  privateMessages: { userIds: string[]; msgKey: string; msgParam: Record<string, string> }[];
  webhookMessages: { session: string; conversationId: string; body: Record<string, unknown> }[];
  tokensIssued(): number;
  quotaUsed(): number;
  setQuotaUsed(n: number): void;
  /** A sessionWebhook for a conversation, valid for `ttlMs`. */
  openSession(conversationId: string, ttlMs?: number): { sessionWebhook: string; sessionWebhookExpiredTime: number };
  /** These users are flow-controlled on their next private message. */
  flowControlOnce(userIds: string[]): void;
  /**
   * What one member sees of a card: the public data with their private data
   * laid over it (DingTalk shows a member their private values).
   */
  viewAs(outTrackId: string, userId: string): Record<string, string> | undefined;
  /** Files the bot uploaded (media/upload), by media_id. */
  uploads: Map<string, { name: string; bytes: Buffer }>;
  /** A file a member sent; returns its download code. */
  addFile(bytes: Buffer): string;
  /** The robot is not in these groups. */
  removeFromGroup(openConversationId: string): void;
  revokeTokens(): void;
  close(): Promise<void>;
}

export async function startFakeDingTalkApi(options: FakeDingTalkApiOptions): Promise<FakeDingTalkApi> {
  const now = options.now ?? (() => Date.now());
  const templates = new Set(options.templates ?? []);
  const quota = options.quota ?? 5000;
  const qps = options.qpsPerApi ?? 20;
  const calls: RecordedCall[] = [];
  const cards = new Map<string, FakeCard>();
  const groupMessages: FakeDingTalkApi['groupMessages'] = [];
  const privateMessages: FakeDingTalkApi['privateMessages'] = [];
  const webhookMessages: FakeDingTalkApi['webhookMessages'] = [];
  const sessions = new Map<string, { conversationId: string; expiresAt: number }>();
  const tokens = new Map<string, number>();
  const windows = new Map<string, number[]>();
  const flowControlled = new Set<string>();
  const removedGroups = new Set<string>();
  const files = new Map<string, Buffer>();
  const uploads = new Map<string, { name: string; bytes: Buffer }>();
  let issued = 0;
  let used = 0;
  let base = '';

  const app = new Hono();

  function fail(c: Context, status: 400 | 401 | 403 | 404, code: string, message: string) {
    const call = calls[calls.length - 1];
    if (call) {
      call.status = status;
      call.code = code;
    }
    return c.json({ code, message, requestid: randomUUID() }, status);
  }

  async function bodyOf(c: Context): Promise<Record<string, unknown>> {
    try {
      return (await c.req.json()) as Record<string, unknown>;
    } catch {
      return {};
    }
  }

  app.post('/v1.0/oauth2/accessToken', async (c) => {
    const body = await bodyOf(c);
    calls.push({ method: 'POST', path: c.req.path, body, status: 200 });
    if (body.appKey !== options.clientId || body.appSecret !== options.clientSecret) {
      return fail(c, 400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
    }
    // Like DingTalk: while a token is valid, asking again returns it (and extends it).
    const valid = [...tokens.entries()].find(([, exp]) => exp > now());
    const token = valid?.[0] ?? `tok-${randomUUID()}`;
    tokens.set(token, now() + 7_200_000);
    if (!valid) issued++;
    return c.json({ accessToken: token, expireIn: 7200 });
  });

  /** Token, QPS and quota checks every OpenAPI call goes through; undefined when it may proceed. */
  async function gate(c: Context): Promise<{ body: Record<string, unknown>; rejected?: Response }> {
    const body = await bodyOf(c);
    const key = `${c.req.method} ${c.req.path}`;
    calls.push({ method: c.req.method, path: c.req.path, body, status: 200 });
    const token = c.req.header('x-acs-dingtalk-access-token');
    const exp = token ? tokens.get(token) : undefined;
    if (!exp || exp <= now()) {
      return { body, rejected: fail(c, 401, 'InvalidAuthentication', '不合法的access_token') };
    }
    const t = now();
    const recent = (windows.get(key) ?? []).filter((x) => t - x < 1000);
    if (recent.length >= qps) {
      windows.set(key, recent);
      return {
        body,
        rejected: fail(c, 403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '应用调用该接口的请求数超过限流值'),
      };
    }
    recent.push(t);
    windows.set(key, recent);
    if (used >= quota) {
      return {
        body,
        rejected: fail(c, 403, 'Forbidden.AccessDenied.ApiCountLimitForOrg', '企业调用接口总次数超过本月限额'),
      };
    }
    used++;
    return { body };
  }

  function parseParam(c: Context, raw: unknown, msgKey?: unknown): Record<string, string> | Response {
    if (typeof raw !== 'string')
      return fail(c, 400, 'invalidParameter.msgParam.invalid', 'msgParam 必须是 JSON 字符串');
    if (Buffer.byteLength(raw) > 15_000) return fail(c, 400, 'invalidParameter.msgParam.tooLong', 'msgParam 过长');
    let param: Record<string, string>;
    try {
      param = JSON.parse(raw) as Record<string, string>;
    } catch {
      return fail(c, 400, 'invalidParameter.msgParam.invalid', 'msgParam 不是合法 JSON');
    }
    if (msgKey === 'sampleFile' && (!uploads.has(param.mediaId ?? '') || !param.fileName || !param.fileType))
      return fail(c, 400, 'invalidParameter.msgParam.invalid', 'sampleFile 的 mediaId 无效');
    return param;
  }

  app.post('/v1.0/robot/groupMessages/send', async (c) => {
    const { body, rejected } = await gate(c);
    if (rejected) return rejected;
    if (body.robotCode !== options.robotCode)
      return fail(c, 400, 'invalidParameter.robotCode.notExist', 'robotCode 不存在');
    const cid = String(body.openConversationId ?? '');
    if (!cid || removedGroups.has(cid)) return fail(c, 400, 'invalid.openConversationId', '机器人不在群内');
    const param = parseParam(c, body.msgParam, body.msgKey);
    if (param instanceof Response) return param;
    groupMessages.push({ openConversationId: cid, msgKey: String(body.msgKey), msgParam: param });
    return c.json({ processQueryKey: `pq-${randomUUID()}` });
  });

  app.post('/v1.0/robot/oToMessages/batchSend', async (c) => {
    const { body, rejected } = await gate(c);
    if (rejected) return rejected;
    if (body.robotCode !== options.robotCode)
      return fail(c, 400, 'invalidParameter.robotCode.notExist', 'robotCode 不存在');
    const userIds = Array.isArray(body.userIds) ? (body.userIds as string[]) : [];
    if (userIds.length === 0) return fail(c, 400, 'invalidParameter.userIds.empty', 'userIds 不能为空');
    if (userIds.length > 20) return fail(c, 400, 'invalidParameter.userIds.overMax', 'userIds 超过最大值');
    const param = parseParam(c, body.msgParam, body.msgKey);
    if (param instanceof Response) return param;
    const flow = userIds.filter((u) => flowControlled.has(u));
    for (const u of flow) flowControlled.delete(u);
    const invalid = userIds.filter((u) => u.startsWith('ghost'));
    const delivered = userIds.filter((u) => !flow.includes(u) && !invalid.includes(u));
    if (delivered.length) privateMessages.push({ userIds: delivered, msgKey: String(body.msgKey), msgParam: param });
    return c.json({
      processQueryKey: `pq-${randomUUID()}`,
      invalidStaffIdList: invalid,
      flowControlledStaffIdList: flow,
    });
  });

  function stringMap(value: unknown): Record<string, string> | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') return undefined;
      out[k] = v;
    }
    return out;
  }

  app.post('/v1.0/card/instances/createAndDeliver', async (c) => {
    const { body, rejected } = await gate(c);
    if (rejected) return rejected;
    const templateId = String(body.cardTemplateId ?? '');
    if (!templates.has(templateId)) return fail(c, 400, 'param.templateNotExist', '卡片模板不存在');
    const outTrackId = String(body.outTrackId ?? '');
    if (!outTrackId) return fail(c, 400, 'param.outTrackIdEmpty', 'outTrackId 不能为空');
    if (cards.has(outTrackId)) return fail(c, 400, 'param.cardAlreadyExist', '卡片已存在');
    const map = stringMap((body.cardData as { cardParamMap?: unknown } | undefined)?.cardParamMap);
    if (!map) return fail(c, 400, 'param.cardDataInvalid', 'cardParamMap 的值必须是字符串');
    const callbackType = String(body.callbackType ?? '');
    if (!['STREAM', 'HTTP'].includes(callbackType))
      return fail(c, 400, 'param.callbackTypeInvalid', 'callbackType 无效');
    if (callbackType === 'HTTP' && !body.callbackRouteKey)
      return fail(c, 400, 'param.callbackRouteKeyEmpty', '缺少 callbackRouteKey');
    const space = String(body.openSpaceId ?? '');
    const m = /^dtv1\.card\/\/(IM_GROUP|IM_ROBOT)\.(.+)$/.exec(space);
    if (!m) return fail(c, 400, 'param.openSpaceIdInvalid', 'openSpaceId 无效');
    const group = m[1] === 'IM_GROUP';
    const deliver = (group ? body.imGroupOpenDeliverModel : body.imRobotOpenDeliverModel) as
      { robotCode?: string; atUserIds?: Record<string, string> } | undefined;
    if (deliver?.robotCode !== options.robotCode) return fail(c, 400, 'param.robotCodeInvalid', 'robotCode 无效');
    if (group && removedGroups.has(m[2]!)) {
      return c.json({
        success: true,
        result: {
          outTrackId,
          deliverResults: [{ spaceType: 'IM_GROUP', spaceId: m[2], success: false, errorMsg: 'robot not in group' }],
        },
      });
    }
    const privateData: Record<string, Record<string, string>> = {};
    for (const [userId, data] of Object.entries(
      (body.privateData ?? {}) as Record<string, { cardParamMap?: unknown }>,
    )) {
      const m = stringMap(data?.cardParamMap);
      if (!m) return fail(c, 400, 'param.privateDataInvalid', 'privateData 的值必须是字符串');
      privateData[userId] = m;
    }
    cards.set(outTrackId, {
      outTrackId,
      cardTemplateId: templateId,
      openSpaceId: space,
      callbackType,
      callbackRouteKey: body.callbackRouteKey as string | undefined,
      cardParamMap: map,
      privateData,
      atUserIds: deliver?.atUserIds,
      robotCode: deliver?.robotCode,
      updates: 0,
    });
    return c.json({
      success: true,
      result: {
        outTrackId,
        deliverResults: [{ spaceType: m[1], spaceId: m[2], success: true, carrierId: randomUUID() }],
      },
    });
  });

  app.put('/v1.0/card/instances', async (c) => {
    const { body, rejected } = await gate(c);
    if (rejected) return rejected;
    const card = cards.get(String(body.outTrackId ?? ''));
    if (!card) return fail(c, 400, 'param.cardNotExist', '卡片不存在');
    const options2 = (body.cardUpdateOptions ?? {}) as {
      updateCardDataByKey?: boolean;
      updatePrivateDataByKey?: boolean;
    };
    const map = body.cardData ? stringMap((body.cardData as { cardParamMap?: unknown }).cardParamMap) : undefined;
    const priv = body.privateData as Record<string, { cardParamMap?: unknown }> | undefined;
    if (!map && !priv) return fail(c, 400, 'param.cardDataAndPrivateDataBothEmpty', '公有数据和私有数据不能同时为空');
    if (body.cardData && !map) return fail(c, 400, 'param.cardDataInvalid', 'cardParamMap 的值必须是字符串');
    if (map) card.cardParamMap = options2.updateCardDataByKey ? { ...card.cardParamMap, ...map } : map;
    for (const [userId, data] of Object.entries(priv ?? {})) {
      const m = stringMap(data?.cardParamMap);
      if (!m) return fail(c, 400, 'param.privateDataInvalid', 'privateData 的值必须是字符串');
      card.privateData[userId] = options2.updatePrivateDataByKey ? { ...card.privateData[userId], ...m } : m;
    }
    card.updates++;
    return c.json({ success: true, result: true });
  });

  app.post('/v1.0/robot/messageFiles/download', async (c) => {
    const { body, rejected } = await gate(c);
    if (rejected) return rejected;
    const code = String(body.downloadCode ?? '');
    if (!files.has(code)) return fail(c, 400, 'invalidParameter.downloadCode', 'downloadCode 无效');
    return c.json({ downloadUrl: `${base}/files/${encodeURIComponent(code)}` });
  });

  app.get('/files/:code', (c) => {
    const file = files.get(c.req.param('code'));
    if (!file) return c.text('not found', 404);
    return c.body(new Uint8Array(file), 200, { 'content-type': 'application/octet-stream' });
  });

  // The old OAPI's media upload (oapi.dingtalk.com/media/upload): token and
  // type in the query, the file in multipart field `media`; errors are HTTP
  // 200 with an errcode. A `file` is at most 20 MB and one of the documented
  // types (KB upload-media-files); the size and type errcodes are the OAPI's
  // generic 40006/40005 (UNCONFIRMED for this API).
  app.post('/media/upload', async (c) => {
    const call: RecordedCall = { method: 'POST', path: c.req.path, body: {}, status: 200 };
    calls.push(call);
    const oapiFail = (errcode: number, errmsg: string) => {
      call.code = String(errcode);
      return c.json({ errcode, errmsg });
    };
    const token = c.req.query('access_token') ?? '';
    const exp = tokens.get(token);
    if (!exp || exp <= now()) return oapiFail(40014, '不合法的access_token');
    if (used >= quota) return oapiFail(90020, '企业调用接口总次数超过本月限额');
    used++;
    const form = await c.req.parseBody();
    const type = c.req.query('type') ?? String(form.type ?? '');
    const media = form.media;
    call.body = { type, name: media instanceof File ? media.name : undefined };
    if (!(media instanceof File)) return oapiFail(40001, '缺少参数 media');
    if (type !== 'file') return oapiFail(40004, '不合法的媒体文件类型');
    const ext = /\.([A-Za-z0-9]+)$/.exec(media.name)?.[1]?.toLowerCase() ?? '';
    if (!['doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'zip', 'pdf', 'rar'].includes(ext))
      return oapiFail(40005, '不合法的文件类型');
    if (media.size === 0 || media.size > 20 * 1024 * 1024) return oapiFail(40006, '不合法的文件大小');
    const mediaId = `@lA${randomUUID().replace(/-/g, '')}`;
    uploads.set(mediaId, { name: media.name, bytes: Buffer.from(await media.arrayBuffer()) });
    return c.json({ errcode: 0, errmsg: 'ok', media_id: mediaId, created_at: now(), type: 'file' });
  });

  // The sessionWebhook: no token, not counted here (whether DingTalk counts it is unconfirmed).
  app.post('/robot/sendBySession', async (c) => {
    const body = await bodyOf(c);
    const session = c.req.query('session') ?? '';
    calls.push({ method: 'POST', path: c.req.path, body, status: 200 });
    const s = sessions.get(session);
    if (!s || s.expiresAt <= now()) {
      const call = calls[calls.length - 1]!;
      call.code = '300001';
      return c.json({ errcode: 300001, errmsg: 'session 不存在' });
    }
    webhookMessages.push({ session, conversationId: s.conversationId, body });
    return c.json({ errcode: 0, errmsg: 'ok' });
  });

  app.all('*', (c) => {
    calls.push({ method: c.req.method, path: c.req.path, body: {}, status: 404 });
    return c.json({ code: 'resource.not.found', message: `no fake for ${c.req.method} ${c.req.path}` }, 404);
  });

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;

  return {
    url: base,
    host: `127.0.0.1:${port}`,
    calls,
    cards,
    groupMessages,
    privateMessages,
    webhookMessages,
    uploads,
    tokensIssued: () => issued,
    quotaUsed: () => used,
    setQuotaUsed(n) {
      used = n;
    },
    openSession(conversationId, ttlMs = 5_400_000) {
      const session = randomUUID();
      const expiresAt = now() + ttlMs;
      sessions.set(session, { conversationId, expiresAt });
      return { sessionWebhook: `${base}/robot/sendBySession?session=${session}`, sessionWebhookExpiredTime: expiresAt };
    },
    flowControlOnce(userIds) {
      for (const u of userIds) flowControlled.add(u);
    },
    viewAs(outTrackId, userId) {
      const card = cards.get(outTrackId);
      return card ? { ...card.cardParamMap, ...card.privateData[userId] } : undefined;
    },
    addFile(bytes) {
      const code = `dc-${randomUUID()}`;
      files.set(code, bytes);
      return code;
    },
    removeFromGroup(cid) {
      removedGroups.add(cid);
    },
    revokeTokens() {
      tokens.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
