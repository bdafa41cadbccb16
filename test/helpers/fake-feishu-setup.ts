import type { FeatureFactory } from '../../src/bot/feature.ts';
import { createHarness, type Harness } from './harness.ts';
import { startFakeFeishu, type FakeChat, type FakeFeishu } from './fake-feishu.ts';
import { createFeishuPusher, type FeishuPusher, type Push } from './fake-feishu-push.ts';

/** The whole bot with Feishu on, its SDK pointed at a fake OpenAPI on 127.0.0.1. */
export const APP_ID = 'cli_a1b2c3d4e5f60001';
export const APP_SECRET = 'test-app-secret-0001';
export const ENCRYPT_KEY = 'test-encrypt-key-0001';
export const VERIFICATION_TOKEN = 'test-verification-token-0001';
export const BOT = 'ou_bot0000000000000000000000000001';
export const CHAT = 'oc_5ce6d572455d361153b7xx51da133945';
export const PEOPLE = {
  wang: { open_id: 'ou_wang000000000000000000000000001', name: '王书记' },
  li: { open_id: 'ou_li00000000000000000000000000002', name: '李明' },
  zhang: { open_id: 'ou_zhang0000000000000000000000003', name: '张华' },
};

export interface FeishuBot {
  h: Harness;
  fake: FakeFeishu;
  chat: FakeChat;
  pusher: FeishuPusher;
  /** POST a push to /feishu/webhook through app.request. */
  post(push: Push): Promise<Response>;
  /** Wait for the adapter's background work and deliver the outbox. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startFeishuBot(
  options: { encrypt?: boolean; token?: boolean; env?: Record<string, string>; features?: FeatureFactory[] } = {},
): Promise<FeishuBot> {
  const encrypt = options.encrypt ?? true;
  const token = options.token ?? true;
  const fake = await startFakeFeishu({ appId: APP_ID, appSecret: APP_SECRET, botOpenId: BOT });
  const chat = fake.addChat({ chat_id: CHAT, name: '第一党支部学习群', members: Object.values(PEOPLE) });
  const h = await createHarness({
    env: {
      SHUXIANG_SANDBOX: 'off',
      SHUXIANG_DEMO_SEED: 'off',
      FEISHU_APP_ID: APP_ID,
      FEISHU_APP_SECRET: APP_SECRET,
      FEISHU_DOMAIN: fake.url,
      // Without a key the operator must accept the risk explicitly (config.ts).
      ...(encrypt ? { FEISHU_ENCRYPT_KEY: ENCRYPT_KEY } : { FEISHU_ALLOW_UNENCRYPTED: 'on' }),
      ...(token ? { FEISHU_VERIFICATION_TOKEN: VERIFICATION_TOKEN } : {}),
      ...options.env,
    },
    ...(options.features ? { features: options.features } : {}),
  });
  const pusher = createFeishuPusher({
    appId: APP_ID,
    encryptKey: encrypt ? ENCRYPT_KEY : undefined,
    verificationToken: token ? VERIFICATION_TOKEN : undefined,
    now: () => h.clock.now(),
  });
  const feishu = h.shuxiang.feishu;
  if (!feishu) throw new Error('Feishu adapter is not configured');
  return {
    h,
    fake,
    chat,
    pusher,
    post: async (push) =>
      h.shuxiang.app.request('/feishu/webhook', { method: 'POST', headers: push.headers, body: push.body }),
    async settle() {
      await feishu.tasks.drain();
      await h.shuxiang.worker.drain();
      await feishu.tasks.drain();
    },
    async close() {
      await h.close();
      await fake.close();
    },
  };
}
