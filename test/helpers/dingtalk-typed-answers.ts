import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { Db } from '../../src/lib/db.ts';
import { robotSignature } from '../../src/platforms/dingtalk/verify.ts';
import { startFakeDingTalkApi, type FakeDingTalkApi } from './fake-dingtalk-api.ts';

/**
 * Typed contest answers (`答 B`) sent to the bot as DingTalk robot webhooks,
 * for the fault tests: the environment of an instance in DingTalk HTTP mode,
 * signed requests, and what was stored and sent afterwards.
 */
export const DING = {
  clientId: 'ding-client-id',
  clientSecret: 'ding-client-secret-0123456789',
  robotCode: 'ding-robot',
  template: 'a1b2c3d4-0000-4000-8000-000000000001.schema',
  group: 'cidGroupA0001',
};

/** The fake DingTalk API for DING, with limits no fault test reaches. */
export function startDingApi(): Promise<FakeDingTalkApi> {
  return startFakeDingTalkApi({
    clientId: DING.clientId,
    clientSecret: DING.clientSecret,
    robotCode: DING.robotCode,
    templates: [DING.template],
    quota: 1_000_000,
    qpsPerApi: 100_000,
  });
}

const base = JSON.parse(
  readFileSync(new URL('../fixtures/dingtalk/robot-text-group.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

export function dingtalkEnv(databaseUrl: string, api: FakeDingTalkApi): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
    SHUXIANG_SANDBOX: 'off',
    SHUXIANG_ADMINS: 'dingtalk:sec-wang',
    DINGTALK_CLIENT_ID: DING.clientId,
    DINGTALK_CLIENT_SECRET: DING.clientSecret,
    DINGTALK_ROBOT_CODE: DING.robotCode,
    DINGTALK_MODE: 'webhook',
    DINGTALK_API_BASE: api.url,
    DINGTALK_CARD_TEMPLATE_ID: DING.template,
    WEBHOOK_HOST: api.host,
  };
}

/** Signed robot messages; signatures are single-use, so each request signs at its own millisecond. */
export function createRobotSender(api: FakeDingTalkApi) {
  let tick = Date.now() - 20 * 60_000;
  const session = api.openSession(DING.group);
  return {
    request(userId: string, nick: string, text: string): RequestInit {
      const timestamp = String(tick++);
      return {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          timestamp,
          sign: robotSignature(timestamp, DING.clientSecret),
        },
        body: JSON.stringify({
          ...base,
          msgId: `msg-${userId}-${text.length}${text.charCodeAt(0)}`,
          createAt: Date.now(),
          senderStaffId: userId,
          senderNick: nick,
          senderId: `$:LWCP_v1:$sender-${userId}`,
          text: { content: ` ${text}` },
          ...session,
        }),
      };
    },
  };
}

/**
 * Stored answers per platform user id: folded into QuizAnswer or still in the
 * answer journal (committed there before the member was answered, folded by a
 * running instance within a second or by the next start).
 */
export async function answersByUser(db: Db): Promise<Map<string, number>> {
  const members = await db.member.findMany({ select: { id: true, platformUserId: true } });
  const userOf = new Map(members.map((m) => [m.id, m.platformUserId]));
  const answers = new Map<string, number>();
  const stored = [
    ...(await db.quizAnswer.findMany({ select: { memberId: true } })),
    ...(await db.quizJournal.findMany({ select: { memberId: true } })),
  ];
  for (const a of stored) {
    const user = userOf.get(a.memberId)!;
    answers.set(user, (answers.get(user) ?? 0) + 1);
  }
  return answers;
}

/** Private "answer recorded" messages the fake DingTalk API received, per user. */
export function ackSendsByUser(api: FakeDingTalkApi): Map<string, number> {
  const sends = new Map<string, number>();
  for (const m of api.privateMessages) {
    if (!JSON.stringify(m.msgParam).includes('已记录您的答案')) continue;
    for (const u of m.userIds) sends.set(u, (sends.get(u) ?? 0) + 1);
  }
  return sends;
}

/** A pino logger whose lines the test can read (level info and up). */
export function capturedLogger(): { log: Logger; lines: { level: number; msg: string; [k: string]: unknown }[] } {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as never);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}
