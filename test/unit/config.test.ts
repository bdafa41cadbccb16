import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('config', () => {
  it('needs nothing: SQLite, port 3000, Shanghai time, sandbox on, no platforms', () => {
    const c = loadConfig({});
    expect(c.databaseUrl).toBe('file:./data/shuxiang.db');
    expect(c.port).toBe(3000);
    expect(c.timezone).toBe('Asia/Shanghai');
    expect(c.sandbox.enabled).toBe(true);
    expect(c.feishu).toBeUndefined();
    expect(c.dingtalk).toBeUndefined();
  });

  it('reads admins and platforms', () => {
    const c = loadConfig({
      SHUXIANG_ADMINS: 'feishu:ou_1, dingtalk:staff2',
      FEISHU_APP_ID: 'cli_x',
      FEISHU_APP_SECRET: 's',
      FEISHU_MODE: 'ws',
    });
    expect(c.admins).toEqual([
      { platform: 'feishu', userId: 'ou_1' },
      { platform: 'dingtalk', userId: 'staff2' },
    ]);
    expect(c.feishu?.mode).toBe('ws');
    expect(c.feishu?.domain).toBe('https://open.feishu.cn');
  });

  it('lists every problem at once', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({
        PORT: 'eighty',
        SHUXIANG_TIMEZONE: 'Mars/Olympus',
        SHUXIANG_ADMINS: 'wang',
        DATABASE_URL: 'mysql://x',
        FEISHU_APP_ID: 'cli_x',
        DINGTALK_MODE: 'carrier-pigeon',
      });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = error!.problems.join('\n');
    for (const key of [
      'PORT',
      'SHUXIANG_TIMEZONE',
      'SHUXIANG_ADMINS',
      'DATABASE_URL',
      'FEISHU_APP_SECRET',
      'DINGTALK_MODE',
    ]) {
      expect(text).toContain(key);
    }
  });

  it('keeps 20 PostgreSQL connections per instance unless DATABASE_POOL_SIZE says otherwise', () => {
    expect(loadConfig({}).databasePoolSize).toBe(20);
    expect(loadConfig({ DATABASE_POOL_SIZE: '60' }).databasePoolSize).toBe(60);
    for (const bad of ['0', 'many', '2.5'])
      expect(() => loadConfig({ DATABASE_POOL_SIZE: bad }), bad).toThrow(/DATABASE_POOL_SIZE/);
  });

  it('limits stored files to 50 MiB unless SHUXIANG_MAX_FILE_MB says otherwise', () => {
    expect(loadConfig({}).maxFileBytes).toBe(50 * 1024 * 1024);
    expect(loadConfig({ SHUXIANG_MAX_FILE_MB: '120' }).maxFileBytes).toBe(120 * 1024 * 1024);
    for (const bad of ['0', 'lots', '1.5'])
      expect(() => loadConfig({ SHUXIANG_MAX_FILE_MB: bad }), bad).toThrow(/SHUXIANG_MAX_FILE_MB/);
  });

  it('uploads DingTalk media to the OAPI host, or wherever the API base was moved', () => {
    const dt = { DINGTALK_CLIENT_ID: 'id', DINGTALK_CLIENT_SECRET: 'secret' };
    expect(loadConfig(dt).dingtalk?.oapiBase).toBe('https://oapi.dingtalk.com');
    expect(loadConfig({ ...dt, DINGTALK_API_BASE: 'http://127.0.0.1:9' }).dingtalk?.oapiBase).toBe(
      'http://127.0.0.1:9',
    );
    expect(
      loadConfig({ ...dt, DINGTALK_API_BASE: 'http://127.0.0.1:9', DINGTALK_OAPI_BASE: 'http://127.0.0.1:8' }).dingtalk
        ?.oapiBase,
    ).toBe('http://127.0.0.1:8');
  });

  it('takes an optional public URL for download links, without a trailing slash', () => {
    expect(loadConfig({}).publicUrl).toBeUndefined();
    expect(loadConfig({ SHUXIANG_PUBLIC_URL: '' }).publicUrl).toBeUndefined();
    expect(loadConfig({ SHUXIANG_PUBLIC_URL: 'https://bot.example.org/' }).publicUrl).toBe('https://bot.example.org');
    expect(loadConfig({ SHUXIANG_PUBLIC_URL: 'https://example.org/shuxiang' }).publicUrl).toBe(
      'https://example.org/shuxiang',
    );
    for (const bad of ['bot.example.org', 'ftp://bot.example.org', 'https://bot.example.org/?a=1'])
      expect(() => loadConfig({ SHUXIANG_PUBLIC_URL: bad }), bad).toThrow(/SHUXIANG_PUBLIC_URL/);
  });
});
