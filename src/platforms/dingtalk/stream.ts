import type { EventEmitter } from 'node:events';
import { DWClient, TOPIC_CARD, TOPIC_ROBOT, type DWClientDownStream } from 'dingtalk-stream';
import type { Logger } from '../../lib/logger.ts';

/**
 * Stream mode on the `dingtalk-stream` client, with three things the SDK
 * (2.1.5) does not do well taken over here:
 * - the gateway URL is a constant in the SDK: getEndpoint() is overridden to
 *   ask DINGTALK_STREAM_GATEWAY;
 * - its reconnect can storm (a failed handshake starts two reconnect paths)
 *   and its keep-alive timer leaks across reconnects: autoReconnect and
 *   keepAlive are off and one loop of ours reconnects with exponential
 *   backoff and full jitter, pinging the socket itself;
 * - a frame that is not JSON throws inside the socket's message handler: the
 *   frame is logged and dropped, and the connection stays up.
 */

/** A connection that lived this long was a good one: the backoff starts over. */
const STABLE_MS = 10_000;

export type StreamState = 'idle' | 'connecting' | 'connected' | 'backoff' | 'stopped';

export interface StreamStatus {
  state: StreamState;
  /** Failed attempts since the last good connection. */
  failures: number;
  /** Connections opened after the first one. */
  reconnects: number;
  /** Backoff exponent: failures and short-lived connections since the last stable connection. */
  backoffLevel: number;
  /** Frames dropped because they could not be read. */
  badFrames: number;
  lastError?: string;
  connectedAt?: Date;
}

export interface StreamFrame {
  messageId: string;
  topic: string;
  data: string;
}

export interface StreamOptions {
  clientId: string;
  clientSecret: string;
  gateway: string;
  log: Logger;
  /** Robot message frames; acked once the returned promise resolves (the message is recorded). */
  onRobotMessage(frame: StreamFrame): Promise<void> | void;
  /** Card callback frames; the returned object is the callback response (within 2 s). */
  onCardCallback(frame: StreamFrame): Promise<unknown>;
  backoff?: { baseMs?: number; maxMs?: number };
  /** Client-side ping interval; a socket without a pong by the next ping is dropped. */
  pingMs?: number;
}

export interface StreamConnection {
  start(): void;
  stop(): Promise<void>;
  status(): StreamStatus;
}

/** Full jitter: a random delay up to the capped exponential, so many bots do not reconnect in step. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(failures, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}

type Socket = EventEmitter & { ping(): void; terminate(): void; readyState: number };

class GatewayClient extends DWClient {
  constructor(
    private readonly opts: {
      clientId: string;
      clientSecret: string;
      gateway: string;
      onBadFrame(error: string): void;
    },
  ) {
    // autoReconnect and our own subscriptions array are runtime options the
    // constructor type omits; the default array would be shared across clients.
    super({
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      keepAlive: false,
      autoReconnect: false,
      subscriptions: [],
      ua: 'shuxiang',
    } as ConstructorParameters<typeof DWClient>[0]);
  }

  /** Like the SDK's, but against the configured gateway. */
  override async getEndpoint(): Promise<this> {
    const res = await fetch(this.opts.gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        clientId: this.opts.clientId,
        clientSecret: this.opts.clientSecret,
        ua: this.config.ua,
        subscriptions: this.config.subscriptions,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let body: { endpoint?: unknown; ticket?: unknown; code?: unknown; message?: unknown } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // reported below
    }
    if (!res.ok || typeof body.endpoint !== 'string' || typeof body.ticket !== 'string') {
      throw new Error(`gateway ${res.status}: ${String(body.code ?? body.message ?? text.slice(0, 120))}`);
    }
    (this as unknown as { dw_url: string }).dw_url = `${body.endpoint}?ticket=${encodeURIComponent(body.ticket)}`;
    return this;
  }

  override onDownStream(data: string): void {
    try {
      super.onDownStream(data);
    } catch (err) {
      this.opts.onBadFrame(err instanceof Error ? err.message : String(err));
    }
  }

  currentSocket(): Socket | undefined {
    return (this as unknown as { socket?: Socket }).socket;
  }

  /** One connection: resolves when open with a promise that settles when it closes. */
  async connectOnce(): Promise<{ closed: Promise<void> }> {
    await this.getEndpoint();
    const opened = this._connect();
    const socket = this.currentSocket();
    const closed = new Promise<void>((resolve) => {
      if (!socket) resolve();
      else socket.once('close', () => resolve());
    });
    await opened;
    return { closed };
  }
}

