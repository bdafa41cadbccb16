// The shuxiang side of bench/feishu-ingest.ts: a real daily practice (每日一练)
// set up through the bot's own commands and scheduler, and the quiz-answer
// card callbacks fired at it. See the header of feishu-ingest.ts.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { serve } from '@hono/node-server';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/config.ts';
import { createQuestionBank } from '../src/features/quiz/bank/repository.ts';
import { decodeAnswer, fillBlanks } from '../src/features/quiz/bank/types.ts';
import type { Clock } from '../src/lib/clock.ts';
import { createLogger } from '../src/lib/logger.ts';
import { createShuxiang, ROOT, type Shuxiang } from '../src/main.ts';
import { quiz as quizTexts } from '../src/messages/zh-CN/quiz.ts';
import { encryptFeishu, feishuSignature } from '../src/platforms/feishu/crypto.ts';
import { startFakeFeishu } from '../test/helpers/fake-feishu.ts';
import { createFeishuPusher } from '../test/helpers/fake-feishu-push.ts';

export const APP_ID = 'cli_bench00000001';
export const APP_SECRET = 'bench-secret';
export const ENCRYPT_KEY = 'bench-encrypt-key';
export const TOKEN = 'bench-verification-token';
export const CHAT = 'oc_bench_chat';
const BOT = 'ou_bench_bot';
const SECRETARY = { open_id: 'ou_bench_secretary', name: '王书记' };
/** The tenant of every push (the fixtures' tenant_key). */
const TENANT = '2ca1d211f64f6438';
/** A Monday (a Chinese working day) just before the daily push time, Asia/Shanghai. */
const START = new Date('2026-11-23T08:59:00+08:00');
const PUSH_TIME = '09:00';
const QUESTIONS = 20;

export type QuestionType = 'single' | 'multiple' | 'truefalse' | 'fill';
export type Mix = Record<QuestionType, number>;
/** The mix of question types put in the bank (and so on the daily card), 20 in all. */
export const FULL_MIX: Mix = { single: 8, multiple: 4, truefalse: 4, fill: 4 };
/**
 * At most one form question (multiple choice or fill-in): what the group card can
 * carry on Feishu today, because every form's field is named "c" and Feishu refuses
 * a card with two components of the same name (230099). See the bench's report.
 */
export const ONE_FORM_MIX: Mix = { single: 10, multiple: 1, truefalse: 9, fill: 0 };

export function parseMix(text: string): Mix {
  const mix: Mix = { single: 0, multiple: 0, truefalse: 0, fill: 0 };
  for (const part of text.split(',')) {
    const [type, n] = part.split(':');
    if (!type || !(type in mix) || !Number.isInteger(Number(n))) throw new Error(`bad --mix part ${part}`);
    mix[type as QuestionType] = Number(n);
  }
  const total = Object.values(mix).reduce((a, b) => a + b, 0);
  if (total !== QUESTIONS) throw new Error(`--mix must add up to ${QUESTIONS} questions, not ${total}`);
  return mix;
}

export const formatMix = (mix: Mix) =>
  Object.entries(mix)
    .map(([k, v]) => `${k}:${v}`)
    .join(',');

/** The daily card did not reach (fake) Feishu; the child reports this and exits. */
export class CardRefused extends Error {}

// ---- what the server tells the load generator ------------------------------------------

/** A callback value exactly as it sits on the card Feishu received. */
export type Value = { a: string; p: Record<string, unknown>; s: string };

export interface PositionInfo {
  position: number;
  questionId: string;
  type: QuestionType;
  /** The answer key from the bank: option keys, "true"/"false", or accepted texts. */
  answer: string[];
  /** Option keys of a choice question (for wrong answers). */
  optionKeys: string[];
  /** Single choice and true/false: one button per choice, value by choice. */
  buttons?: Record<string, Value>;
  /** Multiple choice and fill-in: the form's submit button value and the field it submits. */
  form?: { value: Value; field: string };
}

