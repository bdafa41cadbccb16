import { DeliveryError } from '../types.ts';
import type { Clock } from '../../lib/clock.ts';
import type { DbHealth } from '../../lib/db-health.ts';
import type { Logger } from '../../lib/logger.ts';

/**
 * The DingTalk OpenAPI (api.dingtalk.com): an access token cached and
 * refreshed single-flight, every call counted for the monthly quota, and
 * every failure mapped to a DeliveryError the outbox acts on.
 */

/** Error codes DingTalk answers with, by what we do about them. */
const THROTTLED = new Set([
  'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
  'Forbidden.AccessDenied.QpsLimitForApi',
  'Forbidden.AccessDenied.IpLimit',
  'send.too.fast',
  'send.byToken.tooFast',
  'too.many.group',
  'too.many.people',
  '90018',
  '90002',
  '410100',
]);
const QUOTA_EXHAUSTED = new Set(['Forbidden.AccessDenied.ApiCountLimitForOrg', '90020']);
const TOKEN_INVALID = new Set(['InvalidAuthentication', 'invalidAuthentication', '40014', '42001', '88']);
const TRANSIENT = new Set(['system.busy', 'ServiceUnavailable', 'InternalError', '-1']);
const CHAT_GONE = new Set([
  'invalid.openConversationId',
  'group.disbanded',
  'robot.notInGroup',
  'resource.not.found',
  'param.openSpaceIdInvalid',
]);
const USER_UNREACHABLE = new Set(['robot.oto.notExist', 'staffId.notExisted']);

export class DingTalkApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`DingTalk ${status} ${code}: ${message}`);
    this.name = 'DingTalkApiError';
  }
}

/** Maps an API failure to what the outbox should do with the message. */
export function toDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  if (!(err instanceof DingTalkApiError)) {
    // Network trouble, timeouts: try again later.
    return new DeliveryError(err instanceof Error ? err.message : String(err), 'retry');
  }
  const { code, status } = err;
  if (THROTTLED.has(code)) return DeliveryError.throttle(err.message, 1_000 + Math.round(Math.random() * 1_000));
  // Wrong credentials stop every send; keep the messages until an operator fixes the configuration.
  if (code === 'invalidClientIdOrSecret') return new DeliveryError(err.message, 'retry', 60_000);
  if (QUOTA_EXHAUSTED.has(code)) return new DeliveryError(err.message, 'permanent', undefined, 'dingtalk.error.quota');
  if (CHAT_GONE.has(code)) return new DeliveryError(err.message, 'permanent', undefined, 'dingtalk.error.chat_gone');
  if (USER_UNREACHABLE.has(code))
    return new DeliveryError(err.message, 'permanent', undefined, 'dingtalk.error.user_unreachable');
  if (TRANSIENT.has(code) || status === 429 || status >= 500) return new DeliveryError(err.message, 'retry');
  if (code.startsWith('Forbidden.AccessDenied') || status === 403)
    return new DeliveryError(err.message, 'permanent', undefined, 'dingtalk.error.permission');
  return new DeliveryError(err.message, 'permanent', undefined, 'dingtalk.error.rejected');
}

