import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A fake DingTalk Stream gateway on 127.0.0.1 that the real `dingtalk-stream`
 * client connects to: `POST /v1.0/gateway/connections/open` hands out a
 * one-time ticket and a ws:// endpoint; the socket speaks the frame protocol
 * (SYSTEM ping, CALLBACK frames for robot messages and card callbacks, the
 * client's acks `{code, headers: {messageId}, message, data}`).
 */

export const TOPIC_ROBOT = '/v1.0/im/bot/messages/get';
export const TOPIC_CARD = '/v1.0/card/instances/callback';

export interface AckFrame {
  code: number;
  headers: { messageId: string; contentType?: string };
  message: string;
  data: string;
}

export interface FakeGateway {
  /** The URL to set as DINGTALK_STREAM_GATEWAY. */
  gatewayUrl: string;
  /** Connections opened so far, and how many are open now. */
  connectionsOpened(): number;
  openConnections(): number;
  /** Gateway requests that were answered with an error (for backoff tests). */
  refusedOpens(): number;
  /** Subscriptions the last client registered. */
  subscriptions(): { type: string; topic: string }[];
  waitForConnections(n: number, timeoutMs?: number): Promise<void>;
  /** The next `n` gateway requests fail with a 500. */
  refuseOpens(n: number): void;
  /** The next `n` connections are closed as soon as they open. */
  dropOnOpen(n: number): void;
  /** Sends a SYSTEM ping; resolves with the client's echo. */
  ping(): Promise<AckFrame>;
  /** Pushes a robot message; resolves with the client's ack. */
  pushRobotMessage(data: unknown, messageId?: string): Promise<AckFrame>;
  /** Pushes a card callback; resolves with the client's response (`{response: …}` parsed). */
  pushCardCallback(data: unknown, messageId?: string): Promise<{ frame: AckFrame; response: unknown }>;
  /** Pushes a CALLBACK frame whose `data` is sent as given (e.g. broken JSON); resolves with the ack. */
  pushCallbackRaw(topic: string, data: string, messageId?: string): Promise<AckFrame>;
  /** Sends anything, e.g. a frame that is not JSON. */
  sendRaw(text: string): void;
  /** Cuts every open connection, like a network failure. */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startFakeGateway(options: { clientId: string; clientSecret: string }): Promise<FakeGateway> {
  const tickets = new Set<string>();
  const sockets = new Set<WebSocket>();
  const waiting = new Map<string, (frame: AckFrame) => void>();
  let opened = 0;
  let refused = 0;
  let refuse = 0;
  let dropOnOpen = 0;
  let subs: { type: string; topic: string }[] = [];
  let port = 0;

  const wss = new WebSocketServer({ noServer: true });

  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1.0/gateway/connections/open') {
      res.writeHead(404).end();
      return;
    }
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      if (refuse > 0) {
        refuse--;
        refused++;
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 'system.busy', message: 'busy' }));
        return;
      }
      let body: { clientId?: string; clientSecret?: string; subscriptions?: { type: string; topic: string }[] } = {};
      try {
        body = JSON.parse(raw) as typeof body;
      } catch {
        // handled below
      }
      if (body.clientId !== options.clientId || body.clientSecret !== options.clientSecret) {
        refused++;
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 'invalidClientIdOrSecret', message: 'bad credentials' }));
        return;
      }
      subs = body.subscriptions ?? [];
      const ticket = randomUUID();
      tickets.add(ticket);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ endpoint: `ws://127.0.0.1:${port}/connect`, ticket }));
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = url.searchParams.get('ticket') ?? '';
    // A ticket is good for one connection only.
    if (url.pathname !== '/connect' || !tickets.delete(ticket)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      opened++;
      if (dropOnOpen > 0) {
        dropOnOpen--;
        ws.close(1011, 'going away');
        return;
      }
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data) => {
        try {
          const frame = JSON.parse(data.toString()) as AckFrame;
          const id = frame.headers?.messageId;
          const resolve = id ? waiting.get(id) : undefined;
          if (resolve) {
            waiting.delete(id!);
            resolve(frame);
          }
        } catch {
          // the client sent something unreadable; the test will notice the missing ack
        }
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;

  function current(): WebSocket {
    const open = [...sockets].filter((s) => s.readyState === s.OPEN);
    if (open.length === 0) throw new Error('no open stream connection');
    // DingTalk pushes to one connection chosen at random.
    return open[Math.floor(Math.random() * open.length)]!;
  }

  function push(type: 'SYSTEM' | 'CALLBACK', topic: string, data: string, messageId: string): Promise<AckFrame> {
    return new Promise<AckFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(messageId);
        reject(new Error(`no ack for ${messageId}`));
      }, 5_000);
      waiting.set(messageId, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
      current().send(
        JSON.stringify({
          specVersion: '1.0',
          type,
          headers: {
            appId: 'fake-app',
            connectionId: 'fake-conn',
            contentType: 'application/json',
            messageId,
            time: String(Date.now()),
            topic,
          },
          data,
        }),
      );
    });
  }

  return {
    gatewayUrl: `http://127.0.0.1:${port}/v1.0/gateway/connections/open`,
    connectionsOpened: () => opened,
    openConnections: () => [...sockets].filter((s) => s.readyState === s.OPEN).length,
    refusedOpens: () => refused,
    subscriptions: () => subs,
    async waitForConnections(n, timeoutMs = 10_000) {
      const start = Date.now();
      while (opened < n || sockets.size === 0) {
        if (Date.now() - start > timeoutMs) throw new Error(`only ${opened} stream connections after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    refuseOpens(n) {
      refuse = n;
    },
    dropOnOpen(n) {
      dropOnOpen = n;
    },
    ping: () => push('SYSTEM', 'ping', JSON.stringify({ opaque: randomUUID() }), randomUUID()),
    pushRobotMessage: (data, messageId = randomUUID()) =>
      push('CALLBACK', TOPIC_ROBOT, JSON.stringify(data), messageId),
    async pushCardCallback(data, messageId = randomUUID()) {
      const frame = await push('CALLBACK', TOPIC_CARD, JSON.stringify(data), messageId);
      const parsed = JSON.parse(frame.data) as { response?: unknown };
      return { frame, response: parsed.response };
    },
    pushCallbackRaw: (topic, data, messageId = randomUUID()) => push('CALLBACK', topic, data, messageId),
    sendRaw(text) {
      current().send(text);
    },
    dropAll() {
      for (const s of sockets) s.terminate();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.terminate();
        wss.close();
        server.close(() => resolve());
      }),
  };
}