export interface QuizSetup {
  port: number;
  /** The server's clock minus the real one: signatures must be fresh by the server's clock. */
  clockOffsetMs: number;
  chatId: string;
  tenant: string;
  cardMessageId: string;
  roundId: string;
  /** Member i is memberOpenIds[i]; its database id is memberIds[i]. */
  memberOpenIds: string[];
  memberIds: string[];
  positions: PositionInfo[];
  /** How long the set-up steps took, for the report. */
  timings: Record<string, number>;
}

/** The answer controls of a daily card as Feishu received it, by question position. */
export function cardControls(
  content: string,
): Map<number, { buttons: Record<string, Value>; form?: { value: Value; field: string } }> {
  const byPosition = new Map<number, { buttons: Record<string, Value>; form?: { value: Value; field: string } }>();
  const entry = (p: number) => {
    let e = byPosition.get(p);
    if (!e) byPosition.set(p, (e = { buttons: {} }));
    return e;
  };
  const walk = (els: unknown[], formField?: string) => {
    for (const el of els as Record<string, unknown>[]) {
      if (el.tag === 'form') {
        const fields = (el.elements as Record<string, unknown>[]).filter((x) => x.tag !== 'button');
        walk(el.elements as unknown[], fields[0]?.name as string);
        continue;
      }
      if (el.tag === 'button') {
        const value = (el.behaviors as { value: Value }[] | undefined)?.[0]?.value;
        if (value?.a === 'quiz.answer') {
          const p = value.p.p as number;
          if (el.form_action_type === 'submit') entry(p).form = { value, field: formField ?? 'c' };
          else entry(p).buttons[value.p.c as string] = value;
        }
      }
      if (Array.isArray(el.elements)) walk(el.elements);
      if (Array.isArray(el.columns)) walk(el.columns as unknown[]);
    }
  };
  walk((JSON.parse(content) as { body: { elements: unknown[] } }).body.elements);
  return byPosition;
}

// ---- the server (child process) ----------------------------------------------------------

/** Real time, shifted: it ticks like the wall clock but starts where the bench puts it. */
export function createOffsetClock(start: Date): Clock & { jumpTo(at: Date): void; offsetMs(): number } {
  let offset = start.getTime() - Date.now();
  return {
    now: () => new Date(Date.now() + offset),
    jumpTo: (at) => {
      offset = at.getTime() - Date.now();
    },
    offsetMs: () => offset,
  };
}

/** BENCH_SQL=1: the statements run, by text, for what the count is made of. */
export const statementTexts = process.env.BENCH_SQL ? new Map<string, number>() : undefined;

/**
 * Counts SQL statements run by better-sqlite3 (each run, all, get or iterate of a prepared
 * statement): Prisma's driver prepares one per query, the bot's direct statements are prepared
 * once and run many times, so counting preparations would miss the latter.
 */
export function countStatements(): () => number {
  let n = 0;
  const proto = Database.prototype as unknown as { prepare: (this: unknown, ...args: unknown[]) => unknown };
  const prepare = proto.prepare;
  const byText = statementTexts;
  proto.prepare = function (this: unknown, ...args: unknown[]) {
    const statement = prepare.apply(this, args) as Record<string, (...a: unknown[]) => unknown>;
    const key = byText ? String(args[0]).replace(/\s+/g, ' ').slice(0, 140) : '';
    for (const method of ['run', 'all', 'get', 'iterate']) {
      const original = statement[method]!;
      statement[method] = function (this: unknown, ...a: unknown[]) {
        n++;
        if (byText) byText.set(key, (byText.get(key) ?? 0) + 1);
        return original.apply(this, a);
      };
    }
    return statement;
  };
  return () => n;
}

/**
 * CPU (µs) spent inside the answer journal's fold transactions on SQLite's direct path: from
 * the statement that claims the journal rows to the COMMIT after it (the rows' decoding and
 * the plan's JavaScript included). Only those two statements are wrapped, so the meter costs
 * the measured process nothing worth counting. Lets one run split shuxiang's CPU per answer
 * into folding (answers, tallies, rank buckets, mistakes) and everything before the ack.
 */
