import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DOCX_CONTENT_TYPE, MARKDOWN_CONTENT_TYPE, offerFile, XLSX_CONTENT_TYPE } from '../../src/bot/downloads.ts';
import { createMessages } from '../../src/bot/messages.ts';
import { createFileStore, type FileStore } from '../../src/files/file-store.ts';
import { createFileRoutes } from '../../src/files/routes.ts';
import { createManualClock, createSystemClock } from '../../src/lib/clock.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createOutbox, type Outbox } from '../../src/outbox/outbox.ts';
import { createOutboxWorker, type OutboxWorker } from '../../src/outbox/worker.ts';
import { createDingTalkApi, toDeliveryError } from '../../src/platforms/dingtalk/api-client.ts';
import { createDingTalkMessenger } from '../../src/platforms/dingtalk/messenger.ts';
import { createFeishuClient } from '../../src/platforms/feishu/client.ts';
import { createValueSealer } from '../../src/platforms/feishu/crypto.ts';
import { createFeishuMessenger } from '../../src/platforms/feishu/messenger.ts';
import { createParamSigner } from '../../src/platforms/dingtalk/render-card.ts';
import { createSandboxMessenger } from '../../src/platforms/sandbox/messenger.ts';
import { createTranscript, type Transcript } from '../../src/platforms/sandbox/transcript.ts';
import { DeliveryError, type Platform, type PlatformMessenger, type Target } from '../../src/platforms/types.ts';
import { createSqliteTestDatabase } from '../helpers/databases.ts';
import { startFakeDingTalkApi, type FakeDingTalkApi } from '../helpers/fake-dingtalk-api.ts';
import { startFakeFeishu, type FakeFeishu } from '../helpers/fake-feishu.ts';
import { openMigrated } from '../helpers/migrated-db.ts';

/**
 * File messages end to end: offerFile stores the file and queues one outbox
 * row; the worker uploads it through each platform's messenger against the
 * loopback fakes (the real Feishu SDK, DingTalk's OAPI upload), or sends the
 * download link where the platform cannot take it.
 */
const { t } = createMessages();
const FEISHU = { appId: 'cli_files', appSecret: 'secret', botOpenId: 'ou_bot' };
const DINGTALK = { clientId: 'cid', clientSecret: 'dt-secret', robotCode: 'robot' };
const MB = 1024 * 1024;

