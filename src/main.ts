import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { loadConfig, ConfigError, type Config } from './config.ts';
import { createBot, type Bot } from './bot/bot.ts';
import type { FeatureDeps, FeatureFactory } from './bot/feature.ts';
import { createPlatformUsage } from './lib/platform-usage.ts';
import { createJobs } from './bot/jobs.ts';
import { createSendHub } from './bot/send.ts';
import { loadCardTemplates } from './bot/card-templates.ts';
import { createMessages, type MessageKey } from './bot/messages.ts';
import { createDirectory, type Directory } from './features/org/directory.ts';
import { createOrgFeature } from './features/org/commands.ts';
import { DEMO, seedDemoOrganisation } from './features/org/demo-seed.ts';
import { createQuizBankFeature } from './features/quiz/bank/commands.ts';
import { createQuestionBank } from './features/quiz/bank/repository.ts';
import { seedStarterBank } from './features/quiz/bank/starter-bank.ts';
import { createQuizFeature } from './features/quiz/index.ts';
import { createReadingClubFeature } from './features/reading-club/index.ts';
import { createQuotaFeature } from './features/quota/commands.ts';
import { createSupervisionFeature } from './features/supervision/index.ts';
import { createCalendarFeature } from './features/calendar/commands.ts';
import { nextOccurrence, ruleSchema } from './features/calendar/recurrence.ts';
import { createDeadLetterNotice, createSchedulerReports } from './features/calendar/reports.ts';
import { bindWorkingDays, createWorkingDays, type WorkingDays } from './features/calendar/working-days.ts';
import { createSystemClock, type Clock } from './lib/clock.ts';
import { createFileStore, type FileStore } from './files/file-store.ts';
import { createFileRoutes } from './files/routes.ts';
import { createInboundDedupe } from './lib/inbound-dedupe.ts';
import { createEventScope } from './lib/event-scope.ts';
import { newId } from './lib/ids.ts';
import { createInbox, type Inbox, type InboxOptions } from './inbox/inbox.ts';
import { openDatabase, type Database } from './lib/db.ts';
import { createDbHealth } from './lib/db-health.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { createMigrator, migrationsDir } from './lib/migrator.ts';
import { createOutbox, type Outbox } from './outbox/outbox.ts';
import { createOutboxWorker, type OutboxWorker, type OutboxWorkerOptions } from './outbox/worker.ts';
import { createSharedRateLimiter } from './outbox/shared-rate-limiter.ts';
import type { DingTalkAdapter, DingTalkAdapterDeps } from './platforms/dingtalk/adapter.ts';
import type { FeishuAdapter } from './platforms/feishu/adapter.ts';
import { createSandboxAdapter } from './platforms/sandbox/adapter.ts';
import type { Platform, PlatformDirectory, PlatformMessenger } from './platforms/types.ts';
import { createApp } from './server/app.ts';
import { createMetrics, type Metrics } from './server/metrics.ts';
import { createScheduler, type Scheduler, type SchedulerOptions } from './scheduler/scheduler.ts';
import { registerCleanupJobs } from './scheduler/cleanup.ts';

/** The feature families, in the order help lists their commands. Adding one is one line here. */
export const FEATURES: FeatureFactory[] = [
  createOrgFeature,
  createCalendarFeature,
  createQuizBankFeature,
  createQuizFeature,
  createQuotaFeature,
  createSupervisionFeature,
  createReadingClubFeature,
];

/** The repository root, where prisma/ and cards/ live. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Shuxiang {
  config: Config;
  app: Hono;
  db: Database;
  bot: Bot;
  outbox: Outbox;
  /** Inbound messages, recorded before the platform is answered (src/inbox/). */
  inbox: Inbox;
  worker: OutboxWorker;
  scheduler: Scheduler;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  /** Organisations, members, units and who is in which chat. */
  directory: Directory;
  /** Files offered as download links (GET /files/:id). */
  files: FileStore;
  /** The DingTalk adapter, when DingTalk is configured. */
  dingtalk?: DingTalkAdapter;
  /** The Feishu adapter, when FEISHU_APP_ID/SECRET are set. */
  feishu?: FeishuAdapter;
  /** Starts background work (the outbox worker). */
  start(): void;
  stop(): Promise<void>;
}

/**
 * The composition root: config → db (+migrate) → services → adapters →
 * server. Tests build the whole bot through this too, with their own clock,
 * logger and database.
 */
