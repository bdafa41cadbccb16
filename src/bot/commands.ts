import { z } from 'zod';
import { distance } from 'fastest-levenshtein';
import type { CommandContext, Role } from './context.ts';
import type { MessageKey, Messages } from './messages.ts';
import { normalizeName, parseTokens, UsageProblem, type OptionSpec } from './command-parser.ts';

/**
 * Commands are data: names, help text keys, argument schema, scope and role.
 * The dispatcher does the cross-cutting work (parsing, validation, role and
 * scope checks, usage lines, help), so `run` holds only the feature's logic.
 */
export type Scope = 'group' | 'direct' | 'any';

/** What parsing and running share between a command and its subcommands. */
export interface Runnable<S extends z.ZodType = z.ZodType> {
  usageKey: MessageKey;
  scope: Scope;
  role: Role;
  /** Positional argument names in order; a trailing `...name` takes the rest joined by spaces. */
  positionals?: string[];
  options?: Record<string, OptionSpec>;
  /**
   * Validates `{...positionals, ...options}`; what it outputs reaches `run`.
   * An issue message that is a catalogue key is shown translated.
   */
  args?: S;
  run(ctx: CommandContext, args: z.output<S>): Promise<void>;
}

/**
 * A sub-word of a command (`测试 安排 …`, `test schedule …`), declared as data
 * so no handler tokenises its own sub-words. Role, scope and usage default
 * to the parent's.
 */
export interface SubcommandSpec<S extends z.ZodType = z.ZodType> {
  name: string;
  zh: string;
  aliases?: string[];
  summaryKey?: MessageKey;
  usageKey?: MessageKey;
  scope?: Scope;
  role?: Role;
  positionals?: string[];
  options?: Record<string, OptionSpec>;
  args?: S;
  run(ctx: CommandContext, args: z.output<S>): Promise<void>;
}

export function defineSubcommand<S extends z.ZodType = z.ZodObject<Record<string, never>>>(
  spec: SubcommandSpec<S>,
): SubcommandSpec {
  return spec as unknown as SubcommandSpec;
}

export interface CommandSpec<S extends z.ZodType = z.ZodType> {
  /** English name, lower case. */
  name: string;
  /** Chinese name. */
  zh: string;
  aliases?: string[];
  summaryKey: MessageKey;
  usageKey: MessageKey;
  scope: Scope;
  role: Role;
  /** Positional argument names in order; a trailing `...name` takes the rest joined by spaces. */
  positionals?: string[];
  options?: Record<string, OptionSpec>;
  /**
   * Sub-words tried before the command's own arguments: the first token, when
   * it names one, selects it. Without a match the command's own `run` runs
   * (or, if it has none, the usage line is shown).
   */
  subcommands?: SubcommandSpec[];
  /**
   * A message that carries only a file (platforms send files without text)
   * goes to this command, as if its name had been typed. `true` takes any
   * file, and at most one command may say so; a function takes the files it
   * recognises by name and is asked first (the reading club's plan files).
   */
  receivesFiles?: boolean | ((fileName: string) => boolean);
  /** Validates `{...positionals, ...options}`; what it outputs reaches `run`. */
  args?: S;
  /** Optional when subcommands cover every use. */
  run?(ctx: CommandContext, args: z.output<S>): Promise<void>;
}

export function defineCommand<S extends z.ZodType = z.ZodObject<Record<string, never>>>(
  spec: CommandSpec<S>,
): CommandSpec {
  return spec as unknown as CommandSpec;
}

export interface CommandRegistry {
  all(): CommandSpec[];
  /** The command a file-only message goes to, if any. */
  fileReceiver(fileName?: string): CommandSpec | undefined;
  find(name: string): CommandSpec | undefined;
  suggest(name: string): string[];
  /** The command or subcommand the tokens after the name select, with the tokens left for its arguments. */
  route(spec: CommandSpec, tokens: string[]): { target: Runnable; tokens: string[] };
  parseArgs(spec: Omit<Runnable, 'run'>, tokens: string[]): unknown;
}

/** Thrown when a command with subcommands and no `run` of its own gets none of them. */
export class NoSubcommand extends Error {
  constructor(readonly spec: CommandSpec) {
    super(`command ${spec.name} needs a subcommand`);
    this.name = 'NoSubcommand';
  }
}