export function meterFolds(): () => number {
  let micros = 0;
  let from: NodeJS.CpuUsage | undefined;
  const proto = Database.prototype as unknown as { prepare: (this: unknown, ...args: unknown[]) => unknown };
  const prepare = proto.prepare;
  proto.prepare = function (this: unknown, ...args: unknown[]) {
    const statement = prepare.apply(this, args) as Record<string, (...a: unknown[]) => unknown>;
    const text = String(args[0]);
    const claims = text.startsWith('SELECT "id","roundId","memberId","questionId","event","data" FROM "QuizJournal"');
    const ends = text === 'COMMIT' || text === 'ROLLBACK';
    if (!claims && !ends) return statement;
    for (const method of ['run', 'all']) {
      const original = statement[method]!;
      statement[method] = function (this: unknown, ...a: unknown[]) {
        if (claims) from = process.cpuUsage();
        const out = original.apply(this, a);
        if (ends && from) {
          const d = process.cpuUsage(from);
          micros += d.user + d.system;
          from = undefined;
        }
        return out;
      };
    }
    return statement;
  };
  return () => micros;
}

/** 20 questions of mixed types from the shipped starter bank, as a bank file of their own. */
function benchBankFile(mix: Mix): Buffer {
  const starter = JSON.parse(readFileSync(path.join(ROOT, 'data-seed', 'starter-bank.json'), 'utf8')) as {
    questions: { type: QuestionType }[];
  };
  const picked = Object.entries(mix).flatMap(([type, n]) =>
    starter.questions.filter((q) => q.type === type).slice(0, n),
  );
  if (picked.length !== QUESTIONS) throw new Error(`starter bank has too few questions for the mix ${picked.length}`);
  return Buffer.from(
    JSON.stringify({ format: 'shuxiang-question-bank', version: 1, title: 'bench', questions: picked }),
  );
}

