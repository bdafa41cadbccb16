import { timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import type { Logger } from '../lib/logger.ts';
import type { DbHealth } from '../lib/db-health.ts';
import type { Metrics } from './metrics.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface Readiness {
  /** Every check must pass for /readyz to answer 200. */
  checks: Record<string, () => Promise<boolean | string>>;
}

export interface AppDeps {
  log: Logger;
  metrics: Metrics;
  readiness: Readiness;
  /** Routers contributed by platform adapters (sandbox, Feishu, DingTalk). */
  routers: Hono[];
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** Database outages: a request that met one is answered 503 (the platform retries) and logged once. */
  health?: DbHealth;
}

/** Compares in constant time; a wrong length fails without a timing difference worth having. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.replace(/^Bearer\s+/i, '') ?? '', 'utf8');
  const want = Buffer.from(token, 'utf8');
  return given.length === want.length && timingSafeEqual(given, want);
}

/** The HTTP app. No listen() here: main.ts serves it, tests call app.request(). */
export function createApp(deps: AppDeps): Hono {
  const { log, metrics } = deps;
  const app = new Hono();

  app.use('*', async (c, next) => {
    const start = performance.now();
    await next();
    // Label by route pattern, not raw path, so ids do not explode the series.
    const route = routePath(c) || 'unmatched';
    metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
    metrics.httpDuration.observe({ method: c.req.method, route }, (performance.now() - start) / 1000);
  });

  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new HTTPException(413, { message: 'body larger than 1 MB' });
    },
  });
  app.use('*', async (c, next) => {
    // A declared length is checked from the header alone: touching the body
    // here would make @hono/node-server build a full web Request per call,
    // which costs more than the rest of a webhook's work.
    const length = c.req.header('content-length');
    if (length !== undefined && !c.req.header('transfer-encoding')) {
      if (Number(length) > MAX_BODY_BYTES) throw new HTTPException(413, { message: 'body larger than 1 MB' });
      return next();
    }
    return limit(c, next);
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const results: Record<string, string> = {};
    let ready = true;
    for (const [name, check] of Object.entries(deps.readiness.checks)) {
      try {
        const r = await check();
        results[name] = r === true ? 'ok' : r === false ? 'failing' : r;
        if (r !== true) ready = false;
      } catch (err) {
        results[name] = err instanceof Error ? err.message : String(err);
        ready = false;
      }
    }
    return c.json({ status: ready ? 'ready' : 'not ready', checks: results }, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    if (deps.metricsToken && !bearerMatches(c.req.header('authorization'), deps.metricsToken)) {
      return c.json({ error: 'unauthorized', message: 'GET /metrics needs the bearer token' }, 401, {
        'www-authenticate': 'Bearer realm="metrics"',
      });
    }
    const body = await metrics.registry.metrics();
    return c.text(body, 200, { 'content-type': metrics.registry.contentType });
  });

  for (const router of deps.routers) app.route('/', router);

  app.notFound((c) => c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404));

  // The single error mapping: edge failures are HTTPExceptions with a 4xx;
  // anything else is a bug, logged and answered 500 without details.
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      if (err.status >= 500) log.error({ err, path: c.req.path }, 'request failed');
      else log.warn({ status: err.status, path: c.req.path, reason: err.message }, 'request rejected');
      return c.json({ error: errorCode(err.status), message: err.message }, err.status);
    }
    if (deps.health?.failed(err, c.req.path)) {
      // Nothing was recorded, so nothing was acknowledged: the platform sends the event again.
      return c.json({ error: 'unavailable', message: 'database unavailable, try again' }, 503, { 'retry-after': '2' });
    }
    log.error({ err, path: c.req.path }, 'unhandled error');
    return c.json({ error: 'internal', message: 'internal error' }, 500);
  });

  return app;
}

function errorCode(status: number): string {
  return (
    {
      400: 'bad_request',
      401: 'unauthorized',
      403: 'forbidden',
      404: 'not_found',
      413: 'too_large',
      429: 'rate_limited',
    }[status] ?? 'error'
  );
}
