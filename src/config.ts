import { z } from 'zod';

/**
 * The whole environment, parsed once. A bad value stops start-up with every
 * problem listed (not just the first), so an operator fixes them in one go.
 */
const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());

const timezone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not an IANA time zone (e.g. Asia/Shanghai)' },
);

const adminEntry = z
  .string()
  .regex(/^(sandbox|feishu|dingtalk):\S+$/, 'each entry must look like platform:userId (e.g. feishu:ou_123)');

const url = z.string().url();

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .default('file:./data/shuxiang.db')
    .refine((v) => /^(file:|postgres(ql)?:\/\/)/.test(v), {
      message: 'must start with file: (SQLite) or postgresql:// (PostgreSQL)',
    }),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(20),
  SHUXIANG_TIMEZONE: timezone.default('Asia/Shanghai'),
  SHUXIANG_ADMINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(adminEntry)),
  /**
   * Where members' browsers reach this bot (e.g. https://bot.example.org): download
   * links in Feishu and DingTalk messages are absolute under it. Without it links
   * are relative, which only the sandbox page can open.
   */
  SHUXIANG_PUBLIC_URL: z.preprocess(
    emptyToUndefined,
    url
      .refine((v) => /^https?:\/\//.test(v), { message: 'must start with https:// (or http://)' })
      .refine((v) => !/[?#]/.test(v), { message: 'must not carry a query or fragment' })
      .transform((v) => v.replace(/\/+$/, ''))
      .optional(),
  ),
  /** The largest file the bot stores and hands out (download links, file messages), in MiB. */
  SHUXIANG_MAX_FILE_MB: z.coerce.number().int().min(1).max(1024).default(50),
  /** Default: on with no platform configured, off once Feishu or DingTalk is (anyone reaching /sandbox can act as anyone). */
  SHUXIANG_SANDBOX: z.preprocess(emptyToUndefined, z.enum(['on', 'off']).optional()),
  /**
   * Requests a minute the sandbox API takes from one client address. Default: 120 when the
   * sandbox is on next to a real platform (exposed in production), unlimited in a local demo.
   */
  SHUXIANG_SANDBOX_RATE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(100_000).optional()),
  /**
   * MiB of files (exports, results) one sandbox organisation keeps; a new file deletes its oldest
   * beyond that. Default: 20 when the sandbox is on next to a real platform, unlimited in a local demo.
   */
  SHUXIANG_SANDBOX_FILES_MB: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(100_000).optional()),
  /** How many files one sandbox organisation keeps (same rule). Default: 20 next to a real platform. */
  SHUXIANG_SANDBOX_FILES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(100_000).optional()),
  /** A bearer token /metrics requires; unset, /metrics is open (put it behind the firewall). */
  SHUXIANG_METRICS_TOKEN: optionalString,
  SHUXIANG_DEMO_SEED: z.enum(['on', 'off']).default('on'),
  /** The starter question bank in the demo organisation (with the demo seed). */
  SHUXIANG_DEMO_QUESTIONS: z.enum(['on', 'off']).default('on'),
  /** Scheduled items found due after downtime fire late within this window; older ones are reported as missed. */
  SHUXIANG_SCHEDULE_GRACE_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 7)
    .default(6),

  FEISHU_APP_ID: optionalString,
  FEISHU_APP_SECRET: optionalString,
  FEISHU_ENCRYPT_KEY: optionalString,
  FEISHU_VERIFICATION_TOKEN: optionalString,
  FEISHU_MODE: z.enum(['webhook', 'ws']).default('webhook'),
  /** Webhook mode without an Encrypt Key trusts a token anyone who saw one push can copy: refused unless this says so. */
  FEISHU_ALLOW_UNENCRYPTED: z.enum(['on', 'off']).default('off'),
  FEISHU_DOMAIN: url.default('https://open.feishu.cn'),

  DINGTALK_CLIENT_ID: optionalString,
  DINGTALK_CLIENT_SECRET: optionalString,
  DINGTALK_ROBOT_CODE: optionalString,
  DINGTALK_MODE: z.enum(['stream', 'webhook']).default('stream'),
  DINGTALK_API_BASE: url.default('https://api.dingtalk.com'),
  /**
   * The old OAPI host, used only for media upload (file messages). Defaults to
   * https://oapi.dingtalk.com, or to DINGTALK_API_BASE when that points
   * elsewhere (a proxy or a test fake), so one setting moves both.
   */
  DINGTALK_OAPI_BASE: z.preprocess(emptyToUndefined, url.optional()),
  DINGTALK_STREAM_GATEWAY: url.default('https://api.dingtalk.com/v1.0/gateway/connections/open'),
  DINGTALK_CARD_TEMPLATE_ID: optionalString,
  /** OpenAPI calls the organisation may make a month: 5,000 on DingTalk's standard (free) edition. */
  DINGTALK_MONTHLY_QUOTA: z.coerce.number().int().min(1).default(5000),
});

