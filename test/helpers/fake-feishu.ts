import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';

/**
 * A fake Feishu OpenAPI on 127.0.0.1 (port 0) for the real SDK to talk to.
 * It answers like the real one (shapes, business codes, HTTP 400 for
 * business errors, 429 with x-ogw-ratelimit-reset) and enforces the
 * documented limits: tenant tokens, bot membership, dissolved chats, 150 KB
 * text / 30 KB cards, file uploads of 1 byte to 30 MB (234010 / 234006), uuid de-duplication for 1 h, 50/s per app, 5/s per
 * chat and per user, PATCH 5/s per message, card-update tokens (2 uses, 30 min).
 */
export interface FakeMessage {
  message_id: string;
  chat_id: string;
  receive_id: string;
  receive_id_type: string;
  msg_type: string;
  content: string;
  uuid?: string;
  createdAt: number;
  patches: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization?: string;
}

export interface FakeChat {
  chat_id: string;
  name: string;
  members: { open_id: string; name: string }[];
  botIn: boolean;
  dissolved: boolean;
}

export interface FakeUpload {
  file_name: string;
  file_type: string;
  bytes: Buffer;
}

export interface FakeFeishuOptions {
  appId: string;
  appSecret: string;
  botOpenId: string;
  botName?: string;
  tenantKey?: string;
  /** Per-app send limit per second (documented: 50). */
  appPerSecond?: number;
  /** Per-chat and per-user send limit per second (documented: 5). */
  chatPerSecond?: number;
}

export interface FakeFeishu {
  url: string;
  requests: RecordedRequest[];
  messages: Map<string, FakeMessage>;
  chats: Map<string, FakeChat>;
  tokensIssued: number;
  /** Files attached to members' messages, by `messageId/fileKey`. */
  files: Map<string, Buffer>;
  /** Files the bot uploaded for file messages, by file_key. */
  uploads: Map<string, FakeUpload>;
  /** Where /callback/ws/endpoint sends long-connection clients (see fake-feishu-ws.ts). */
  wsUrl?: string;
  addChat(chat: Partial<FakeChat> & { chat_id: string }): FakeChat;
  /** What Feishu would put in a card callback's `token` for this message. */
  issueCardToken(messageId: string): string;
  /** Sends refused for going too fast: over the app's limits (429) or one chat's (230020). */
  /** Sends refused: per app (either window; `appMinute` of them by the minute window) and per group. */
  limited: { app: number; appMinute: number; chat: number };
  /** Make the next n sends answer 429 (as if the app limit were hit elsewhere). */
  throttleNext(n: number, resetSeconds?: number): void;
  /** A 429 storm: every send and member-list page answers 429 (frequency limit) for the next `ms`. */
  throttleFor(ms: number, resetSeconds?: number): void;
  /** Invalidate every tenant token issued so far. */
  revokeTokens(): void;
  sent(filter?: { chat_id?: string; msg_type?: string }): FakeMessage[];
  close(): Promise<void>;
}

const ok = (data: unknown) => ({ code: 0, msg: 'success', data });

