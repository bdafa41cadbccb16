import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signatures DingTalk puts on what it POSTs to us. Neither covers the body,
 * so a captured request could be replayed with a different body inside the
 * window: the adapter therefore also accepts each signature only once
 * (replay-guard.ts, in the database).
 */

/** Largest accepted distance between DingTalk's timestamp and our clock. */
export const SIGNATURE_WINDOW_MS = 60 * 60 * 1000;

export type SignatureProblem = 'missing' | 'stale' | 'mismatch';

function hmacBase64(key: string, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('base64');
}

/** Constant-time comparison that does not leak the length through an exception. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    // Still spend the comparison so the timing does not depend on where it failed.
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

function checkTimestamp(timestamp: string | undefined, nowMs: number): SignatureProblem | undefined {
  if (!timestamp || !/^\d{10,16}$/.test(timestamp)) return 'missing';
  if (Math.abs(nowMs - Number(timestamp)) > SIGNATURE_WINDOW_MS) return 'stale';
  return undefined;
}

/** Robot callbacks: `sign = Base64(HmacSHA256(appSecret, timestamp + "\n" + appSecret))`. */
export function robotSignature(timestamp: string, appSecret: string): string {
  return hmacBase64(appSecret, `${timestamp}\n${appSecret}`);
}

export function verifyRobotSignature(
  headers: { timestamp?: string; sign?: string },
  appSecret: string,
  nowMs: number,
): SignatureProblem | undefined {
  if (!headers.sign) return 'missing';
  const problem = checkTimestamp(headers.timestamp, nowMs);
  if (problem) return problem;
  return safeEqual(robotSignature(headers.timestamp!, appSecret), headers.sign) ? undefined : 'mismatch';
}

/** Card callbacks over HTTP: `x-ddpaas-signature = Base64(HmacSHA256(apiSecret, timestamp))`. */
export function cardCallbackSignature(timestamp: string, apiSecret: string): string {
  return hmacBase64(apiSecret, timestamp);
}

export function verifyCardCallbackSignature(
  headers: { timestamp?: string; signature?: string },
  apiSecret: string,
  nowMs: number,
): SignatureProblem | undefined {
  if (!headers.signature) return 'missing';
  const problem = checkTimestamp(headers.timestamp, nowMs);
  if (problem) return problem;
  return safeEqual(cardCallbackSignature(headers.timestamp!, apiSecret), headers.signature) ? undefined : 'mismatch';
}