export type Env = z.infer<typeof configSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  port: number;
  databaseUrl: string;
  /** PostgreSQL connections per instance (node-postgres pool); SQLite has one. */
  databasePoolSize: number;
  timezone: string;
  admins: { platform: string; userId: string }[];
  /** Base of absolute download links (no trailing slash); undefined means relative links. */
  publicUrl?: string;
  sandbox: {
    enabled: boolean;
    demoSeed: boolean;
    demoQuestions: boolean;
    ratePerMinute?: number;
    /** What one sandbox organisation may keep in the file store; unset, no cap. */
    files?: { bytes: number; count: number };
  };
  /** Bearer token for GET /metrics, when set. */
  metricsToken?: string;
  /** The largest file the file store accepts, in bytes (SHUXIANG_MAX_FILE_MB). */
  maxFileBytes: number;
  /** How late a scheduled item may still fire after downtime, in ms. */
  scheduleGraceMs: number;
  feishu?: {
    appId: string;
    appSecret: string;
    encryptKey?: string;
    verificationToken?: string;
    mode: 'webhook' | 'ws';
    domain: string;
  };
  dingtalk?: {
    clientId: string;
    clientSecret: string;
    robotCode?: string;
    mode: 'stream' | 'webhook';
    apiBase: string;
    /** The old OAPI host (media upload). */
    oapiBase: string;
    streamGateway: string;
    cardTemplateId?: string;
    monthlyQuota: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.join('.') || '(environment)';
      problems.push(`${key}: ${issue.message} (got ${JSON.stringify(env[String(issue.path[0])] ?? null)})`);
    }
  }
  // A platform is on only with both of its credentials; half of a pair is a mistake.
  const pairs: [string, string][] = [
    ['FEISHU_APP_ID', 'FEISHU_APP_SECRET'],
    ['DINGTALK_CLIENT_ID', 'DINGTALK_CLIENT_SECRET'],
  ];
  for (const [a, b] of pairs) {
    const has = (k: string) => (env[k] ?? '').trim() !== '';
    if (has(a) !== has(b)) problems.push(`${has(a) ? b : a}: required when ${has(a) ? a : b} is set`);
  }
  // Feishu webhook pushes without an Encrypt Key carry only the verification token:
  // whoever once saw a pushed body can forge any member. Refuse unless accepted on purpose.
  const has = (k: string) => (env[k] ?? '').trim() !== '';
  if (
    has('FEISHU_APP_ID') &&
    (env.FEISHU_MODE ?? 'webhook') === 'webhook' &&
    !has('FEISHU_ENCRYPT_KEY') &&
    env.FEISHU_ALLOW_UNENCRYPTED !== 'on'
  ) {
    problems.push(
      'FEISHU_ENCRYPT_KEY: required in webhook mode (without it anyone who saw one push can forge any member); set FEISHU_ALLOW_UNENCRYPTED=on to accept that risk',
    );
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  const anyPlatform = Boolean(
    (e.FEISHU_APP_ID && e.FEISHU_APP_SECRET) || (e.DINGTALK_CLIENT_ID && e.DINGTALK_CLIENT_SECRET),
  );
  return Object.freeze({
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    timezone: e.SHUXIANG_TIMEZONE,
    admins: e.SHUXIANG_ADMINS.map((entry) => {
      const i = entry.indexOf(':');
      return { platform: entry.slice(0, i), userId: entry.slice(i + 1) };
    }),
    publicUrl: e.SHUXIANG_PUBLIC_URL,
    metricsToken: e.SHUXIANG_METRICS_TOKEN,
    maxFileBytes: e.SHUXIANG_MAX_FILE_MB * 1024 * 1024,
    sandbox: {
      enabled: (e.SHUXIANG_SANDBOX ?? (anyPlatform ? 'off' : 'on')) === 'on',
      ratePerMinute: e.SHUXIANG_SANDBOX_RATE ?? (anyPlatform ? 120 : undefined),
      ...(e.SHUXIANG_SANDBOX_FILES_MB !== undefined || e.SHUXIANG_SANDBOX_FILES !== undefined || anyPlatform
        ? {
            files: {
              bytes: (e.SHUXIANG_SANDBOX_FILES_MB ?? (anyPlatform ? 20 : 100_000)) * 1024 * 1024,
              count: e.SHUXIANG_SANDBOX_FILES ?? (anyPlatform ? 20 : 100_000),
            },
          }
        : {}),
      demoSeed: e.SHUXIANG_DEMO_SEED === 'on',
      demoQuestions: e.SHUXIANG_DEMO_QUESTIONS === 'on',
    },
    scheduleGraceMs: e.SHUXIANG_SCHEDULE_GRACE_HOURS * 3600_000,
    feishu:
      e.FEISHU_APP_ID && e.FEISHU_APP_SECRET
        ? {
            appId: e.FEISHU_APP_ID,
            appSecret: e.FEISHU_APP_SECRET,
            encryptKey: e.FEISHU_ENCRYPT_KEY,
            verificationToken: e.FEISHU_VERIFICATION_TOKEN,
            mode: e.FEISHU_MODE,
            domain: e.FEISHU_DOMAIN,
          }
        : undefined,
    dingtalk:
      e.DINGTALK_CLIENT_ID && e.DINGTALK_CLIENT_SECRET
        ? {
            clientId: e.DINGTALK_CLIENT_ID,
            clientSecret: e.DINGTALK_CLIENT_SECRET,
            robotCode: e.DINGTALK_ROBOT_CODE,
            mode: e.DINGTALK_MODE,
            apiBase: e.DINGTALK_API_BASE,
            oapiBase:
              e.DINGTALK_OAPI_BASE ??
              (e.DINGTALK_API_BASE.replace(/\/+$/, '') === 'https://api.dingtalk.com'
                ? 'https://oapi.dingtalk.com'
                : e.DINGTALK_API_BASE),
            streamGateway: e.DINGTALK_STREAM_GATEWAY,
            cardTemplateId: e.DINGTALK_CARD_TEMPLATE_ID,
            monthlyQuota: e.DINGTALK_MONTHLY_QUOTA,
          }
        : undefined,
  });
}