export async function startQuizServer(
  dbUrl: string,
  members: number,
  mix: Mix,
): Promise<{ shuxiang: Shuxiang; setup: QuizSetup; statements: () => number; foldMicros: () => number }> {
  const timings: Record<string, number> = {};
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await work();
    timings[name] = Math.round(performance.now() - t0);
    return r;
  };
  // Counting wraps every statement call, which costs the measured process about 2 % of its
  // CPU: only when asked for (BENCH_SQL=1).
  const statements = statementTexts ? countStatements() : () => 0;
  const foldMicros = meterFolds();
  const clock = createOffsetClock(START);
  const fake = await startFakeFeishu({ appId: APP_ID, appSecret: APP_SECRET, botOpenId: BOT });
  const people = Array.from({ length: members }, (_, i) => ({
    open_id: `ou_bench_${createHash('sha1').update(String(i)).digest('hex').slice(0, 24)}`,
    name: `党员${String(i).padStart(5, '0')}`,
  }));
  fake.addChat({ chat_id: CHAT, name: '书香压测群', members: [SECRETARY, ...people] });
  const config = loadConfig({
    DATABASE_URL: dbUrl,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    SHUXIANG_SANDBOX: 'off',
    SHUXIANG_DEMO_SEED: 'off',
    SHUXIANG_TIMEZONE: 'Asia/Shanghai',
    SHUXIANG_ADMINS: `feishu:${SECRETARY.open_id}`,
    FEISHU_APP_ID: APP_ID,
    FEISHU_APP_SECRET: APP_SECRET,
    FEISHU_ENCRYPT_KEY: ENCRYPT_KEY,
    FEISHU_VERIFICATION_TOKEN: TOKEN,
    FEISHU_DOMAIN: fake.url,
  });
  const shuxiang = await createShuxiang(config, { clock, log: createLogger({ level: 'warn' }) });
  const feishu = shuxiang.feishu!;
  const prisma = shuxiang.db.prisma;
  shuxiang.start();
  const port = await new Promise<number>((resolve) => {
    serve({ fetch: shuxiang.app.fetch, port: 0, hostname: '127.0.0.1' }, (i) => resolve(i.port));
  });

  // The secretary talks to the bot in the group, through the webhook, as Feishu would push it.
  const pusher = createFeishuPusher({
    appId: APP_ID,
    encryptKey: ENCRYPT_KEY,
    verificationToken: TOKEN,
    now: () => clock.now(),
  });
  const say = async (text: string) => {
    const push = pusher.push(
      pusher.textMessage({ senderOpenId: SECRETARY.open_id, chatId: CHAT, text, botOpenId: BOT }),
    );
    const res = await fetch(`http://127.0.0.1:${port}/feishu/webhook`, {
      method: 'POST',
      headers: push.headers,
      body: push.body,
    });
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
    await feishu.tasks.drain();
    await shuxiang.worker.drain();
    const replies = fake.sent({ chat_id: CHAT });
    return replies[replies.length - 1];
  };
  const textOf = (m: { content: string } | undefined) => (m ? m.content : '(nothing)');

  // First contact registers the chat, its organisation and the secretary (an admin by SHUXIANG_ADMINS).
  const whoami = await step('first message (registers the chat)', () => say('我的身份'));
  const chat = await prisma.chat.findUnique({
    where: { platform_platformChatId: { platform: 'feishu', platformChatId: CHAT } },
  });
  if (!chat) throw new Error(`the first message did not register the chat; the bot said ${textOf(whoami)}`);
  const orgId = chat.orgId;

  // The members, as if each had talked to the bot before (first contact is measured elsewhere).
  const memberIds = people.map((_, i) => `bench-member-${i}`);
  await step(`create ${members} members`, async () => {
    for (let i = 0; i < people.length; i += 2000) {
      await prisma.member.createMany({
        data: people.slice(i, i + 2000).map((p, k) => ({
          id: memberIds[i + k]!,
          orgId,
          platform: 'feishu',
          platformUserId: p.open_id,
          displayName: p.name,
        })),
      });
    }
  });

  // The bank: 20 questions through the bank's own import (validation, fingerprints, tags).
  const imported = await step('import 20 questions', () =>
    createQuestionBank({ db: prisma, clock, provider: shuxiang.db.provider }).importFile(orgId, {
      name: 'bench-bank.json',
      bytes: benchBankFile(mix),
    }),
  );
  if (!imported.ok) throw new Error(`bank import failed: ${JSON.stringify(imported.problems.slice(0, 3))}`);

  // 每日一练 开启 09:00 20, from the secretary, @-mentioning the bot.
  const enabled = await step('daily practice command', () => say(`每日一练 开启 ${PUSH_TIME} ${QUESTIONS}`));
  const plan = await prisma.quizDailyPlan.findUnique({
    where: { platform_chatId: { platform: 'feishu', chatId: CHAT } },
  });
  if (!plan?.enabled) throw new Error(`daily practice was not switched on; the bot said ${textOf(enabled)}`);

  // 09:00:01: the scheduler fires the push, the worker sends the card to (fake) Feishu.
  await step('push the daily card', async () => {
    clock.jumpTo(new Date(START.getTime() + 61_000));
    await shuxiang.scheduler.tick();
    await shuxiang.worker.drain();
  });
  const round = await prisma.quizRound.findFirst({ where: { orgId, kind: 'daily' }, orderBy: { seq: 'desc' } });
  if (!round?.cardRef) throw new Error('the scheduler did not open a daily round');
  const outbox = await prisma.outboxMessage.findUnique({ where: { id: round.cardRef } });
  if (outbox?.status !== 'sent' || !outbox.platformMessageId) {
    throw new CardRefused(`the daily card was not delivered (${outbox?.status}): ${outbox?.lastError ?? ''}`);
  }
  const card = fake.messages.get(outbox.platformMessageId);
  if (!card) throw new Error('the fake Feishu has no daily card');

  // What the members can click, read from the card Feishu received (the seals are the bot's own).
  const byPosition = cardControls(card.content);

  const rqs = await prisma.quizRoundQuestion.findMany({ where: { roundId: round.id }, orderBy: { position: 'asc' } });
  const questions = new Map(
    (await prisma.question.findMany({ where: { id: { in: rqs.map((r) => r.questionId) } } })).map((q) => [q.id, q]),
  );
  const positions: PositionInfo[] = rqs.map((rq) => {
    const q = questions.get(rq.questionId)!;
    const controls = byPosition.get(rq.position);
    if (!controls || (!controls.form && Object.keys(controls.buttons).length === 0)) {
      throw new Error(`the daily card has no answer control for question ${rq.position}`);
    }
    return {
      position: rq.position,
      questionId: q.id,
      type: q.type as QuestionType,
      // As play reads it: for a fill-in, one string per blank with its accepted answers joined by |.
      answer: decodeAnswer(q.type, q.answer),
      optionKeys: (JSON.parse(q.options) as { key: string }[]).map((o) => o.key),
      ...(Object.keys(controls.buttons).length ? { buttons: controls.buttons } : {}),
      ...(controls.form ? { form: controls.form } : {}),
    };
  });
  const setup: QuizSetup = {
    port,
    clockOffsetMs: clock.offsetMs(),
    chatId: CHAT,
    tenant: TENANT,
    cardMessageId: card.message_id,
    roundId: round.id,
    memberOpenIds: people.map((p) => p.open_id),
    memberIds,
    positions,
    timings: { ...timings, 'card bytes': Buffer.byteLength(card.content) },
  };
  return { shuxiang, setup, statements, foldMicros };
}