export async function startFakeFeishu(opts: FakeFeishuOptions): Promise<FakeFeishu> {
  const tenantKey = opts.tenantKey ?? '2ca1d211f64f6438';
  const appPerSecond = opts.appPerSecond ?? 50;
  const chatPerSecond = opts.chatPerSecond ?? 5;
  const validTokens = new Set<string>();
  const messages = new Map<string, FakeMessage>();
  const byUuid = new Map<string, FakeMessage>();
  const chats = new Map<string, FakeChat>();
  const requests: RecordedRequest[] = [];
  const cardTokens = new Map<string, { messageId: string; uses: number; issuedAt: number }>();
  const windows = new Map<string, number[]>();
  const files = new Map<string, Buffer>();
  const uploads = new Map<string, FakeUpload>();
  let throttle = { n: 0, reset: 1 };
  let storm = { until: 0, reset: 1 };
  const limited = { app: 0, appMinute: 0, chat: 0 };
  let tokensIssued = 0;

  const id = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

  /**
   * Sliding windows (one second, one minute); true when the call is within
   * every limit, and only then is it counted: a refused call takes no slot.
   */
  function allow(...limits: [key: string, limit: number, windowMs?: number][]): boolean {
    const now = Date.now();
    const lists = limits.map(([key, , windowMs = 1000]) => {
      const list = (windows.get(key) ?? []).filter((t) => now - t < windowMs);
      windows.set(key, list);
      return list;
    });
    if (lists.some((list, i) => list.length >= limits[i]![1])) return false;
    for (const list of lists) list.push(now);
    return true;
  }

  const fail = (c: Context, status: 400 | 404, code: number, msg: string) => c.json({ code, msg }, status);

  function rateLimited(c: Context, reset = 1) {
    c.header('x-ogw-ratelimit-limit', String(appPerSecond));
    c.header('x-ogw-ratelimit-reset', String(reset));
    return c.json({ code: 99991400, msg: 'request trigger frequency limit' }, 429);
  }

  /** Token check of every OpenAPI call: 99991661 without a token, 99991663 with a bad one. */
  function authFails(c: Context) {
    const auth = c.req.header('authorization');
    if (!auth) return fail(c, 400, 99991661, 'Missing access token for authorization.');
    const token = auth.replace(/^Bearer\s+/i, '');
    if (!validTokens.has(token)) return fail(c, 400, 99991663, 'Invalid access token for authorization.');
    return undefined;
  }

  /** The checks a card JSON 2.0 must pass (subset of 230099's sub-codes). */
  function cardProblem(content: string): string | undefined {
    let card: { schema?: string; config?: { update_multi?: boolean }; body?: { elements?: unknown[] } };
    try {
      card = JSON.parse(content) as typeof card;
    } catch {
      return 'Failed to create card content, ext=ErrCode: 200621; ErrMsg: parse card json err';
    }
    if (card.schema !== '2.0') return 'card schema must be 2.0';
    if (!Array.isArray(card.body?.elements)) return 'Failed to create card content, ext=ErrCode: 200621; body.elements';
    let count = 0;
    const names = new Set<string>();
    const walk = (els: unknown[]) => {
      for (const el of els as Record<string, unknown>[]) {
        count++;
        if ((el.tag === 'form' || el.tag === 'input' || el.form_action_type) && typeof el.name === 'string') {
          if (names.has(el.name)) throw new Error(`duplicate name ${el.name}`);
          names.add(el.name);
        }
        if ((el.tag === 'input' || el.form_action_type) && !el.name) throw new Error('ErrCode: 200530; name empty');
        if (Array.isArray(el.elements)) walk(el.elements);
        if (Array.isArray(el.columns)) walk(el.columns as unknown[]);
      }
    };
    try {
      walk(card.body.elements);
    } catch (err) {
      return `Failed to create card content, ext=${(err as Error).message}`;
    }
    if (count > 200) return 'Failed to create card content, ext=ErrCode: 11246; too many components';
    return undefined;
  }

  const app = new Hono();

  app.use('*', async (c, next) => {
    let body: unknown;
    // A multipart upload is read by its own route (reading it as JSON first would spoil it).
    if ((c.req.header('content-type') ?? '').startsWith('multipart/')) body = '[multipart]';
    else if (c.req.method !== 'GET') {
      try {
        body = await c.req.json();
      } catch {
        body = undefined;
      }
    }
    requests.push({
      method: c.req.method,
      path: c.req.path,
      query: c.req.query(),
      body,
      authorization: c.req.header('authorization'),
    });
    await next();
  });

  app.post('/open-apis/auth/v3/tenant_access_token/internal', async (c) => {
    const body = (await c.req.json()) as { app_id?: string; app_secret?: string };
    if (body.app_id !== opts.appId || body.app_secret !== opts.appSecret) {
      return c.json({ code: 10014, msg: 'app secret invalid' }, 400);
    }
    const token = id('t-');
    validTokens.add(token);
    tokensIssued++;
    // No `data` wrapper here, unlike every other API.
    return c.json({ code: 0, msg: 'ok', tenant_access_token: token, expire: 7200 });
  });

  app.get('/open-apis/bot/v3/info', (c) => {
    const denied = authFails(c);
    if (denied) return denied;
    return c.json({
      code: 0,
      msg: 'ok',
      bot: {
        activate_status: 2,
        app_name: opts.botName ?? '书香',
        avatar_url: 'https://example.invalid/avatar.png',
        ip_white_list: [],
        open_id: opts.botOpenId,
      },
    });
  });

  async function createMessage(c: Context, receiveIdType: string, receiveId: string, replyTo?: FakeMessage) {
    const body = (await c.req.json()) as { msg_type?: string; content?: string; uuid?: string };
    if (throttle.n > 0) {
      throttle.n--;
      return rateLimited(c, throttle.reset);
    }
    if (Date.now() < storm.until) return rateLimited(c, storm.reset);
    if (!allow(['app', appPerSecond], ['app-min', 1000, 60_000])) {
      limited.app++;
      if ((windows.get('app-min') ?? []).length >= 1000) limited.appMinute++;
      return rateLimited(c);
    }
    if (!body.msg_type || typeof body.content !== 'string') return fail(c, 400, 230001, 'invalid message content');
    if (body.uuid && body.uuid.length > 50) return fail(c, 400, 230001, 'uuid longer than 50 characters');
    if (body.uuid) {
      const seen = byUuid.get(body.uuid);
      if (seen && Date.now() - seen.createdAt < 3_600_000) return c.json(ok(messageData(seen)));
    }
    let chatId: string;
    if (replyTo) chatId = replyTo.chat_id;
    else if (receiveIdType === 'chat_id') chatId = receiveId;
    else if (receiveIdType === 'open_id') chatId = `oc_p2p_${receiveId}`;
    else return fail(c, 400, 230001, `unsupported receive_id_type ${receiveIdType}`);
    const chat = chats.get(chatId);
    if (receiveIdType === 'chat_id' || replyTo) {
      if (!chat) return fail(c, 400, 230001, 'invalid receive_id');
      if (chat.dissolved)
        return fail(c, 400, 232009, 'Your request specified a chat which has already been dissolved.');
      if (!chat.botIn) return fail(c, 400, 230002, 'Bot/User can NOT be out of the chat.');
    }
    if (!allow([`chat:${chatId}`, chatPerSecond])) {
      limited.chat++;
      return fail(c, 400, 230020, 'This group has triggered the rate limit.');
    }
    const bytes = Buffer.byteLength(body.content);
    if (body.msg_type === 'text' && bytes > 150 * 1024) return fail(c, 400, 230025, 'The message content is too long.');
    if (body.msg_type === 'interactive') {
      if (bytes > 30 * 1024) return fail(c, 400, 230025, 'The message content is too long.');
      const problem = cardProblem(body.content);
      if (problem) return fail(c, 400, 230099, problem);
    }
    if (body.msg_type === 'file') {
      let key: unknown;
      try {
        key = (JSON.parse(body.content) as { file_key?: unknown }).file_key;
      } catch {
        key = undefined;
      }
      if (typeof key !== 'string' || !uploads.has(key)) return fail(c, 400, 230001, 'invalid file_key');
    }
    if (body.msg_type === 'text') {
      try {
        const t = (JSON.parse(body.content) as { text?: unknown }).text;
        if (typeof t !== 'string') throw new Error('no text');
      } catch {
        return fail(c, 400, 230001, 'invalid text content');
      }
    }
    const msg: FakeMessage = {
      message_id: id('om_'),
      chat_id: chatId,
      receive_id: receiveId,
      receive_id_type: receiveIdType,
      msg_type: body.msg_type,
      content: body.content,
      uuid: body.uuid,
      createdAt: Date.now(),
      patches: 0,
    };
    messages.set(msg.message_id, msg);
    if (body.uuid) byUuid.set(body.uuid, msg);
    return c.json(ok(messageData(msg)));
  }

  function messageData(msg: FakeMessage) {
    return {
      message_id: msg.message_id,
      root_id: '',
      parent_id: '',
      msg_type: msg.msg_type,
      create_time: String(msg.createdAt),
      update_time: String(msg.createdAt),
      deleted: false,
      updated: msg.patches > 0,
      chat_id: msg.chat_id,
      sender: { id: opts.appId, id_type: 'app_id', sender_type: 'app', tenant_key: tenantKey },
      body: { content: msg.content },
      mentions: [],
    };
  }

  app.post('/open-apis/im/v1/messages', async (c) => {
    const denied = authFails(c);
    if (denied) return denied;
    const type = c.req.query('receive_id_type') ?? '';
    const body = (await c.req.json()) as { receive_id?: string };
    if (!body.receive_id) return fail(c, 400, 230001, 'receive_id is required');
    return createMessage(c, type, body.receive_id);
  });

  app.post('/open-apis/im/v1/messages/:message_id/reply', async (c) => {
    const denied = authFails(c);
    if (denied) return denied;
    const parent = messages.get(c.req.param('message_id'));
    if (!parent) return fail(c, 400, 230011, 'The message was withdrawn or does not exist.');
    return createMessage(c, 'chat_id', parent.chat_id, parent);
  });

  app.patch('/open-apis/im/v1/messages/:message_id', async (c) => {
    const denied = authFails(c);
    if (denied) return denied;
    const msg = messages.get(c.req.param('message_id'));
    if (!msg) return fail(c, 400, 230011, 'The message was withdrawn or does not exist.');
    if (msg.msg_type !== 'interactive') return fail(c, 400, 230001, 'only cards can be patched');
    if (Date.now() - msg.createdAt > 14 * 86_400_000) return fail(c, 400, 230031, 'message older than 14 days');
    if (!allow([`patch:${msg.message_id}`, 5]))
      return fail(c, 400, 230020, 'This message has triggered the rate limit.');
    const chat = chats.get(msg.chat_id);
    if (chat && !chat.botIn) return fail(c, 400, 230002, 'Bot/User can NOT be out of the chat.');
    const body = (await c.req.json()) as { content?: string };
    if (typeof body.content !== 'string') return fail(c, 400, 230001, 'content is required');
    if (Buffer.byteLength(body.content) > 30 * 1024) return fail(c, 400, 230025, 'The message content is too long.');
    const problem = cardProblem(body.content);
    if (problem) return fail(c, 400, 230099, problem);
    const before = JSON.parse(msg.content) as { config?: { update_multi?: boolean } };
    const after = JSON.parse(body.content) as { config?: { update_multi?: boolean } };
    if (!before.config?.update_multi || !after.config?.update_multi) {
      return fail(c, 400, 230099, 'shared card requires update_multi true before and after');
    }
    msg.content = body.content;
    msg.patches++;
    return c.json({ code: 0, msg: 'success', data: {} });
  });

  app.post('/open-apis/interactive/v1/card/update', async (c) => {
    const denied = authFails(c);
    if (denied) return denied;
    const body = (await c.req.json()) as { token?: string; card?: unknown };
    const entry = body.token ? cardTokens.get(body.token) : undefined;
    if (!entry || entry.uses >= 2 || Date.now() - entry.issuedAt > 30 * 60_000) {
      return fail(c, 400, 200800, 'card token is invalid or expired');
    }
    const msg = messages.get(entry.messageId);
    if (!msg || typeof body.card !== 'object' || body.card === null) return fail(c, 400, 230001, 'card is required');
    const content = JSON.stringify(body.card);
    const problem = cardProblem(content);
    if (problem) return fail(c, 400, 230099, problem);
    entry.uses++;
    msg.content = content;
    msg.patches++;
    return c.json({ code: 0, msg: 'success', data: {} });
  });

  app.get('/open-apis/im/v1/chats/:chat_id/members', (c) => {
    const denied = authFails(c);
    if (denied) return denied;
    if (Date.now() < storm.until) return rateLimited(c, storm.reset);
    if (!allow(['members', 50])) return rateLimited(c);
    const chat = chats.get(c.req.param('chat_id'));
    if (!chat) return fail(c, 400, 232010, 'chat not found');
    if (!chat.botIn) return fail(c, 400, 232011, 'Operator can NOT be out of the chat.');
    const size = Math.min(100, Math.max(1, Number(c.req.query('page_size') ?? 20)));
    const start = Number(c.req.query('page_token') ?? 0) || 0;
    const page = chat.members.slice(start, start + size);
    const next = start + size;
    return c.json(
      ok({
        items: page.map((m) => ({
          member_id_type: 'open_id',
          member_id: m.open_id,
          name: m.name,
          tenant_key: tenantKey,
        })),
        has_more: next < chat.members.length,
        page_token: next < chat.members.length ? String(next) : '',
        member_total: chat.members.length,
      }),
    );
  });

  // Long connection: the SDK's WSClient asks here where to connect.
  app.post('/callback/ws/endpoint', async (c) => {
    const body = (await c.req.json()) as { AppID?: string; AppSecret?: string };
    if (body.AppID !== opts.appId || body.AppSecret !== opts.appSecret) {
      return c.json({ code: 1000040343, msg: 'app id or secret is invalid', data: {} });
    }
    if (!fake.wsUrl) return c.json({ code: 1, msg: 'long connection not enabled in this fake', data: {} });
    return c.json({
      code: 0,
      msg: 'ok',
      data: {
        URL: `${fake.wsUrl}?device_id=fake-device&service_id=7`,
        ClientConfig: { PingInterval: 120, ReconnectCount: 0, ReconnectInterval: 120, ReconnectNonce: 1 },
      },
    });
  });

  // Upload for file messages: multipart file_type, file_name, file; 30 MB at most, never empty.
  app.post('/open-apis/im/v1/files', async (c) => {
    const denied = authFails(c);
    if (denied) return denied;
    const form = parseMultipart(c.req.header('content-type') ?? '', Buffer.from(await c.req.arrayBuffer()));
    const file = form.get('file');
    const fileType = form.get('file_type')?.toString() ?? '';
    const fileName = form.get('file_name')?.toString() ?? '';
    if (!file) return fail(c, 400, 234001, 'Invalid request param: file');
    if (!['opus', 'mp4', 'pdf', 'doc', 'xls', 'ppt', 'stream'].includes(fileType))
      return fail(c, 400, 234001, 'Invalid request param: file_type');
    if (!fileName) return fail(c, 400, 234001, 'Invalid request param: file_name');
    if (file.length === 0) return fail(c, 400, 234010, "File's size can't be 0.");
    if (file.length > 30 * 1024 * 1024) return fail(c, 400, 234006, 'The file size exceed the max value.');
    const fileKey = id('file_v3_');
    uploads.set(fileKey, { file_name: fileName, file_type: fileType, bytes: file });
    return c.json(ok({ file_key: fileKey }));
  });

  // Files members sent to the bot: GET …/messages/:id/resources/:file_key?type=file streams the bytes.
  app.get('/open-apis/im/v1/messages/:message_id/resources/:file_key', (c) => {
    const denied = authFails(c);
    if (denied) return denied;
    const bytes = files.get(`${c.req.param('message_id')}/${c.req.param('file_key')}`);
    if (!bytes) return fail(c, 400, 234003, 'File not in msg.');
    return c.body(new Uint8Array(bytes), 200, { 'content-type': 'application/octet-stream' });
  });

  app.notFound((c) => c.json({ code: 404, msg: `fake feishu has no ${c.req.method} ${c.req.path}` }, 404));

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;

  const fake: FakeFeishu = {
    url: `http://127.0.0.1:${port}`,
    requests,
    limited,
    messages,
    chats,
    files,
    uploads,
    get tokensIssued() {
      return tokensIssued;
    },
    addChat(chat) {
      const full: FakeChat = { name: chat.chat_id, members: [], botIn: true, dissolved: false, ...chat };
      chats.set(full.chat_id, full);
      return full;
    },
    issueCardToken(messageId) {
      const token = id('c-');
      cardTokens.set(token, { messageId, uses: 0, issuedAt: Date.now() });
      return token;
    },
    throttleNext(n, resetSeconds = 1) {
      throttle = { n, reset: resetSeconds };
    },
    throttleFor(ms, resetSeconds = 1) {
      storm = { until: Date.now() + ms, reset: resetSeconds };
    },
    revokeTokens() {
      validTokens.clear();
    },
    sent(filter = {}) {
      return [...messages.values()].filter(
        (m) =>
          (!filter.chat_id || m.chat_id === filter.chat_id) && (!filter.msg_type || m.msg_type === filter.msg_type),
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
  return fake;
}

/**
 * Multipart fields as raw bytes. The SDK sends the file part without a
 * filename, which web FormData parsers turn into a (UTF-8 mangled) string.
 */
function parseMultipart(contentType: string, body: Buffer): Map<string, Buffer> {
  const fields = new Map<string, Buffer>();
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) return fields;
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const part = body.subarray(start + 2, next - 2); // drop the CRLF after the delimiter and before the next
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd !== -1) {
      const name = /name="([^"]*)"/.exec(part.subarray(0, headEnd).toString())?.[1];
      if (name) fields.set(name, Buffer.from(part.subarray(headEnd + 4)));
    }
    at = next;
  }
  return fields;
}