export interface ApiClientDeps {
  apiBase: string;
  /** The old OAPI host (media upload); defaults to apiBase. */
  oapiBase?: string;
  clientId: string;
  clientSecret: string;
  clock: Clock;
  log: Logger;
  /** Told about every OpenAPI call that reached DingTalk (for the quota); never about token calls. */
  onCall?: (api: string, outcome: 'ok' | 'error') => void | Promise<void>;
  /** Told of database outages, so counts that fail during a restart of PostgreSQL are logged once. */
  health?: DbHealth;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export interface DingTalkApi {
  /** Calls an OpenAPI; `api` is a short label for counting, e.g. `robot.groupSend`. */
  call<T>(api: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T>;
  /**
   * Uploads a file to the old OAPI's `/media/upload` (multipart field `media`,
   * the token in the query) and returns its media_id. Counted like any call:
   * media upload is not on DingTalk's quota-exempt list.
   */
  uploadMedia(type: 'file' | 'image', name: string, bytes: Uint8Array): Promise<string>;
  /** POST to a sessionWebhook (no token; the URL is the credential). */
  webhook(url: string, body: unknown): Promise<void>;
  accessToken(): Promise<string>;
}

/** Refresh this long before DingTalk's expiry, so a token never dies mid-call. */
const TOKEN_MARGIN_MS = 5 * 60_000;

export function createDingTalkApi(deps: ApiClientDeps): DingTalkApi {
  const doFetch = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const base = deps.apiBase.replace(/\/+$/, '');
  const oapiBase = (deps.oapiBase ?? deps.apiBase).replace(/\/+$/, '');
  /** Uploads carry up to 20 MB: give them longer than a JSON call. */
  const uploadTimeoutMs = Math.max(timeoutMs, 120_000);
  let token: { value: string; expiresAt: number } | undefined;
  let refreshing: Promise<string> | undefined;

  async function readJson(res: Response): Promise<Record<string, unknown>> {
    const text = await res.text();
    if (!text) return {};
    try {
      const parsed = JSON.parse(text) as unknown;
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch {
      // The per-IP ban answers with HTML; treat it as throttling.
      return {
        code: res.status === 200 ? 'invalid.response' : 'Forbidden.AccessDenied.IpLimit',
        message: text.slice(0, 200),
      };
    }
  }

  function errorOf(status: number, json: Record<string, unknown>): DingTalkApiError {
    const code = String(json.code ?? json.errcode ?? status);
    const message = String(json.message ?? json.errmsg ?? 'request failed');
    return new DingTalkApiError(status, code, message);
  }

  async function fetchToken(): Promise<string> {
    const res = await doFetch(`${base}/v1.0/oauth2/accessToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appKey: deps.clientId, appSecret: deps.clientSecret }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const json = await readJson(res);
    if (!res.ok || typeof json.accessToken !== 'string') {
      const err = errorOf(res.status, json);
      deps.log.error({ code: err.code }, 'DingTalk access token refused; check DINGTALK_CLIENT_ID/SECRET');
      throw err;
    }
    const expireIn = typeof json.expireIn === 'number' ? json.expireIn : 7200;
    token = { value: json.accessToken, expiresAt: deps.clock.now().getTime() + expireIn * 1000 };
    return token.value;
  }

  async function accessToken(): Promise<string> {
    if (token && token.expiresAt - TOKEN_MARGIN_MS > deps.clock.now().getTime()) return token.value;
    // Single flight: concurrent senders share one refresh.
    refreshing ??= fetchToken().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }

  async function count(api: string, outcome: 'ok' | 'error') {
    try {
      await deps.onCall?.(api, outcome);
    } catch (err) {
      // During a database outage every call would fail to count: db-health logs that once.
      if (!deps.health?.failed(err, 'dingtalk usage'))
        deps.log.error({ err, api }, 'could not count a DingTalk API call');
    }
  }

  async function call<T>(api: string, method: string, path: string, body?: unknown, retried = false): Promise<T> {
    const value = await accessToken();
    const res = await doFetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': value },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const json = await readJson(res);
    await count(api, res.ok ? 'ok' : 'error');
    if (res.ok) return json as T;
    const err = errorOf(res.status, json);
    if ((res.status === 401 || TOKEN_INVALID.has(err.code)) && !retried) {
      // Revoked or rotated: fetch a fresh token once.
      token = undefined;
      return call<T>(api, method, path, body, true);
    }
    throw err;
  }

  async function uploadMedia(
    type: 'file' | 'image',
    name: string,
    bytes: Uint8Array,
    retried = false,
  ): Promise<string> {
    const value = await accessToken();
    const form = new FormData();
    form.append('type', type);
    form.append('media', new Blob([new Uint8Array(bytes)]), name);
    const query = new URLSearchParams({ access_token: value, type });
    const res = await doFetch(`${oapiBase}/media/upload?${query.toString()}`, {
      method: 'POST',
      body: form,
      signal: AbortSignal.timeout(uploadTimeoutMs),
    });
    const json = await readJson(res);
    const failed = !res.ok || (json.errcode !== undefined && json.errcode !== 0) || typeof json.media_id !== 'string';
    await count('media.upload', failed ? 'error' : 'ok');
    if (!failed) return json.media_id as string;
    const err = errorOf(res.status, json);
    if ((res.status === 401 || TOKEN_INVALID.has(err.code)) && !retried) {
      token = undefined;
      return uploadMedia(type, name, bytes, true);
    }
    throw err;
  }

  return {
    call: (api, method, path, body) => call(api, method, path, body),
    uploadMedia: (type, name, bytes) => uploadMedia(type, name, bytes),
    accessToken,
    async webhook(url, body) {
      const res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const json = await readJson(res);
      await count('webhook.session', res.ok && (json.errcode ?? 0) === 0 ? 'ok' : 'error');
      if (!res.ok || (json.errcode !== undefined && json.errcode !== 0)) throw errorOf(res.status, json);
    },
  };
}
