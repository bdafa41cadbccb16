import * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from '../../lib/logger.ts';
import { DeliveryError } from '../types.ts';

/**
 * The official SDK client, pointed at FEISHU_DOMAIN (a fake OpenAPI on
 * 127.0.0.1 in tests). The SDK caches the tenant token itself; we give it a
 * request timeout (its axios instance has none) and a logger that never
 * prints request configs, which carry the tenant token.
 */
export interface FeishuClientOptions {
  appId: string;
  appSecret: string;
  domain: string;
  log: Logger;
  timeoutMs?: number;
}

export interface FeishuClient {
  client: lark.Client;
  /** Drops the cached tenant token, so the next call fetches a new one (after 99991663). */
  forgetToken(): void;
}

export function createFeishuClient(opts: FeishuClientOptions): FeishuClient {
  const cache = createTokenCache();
  const client = new lark.Client({
    appId: opts.appId,
    appSecret: opts.appSecret,
    domain: opts.domain.replace(/\/+$/, ''),
    appType: lark.AppType.SelfBuild,
    httpInstance: withTimeout(opts.timeoutMs ?? 10_000),
    logger: sdkLogger(opts.log),
    loggerLevel: lark.LoggerLevel.warn,
    // The SDK's default token cache is one per process, keyed by app id only:
    // two clients (another domain, a test's fresh fake) would share a token,
    // and a revoked token is never dropped. Ours is per client and clearable.
    cache,
  });
  return { client, forgetToken: () => cache.clear() };
}

function createTokenCache(): lark.Cache & { clear(): void } {
  const values = new Map<string, { value: unknown; expiresAt?: number }>();
  const keyOf = (key: string | symbol, namespace?: string) => `${namespace ?? ''}/${String(key)}`;
  return {
    async get(key, options) {
      const hit = values.get(keyOf(key as string | symbol, options?.namespace));
      if (!hit) return undefined;
      return hit.expiresAt === undefined || hit.expiresAt > Date.now() ? hit.value : undefined;
    },
    async set(key, value, expire, options) {
      values.set(keyOf(key as string | symbol, options?.namespace), { value, expiresAt: expire });
      return true;
    },
    clear: () => values.clear(),
  };
}

/** Wraps the SDK's own axios instance (which unwraps response bodies) with a default timeout. */
function withTimeout(timeoutMs: number): lark.HttpInstance {
  // Typed as raw axios, but its response interceptor already returns bodies, as HttpInstance promises.
  const base = lark.defaultHttpInstance as unknown as lark.HttpInstance;
  const t = <O extends object | undefined>(o: O) => ({ timeout: timeoutMs, ...(o ?? {}) });
  return {
    request: (o) => base.request(t(o)),
    get: (url, o) => base.get(url, t(o)),
    delete: (url, o) => base.delete(url, t(o)),
    head: (url, o) => base.head(url, t(o)),
    options: (url, o) => base.options(url, t(o)),
    post: (url, data, o) => base.post(url, data, t(o)),
    put: (url, data, o) => base.put(url, data, t(o)),
    patch: (url, data, o) => base.patch(url, data, t(o)),
  };
}

/** Routes SDK log lines to pino, each argument reduced to a short summary. */
function sdkLogger(log: Logger) {
  const sdk = log.child({ component: 'feishu-sdk' });
  const compact = (args: unknown[]) => args.map(summariseSdkLogArg).join(' ');
  // A 429 is the caller's to report (the outbox pauses the bucket, a member listing waits it out):
  // the SDK's own line per refused request would repeat it hundreds of times in a storm.
  // The SDK hands over several shapes (axios errors, its own summaries): judged on the summary line.
  const throttled = (line: string) => /\bHTTP 429\b|\bcode 99991400\b/.test(line);
  const warn = (args: unknown[]) => {
    const line = compact(args);
    if (throttled(line)) sdk.debug(line);
    else sdk.warn(line);
  };
  return {
    error: (...args: unknown[]) => warn(args),
    warn: (...args: unknown[]) => warn(args),
    info: (...args: unknown[]) => sdk.debug(compact(args)),
    debug: (...args: unknown[]) => sdk.debug(compact(args)),
    trace: (...args: unknown[]) => sdk.trace(compact(args)),
  };
}

/**
 * One argument the SDK logs, as a short line. The SDK hands over plain
 * objects (its formatErrors) holding the request config, whose `data` is the
 * request body: the token request's carries app_secret, a send's the whole
 * card. Only method, path, status, code and messages are kept.
 */