describe('file messages through the outbox', () => {
  let feishu: FakeFeishu;
  let dingtalk: FakeDingTalkApi;
  beforeAll(async () => {
    feishu = await startFakeFeishu({ ...FEISHU });
    feishu.addChat({ chat_id: 'oc_club' });
    dingtalk = await startFakeDingTalkApi({ ...DINGTALK, quota: 5000 });
  });
  afterAll(async () => {
    await feishu.close();
    await dingtalk.close();
  });

  let env: Awaited<ReturnType<typeof openMigrated>>;
  let files: FileStore;
  let outbox: Outbox;
  let transcript: Transcript;
  let messengers: Map<Platform, PlatformMessenger>;
  let worker: OutboxWorker;
  let dingtalkCalls: string[];

  function build(opts: { publicUrl?: string; without?: Platform } = {}) {
    const db = env.database.prisma;
    const clock = createManualClock('2026-03-02T01:00:00Z');
    files = createFileStore({ db, clock, publicUrl: opts.publicUrl });
    outbox = createOutbox({ db, clock });
    transcript = createTranscript(db);
    const { client, forgetToken } = createFeishuClient({ ...FEISHU, domain: feishu.url, log: createSilentLogger() });
    const dtApi = createDingTalkApi({
      apiBase: dingtalk.url,
      clientId: DINGTALK.clientId,
      clientSecret: DINGTALK.clientSecret,
      clock: createSystemClock(),
      log: createSilentLogger(),
      onCall: (api) => void dingtalkCalls.push(api),
    });
    messengers = new Map<Platform, PlatformMessenger>([
      [
        'feishu',
        createFeishuMessenger({
          client,
          forgetToken,
          sealer: createValueSealer(FEISHU.appSecret),
          clock,
          log: createSilentLogger(),
        }),
      ],
      [
        'dingtalk',
        createDingTalkMessenger({
          api: dtApi,
          clock: createSystemClock(),
          log: createSilentLogger(),
          robotCode: DINGTALK.robotCode,
          callbackType: 'STREAM',
          callbackRouteKey: 'shuxiang',
          signer: createParamSigner(DINGTALK.clientSecret),
        }),
      ],
      ['sandbox', createSandboxMessenger(transcript)],
    ]);
    if (opts.without) {
      // The platform as it was before file messages: no sendFile at all.
      const { sendFile: _dropped, ...rest } = messengers.get(opts.without)!;
      messengers.set(opts.without, rest);
    }
    worker = createOutboxWorker({ db, clock, log: createSilentLogger(), messengers, files });
  }

  beforeEach(async () => {
    env = await openMigrated(createSqliteTestDatabase);
    dingtalkCalls = [];
    build();
  });
  afterEach(async () => {
    await env.close();
  });

  /** What a feature does: store and queue in its own transaction, then the worker delivers. */
  async function offer(platform: Platform, target: Target, name: string, bytes: Buffer, contentType: string) {
    const db = env.database.prisma;
    const offered = await db.$transaction((tx) =>
      offerFile(
        { files, outbox, t },
        { orgId: 'org-1', platform, target, name, contentType, bytes, text: '读书会年鉴已生成。' },
        tx,
      ),
    );
    await worker.drain();
    const row = await db.outboxMessage.findUniqueOrThrow({ where: { id: offered.id } });
    return { offered, row, body: JSON.parse(row.body) as { file?: { id: string }; text: string } };
  }

  it('keeps only the file id in the outbox row, never the bytes', async () => {
    const bytes = randomBytes(2 * MB);
    const { offered, row, body } = await offer(
      'sandbox',
      { kind: 'chat', id: 'group-a' },
      '成绩.xlsx',
      bytes,
      XLSX_CONTENT_TYPE,
    );
    expect(row.kind).toBe('file');
    expect(body.file?.id).toBe(offered.fileId);
    expect(row.body.length).toBeLessThan(1000);
  });

  it('Feishu: uploads the file (im/v1/files) and sends a file message with its file_key and the row uuid', async () => {
    const bytes = randomBytes(3 * MB + 17);
    const before = feishu.uploads.size;
    const { row } = await offer('feishu', { kind: 'chat', id: 'oc_club' }, '读书会年鉴.docx', bytes, DOCX_CONTENT_TYPE);
    expect(row.status).toBe('sent');
    expect(feishu.uploads.size).toBe(before + 1);
    const message = feishu.messages.get(row.platformMessageId!)!;
    expect(message).toMatchObject({ chat_id: 'oc_club', msg_type: 'file', uuid: row.id });
    const upload = feishu.uploads.get((JSON.parse(message.content) as { file_key: string }).file_key)!;
    expect(upload).toMatchObject({ file_name: '读书会年鉴.docx', file_type: 'doc' });
    expect(upload.bytes.equals(bytes)).toBe(true);
  });

  it('Feishu: a file over its 30 MB upload limit goes as the download link, with no upload tried', async () => {
    build({ publicUrl: 'https://bot.example.org' });
    const uploads = feishu.uploads.size;
    const { row, offered } = await offer(
      'feishu',
      { kind: 'chat', id: 'oc_club' },
      '年鉴（含照片）.docx',
      randomBytes(31 * MB),
      DOCX_CONTENT_TYPE,
    );
    expect(row.status).toBe('sent');
    expect(feishu.uploads.size).toBe(uploads);
    const text = (JSON.parse(feishu.messages.get(row.platformMessageId!)!.content) as { text: string }).text;
    expect(text).toContain('读书会年鉴已生成。');
    expect(text).toContain(`https://bot.example.org/files/${offered.fileId}/`);
  });

  it('Feishu: the fake refuses an upload over 30 MB with 234006, which the messenger reports as permanent', async () => {
    const { client } = createFeishuClient({ ...FEISHU, domain: feishu.url, log: createSilentLogger() });
    const res = await client.im.v1.file
      .create({ data: { file_type: 'stream', file_name: 'big.bin', file: randomBytes(30 * MB + 1) } })
      .catch((err: { response?: { status: number; data: { code: number } } }) => err.response);
    expect(res).toMatchObject({ status: 400, data: { code: 234006 } });
    const messenger = messengers.get('feishu')!;
    const err = await messenger.sendFile!(
      { kind: 'chat', id: 'oc_club' },
      { name: 'big.bin', contentType: 'x', bytes: randomBytes(30 * MB + 1) },
      {
        idempotencyKey: 'k-big',
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).kind).toBe('permanent');
  });

  it('DingTalk: uploads media, then sends sampleFile to the group: two OpenAPI calls', async () => {
    const bytes = randomBytes(MB + 5);
    const quota = dingtalk.quotaUsed();
    const { row } = await offer(
      'dingtalk',
      { kind: 'chat', id: 'cid-club' },
      '督导报告.xlsx',
      bytes,
      XLSX_CONTENT_TYPE,
    );
    expect(row.status).toBe('sent');
    const sent = dingtalk.groupMessages.at(-1)!;
    expect(sent).toMatchObject({
      openConversationId: 'cid-club',
      msgKey: 'sampleFile',
      msgParam: { fileName: '督导报告.xlsx', fileType: 'xlsx' },
    });
    expect(dingtalk.uploads.get(sent.msgParam.mediaId!)!.bytes.equals(bytes)).toBe(true);
    expect(dingtalk.quotaUsed() - quota).toBe(2);
    expect(dingtalkCalls).toEqual(['media.upload', 'robot.groupSend']);
  });

  it('DingTalk: to a person through batchSend; a Markdown file (a type DingTalk refuses) goes as the link', async () => {
    await offer('dingtalk', { kind: 'user', id: 'u-li' }, '报告.pdf', randomBytes(1000), 'application/pdf');
    expect(dingtalk.privateMessages.at(-1)).toMatchObject({
      userIds: ['u-li'],
      msgKey: 'sampleFile',
      msgParam: { fileName: '报告.pdf', fileType: 'pdf' },
    });
    dingtalkCalls = [];
    build({ publicUrl: 'https://bot.example.org' });
    const { row, offered } = await offer(
      'dingtalk',
      { kind: 'chat', id: 'cid-club' },
      '年鉴.md',
      Buffer.from('# 读书会年鉴\n'),
      MARKDOWN_CONTENT_TYPE,
    );
    expect(row.status).toBe('sent');
    expect(dingtalkCalls).toEqual(['robot.groupSend']);
    const text = dingtalk.groupMessages.at(-1)!;
    expect(text.msgKey).toBe('sampleText');
    expect(text.msgParam.content).toContain(`https://bot.example.org/files/${offered.fileId}/`);
  });

  it('DingTalk: over 20 MB goes as the link; without a public URL the text says why there is none', async () => {
    const uploads = dingtalk.uploads.size;
    const { row } = await offer(
      'dingtalk',
      { kind: 'chat', id: 'cid-club' },
      '年鉴.docx',
      randomBytes(21 * MB),
      DOCX_CONTENT_TYPE,
    );
    expect(row.status).toBe('sent');
    expect(dingtalk.uploads.size).toBe(uploads);
    expect(dingtalk.groupMessages.at(-1)!.msgParam.content).toContain('没有配置公网地址（SHUXIANG_PUBLIC_URL）');
  });

  it('DingTalk: the fake refuses an oversized upload with an errcode the client reports as permanent', async () => {
    const api = createDingTalkApi({
      apiBase: dingtalk.url,
      clientId: DINGTALK.clientId,
      clientSecret: DINGTALK.clientSecret,
      clock: createSystemClock(),
      log: createSilentLogger(),
    });
    const err = await api.uploadMedia('file', 'big.docx', randomBytes(20 * MB + 1)).catch((e: unknown) => e);
    expect(String(err)).toContain('40006');
    expect(toDeliveryError(err).kind).toBe('permanent');
  });

  it('sandbox: the file appears in the transcript with a link that serves the same bytes', async () => {
    const bytes = randomBytes(25 * MB + 3);
    const { row } = await offer(
      'sandbox',
      { kind: 'chat', id: 'group-a' },
      '读书会年鉴.docx',
      bytes,
      DOCX_CONTENT_TYPE,
    );
    expect(row.status).toBe('sent');
    const [entry] = await transcript.list('group-a', 0);
    expect(entry).toMatchObject({ from: 'bot', file: { name: '读书会年鉴.docx', size: bytes.length } });
    expect(entry!.text).toBeUndefined();
    const res = await createFileRoutes(files).request(entry!.file!.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect(res.headers.get('content-type')).toBe(DOCX_CONTENT_TYPE);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('a platform without sendFile gets the text with the link', async () => {
    build({ without: 'sandbox' });
    const { row, offered } = await offer(
      'sandbox',
      { kind: 'chat', id: 'group-b' },
      '成绩.xlsx',
      randomBytes(100),
      XLSX_CONTENT_TYPE,
    );
    expect(row.status).toBe('sent');
    const [entry] = await transcript.list('group-b', 0);
    expect(entry!.file).toBeUndefined();
    expect(entry!.text).toContain(`/files/${offered.fileId}/`);
  });

  it('a file over the store limit is not stored, and a text says so', async () => {
    files = createFileStore({ db: env.database.prisma, clock: createManualClock(), maxBytes: MB });
    const { offered, row } = await offer(
      'sandbox',
      { kind: 'chat', id: 'group-a' },
      '大.docx',
      randomBytes(2 * MB),
      DOCX_CONTENT_TYPE,
    );
    expect(offered.fileId).toBeNull();
    expect(row.kind).toBe('text');
    expect(await env.database.prisma.downloadFile.count()).toBe(0);
    const [entry] = await transcript.list('group-a', 0);
    expect(entry!.text).toContain('超过了文件 1 MB 的上限');
  });
});
