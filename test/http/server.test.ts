import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.ts';

describe('HTTP edge', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  const post = (path: string, body: string) =>
    h.shuxiang.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('healthz and readyz report ok when the database is reachable and migrated', async () => {
    expect((await h.shuxiang.app.request('/healthz')).status).toBe(200);
    const ready = await h.shuxiang.app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok' } });
  });

  it('metrics are Prometheus text with requests, latency, outbox depth and process figures', async () => {
    await h.say('group-a', 'm-li', 'help');
    const res = await h.shuxiang.app.request('/metrics');
    const text = await res.text();
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(text).toMatch(
      /shuxiang_http_requests_total\{method="POST",route="\/sandbox\/api\/messages",status="202"\} \d+/,
    );
    expect(text).toContain('shuxiang_http_request_duration_seconds_bucket');
    expect(text).toMatch(/shuxiang_outbox_depth \d+/);
    expect(text).toMatch(/shuxiang_outbox_sent [1-9]/);
    expect(text).toContain('shuxiang_process_resident_memory_bytes');
  });

  it('rejects malformed JSON with 400 and writes nothing', async () => {
    const before = await h.shuxiang.db.prisma.sandboxMessage.count();
    const res = await post('/sandbox/api/messages', '{"chatId": "group-a", "userId": ');
    expect(res.status).toBe(400);
    expect(await h.shuxiang.db.prisma.sandboxMessage.count()).toBe(before);
  });

  it('rejects a body over 1 MB with 413 and writes nothing', async () => {
    const before = await h.shuxiang.db.prisma.sandboxMessage.count();
    const res = await post(
      '/sandbox/api/messages',
      JSON.stringify({ chatId: 'group-a', userId: 'm-li', text: 'x'.repeat(1_100_000) }),
    );
    expect(res.status).toBe(413);
    expect(await h.shuxiang.db.prisma.sandboxMessage.count()).toBe(before);
  });

  it('rejects unknown chats, strangers and missing fields with a 4xx that says why', async () => {
    expect(
      (await post('/sandbox/api/messages', JSON.stringify({ chatId: 'nope', userId: 'm-li', text: 'hi' }))).status,
    ).toBe(404);
    expect(
      (await post('/sandbox/api/messages', JSON.stringify({ chatId: 'group-a', userId: 'mallory', text: 'hi' })))
        .status,
    ).toBe(403);
    const res = await post('/sandbox/api/messages', JSON.stringify({ chatId: 'group-a' }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('userId');
  });

  it('serves the sandbox page', async () => {
    const res = await h.shuxiang.app.request('/sandbox');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('书香 · 沙盒');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await h.shuxiang.app.request('/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
  });
});

describe('sandbox switched off', () => {
  it('has no sandbox routes', async () => {
    const h = await createHarness({ env: { SHUXIANG_SANDBOX: 'off' } });
    try {
      expect((await h.shuxiang.app.request('/sandbox')).status).toBe(404);
      expect((await h.shuxiang.app.request('/sandbox/api/chats')).status).toBe(404);
      expect((await h.shuxiang.app.request('/healthz')).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});