export function summariseSdkLogArg(a: unknown): string {
  if (typeof a === 'string') return a.length > 300 ? `${a.slice(0, 300)}…` : a;
  if (typeof a !== 'object' || a === null) return String(a);
  if (Array.isArray(a)) return a.map(summariseSdkLogArg).join(' ');
  const failure = describeFailure(a);
  if (failure) return `HTTP ${failure.status ?? '-'} code ${failure.code ?? '-'} ${failure.msg ?? ''}`.trim();
  const o = a as {
    message?: unknown;
    msg?: unknown;
    code?: unknown;
    config?: { method?: unknown; url?: unknown };
    response?: { status?: unknown; data?: unknown };
  };
  const parts: string[] = [];
  if (o.config && (typeof o.config.method === 'string' || typeof o.config.url === 'string')) {
    parts.push(`${String(o.config.method ?? '').toUpperCase()} ${String(o.config.url ?? '').split('?')[0]}`.trim());
  }
  if (typeof o.response?.status === 'number') parts.push(`HTTP ${o.response.status}`);
  const data = o.response?.data as { code?: unknown; msg?: unknown } | undefined;
  if (data && typeof data === 'object') {
    if (typeof data.code === 'number') parts.push(`code ${data.code}`);
    if (typeof data.msg === 'string') parts.push(data.msg.slice(0, 200));
  }
  if (typeof o.code === 'number' || typeof o.code === 'string') parts.push(`code ${o.code}`);
  if (typeof o.msg === 'string') parts.push(o.msg.slice(0, 200));
  if (typeof o.message === 'string') parts.push(o.message.slice(0, 200));
  return parts.length > 0 ? parts.join(' ') : '[object]';
}

export interface FailureInfo {
  status?: number;
  code?: number;
  msg?: string;
  headers?: Record<string, unknown>;
  network?: boolean;
}

/** What an SDK call failed with: an axios error (non-2xx) or a 2xx body whose code is not 0. */
export function describeFailure(err: unknown): FailureInfo | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as {
    isAxiosError?: boolean;
    response?: { status?: number; data?: { code?: number; msg?: string }; headers?: Record<string, unknown> };
    code?: unknown;
    message?: string;
  };
  if (e.isAxiosError) {
    if (!e.response) return { network: true, msg: e.message };
    const data = typeof e.response.data === 'object' && e.response.data !== null ? e.response.data : {};
    return { status: e.response.status, code: data.code, msg: data.msg, headers: e.response.headers };
  }
  return undefined;
}

/**
 * Feishu's answers mapped onto what the outbox can act on. Rate limits and
 * server trouble are retried (honouring x-ogw-ratelimit-reset); the business
 * errors that no retry can fix are permanent, with a reason for secretaries.
 */
export function toDeliveryError(err: unknown, what: string): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const f = describeFailure(err) ?? businessFailure(err);
  if (!f) return new DeliveryError(`${what}: ${err instanceof Error ? err.message : String(err)}`, 'retry');
  const label = `${what}: HTTP ${f.status ?? '-'} code ${f.code ?? '-'} ${f.msg ?? ''}`.trim();
  if (f.network) return new DeliveryError(label, 'retry');
  if (f.status === 429 || f.code === 99991400 || f.code === 230020 || f.code === 11232 || f.code === 11233) {
    return DeliveryError.throttle(label, retryAfter(f.headers) ?? 1000);
  }
  if (f.status !== undefined && f.status >= 500) return new DeliveryError(label, 'retry');
  // The tenant token was revoked or expired early; the next attempt fetches a new one.
  if (f.code === 99991663 || f.code === 99991661 || f.code === 99991668) return new DeliveryError(label, 'retry', 1000);
  const reasonKey = f.code !== undefined ? REASONS[f.code] : undefined;
  if (reasonKey) return new DeliveryError(label, 'permanent', undefined, reasonKey);
  if (f.status !== undefined && f.status >= 400) {
    return new DeliveryError(label, 'permanent', undefined, 'feishu.delivery.rejected');
  }
  return new DeliveryError(label, 'retry');
}

/** A resolved (2xx) SDK answer whose business code is not 0. */
function businessFailure(err: unknown): FailureInfo | undefined {
  if (err instanceof BusinessError) return { status: 200, code: err.code, msg: err.msg };
  return undefined;
}

export class BusinessError extends Error {
  constructor(
    readonly code: number,
    readonly msg: string,
  ) {
    super(`code ${code}: ${msg}`);
    this.name = 'BusinessError';
  }
}

/** Throws BusinessError when a 2xx answer carries a non-zero code. */
export function ok<T extends { code?: number; msg?: string }>(res: T): T {
  if (res && typeof res.code === 'number' && res.code !== 0) throw new BusinessError(res.code, res.msg ?? '');
  return res;
}

const REASONS: Record<number, string> = {
  230002: 'feishu.delivery.bot_not_in_group',
  232011: 'feishu.delivery.bot_not_in_group',
  232009: 'feishu.delivery.chat_dissolved',
  230025: 'feishu.delivery.too_long',
  230027: 'feishu.delivery.no_permission',
  99991672: 'feishu.delivery.no_permission',
  230006: 'feishu.delivery.bot_disabled',
  230013: 'feishu.delivery.blocked',
  230018: 'feishu.delivery.blocked',
  230035: 'feishu.delivery.blocked',
  230022: 'feishu.delivery.sensitive',
  230099: 'feishu.delivery.bad_card',
  230031: 'feishu.delivery.expired',
};

function retryAfter(headers: Record<string, unknown> | undefined): number | undefined {
  const raw = headers?.['x-ogw-ratelimit-reset'];
  const seconds = Number(Array.isArray(raw) ? raw[0] : raw);
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  // At least a second: a reset of 0 still means "not right now".
  return Math.max(1, Math.ceil(seconds)) * 1000;
}
