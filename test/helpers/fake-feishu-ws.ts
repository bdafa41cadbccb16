import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FakeFeishu } from './fake-feishu.ts';

/**
 * Feishu's long-connection gateway, faked: a WebSocket server on 127.0.0.1
 * speaking the pbbp2 protobuf frames the SDK's WSClient expects. `push` sends
 * an event frame the way the gateway does and resolves with the client's ack
 * (what the handler returned, e.g. a toast for a card click).
 */
const root = protobuf.Root.fromJSON({
  nested: {
    pbbp2: {
      nested: {
        Header: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Frame: {
          fields: {
            SeqID: { type: 'uint64', id: 1 },
            LogID: { type: 'uint64', id: 2 },
            service: { type: 'int32', id: 3 },
            method: { type: 'int32', id: 4 },
            headers: { rule: 'repeated', type: 'Header', id: 5 },
            payloadEncoding: { type: 'string', id: 6 },
            payloadType: { type: 'string', id: 7 },
            payload: { type: 'bytes', id: 8 },
            LogIDNew: { type: 'string', id: 9 },
          },
        },
      },
    },
  },
});
const Frame = root.lookupType('pbbp2.Frame');

interface DecodedFrame {
  method: number;
  headers: { key: string; value: string }[];
  payload?: Uint8Array;
}

export interface FakeFeishuWs {
  /** Resolves once a client has connected. */
  connected(): Promise<void>;
  push(envelope: unknown): Promise<{ code: number; data?: unknown }>;
  close(): Promise<void>;
}

export async function startFakeFeishuWs(fake: FakeFeishu): Promise<FakeFeishuWs> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  fake.wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`;
  let client: WebSocket | undefined;
  let onConnect: (() => void) | undefined;
  const waiting = new Map<string, (ack: { code: number; data?: unknown }) => void>();
  let seq = 0;

  wss.on('connection', (socket) => {
    client = socket;
    onConnect?.();
    socket.on('message', (raw: Buffer) => {
      const frame = Frame.toObject(Frame.decode(raw), { bytes: Buffer }) as DecodedFrame;
      const header = (k: string) => frame.headers?.find((h) => h.key === k)?.value;
      if (frame.method === 0 && header('type') === 'ping') {
        const pong = { PingInterval: 120, ReconnectCount: 0, ReconnectInterval: 120, ReconnectNonce: 1 };
        socket.send(
          Frame.encode(
            Frame.create({
              SeqID: 0,
              LogID: 0,
              service: 7,
              method: 0,
              headers: [{ key: 'type', value: 'pong' }],
              payload: Buffer.from(JSON.stringify(pong)),
            }),
          ).finish(),
        );
        return;
      }
      const id = header('message_id');
      if (frame.method === 1 && id && waiting.has(id)) {
        const body = JSON.parse(Buffer.from(frame.payload ?? []).toString('utf8')) as { code: number; data?: string };
        waiting.get(id)!({
          code: body.code,
          data: body.data ? JSON.parse(Buffer.from(body.data, 'base64').toString('utf8')) : undefined,
        });
        waiting.delete(id);
      }
    });
  });

  return {
    connected: () => (client ? Promise.resolve() : new Promise<void>((resolve) => (onConnect = resolve))),
    push(envelope) {
      if (!client) throw new Error('no long-connection client');
      const messageId = `ws-msg-${++seq}`;
      const frame = Frame.create({
        SeqID: seq,
        LogID: seq,
        service: 7,
        method: 1,
        headers: [
          { key: 'type', value: 'event' },
          { key: 'message_id', value: messageId },
          { key: 'sum', value: '1' },
          { key: 'seq', value: '0' },
          { key: 'trace_id', value: `trace-${seq}` },
        ],
        payload: Buffer.from(JSON.stringify(envelope)),
      });
      return new Promise((resolve) => {
        waiting.set(messageId, resolve);
        client!.send(Frame.encode(frame).finish());
      });
    },
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
