import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';

/**
 * Whether the database can be reached, as the loops and requests of one
 * instance see it. While PostgreSQL restarts every query fails; without this
 * each loop tick and each request would log its own error (thousands of lines
 * for a 10 s outage). Here the first failure that means "unreachable" logs one
 * line, the rest are counted, and the first success after it logs one "back"
 * line with how long it lasted and how many operations failed meanwhile.
 * Other errors (a bad query, a constraint) are not outages: callers log those.
 */
export interface DbHealth {
  /** Reports a failure; true when it was an outage (logged once here), false for an ordinary error. */
  failed(err: unknown, where: string): boolean;
  /** Reports a success; logs "back" once after an outage. */
  ok(): void;
  /** True between "unavailable" and "back". */
  down(): boolean;
}

/** SQLSTATE classes and codes that mean the connection or the server went away, not the query. */
const PG_OUTAGE = /^(08|57P0[1-3]|53300)/;
const OUTAGE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const OUTAGE_TEXT =
  /Can't reach database server|Connection terminated|terminating connection|the database system is (starting up|shutting down|in recovery mode)|Connection closed|ECONNREFUSED|ECONNRESET|Timeout exceeded when trying to connect|Client has encountered a connection error/i;
/** Prisma's own connection error codes (P1001 unreachable, P1002 timed out, P1008 operation timed out, P1017 closed). */
const PRISMA_OUTAGE = new Set(['P1001', 'P1002', 'P1008', 'P1017']);

/** True when `err` means the database cannot be reached (refused, cut, restarting), from either layer. */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const e = err as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    kind?: unknown;
    meta?: { driverAdapterError?: { cause?: { kind?: unknown; code?: unknown } } };
  };
  if (typeof e.code === 'string' && (PRISMA_OUTAGE.has(e.code) || (PG_OUTAGE.test(e.code) && 'severity' in e)))
    return true;
  const cause = e.meta?.driverAdapterError?.cause;
  if (cause) {
    if (typeof cause.kind === 'string' && OUTAGE_KINDS.has(cause.kind)) return true;
    if (cause.kind === 'postgres' && typeof cause.code === 'string' && PG_OUTAGE.test(cause.code)) return true;
  }
  if (typeof e.kind === 'string' && OUTAGE_KINDS.has(e.kind)) return true;
  if (typeof e.message === 'string' && OUTAGE_TEXT.test(e.message)) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

/**
 * "Back" only after this long without a failure: while a server shuts down or
 * starts, queries on some connections still succeed between failures on
 * others, and an outage would be logged as several.
 */
const SETTLE_MS = 1_000;

export function createDbHealth(deps: { log: Logger; clock: Clock }): DbHealth {
  let since: number | undefined;
  let lastFailure = 0;
  let failures = 0;
  return {
    failed(err, where) {
      if (!isDatabaseUnavailable(err)) return false;
      failures++;
      lastFailure = deps.clock.now().getTime();
      if (since === undefined) {
        since = deps.clock.now().getTime();
        const message = err instanceof Error ? err.message.split('\n').filter(Boolean).pop() : String(err);
        deps.log.error(
          { where, error: message },
          'database unavailable: requests are answered 503 and background work waits until it is back',
        );
      }
      return true;
    },
    ok() {
      if (since === undefined || deps.clock.now().getTime() - lastFailure < SETTLE_MS) return;
      const downMs = deps.clock.now().getTime() - since;
      deps.log.warn({ downMs, failedOperations: failures }, 'database back: work resumes');
      since = undefined;
      failures = 0;
    },
    down: () => since !== undefined,
  };
}