// ---- the load (parent process) -----------------------------------------------------------

export interface Built {
  id: string;
  headers: Record<string, string>;
  body: string;
  member: number;
  position: number;
  correct: boolean;
}

/**
 * Every (member, position) pair at most once, in the order members would
 * answer: a window of members is active at a time, each going through the
 * questions in order, their clicks interleaved.
 */
export function createAnswerPool(setup: QuizSetup, window: number) {
  const total = setup.memberOpenIds.length * setup.positions.length;
  const q = setup.positions.length;
  const members = setup.memberOpenIds.length;
  const active = Math.max(1, Math.min(window, members));
  // Members come in no particular order (a fixed shuffle), so the whole list is sampled.
  const order = setup.memberOpenIds.map((_, i) => i);
  let seed = 20261123;
  for (let i = order.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  // The n-th member starts at n*q and answers a question every `active` steps, so about
  // `active` members are mid-way at any time and newcomers arrive all the time.
  const sequence = Array.from({ length: total }, (_, k) => k)
    .map((k) => ({ k, t: Math.floor(k / q) * q + (k % q) * active }))
    .sort((x, y) => x.t - y.t || x.k - y.k)
    .map((x) => x.k);
  let cursor = 0;
  const built: Built[] = [];
  let taken = 0;

  function pair(i: number): { member: number; position: number } {
    const k = sequence[i]!;
    return { member: order[Math.floor(k / q)]!, position: (k % q) + 1 };
  }

  function build(k: number): Built {
    const { member, position } = pair(k);
    const info = setup.positions[position - 1]!;
    // About 70% right; which ones depends on the pair, so the mix is the same every run.
    const correct = (member * 7 + position * 13) % 10 < 7;
    const choice = answerFor(info, correct, member);
    const id = `bench-${k}-${randomBytes(6).toString('hex')}`;
    const signed = signedAnswer({
      id,
      info,
      choice,
      openId: setup.memberOpenIds[member]!,
      tenant: setup.tenant,
      chatId: setup.chatId,
      cardMessageId: setup.cardMessageId,
      now: Date.now() + setup.clockOffsetMs,
    });
    return { id, ...signed, member, position, correct };
  }

  return {
    total,
    /** Pairs never handed out. */
    remaining: () => total - taken,
    /** Builds (ahead of a run) until `n` unsent callbacks are ready, or the pool is empty. */
    prepare(n: number): number {
      while (built.length < n && cursor < total) built.push(build(cursor++));
      return built.length;
    },
    /** The next fresh callback, or undefined when every pair has been used. */
    take(): Built | undefined {
      const b = built.shift() ?? (cursor < total ? build(cursor++) : undefined);
      if (b) taken++;
      return b;
    },
    /** Ready and unsent. */
    ready: () => built.length,
  };
}

/**
 * A member's click on a daily card as Feishu posts it: the card.action.trigger
 * envelope, encrypted with the Encrypt Key and signed; `now` by the server's clock.
 */
export function signedAnswer(input: {
  id: string;
  info: PositionInfo;
  choice: string | string[];
  openId: string;
  tenant: string;
  chatId: string;
  cardMessageId: string;
  now: number;
}): { headers: Record<string, string>; body: string } {
  const { info, choice, now } = input;
  const action: Record<string, unknown> = info.form
    ? { value: info.form.value, tag: 'button', name: 'submit_0', form_value: { [info.form.field]: choice } }
    : { value: info.buttons![choice as string], tag: 'button' };
  const env = {
    schema: '2.0',
    header: {
      event_id: input.id,
      token: TOKEN,
      create_time: String(now * 1000),
      event_type: 'card.action.trigger',
      tenant_key: input.tenant,
      app_id: APP_ID,
    },
    event: {
      operator: { tenant_key: input.tenant, open_id: input.openId, union_id: 'on_x', user_id: 'u_x' },
      token: `c-${randomBytes(16).toString('hex')}`,
      action,
      host: 'im_message',
      context: { open_message_id: input.cardMessageId, open_chat_id: input.chatId },
    },
  };
  const body = JSON.stringify({ encrypt: encryptFeishu(ENCRYPT_KEY, JSON.stringify(env)) });
  const ts = String(Math.floor(now / 1000));
  const nonce = randomBytes(8).toString('hex');
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-lark-request-timestamp': ts,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': feishuSignature(ts, nonce, ENCRYPT_KEY, body),
    },
  };
}

