import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Feishu's Encrypt Key scheme (events and card callbacks alike):
 * key = SHA-256(encryptKey); AES-256-CBC with PKCS#7 and a random IV;
 * wire = base64(iv ‖ ciphertext). The SDK's AESCipher decrypts the same
 * bytes (test/unit/feishu-crypto.test.ts cross-checks both directions).
 */
export function aesKey(encryptKey: string): Buffer {
  return createHash('sha256').update(encryptKey).digest();
}

export function decryptFeishu(encryptKey: string | Buffer, encrypted: string): string {
  const key = typeof encryptKey === 'string' ? aesKey(encryptKey) : encryptKey;
  const buf = Buffer.from(encrypted, 'base64');
  // One IV block plus at least one cipher block, in whole blocks.
  if (buf.length < 32 || buf.length % 16 !== 0) throw new Error('ciphertext has the wrong length');
  const decipher = createDecipheriv('aes-256-cbc', key, buf.subarray(0, 16));
  return Buffer.concat([decipher.update(buf.subarray(16)), decipher.final()]).toString('utf8');
}

/** What Feishu does before pushing; used by the fake platform, the tests and the benchmark. */
export function encryptFeishu(encryptKey: string | Buffer, plaintext: string, iv: Buffer = randomBytes(16)): string {
  const key = typeof encryptKey === 'string' ? aesKey(encryptKey) : encryptKey;
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

/** X-Lark-Signature = hex(sha256(timestamp + nonce + encryptKey + rawBody)), over the raw bytes. */
export function feishuSignature(
  timestamp: string,
  nonce: string,
  encryptKey: string,
  rawBody: string | Buffer,
): string {
  return createHash('sha256').update(timestamp).update(nonce).update(encryptKey).update(rawBody).digest('hex');
}

/** Constant-time string comparison; unequal lengths are unequal without leaking where. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    // Still spend the comparison so the length check is not a timing oracle for content.
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/**
 * Card button values are sealed with an HMAC over (binding, actionId,
 * payload) keyed from the app secret. Without an Encrypt Key nothing else
 * protects a callback's body, so a member could otherwise edit a value to
 * claim another question; with the seal only values this bot rendered are
 * accepted. The binding is where the card was sent (`chat:<chat_id>` or
 * `user:<open_id>`, see sealBinding): a value copied from a card in one chat
 * and clicked on a bot card in another does not verify there, as DingTalk's
 * signature is bound to the card's outTrackId.
 */
export function createValueSealer(appSecret: string) {
  const key = createHash('sha256').update(`shuxiang/feishu/card-value/${appSecret}`).digest();
  const sealOf = (actionId: string, payload: unknown, binding: string) =>
    createHmac('sha256', key)
      .update(binding)
      .update('\u0000')
      .update(actionId)
      .update('\u0000')
      .update(canonicalJson(payload))
      .digest('base64url')
      .slice(0, 22);
  // A quiz card's buttons are clicked by everyone: remember values already verified
  // (the seal is part of the key, so a forged one never hits).
  const verified = new Set<string>();
  return {
    seal: sealOf,
    verify(actionId: string, payload: unknown, seal: string, binding: string): boolean {
      const key = `${binding}\u0000${actionId}\u0000${seal}\u0000${canonicalJson(payload)}`;
      if (verified.has(key)) return true;
      if (!safeEqual(sealOf(actionId, payload, binding), seal)) return false;
      if (verified.size >= 10_000) verified.clear();
      verified.add(key);
      return true;
    },
  };
}

export type ValueSealer = ReturnType<typeof createValueSealer>;

/** What a seal is bound to: the chat a group card went to, or the member a private card went to. */
export function sealBinding(target: { kind: string; id: string }): string {
  return `${target.kind === 'user' ? 'user' : 'chat'}:${target.id}`;
}

/** JSON with sorted object keys, so a value that went through Feishu's JSON round trip seals the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
