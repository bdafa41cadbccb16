import type { WorkingDays } from '../features/calendar/working-days.ts';
import type { Directory } from '../features/org/directory.ts';
import type { FileStore } from '../files/file-store.ts';
import type { Provider, SqlExec } from '../lib/db.ts';
import type { PlatformUsage } from '../lib/platform-usage.ts';
import type { Platform } from '../platforms/types.ts';
import type { ActionSpec } from './actions.ts';
import type { CommandSpec } from './commands.ts';
import type { BotServices, ChatLeftHook, OtherTextHook } from './context.ts';
import type { JobSpec } from './jobs.ts';
import type { MessageKey } from './messages.ts';

/**
 * The feature kit. A feature family (quiz, reading club, supervision…) is one
 * folder exporting one factory `(deps: FeatureDeps) => Feature`; main.ts lists
 * the factories, the bot registers what they declare. Building a feature has
 * no side effects: commands, card actions, scheduled jobs and hooks are data
 * the bot wires, so a test harness can add or leave out any feature.
 */
export interface FeatureDeps extends BotServices {
  provider: Provider;
  /** Raw statements for hot paths (lib/db.ts); absent in tests that build their own deps. */
  sql?: SqlExec;
  /** Organisations, members, units, chats and roles (features/org). */
  directory: Directory;
  /** Chinese working days, the one calendar every feature counts with. */
  workingDays: WorkingDays;
  /** Download links and files sent as files. */
  files: FileStore;
  /** How each platform's API budget is spent (the DingTalk monthly quota), through a port. */
  usage: PlatformUsage;
  /** The organisation's default time zone (SHUXIANG_TIMEZONE). */
  defaultTimezone: string;
  /** Longest text a platform accepts, so features refuse before saving. */
  maxTextLength(platform: Platform): number | undefined;
  /** The repository root (cards/, data-seed/). */
  root: string;
}

/** A singleton periodic job (digests, clean-up): a cron expression; each firing runs once across instances. */
export interface PeriodicJob {
  name: string;
  cron: string;
  run(): Promise<void>;
}

export interface Feature {
  /** Short, unique, kebab-case: logs and errors name it. */
  name: string;
  commands?: CommandSpec[];
  actions?: ActionSpec[];
  jobs?: JobSpec[];
  periodic?: PeriodicJob[];
  /** The bot left a group: pause what this feature runs there (see ChatLeftHook). */
  onChatLeft?: ChatLeftHook;
  /**
   * A message that names no command: the feature may take it as its own (a bare
   * `B` while a contest question is open, `答b` typed without a space). Returns
   * true when it handled the message; the first feature that does wins, and
   * when none does the sender hears "unknown command". UserErrors thrown here
   * are answered like a command's.
   */
  onOtherText?: OtherTextHook;
  /**
   * The catalogue section this feature's text lives in (src/messages/zh-CN/<name>.ts).
   * The bot checks at start-up that each key is owned by one feature only.
   */
  messages?: Readonly<Partial<Record<MessageKey, string>>>;
  /** Background work to start once the bot runs (timers, flushers). */
  start?(): void;
  /** Finish in-flight work before the database closes (write batches). */
  stop?(): Promise<void>;
  /** Bring derived data up to date now (the quiz folds its answer journal): tests, the bench. */
  settle?(): Promise<void>;
}

export type FeatureFactory = (deps: FeatureDeps) => Feature;

/** Identity, for type checking and for grep: every feature family is declared through it. */
export function defineFeature(feature: Feature): Feature {
  if (!/^[a-z][a-z0-9-]*$/.test(feature.name)) throw new Error(`feature name "${feature.name}" must be kebab-case`);
  return feature;
}
