import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import { openDatabase, type Database } from '../../src/lib/db.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createMigrator } from '../../src/lib/migrator.ts';
import { createDingTalkAdapter, type DingTalkAdapter } from '../../src/platforms/dingtalk/adapter.ts';
import { robotSignature } from '../../src/platforms/dingtalk/verify.ts';
import type { EventSink, MessageEvent } from '../../src/platforms/types.ts';
import { createSqliteTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startFakeDingTalkApi, type FakeDingTalkApi } from '../helpers/fake-dingtalk-api.ts';
import { createInboundDedupe } from '../../src/lib/inbound-dedupe.ts';

describe('DingTalk adapter: files members send the robot', () => {
  let fake: FakeDingTalkApi;
  let test: TestDatabase;
  let database: Database;
  let adapter: DingTalkAdapter;
  const received: MessageEvent[] = [];
  const clock = createManualClock(new Date());

  beforeEach(async () => {
    received.length = 0;
    fake = await startFakeDingTalkApi({ clientId: 'cid', clientSecret: 'sec', robotCode: 'robot' });
    test = await createSqliteTestDatabase();
    database = await openDatabase(test.url);
    await createMigrator(database, undefined).migrate();
    const config = loadConfig({
      DINGTALK_CLIENT_ID: 'cid',
      DINGTALK_CLIENT_SECRET: 'sec',
      DINGTALK_ROBOT_CODE: 'robot',
      DINGTALK_MODE: 'webhook',
      DINGTALK_API_BASE: fake.url,
    });
    const sink: EventSink = {
      async handleMessage(event) {
        received.push(event);
      },
      async handleAction() {
        return {};
      },
    };
    adapter = createDingTalkAdapter({
      settings: config.dingtalk!,
      db: database.prisma,
      clock,
      log: createSilentLogger(),
      sink,
      dedupe: createInboundDedupe({ db: database.prisma, provider: database.provider, clock }),
      timezone: 'Asia/Shanghai',
      monthlyQuota: 5000,
      t: (key) => key,
      webhookHosts: [fake.host],
    });
  });
  afterEach(async () => {
    await adapter.stop();
    await database.close();
    await test.drop();
    await fake.close();
  });

  it('hands a file to the bot, downloading it only when read', async () => {
    const code = fake.addFile(Buffer.from('题干,答案\n1+1=?,2\n'));
    const ts = String(clock.now().getTime());
    const res = await adapter.routes.request('/dingtalk/webhook', {
      method: 'POST',
      headers: { 'content-type': 'application/json', timestamp: ts, sign: robotSignature(ts, 'sec') },
      body: JSON.stringify({
        msgtype: 'file',
        msgId: 'msg-file-1',
        conversationType: '1',
        conversationId: 'cidDirect',
        senderStaffId: 'sec-wang',
        senderNick: '王书记',
        chatbotCorpId: 'corp',
        robotCode: 'robot',
        content: { downloadCode: code, fileName: '题库.csv', fileSize: 28 },
      }),
    });
    expect(res.status).toBe(200);
    await adapter.settle();
    expect(received).toHaveLength(1);
    const file = received[0]!.files![0]!;
    expect(file.name).toBe('题库.csv');
    expect(fake.calls.some((c) => c.path === '/v1.0/robot/messageFiles/download')).toBe(false);
    expect((await file.read()).toString('utf8')).toBe('题干,答案\n1+1=?,2\n');
    expect(fake.calls.filter((c) => c.path === '/v1.0/robot/messageFiles/download')).toHaveLength(1);
  });

  it('refuses an unsigned card callback', async () => {
    const res = await adapter.routes.request('/dingtalk/card', { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
  });
});