export async function createShuxiang(
  config: Config,
  overrides: {
    clock?: Clock;
    log?: Logger;
    /** The holiday calendar; tests pin which years it covers. */
    workingDays?: WorkingDays;
    worker?: Partial<OutboxWorkerOptions>;
    /** Extra features, e.g. a test's own command and card action. */
    features?: FeatureFactory[];
    /** Replaces the list of features (tests that need only some). */
    only?: FeatureFactory[];
    /** Test seams of the DingTalk adapter (allowed webhook hosts, reconnect backoff). */
    dingtalk?: Pick<DingTalkAdapterDeps, 'webhookHosts' | 'stream' | 'cardAckBudgetMs'>;
    scheduler?: Partial<SchedulerOptions>;
    /** Inbox lease and recovery timing (the SIGKILL tests shorten them). */
    inbox?: Partial<InboxOptions>;
    /** Lets tests and benchmarks observe or slow down what reaches a platform. */
    wrapMessenger?: (messenger: PlatformMessenger) => PlatformMessenger;
  } = {},
): Promise<Shuxiang> {
  const log = overrides.log ?? createLogger({ level: config.logLevel });
  const clock = overrides.clock ?? createSystemClock();
  const messages = createMessages();
  // Templates first: a broken card template must stop start-up before anything else.
  const cards = loadCardTemplates(path.join(ROOT, 'cards'));

  // One "database unavailable" line and one "back" line per outage, whichever loop or request meets it.
  const health = createDbHealth({ log, clock: createSystemClock() });
  const db = await openDatabase(config.databaseUrl, {
    poolSize: config.databasePoolSize,
    onConnectionLost: (err) => {
      if (!health.failed(err, 'connection')) log.warn({ err }, 'database connection error');
    },
    log: (level, msg) => log[level]({ component: 'sqlite' }, msg),
  });
  const migrator = createMigrator(db, migrationsDir(db.provider, ROOT));
  const applied = await migrator.migrate();
  if (applied.length) log.info({ applied }, 'database migrated');

  // The inbound message being processed, so its replies get derived ids (lib/event-scope.ts).
  const scope = createEventScope();
  const outbox = createOutbox({ db: db.prisma, clock, scope });
  const metrics = createMetrics();
  // Platforms that can list a chat's members register here below; the others (a DingTalk
  // robot cannot list an ordinary group) fall back to the members seen in the chat.
  const platformDirectories = new Map<Platform, PlatformDirectory>();
  const directory = createDirectory({
    db: db.prisma,
    defaultTimezone: config.timezone,
    admins: config.admins,
    defaultOrgName: messages.t('demo.org'),
    listChatMembers: (platform, chatId) => platformDirectories.get(platform)?.listChatMembers(chatId),
    clock,
    log,
    provider: db.provider,
    sql: db.sql,
  });
  // Files handed out (test results, yearbooks): links are relative without
  // SHUXIANG_PUBLIC_URL, which only the sandbox can open; the worker sends
  // file messages from here where a platform takes them.
  const sandboxFiles = config.sandbox.enabled ? config.sandbox.files : undefined;
  const sandboxOrgs = new Set<string>();
  const files = createFileStore({
    db: db.prisma,
    clock,
    publicUrl: config.publicUrl,
    maxBytes: config.maxFileBytes,
    // The sandbox's organisations keep a bounded set of files (docs/security.md).
    ...(sandboxFiles
      ? {
          quota: {
            bytes: sandboxFiles.bytes,
            files: sandboxFiles.count,
            async appliesTo(orgId, tx) {
              if (sandboxOrgs.has(orgId)) return true;
              const link = await tx.tenantLink.findFirst({
                where: { orgId, platform: 'sandbox' },
                select: { orgId: true },
              });
              if (link) sandboxOrgs.add(orgId);
              return link !== null;
            },
          },
        }
      : {}),
  });
  const send = createSendHub({
    db: db.prisma,
    outbox,
    messages,
    secretaries: (orgId) => directory.secretaries(orgId),
    files,
  });
  // Every messenger registered below passes through wrapMessenger (tests and benchmarks).
  const wrap = overrides.wrapMessenger ?? ((m: PlatformMessenger) => m);
  const messengers = new (class extends Map<Platform, PlatformMessenger> {
    override set(platform: Platform, messenger: PlatformMessenger) {
      return super.set(platform, wrap(messenger));
    }
  })();
  const worker = createOutboxWorker({
    db: db.prisma,
    clock,
    log,
    messengers,
    options: overrides.worker,
    // Several instances share one PostgreSQL and so one send budget; SQLite is one process.
    rateLimiter:
      db.provider === 'postgresql'
        ? createSharedRateLimiter({
            db: db.prisma,
            log,
            limitsFor: (p) => messengers.get(p)?.rateLimits ?? undefined,
          })
        : undefined,
    onDead: createDeadLetterNotice({ db: db.prisma, clock, send, messages }),
    files,
    health,
  });
  outbox.onEnqueued(() => worker.kick());
  const workingDays = await bindWorkingDays(overrides.workingDays ?? createWorkingDays(), db.prisma);
  const reportToSecretaries = createSchedulerReports({
    send,
    messages,
    log,
    graceMs: overrides.scheduler?.graceMs ?? config.scheduleGraceMs,
  });
  const scheduler = createScheduler({
    db: db.prisma,
    clock,
    log,
    defaultTimezone: config.timezone,
    // The recurrence format of features/calendar is the one every feature schedules with.
    nextOccurrence: (rule, after, tz) => nextOccurrence(ruleSchema.parse(rule), after, tz, workingDays),
    afterFire: () => worker.kick(),
    report: reportToSecretaries,
    options: { graceMs: config.scheduleGraceMs, ...overrides.scheduler },
    health,
  });
  registerCleanupJobs({ scheduler, db: db.prisma, clock, log });
  const services = { db: db.prisma, clock, log, messages, cards, outbox, scheduler, send, jobs: createJobs(scheduler) };
  const questionBank = createQuestionBank({ db: db.prisma, clock, provider: db.provider });
  const usage = createPlatformUsage();
  const featureDeps: FeatureDeps = {
    ...services,
    provider: db.provider,
    sql: db.sql,
    directory,
    workingDays,
    files,
    usage,
    defaultTimezone: config.timezone,
    maxTextLength: (p) => messengers.get(p)?.maxTextLength,
    root: ROOT,
  };
  // Inbound dedupe rows are group-committed (one INSERT per burst of events);
  // the scheduler's hourly clean-up job prunes them after 8 h.
  const dedupe = createInboundDedupe({ db: db.prisma, provider: db.provider, clock, sql: db.sql });
  const bot = createBot({
    services,
    dedupe,
    identity: directory,
    features: [
      ...(overrides.only ?? FEATURES).map((create) => create(featureDeps)),
      ...(overrides.features ?? []).map((create) => create(featureDeps)),
    ],
  });

  // Inbound messages are recorded here before any platform is answered, then processed from here.
  const inbox = createInbox({
    db: db.prisma,
    provider: db.provider,
    clock,
    log,
    scope,
    owner: `${hostname()}:${process.pid}:${newId().slice(0, 8)}`,
    options: overrides.inbox,
    health,
    sql: db.sql,
  });

  const routers: Hono[] = [createFileRoutes(files)];

  if (config.sandbox.enabled) {
    if (config.feishu || config.dingtalk) {
      log.warn(
        '!!! The sandbox is ON while a real platform is configured: anyone who can reach /sandbox can act as any demo user. Set SHUXIANG_SANDBOX=off in production. !!!',
      );
    }
    if (config.sandbox.demoSeed) {
      await seedDemoOrganisation(db.prisma, messages.t('demo.org'), config.timezone);
      if (config.sandbox.demoQuestions) {
        // The demo organisation gets the starter bank so quizzes work out of the box.
        const seeded = await seedStarterBank(questionBank, DEMO.orgId, ROOT);
        if (seeded > 0) log.info({ questions: seeded }, 'starter question bank seeded into the demo organisation');
      }
    }
    const sandbox = createSandboxAdapter({
      db: db.prisma,
      clock,
      log,
      sink: bot.dispatcher,
      inbox,
      settle: () => worker.drain(20),
      isConfiguredAdmin: directory.isConfiguredAdmin,
      ratePerMinute: config.sandbox.ratePerMinute,
    });
    messengers.set('sandbox', sandbox.messenger);
    platformDirectories.set('sandbox', sandbox.directory);
    routers.push(sandbox.routes);
  }

  let dingtalk: DingTalkAdapter | undefined;
  if (config.dingtalk) {
    // Loaded only when configured: the SDK costs memory a sandbox-only bot does not need.
    const { createDingTalkAdapter } = await import('./platforms/dingtalk/adapter.ts');
    dingtalk = createDingTalkAdapter({
      settings: config.dingtalk,
      db: db.prisma,
      clock,
      log: log.child({ platform: 'dingtalk' }),
      sink: bot.dispatcher,
      dedupe,
      inbox,
      timezone: config.timezone,
      monthlyQuota: config.dingtalk.monthlyQuota,
      onQuotaCrossing: usage.crossed,
      health,
      t: (key, params) => messages.t(key as MessageKey, params),
      ...overrides.dingtalk,
    });
    messengers.set('dingtalk', dingtalk.messenger);
    usage.register(dingtalk.usage.source);
    routers.push(dingtalk.routes);
    dingtalk.registerMetrics(metrics);
  }
  let feishu: FeishuAdapter | undefined;
  if (config.feishu) {
    const { createFeishuAdapter } = await import('./platforms/feishu/adapter.ts');
    feishu = createFeishuAdapter({ config: config.feishu, db: db.prisma, clock, log, sink: bot.dispatcher, inbox });
    messengers.set('feishu', feishu.messenger);
    platformDirectories.set('feishu', feishu.directory);
    routers.push(feishu.routes);
  }

  // One scrape reads the outbox depth once for its three gauges (prom-client collects them in parallel).
  let depthRead: ReturnType<Outbox['depth']> | undefined;
  const depth = () => {
    depthRead ??= outbox.depth().finally(() => setTimeout(() => (depthRead = undefined), 100).unref());
    return depthRead;
  };
  metrics.gauge('shuxiang_outbox_depth', 'Outbound messages waiting to be sent', async () => (await depth()).pending);
  metrics.gauge(
    'shuxiang_outbox_oldest_pending_seconds',
    'Age of the oldest unsent outbound message',
    async () => (await depth()).oldestPendingAgeSeconds,
  );
  metrics.gauge('shuxiang_outbox_dead', 'Outbound messages given up after retries', async () => (await depth()).dead);
  metrics.gauge(
    'shuxiang_inbox_pending',
    'Inbound messages recorded but not yet processed',
    async () => await db.prisma.inboxMessage.count({ where: { processedAt: null } }),
  );
  metrics.gauge(
    'shuxiang_inbox_recovered',
    'Inbound messages this instance picked up after another run left them',
    () => inbox.stats().recovered,
  );
  metrics.gauge('shuxiang_outbox_sent', 'Messages sent by this instance', () => worker.stats().sent);
  metrics.gauge('shuxiang_outbox_retried', 'Delivery retries by this instance', () => worker.stats().retried);
  metrics.gauge('shuxiang_outbox_failed', 'Messages dead-lettered by this instance', () => worker.stats().failed);
  metrics.gauge(
    'shuxiang_outbox_throttled',
    'Platform answers of "too fast" seen by this instance',
    () => worker.stats().throttled,
  );

  const app = createApp({
    log,
    metrics,
    metricsToken: config.metricsToken,
    health,
    routers,
    readiness: {
      checks: {
        database: async () => {
          await db.prisma.$queryRawUnsafe('SELECT 1');
          health.ok();
          return true;
        },
        migrations: async () => {
          const pending = await migrator.pending();
          return pending.length === 0 ? true : `pending: ${pending.map((m) => m.name).join(', ')}`;
        },
        ...(dingtalk ? { dingtalk: dingtalk.ready } : {}),
      },
    },
  });

  return {
    config,
    app,
    db,
    bot,
    outbox,
    inbox,
    worker,
    scheduler,
    metrics,
    log,
    clock,
    directory,
    files,
    dingtalk,
    feishu,
    start() {
      bot.start();
      worker.start();
      inbox.start();
      scheduler.start();
      dingtalk?.start();
      feishu?.start().catch((err: unknown) => log.error({ err }, 'Feishu adapter failed to start'));
    },
    async stop() {
      // First, so that messages still waiting their turn are left to the next start, not drained.
      await inbox.stop();
      await dingtalk?.stop();
      await feishu?.stop();
      await scheduler.stop();
      await bot.stop();
      await worker.stop();
      await dedupe.flush();
      await db.close();
    },
  };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const shuxiang = await createShuxiang(config);
  shuxiang.start();
  const server: ServerType = serve({ fetch: shuxiang.app.fetch, port: config.port }, (info) => {
    shuxiang.log.info(
      { port: info.port, sandbox: config.sandbox.enabled ? `http://localhost:${info.port}/sandbox` : 'off' },
      'Shuxiang is listening',
    );
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    shuxiang.log.info({ signal }, 'shutting down');
    server.close();
    void shuxiang.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