export function createStreamConnection(options: StreamOptions): StreamConnection {
  const { log } = options;
  const baseMs = options.backoff?.baseMs ?? 1_000;
  const maxMs = options.backoff?.maxMs ?? 60_000;
  const pingMs = options.pingMs ?? 15_000;
  const status: StreamStatus = { state: 'idle', failures: 0, reconnects: 0, badFrames: 0, backoffLevel: 0 };
  let stopped = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let opened = 0;

  const client = new GatewayClient({
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    gateway: options.gateway,
    onBadFrame(error) {
      status.badFrames++;
      log.warn({ error }, 'DingTalk stream frame dropped: not readable');
    },
  });

  const frameOf = (msg: DWClientDownStream): StreamFrame | undefined => {
    const messageId = msg?.headers?.messageId;
    if (typeof messageId !== 'string' || typeof msg.data !== 'string') return undefined;
    return { messageId, topic: msg.headers.topic, data: msg.data };
  };

  client.registerCallbackListener(TOPIC_ROBOT, (msg) => {
    const frame = frameOf(msg);
    if (!frame) {
      status.badFrames++;
      log.warn('DingTalk robot frame without messageId or data dropped');
      return;
    }
    // Acked once the handler has recorded it (the inbox's group commit takes
    // milliseconds); a frame that could not be recorded is not acked, so
    // DingTalk pushes it again rather than it being lost.
    Promise.resolve()
      .then(() => options.onRobotMessage(frame))
      .then(
        () => client.socketCallBackResponse(frame.messageId, null),
        (err: unknown) => log.error({ err, messageId: frame.messageId }, 'robot frame not recorded; not acked'),
      );
  });

  client.registerCallbackListener(TOPIC_CARD, (msg) => {
    const frame = frameOf(msg);
    if (!frame) {
      status.badFrames++;
      log.warn('DingTalk card frame without messageId or data dropped');
      return;
    }
    options
      .onCardCallback(frame)
      .catch((err: unknown) => {
        log.error({ err, messageId: frame.messageId }, 'card callback failed');
        return {};
      })
      .then((response) => client.socketCallBackResponse(frame.messageId, response ?? {}));
  });

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Our own keep-alive: ping, and drop a socket that stopped answering. */
  function keepAlive(socket: Socket | undefined): () => void {
    if (!socket) return () => {};
    let alive = true;
    const onPong = () => {
      alive = true;
    };
    socket.on('pong', onPong);
    const timer = setInterval(() => {
      if (!alive) {
        log.warn('DingTalk stream silent; dropping the connection');
        socket.terminate();
        return;
      }
      alive = false;
      if (socket.readyState === 1) socket.ping();
    }, pingMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      socket.off('pong', onPong);
    };
  }

  async function run(): Promise<void> {
    while (!stopped) {
      status.state = 'connecting';
      try {
        const { closed } = await client.connectOnce();
        if (stopped) {
          client.disconnect();
          break;
        }
        if (opened++ > 0) status.reconnects++;
        status.failures = 0;
        status.state = 'connected';
        status.connectedAt = new Date();
        status.lastError = undefined;
        log.info({ reconnects: status.reconnects }, 'DingTalk stream connected');
        const stopPing = keepAlive(client.currentSocket());
        const since = Date.now();
        await closed;
        stopPing();
        status.connectedAt = undefined;
        if (stopped) break;
        status.lastError = 'connection closed';
        // A connection the gateway drops at once does not reset the backoff, so
        // a gateway that accepts and closes is not hammered once a second.
        status.backoffLevel = Date.now() - since < STABLE_MS ? status.backoffLevel + 1 : 0;
        log.warn({ backoffLevel: status.backoffLevel }, 'DingTalk stream closed; reconnecting');
      } catch (err) {
        status.failures++;
        status.backoffLevel++;
        status.lastError = err instanceof Error ? err.message : String(err);
        log.warn({ error: status.lastError, failures: status.failures }, 'DingTalk stream connect failed');
      }
      if (stopped) break;
      status.state = 'backoff';
      await sleep(backoffDelay(status.backoffLevel, baseMs, maxMs));
    }
    status.state = 'stopped';
  }

  return {
    start() {
      if (loop) return;
      stopped = false;
      loop = run();
    },
    async stop() {
      stopped = true;
      wake?.();
      if (client.currentSocket()) client.disconnect();
      await loop;
      loop = undefined;
    },
    status: () => ({ ...status }),
  };
}
