import { z } from 'zod';
import { distance } from 'fastest-levenshtein';
import type { CommandContext, Role } from './context.ts';
import type { MessageKey } from './messages.ts';
import { normalizeName, parseTokens, UsageProblem, type OptionSpec } from './command-parser.ts';

/**
 * Commands are data: names, help text keys, argument schema, scope and role.
 * The dispatcher does the cross-cutting work (parsing, validation, role and
 * scope checks, usage lines, help), so `run` holds only the feature's logic.
 */
export interface CommandSpec<S extends z.ZodType = z.ZodType> {
  /** English name, lower case. */
  name: string;
  /** Chinese name. */
  zh: string;
  aliases?: string[];
  summaryKey: MessageKey;
  usageKey: MessageKey;
  scope: 'group' | 'direct' | 'any';
  role: Role;
  /** Positional argument names in order; a trailing `...name` takes the rest joined by spaces. */
  positionals?: string[];
  options?: Record<string, OptionSpec>;
  /**
   * A message that carries only a file (platforms send files without text)
   * goes to this command, as if its name had been typed. At most one command
   * may say so.
   */
  receivesFiles?: boolean;
  /** Validates `{...positionals, ...options}`; what it outputs reaches `run`. */
  args?: S;
  run(ctx: CommandContext, args: z.output<S>): Promise<void>;
}

export function defineCommand<S extends z.ZodType = z.ZodObject<Record<string, never>>>(
  spec: CommandSpec<S>,
): CommandSpec {
  return spec as unknown as CommandSpec;
}

export interface CommandRegistry {
  all(): CommandSpec[];
  /** The command a file-only message goes to, if any. */
  fileReceiver(): CommandSpec | undefined;
  find(name: string): CommandSpec | undefined;
  suggest(name: string): string[];
  parseArgs(spec: CommandSpec, tokens: string[]): unknown;
}

export function createCommandRegistry(specs: CommandSpec[]): CommandRegistry {
  const byName = new Map<string, CommandSpec>();
  for (const spec of specs) {
    for (const n of [spec.name, spec.zh, ...(spec.aliases ?? [])]) {
      const key = normalizeName(n);
      if (byName.has(key)) throw new Error(`command name "${n}" is declared twice`);
      byName.set(key, spec);
    }
  }
  const receivers = specs.filter((s) => s.receivesFiles);
  if (receivers.length > 1)
    throw new Error(`only one command may receive files: ${receivers.map((r) => r.name).join(', ')}`);
  return {
    all: () => [...specs],
    fileReceiver: () => receivers[0],
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
        throw new UsageProblem(`多了参数「${positionals.slice(names.length).join(' ')}」`);
      }
      const schema = spec.args ?? z.object({});
      const result = schema.safeParse(values);
      if (!result.success) {
        const issue = result.error.issues[0];
        const field = issue?.path.join('.') ?? '';
        throw new UsageProblem(field ? `${field}：${issue?.message ?? ''}` : (issue?.message ?? ''));
      }
      return result.data;
    },
  };
}
