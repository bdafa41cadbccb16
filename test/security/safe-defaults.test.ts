import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * Findings: with a platform configured the sandbox stayed on (anyone reaching
 * /sandbox could act as any demo user, and its imports filled the database);
 * Feishu webhook mode without an Encrypt Key trusted a copyable token;
 * /metrics could not be protected.
 */
const feishu = { FEISHU_APP_ID: 'cli_x', FEISHU_APP_SECRET: 's', FEISHU_ENCRYPT_KEY: 'k' };
const dingtalk = { DINGTALK_CLIENT_ID: 'ding_x', DINGTALK_CLIENT_SECRET: 's' };

describe('safe defaults in production', () => {
  it('caps the sandbox by default only when it is switched on next to a real platform', () => {
    expect(loadConfig({}).sandbox.ratePerMinute).toBeUndefined();
    expect(loadConfig({ ...dingtalk, SHUXIANG_SANDBOX: 'on' }).sandbox.ratePerMinute).toBe(120);
    expect(loadConfig({ SHUXIANG_SANDBOX_RATE: '30' }).sandbox.ratePerMinute).toBe(30);
  });

  it('switches the sandbox off once Feishu or DingTalk is configured, unless SHUXIANG_SANDBOX=on', () => {
    expect(loadConfig({}).sandbox.enabled).toBe(true);
    expect(loadConfig(feishu).sandbox.enabled).toBe(false);
    expect(loadConfig(dingtalk).sandbox.enabled).toBe(false);
    expect(loadConfig({ ...dingtalk, SHUXIANG_SANDBOX: 'on' }).sandbox.enabled).toBe(true);
    expect(loadConfig({ SHUXIANG_SANDBOX: 'off' }).sandbox.enabled).toBe(false);
  });

  it('refuses Feishu webhook mode without an Encrypt Key unless the risk is accepted explicitly', () => {
    const risky = { FEISHU_APP_ID: 'cli_x', FEISHU_APP_SECRET: 's', FEISHU_VERIFICATION_TOKEN: 't' };
    let error: unknown;
    try {
      loadConfig(risky);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('FEISHU_ENCRYPT_KEY');
    expect((error as ConfigError).message).toContain('FEISHU_ALLOW_UNENCRYPTED=on');
    expect(loadConfig({ ...risky, FEISHU_ALLOW_UNENCRYPTED: 'on' }).feishu?.encryptKey).toBeUndefined();
    // The long connection is authenticated by the SDK's own handshake: no key needed.
    expect(loadConfig({ ...risky, FEISHU_MODE: 'ws' }).feishu?.mode).toBe('ws');
  });

  describe('with a running bot', () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    it('protects /metrics with a bearer token when one is set', async () => {
      h = await createHarness({ env: { SHUXIANG_METRICS_TOKEN: 's3cret-token' } });
      const { app } = h.shuxiang;
      expect((await app.request('/metrics')).status).toBe(401);
      expect((await app.request('/metrics', { headers: { authorization: 'Bearer wrong-token!' } })).status).toBe(401);
      const ok = await app.request('/metrics', { headers: { authorization: 'Bearer s3cret-token' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('shuxiang_outbox_depth');
    });

    it('leaves /metrics open without a token (a deployment behind a firewall)', async () => {
      h = await createHarness();
      expect((await h.shuxiang.app.request('/metrics')).status).toBe(200);
    });

    it('caps the sandbox API per client and minute when the sandbox is on, writing nothing past the cap', async () => {
      h = await createHarness({ env: { SHUXIANG_SANDBOX_RATE: '3' } });
      const post = () =>
        h!.shuxiang.app.request('/sandbox/api/messages', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ chatId: 'group-a', userId: 'm-li', text: '我是谁' }),
        });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await post()).status);
      expect(statuses).toEqual([202, 202, 202, 429, 429]);
      const user = await h.shuxiang.db.prisma.sandboxMessage.count({ where: { from: 'user' } });
      expect(user).toBe(3);
      // Reading the transcript is never limited (the page polls it).
      expect((await h.shuxiang.app.request('/sandbox/api/chats/group-a/messages')).status).toBe(200);
      h.clock.advance(60_000);
      expect((await post()).status).toBe(202);
    });
  });
});