export function createCommandRegistry(
  specs: CommandSpec[],
  /** Translates zod issue messages that are catalogue keys. */
  messages?: Messages,
): CommandRegistry {
  const byName = new Map<string, CommandSpec>();
  const subsByCommand = new Map<CommandSpec, Map<string, SubcommandSpec>>();
  for (const spec of specs) {
    if (!spec.run && !spec.subcommands?.length)
      throw new Error(`command "${spec.name}" has neither run nor subcommands`);
    if (spec.subcommands?.length) {
      const subs = new Map<string, SubcommandSpec>();
      for (const sub of spec.subcommands) {
        for (const n of [sub.name, sub.zh, ...(sub.aliases ?? [])]) {
          const key = normalizeName(n);
          if (subs.has(key)) throw new Error(`subcommand "${spec.name} ${n}" is declared twice`);
          subs.set(key, sub);
        }
      }
      subsByCommand.set(spec, subs);
    }
    for (const n of [spec.name, spec.zh, ...(spec.aliases ?? [])]) {
      const key = normalizeName(n);
      if (byName.has(key)) throw new Error(`command name "${n}" is declared twice`);
      byName.set(key, spec);
    }
  }
  const say = (key: MessageKey, params: Record<string, string>) =>
    messages ? messages.t(key, params) : `${key} ${JSON.stringify(params)}`;
  const receivers = specs.filter((s) => s.receivesFiles === true);
  const byFileName = specs.filter((s) => typeof s.receivesFiles === 'function');
  if (receivers.length > 1)
    throw new Error(`only one command may receive files: ${receivers.map((r) => r.name).join(', ')}`);
  return {
    all: () => [...specs],
    fileReceiver: (fileName) =>
      (fileName === undefined
        ? undefined
        : byFileName.find((s) => typeof s.receivesFiles === 'function' && s.receivesFiles(fileName))) ?? receivers[0],
    find: (name) => byName.get(normalizeName(name)),
    suggest(name) {
      const key = normalizeName(name);
      const scored = [...byName.keys()]
        .map((k) => ({ k, d: distance(k, key) / Math.max(k.length, key.length) }))
        .filter((s) => s.d <= 0.5 || s.k.startsWith(key) || key.startsWith(s.k))
        .sort((a, b) => a.d - b.d);
      const names: string[] = [];
      for (const { k } of scored) {
        const spec = byName.get(k);
        if (spec && !names.includes(spec.zh)) names.push(spec.zh);
        if (names.length === 3) break;
      }
      return names;
    },
    route(spec, tokens) {
      const [first, ...rest] = tokens;
      const sub = first === undefined ? undefined : subsByCommand.get(spec)?.get(normalizeName(first));
      if (sub) {
        return {
          target: {
            ...sub,
            usageKey: sub.usageKey ?? spec.usageKey,
            scope: sub.scope ?? spec.scope,
            role: sub.role ?? spec.role,
          },
          tokens: rest,
        };
      }
      const run = spec.run;
      if (!run) throw new NoSubcommand(spec);
      return { target: { ...spec, run }, tokens };
    },
    parseArgs(spec, tokens) {
      const { positionals, options } = parseTokens(tokens, spec.options ?? {});
      const values: Record<string, unknown> = { ...options };
      const names = spec.positionals ?? [];
      names.forEach((name, i) => {
        if (name.startsWith('...')) {
          const rest = positionals.slice(i);
          values[name.slice(3)] = rest.length > 0 ? rest.join(' ') : undefined;
        } else {
          values[name] = positionals[i];
        }
      });
      const last = names[names.length - 1];
      if (!last?.startsWith('...') && positionals.length > names.length) {
        throw new UsageProblem(say('error.usage.extra', { words: positionals.slice(names.length).join(' ') }));
      }
      const schema = spec.args ?? z.object({});
      const result = schema.safeParse(values);
      if (!result.success) {
        const issue = result.error.issues[0];
        const raw = issue?.message ?? '';
        // A catalogue key reads as a whole sentence; zod's own messages need the field named.
        if (messages?.has(raw)) throw new UsageProblem(messages.t(raw));
        // zod's own messages are English and field names are code: say which word is wrong instead.
        const field = issue?.path[0];
        const given = typeof field === 'string' ? values[field] : undefined;
        throw new UsageProblem(
          given === undefined || given === ''
            ? say('error.usage.missing', { field: String(field ?? '') })
            : say('error.usage.bad_value', { field: String(field), value: String(given).slice(0, 40) }),
        );
      }
      return result.data;
    },
  };
}