export function answerFor(info: PositionInfo, correct: boolean, member: number): string | string[] {
  switch (info.type) {
    case 'single': {
      if (correct) return info.answer[0]!;
      const wrong = info.optionKeys.filter((k) => !info.answer.includes(k));
      return wrong[member % wrong.length]!;
    }
    case 'truefalse':
      return correct ? info.answer[0]! : info.answer[0] === 'true' ? 'false' : 'true';
    case 'multiple': {
      if (correct) return [...info.answer];
      // Leave one right key out (or add a wrong one when only one is right).
      return info.answer.length > 1
        ? info.answer.slice(0, -1)
        : [...info.answer, info.optionKeys.find((k) => !info.answer.includes(k))!];
    }
    case 'fill':
      // The first accepted answer of every blank, blanks separated by ；.
      return correct
        ? fillBlanks(info.answer)
            .map((alternatives) => alternatives[0]!)
            .join('；')
        : '不知道';
  }
}

// ---- what a reply means -------------------------------------------------------------------

const template = (s: string) =>
  new RegExp(`^${s.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[a-z]+\}/g, '[^]*?')}`);
const RIGHT = template(quizTexts['quiz.daily.right']);
const WRONG = template(quizTexts['quiz.daily.wrong']);

export type Verdict = { recorded: true; right: boolean } | { recorded: false; what: string };

/** A reply that says the answer was recorded ("第N题 回答正确/错误…"), or what it said instead. */
export function verdict(status: number, body: string): Verdict {
  if (status !== 200) return { recorded: false, what: `HTTP ${status}` };
  let toast: { type?: string; content?: string } | undefined;
  try {
    toast = (JSON.parse(body) as { toast?: { type?: string; content?: string } }).toast;
  } catch {
    return { recorded: false, what: `not JSON: ${body.slice(0, 60)}` };
  }
  if (!toast?.content) return { recorded: false, what: `no toast: ${body.slice(0, 60)}` };
  if (toast.type !== 'error') {
    if (RIGHT.test(toast.content)) return { recorded: true, right: true };
    if (WRONG.test(toast.content)) return { recorded: true, right: false };
  }
  return { recorded: false, what: `${toast.type}: ${toast.content.split('\n')[0]!.slice(0, 60)}` };
}
